"""Properties over generated input: any shipper-given name or address, in any script,
keeps every SMS it appears in within two segments; the date and time-window parser never
raises, whatever the text, reference time or timezone.

Each property runs a modest, derandomised number of examples in CI and many more under
``pytest -m long -s``; both print how many examples they checked.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.models import Case, Reply, Window
from channels.render import MAX_SEGMENTS, fold_to_gsm7, render_sms, segments
from flows.address import AddressFlow
from flows.base import FlowContext
from flows.messages import LANGUAGES, greeting_name, say
from flows.registry import FLOW_FOR_EVENT, FLOWS
from nlu.base import Intent, ParseResult
from nlu.entities.dates import extract_dates
from nlu.entities.extract import extract_entities
from nlu.entities.windows import extract_windows

SHORT, LONG = 300, 5000
# Each property runs 300 examples in CI and 5 000 under ``pytest -m long``.
EXAMPLES = pytest.mark.parametrize("examples", [
    pytest.param(SHORT, id="short"),
    pytest.param(LONG, id="long", marks=[pytest.mark.long, pytest.mark.timeout(1800)])])
TZ = "America/New_York"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo(TZ))
# The longest values a shipper's event may carry (bot/events.py).
NAME_MAX, LINE_MAX, CITY_MAX, REGION_MAX, POSTAL_MAX = 200, 300, 120, 120, 20

SCRIPTS = {
    "latin": (0x0020, 0x024F), "cyrillic": (0x0400, 0x04FF), "arabic": (0x0600, 0x06FF),
    "cjk": (0x4E00, 0x9FFF), "emoji": (0x1F300, 0x1FAFF), "combining": (0x0300, 0x036F),
}
# GSM-7 extension characters take two septets each: the worst case for a GSM-7 body.
GSM7_EXTENDED = "^{}\\[~]|€"
# Characters are drawn from lists (st.sampled_from): much faster than st.one_of over
# character strategies when texts are hundreds of characters long.
SCRIPT_CHARS = {name: [chr(c) for c in range(a, b + 1) if unicodedata.category(chr(c)) != "Cn"]
                for name, (a, b) in SCRIPTS.items()}
MIXED_CHARS = sorted({c for chars in SCRIPT_CHARS.values() for c in chars} | set(GSM7_EXTENDED))


def free_text(max_size: int) -> st.SearchStrategy[str]:
    """Any text up to ``max_size``: any code points, one script, mixed scripts, or GSM-7
    extension characters only; the last two at least half the maximum length."""
    one_script = st.sampled_from(sorted(SCRIPTS)).flatmap(
        lambda s: st.text(st.sampled_from(SCRIPT_CHARS[s]), max_size=max_size))
    return st.one_of(st.text(max_size=max_size), one_script,
                     st.text(st.sampled_from(MIXED_CHARS), min_size=max_size // 2,
                             max_size=max_size),
                     st.text(st.sampled_from(GSM7_EXTENDED), min_size=max_size // 2,
                             max_size=max_size))


names = st.one_of(st.none(), free_text(NAME_MAX))
addresses = st.fixed_dictionaries({
    "line1": free_text(LINE_MAX).filter(bool), "line2": st.one_of(st.none(), free_text(LINE_MAX)),
    "city": st.one_of(st.none(), free_text(CITY_MAX)),
    "region": st.one_of(st.none(), free_text(REGION_MAX)),
    "postal_code": st.one_of(st.none(), free_text(POSTAL_MAX)),
    "country": st.sampled_from([None, "US", "CA", "MX"])})


def _case(event_type: str, name: str | None, address: dict | None, lang: str) -> Case:
    details = {"new_eta": (NOW + timedelta(days=2)).isoformat()} \
        if event_type == "delivery.delayed" else {}
    return Case(id="cs_1", type=event_type, status="awaiting_customer",
                tracking_number="1Z999AA10123456784", carrier="acme", order_ref="A-1001",
                recipient_name=name, phone="+15551230001", telegram_chat_id=None,
                language=lang, timezone=TZ, reason="recipient_absent", details=details,
                shipment={"address": address} if address else {},
                created_at=NOW.isoformat(), updated_at=NOW.isoformat())


OFFERS = [Window(NOW.replace(hour=h), NOW.replace(hour=h + 4)) for h in (12, 17)] + \
    [Window(NOW.replace(hour=8) + timedelta(days=1), NOW.replace(hour=12) + timedelta(days=1))]


def _over_budget(replies: Sequence[Reply], prompts: Sequence[Reply] = (),
                 lang: str = "en") -> list[tuple[int, str]]:
    """The SMS among ``replies`` and ``prompts`` (the latter also as a reminder repeats
    them, bot/idle.py) that take more than two segments, or only fit by losing the end of
    their text: a quoted name or address must be cut before it crowds out the question."""
    texts = [(r.text, r.choices) for r in [*replies, *prompts]]
    texts += [(say(lang, "reminder") + " " + p.text, p.choices) for p in prompts]
    bad = []
    for text, choices in texts:
        whole = "\n".join([text, *(f"{i}) {c}" for i, c in enumerate(choices, 1))])
        body = render_sms(text, choices)
        if segments(body) > MAX_SEGMENTS or body not in (whole, fold_to_gsm7(whole)):
            bad.append((segments(body), body))
    return bad


def _run(check: Callable[..., None], examples: int, **strategies: st.SearchStrategy) -> int:
    """Run ``check`` over ``examples`` generated inputs; return how many it saw."""
    seen = [0]

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(**strategies)
    def prop(**values: object) -> None:
        seen[0] += 1
        check(**values)

    prop()
    return seen[0]


# -- SMS with names and addresses ---------------------------------------------------------
def first_texts_fit(name: str | None, lang: str, event_type: str) -> None:
    case = _case(event_type, name, None, lang)
    flow = FLOWS[FLOW_FOR_EVENT[event_type]]
    step = flow.start(FlowContext(case=case, now=NOW, language=lang), list(OFFERS))
    over = _over_budget(step.replies)
    assert not over, f"name {name!r}: {over}"


def address_texts_fit(old: dict, new: dict, lang: str) -> None:
    """Every address-flow text that quotes an address: the shipper's old one fills the gaps
    in the customer's new one."""
    case = _case("delivery.address_invalid", "Ana", old, lang)
    ctx = FlowContext(case=case, now=NOW, language=lang)
    flow = AddressFlow()
    merged = {k: new.get(k) or old.get(k) for k in new}
    state = {"address": merged, "misses": 0, "heard": [], "listed": []}
    prompts = [flow.prompt({**state, "step": s}, ctx)
               for s in ("confirm", "postal_code", "unit", "outside", "done")]
    miss = ParseResult(text="?", intent=Intent("nlu_fallback", 0.1))
    no = ParseResult(text="no", intent=Intent("deny", 0.9))
    replies = [*flow.step({**state, "step": "postal_code"}, miss, ctx).replies,
               *flow.step({**state, "step": "instructions"}, no, ctx).replies]
    over = _over_budget(replies, prompts, lang)
    assert not over, f"address {merged!r}: {over}"


