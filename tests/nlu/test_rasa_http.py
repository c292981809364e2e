"""RasaHTTPNLU against FakeRasa over real loopback HTTP.

The local engine is :class:`TinyLocalNLU` below, not :class:`nlu.embedded.EmbeddedNLU`:
the embedded engine now needs a trained intent model (``EmbeddedNLU(model)``), which
would make these tests slow and tie them to its training data. The stand-in resolves
"tomorrow"/"mañana" honestly, in the shipment's timezone.

Reference time: 2026-11-25 03:00 UTC, still Tuesday 2026-11-24 in America/New_York, so
"tomorrow" is 2026-11-25 there (and would be 2026-11-26 in UTC).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fakes.rasa import FakeRasa
from nlu.base import NLU, Entity, Intent, ParseResult
from nlu.rasa_http import LocalNLU, RasaHTTPNLU, merge_entities

TZ = "America/New_York"
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


class TinyLocalNLU:
    """A :class:`LocalNLU` knowing one date word per language and one intent keyword."""

    TOMORROW = re.compile(r"\b(tomorrow|mañana|manana)\b", re.IGNORECASE)

    def entities(self, text: str, reference_time: datetime, tz: str,
                 language: str | None = None) -> list[Entity]:
        day = reference_time.astimezone(ZoneInfo(tz)).date() + timedelta(days=1)
        return [Entity("date", day.isoformat(), m.start(), m.end(), m.group(0))
                for m in self.TOMORROW.finditer(text)]

    def parse(self, text: str, reference_time: datetime, tz: str,
              language: str | None = None) -> ParseResult:
        lang = language or ("es" if re.search(r"\b(mañana|pueden|venir)\b", text) else "en")
        intent = Intent("reschedule", 0.6) if "come" in text else Intent("out_of_scope", 0.3)
        return ParseResult(text, intent, (intent,),
                           tuple(self.entities(text, reference_time, tz, lang)), lang)


LOCAL: LocalNLU = TinyLocalNLU()
SECRET_TEXT = "can you come tomorrow, gate code 4417"

MakeNLU = Callable[..., RasaHTTPNLU]


@pytest.fixture
def rasa() -> Iterator[FakeRasa]:
    with FakeRasa() as fake:
        yield fake


@pytest.fixture
def make_nlu(rasa: FakeRasa) -> Iterator[MakeNLU]:
    """Build clients for the fake (``url`` defaults to it); closed after the test."""
    made: list[RasaHTTPNLU] = []

    def make(**kwargs: object) -> RasaHTTPNLU:
        kwargs.setdefault("url", rasa.url)
        nlu = RasaHTTPNLU(local=LOCAL, **kwargs)  # type: ignore[arg-type]
        made.append(nlu)
        return nlu

    yield make
    for nlu in made:
        nlu.close()


def parse(nlu: NLU, text: str, language: str | None = "en") -> ParseResult:
    return nlu.parse(text, NOW, TZ, language)


def test_is_an_nlu(make_nlu: MakeNLU) -> None:
    nlu: NLU = make_nlu()
    assert parse(nlu, "hello").intent.name == "greet"


def test_intent_from_rasa_and_date_resolved_locally(rasa: FakeRasa, make_nlu: MakeNLU) -> None:
    result = parse(make_nlu(), "can you come tomorrow")

    assert (result.intent.name, result.intent.confidence) == ("reschedule", 0.92)  # Rasa's
    assert result.intent_ranking[0] == result.intent
    dates = [e for e in result.entities if e.entity == "date"]
    assert [(d.value, d.text, d.extractor) for d in dates] == [
        ("2026-11-25", "tomorrow", "doorstep")]  # Rasa's unresolved "tomorrow" was dropped
    assert rasa.received == [{"method": "POST", "path": "/model/parse", "token": None,
                              "json": {"text": "can you come tomorrow"}, "status": 200}]


def test_other_rasa_entities_are_kept_with_their_extractor(make_nlu: MakeNLU) -> None:
    result = parse(make_nlu(), "fedex can come tomorrow")

    assert [(e.entity, e.value, e.text, e.extractor) for e in result.entities] == [
        ("carrier", "FedEx", "fedex", "DIETClassifier"),
        ("date", "2026-11-25", "tomorrow", "doorstep"),
    ]


def test_merge_prefers_local_doorstep_entities() -> None:
    local = [Entity("address", "12 Elm St", 10, 19, "12 Elm St")]
    remote = [Entity("address", "Elm St", 13, 19, "Elm St", 0.8, "DIETClassifier"),
              Entity("address", "Apt 4", 21, 26, "Apt 4", 0.8, "DIETClassifier"),
              Entity("date", "friday", 30, 36, "friday", 0.9, "DIETClassifier"),
              Entity("time", "2026-11-27T00:00:00", 30, 36, "friday", 1.0,
                     "DucklingEntityExtractor")]

    merged = merge_entities(local, remote)

    assert [(e.entity, e.value, e.extractor) for e in merged] == [
        ("address", "12 Elm St", "doorstep"),  # overlapping Rasa address dropped
        ("address", "Apt 4", "DIETClassifier"),  # one the local engine missed is kept
        ("time", "2026-11-27T00:00:00", "DucklingEntityExtractor"),  # not a Doorstep type
    ]  # Rasa's date is dropped even alone: only the local engine resolves dates


def test_rasa_nlu_fallback_reads_as_out_of_scope(make_nlu: MakeNLU) -> None:
    result = parse(make_nlu(), "purple elephants")

    assert (result.intent.name, result.intent.confidence) == ("out_of_scope", 0.7)
    assert "nlu_fallback" not in {i.name for i in result.intent_ranking}


def test_language_is_the_hint_or_else_the_local_engines(make_nlu: MakeNLU) -> None:
    nlu = make_nlu()

    hinted = parse(nlu, "pueden venir mañana", language="en")
    detected = parse(nlu, "pueden venir mañana", language=None)

    assert (hinted.language, hinted.first("date")) == ("en", "2026-11-25")
    assert (detected.language, detected.first("date")) == ("es", "2026-11-25")


def test_auth_token_is_sent_as_query_parameter_and_never_logged(
        make_nlu: MakeNLU, caplog: pytest.LogCaptureFixture) -> None:
    with FakeRasa(token="s3cret") as rasa:
        nlu = make_nlu(url=rasa.url, token="s3cret")
        result = parse(nlu, "hello")
        rasa.fail("error")
        with caplog.at_level(logging.DEBUG, logger="nlu.rasa_http"):
            parse(nlu, "hello")

        assert result.intent.confidence == 0.92  # Rasa answered, not the fallback
        assert [(r["token"], r["status"]) for r in rasa.received] == [("s3cret", 200),
                                                                      ("s3cret", 500)]
        ours = [r.getMessage() for r in caplog.records if r.name == "nlu.rasa_http"]
        assert ours and not any("s3cret" in m for m in ours)
        assert "s3cret" not in str(nlu.status())


def test_missing_token_gets_401_and_falls_back(make_nlu: MakeNLU,
                                               caplog: pytest.LogCaptureFixture) -> None:
    with FakeRasa(token="s3cret") as rasa:
        nlu = make_nlu(url=rasa.url)
        with caplog.at_level(logging.WARNING, logger="nlu.rasa_http"):
            result = parse(nlu, "hello")

        assert result == parse(LOCAL, "hello")
        assert [r["status"] for r in rasa.received] == [401]
        assert "401" in caplog.text


@pytest.mark.parametrize("mode", ["error", "garbage", "wrong_shape", "slow", "stopped"])
def test_failure_falls_back_to_local_and_logs_no_text(
        mode: str, rasa: FakeRasa, make_nlu: MakeNLU, caplog: pytest.LogCaptureFixture) -> None:
    nlu = make_nlu(timeout=0.2)
    rasa.fail(mode)

    with caplog.at_level(logging.DEBUG):
        result = parse(nlu, SECRET_TEXT)

    assert result == parse(LOCAL, SECRET_TEXT)
    assert result.first("date") == "2026-11-25"
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].name == "nlu.rasa_http"
    assert "4417" not in caplog.text and "gate code" not in caplog.text
    assert all(r.exc_info is None for r in caplog.records)
    assert nlu.status()["healthy"] is False


def test_after_failure_rasa_is_skipped_until_retry_after(rasa: FakeRasa,
                                                         make_nlu: MakeNLU) -> None:
    nlu = make_nlu(retry_after=60)
    rasa.fail("error")
    parse(nlu, "hello")
    rasa.recover()

    results = [parse(nlu, "hello"), parse(nlu, "can you come tomorrow")]

    assert len(rasa.received) == 1
    assert results == [parse(LOCAL, "hello"), parse(LOCAL, "can you come tomorrow")]
    assert nlu.status()["last_failure"] == "http_status 500"


def test_rasa_is_tried_again_after_retry_after(rasa: FakeRasa, make_nlu: MakeNLU) -> None:
    nlu = make_nlu(retry_after=0.05)
    rasa.fail("error")
    parse(nlu, "hello")
    rasa.recover()
    time.sleep(0.1)

    result = parse(nlu, "hello")

    assert len(rasa.received) == 2
    assert result.intent.confidence == 0.92
    assert nlu.status() | {"url": None} == {"backend": "rasa", "url": None, "healthy": True,
                                           "last_failure": "http_status 500", "retry_in": 0.0}


def test_blank_message_does_not_call_rasa(rasa: FakeRasa, make_nlu: MakeNLU) -> None:
    assert parse(make_nlu(), "   ") == parse(LOCAL, "   ")
    assert rasa.received == []


def test_concurrent_parses_all_reach_rasa(rasa: FakeRasa, make_nlu: MakeNLU) -> None:
    nlu = make_nlu()
    results: list[ParseResult] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(5):
            r = parse(nlu, "can you come tomorrow")
            with lock:
                results.append(r)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(rasa.received) == 40
    assert {(r.intent.name, r.first("date")) for r in results} == {("reschedule", "2026-11-25")}


@pytest.mark.parametrize("url", ["ftp://rasa:5005", "localhost:5005", "", "http://"])
def test_url_must_be_http(url: str) -> None:
    with pytest.raises(ValueError):
        RasaHTTPNLU(url, LOCAL)