def test_a_name_of_only_spaces_is_greeted_without_a_name():
    case = _case("delivery.failed", "   ", None, "en")
    assert greeting_name(case) == ""
    assert greeting_name(replace(case, recipient_name="Ana" + "a" * 40 + " Diaz")) == \
        " Ana" + "a" * 16 + "…"


first_text_inputs = {"name": names, "lang": st.sampled_from(LANGUAGES),
                     "event_type": st.sampled_from(sorted(FLOW_FOR_EVENT))}
address_inputs = {"old": addresses, "new": addresses, "lang": st.sampled_from(LANGUAGES)}


@EXAMPLES
def test_any_name_in_any_script_keeps_first_texts_within_two_segments(examples):
    n = _run(first_texts_fit, examples, **first_text_inputs)
    print(f"\nfirst texts: {n} names checked, 0 SMS over {MAX_SEGMENTS} segments")


@EXAMPLES
def test_any_address_in_any_script_keeps_address_texts_within_two_segments(examples):
    n = _run(address_texts_fit, examples, **address_inputs)
    print(f"\naddress texts: {n} addresses checked, 0 SMS over {MAX_SEGMENTS} segments")




def any_sms_fits(text: str, choices: list[str]) -> None:
    body = render_sms(text, tuple(choices))
    assert segments(body) <= MAX_SEGMENTS, body
    for n in range(1, len(choices) + 1):  # the numbered choices outlive the text
        if _choices_fit(choices):
            assert f"\n{n}) " in body, body


def _choices_fit(choices: list[str]) -> bool:
    lines = "".join(f"\n{i}) {c}" for i, c in enumerate(choices, 1))
    return segments("..." + fold_to_gsm7(lines)) <= MAX_SEGMENTS


any_sms_inputs = {"text": free_text(1600),
                  "choices": st.lists(free_text(40), max_size=4)}


@EXAMPLES
def test_any_text_and_choices_render_within_two_segments(examples):
    n = _run(any_sms_fits, examples, **any_sms_inputs)
    print(f"\nrender_sms: {n} texts checked, 0 over {MAX_SEGMENTS} segments")



# -- the date and time-window parser ------------------------------------------------------
reference_times = st.one_of(st.datetimes(timezones=st.timezones()), st.datetimes())
timezones = st.timezone_keys()
messages = st.one_of(
    st.text(),
    st.text(st.sampled_from(list("0123456789/:-.,apm ")) | st.characters(), max_size=40),
    st.lists(st.sampled_from(
        ["tomorrow", "mañana", "next", "friday", "viernes", "in", "3", "days", "after", "5",
         "before", "noon", "pm", "am", "12/31", "2/29", "9999-12-31", "0001-01-01", "the",
         "31st", "el", "30", "de", "diciembre", "dec", "not", "between", "and", "-", "10:30",
         "yesterday", "ayer", "99", "a", "week", "semanas", "tarde", "morning", "evening"]),
        max_size=12).map(" ".join))


def parser_never_raises(text: str, when: datetime, tz: str, lang: str | None) -> None:
    extract_entities(text, when, tz, lang)
    extract_dates(text, when.date(), day_first=lang == "es")
    extract_windows(text)


parser_inputs = {"text": messages, "when": reference_times, "tz": timezones,
                 "lang": st.sampled_from([None, "en", "es"])}


@EXAMPLES
def test_date_and_window_parser_never_raises(examples):
    n = _run(parser_never_raises, examples, **parser_inputs)
    print(f"\ndate/window parser: {n} messages, 0 exceptions")

