"""A customer's data: export it, forget it, and let retention erase it; statistics stay.

The scenario talks to the real app over HTTP: an address correction over SMS (with a
text the bot cannot read and delivery instructions), then a second parcel linked to a
Telegram chat by the customer's own contact, and a photo sent there. After forgetting,
every Redis key and value (found with SCAN) and the media directory are searched for
the customer's number in any format, name, addresses, chat id and texts.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from images import jpeg_bytes

from bot.cli import cli
from bot.models import Conversation
from bot.privacy import Privacy, anonymised_entry
from bot.retention import DUE, LOCK, WATERMARK, Retention, Sweeper
from bot.store import INBOUND_MEMORY_S, Store, key_for
from bot.store_keys import optout_hash_key
from support import failed_event

pytestmark = pytest.mark.timeout(120)

PHONE = "+15550191234"
NUMBER_FORMS = (PHONE, "15550191234", "5550191234", "555-019-1234", "(555) 019-1234")
CHAT = 987650123
NAME = "Zanzibar Quetzal"
OLD_ADDRESS = "9 Pelican Rise"
NEW_ADDRESS = "77 Canary Wharf Lane"
BODY = "Marmalade Sunrise Cantaloupe"
TELEGRAM_BODY = "Tangerine Octopus Waltz"
INSTRUCTIONS = "leave it with Periwinkle at the porch"
CANARIES = (*NUMBER_FORMS, str(CHAT), "Zanzibar", "Quetzal", "Pelican Rise", "Canary Wharf",
            "Marmalade", "Tangerine", "Periwinkle")


def event(phone: str, type_: str = "delivery.failed", **details: str) -> dict:
    found = failed_event(phone=phone, type_=type_, **details)
    found["shipment"]["recipient"]["name"] = NAME
    found["shipment"]["address"]["line1"] = OLD_ADDRESS
    return found




def turn(system, who, text: str) -> str:  # noqa: ANN001
    """Say ``text`` (SMS or Telegram); everything the bot answered, once it is sent."""
    before = len(who.messages())
    who.say(text)
    system.settle()
    new = who.messages()[before:]
    who.read = len(who.messages())
    return " | ".join(m.get("body") or m.get("text") or "" for m in new)


def populate(system) -> tuple[str, str]:  # noqa: ANN001
    """Two parcels for PHONE: an address corrected by SMS, one linked to Telegram."""
    sms = system.customer(PHONE)
    first = system.post_event(event(PHONE, "delivery.address_invalid",
                                    reason="address_not_found")).json()["case_id"]
    system.settle()
    turn(system, sms, BODY)
    assert "Canary Wharf" in turn(system, sms, NEW_ADDRESS + " Apt 5, Boston MA 02110")
    turn(system, sms, "yes")
    turn(system, sms, INSTRUCTIONS)
    assert system.case(first).status == "resolved"

    second = system.post_event(event(PHONE)).json()["case_id"]
    system.settle()
    chat = system.chat(CHAT)
    turn(system, chat, TELEGRAM_BODY)
    chat.share_contact(PHONE)
    system.settle()
    assert system.case(second).telegram_chat_id == CHAT
    chat.photo(jpeg_bytes())
    system.settle()
    assert "media.received" in system.timeline_kinds(second)
    return first, second


def traces(client, needles: tuple[str, ...]) -> list[tuple[str, str]]:  # noqa: ANN001
    """(key, needle) for every needle in any key's name or value, found with SCAN."""
    found = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key).decode()
        if kind == "string":
            parts = [client.get(key) or b""]
        elif kind == "list":
            parts = client.lrange(key, 0, -1)
        elif kind == "hash":
            parts = [b for kv in client.hgetall(key).items() for b in kv]
        elif kind == "set":
            parts = list(client.smembers(key))
        elif kind == "zset":
            parts = client.zrange(key, 0, -1)
        else:
            parts = [json.dumps(client.xrange(key), default=str).encode()]
        text = key.decode(errors="replace") + " " + " ".join(
            p.decode(errors="replace") for p in parts)
        found += [(key.decode(errors="replace"), n) for n in needles if n in text]
    return found


def stats(system, case_id: str) -> dict:  # noqa: ANN001
    case = system.case(case_id)
    return {"type": case.type, "carrier": case.carrier, "status": case.status,
            "created_at": case.created_at, "reason": case.reason,
            "outcome": (case.resolution or {}).get("outcome"),
            "timeline": [(e["kind"], e["at"]) for e in system.runtime.store.timeline(case_id)]}


def cli_env(system, redis_url: str) -> dict[str, str]:  # noqa: ANN001
    return {"REDIS_URL": redis_url, "DOORSTEP_DATA_DIR": str(system.settings.data_dir),
            "EVENTS_WEBHOOK_SECRET": system.settings.events_webhook_secret}


def privacy_of(system) -> Privacy:  # noqa: ANN001
    return Privacy(system.runtime.store, system.settings.media_dir)


def test_export_shows_cases_timelines_conversations_messages_photos_and_opt_out(
        system, redis_url):
    first, second = populate(system)
    done = CliRunner().invoke(cli, ["customer", "export", "+1 (555) 019-1234"],
                              env=cli_env(system, redis_url))
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["found"] is True and data["phone"] == PHONE
    cases = {c["case"]["id"]: c for c in data["cases"]}
    assert set(cases) == {first, second}
    corrected = cases[first]
    assert corrected["case"]["recipient_name"] == NAME
    assert corrected["case"]["shipment"]["address"]["line1"] == NEW_ADDRESS
    assert BODY in [e.get("text") for e in corrected["timeline"]]
    assert any(o.get("payload", {}).get("to") == PHONE and o["payload"]["text"]
               for o in corrected["outbound"])
    assert [(m["held"], m["content_type"]) for m in cases[second]["media"]] == \
        [(True, "image/jpeg")]
    assert TELEGRAM_BODY in [e.get("text") for e in cases[second]["timeline"]] or \
        any(c["channel"] == "telegram" for c in data["conversations"])
    convs = {(c["channel"], c["address"]): c for c in data["conversations"]}
    assert set(convs) == {("sms", PHONE), ("telegram", str(CHAT))}
    assert convs[("telegram", str(CHAT))]["conversation"]["case_id"] == second
    assert not any(c["opted_out"] for c in data["conversations"])


def test_forget_erases_every_trace_and_keeps_case_statistics(system, redis_url,
                                                             redis_client):
    first, second = populate(system)
    before = {case_id: stats(system, case_id) for case_id in (first, second)}
    assert traces(redis_client, CANARIES)  # the search finds them while they are there
    media_dir = system.settings.media_dir
    assert [p for p in media_dir.iterdir() if p.suffix == ".jpg"]

    done = CliRunner().invoke(cli, ["customer", "forget", PHONE],
                              env=cli_env(system, redis_url))
    assert done.exit_code == 0, done.output
    print(done.output)
    assert done.output.startswith("forgot ***1234: 2 case(s) anonymised, 2 conversation(s)")
    assert "1 media file(s)" in done.output
    assert not [n for n in CANARIES if n in done.output]

    assert traces(redis_client, CANARIES) == []
    assert list(media_dir.iterdir()) == []
    for case_id, was in before.items():
        now = stats(system, case_id)
        assert now["timeline"][:-1] == was["timeline"]
        assert now["timeline"][-1][0] == "privacy.erased"
        assert {k: now[k] for k in ("type", "carrier", "created_at", "reason")} == \
            {k: was[k] for k in ("type", "carrier", "created_at", "reason")}
    assert stats(system, first)["status"] == "resolved"
    assert stats(system, first)["outcome"] == "address_changed"
    assert stats(system, second)["status"] == "expired"  # open: nobody to reach any more
    assert stats(system, second)["outcome"] == "erased"

    again = CliRunner().invoke(cli, ["customer", "forget", PHONE],
                               env=cli_env(system, redis_url))
    assert (again.exit_code, again.output) == (0, "nothing found for ***1234; nothing to erase\n")
    export = CliRunner().invoke(cli, ["customer", "export", PHONE],
                                env=cli_env(system, redis_url))
    assert export.exit_code == 0
    assert json.loads(export.stdout)["found"] is False
    assert "nothing found for ***1234" in export.stderr


def test_stop_is_still_honoured_after_forget(system, redis_client):
    phone = "+15550194321"
    sms = system.customer(phone)
    system.post_event(event(phone))
    system.settle()
    assert turn(system, sms, "STOP") == ""
    found, erased = privacy_of(system).forget(phone)
    assert found and erased.optouts_hashed == 1
    assert redis_client.exists(optout_hash_key("sms", phone))
    left = {key for key, _ in traces(redis_client, (phone, phone[1:]))}
    assert left == set()  # not even the opt-out names the number now: it is kept hashed

    sent = len(sms.messages())
    case_id = system.post_event(event(phone)).json()["case_id"]
    system.settle()
    assert len(sms.messages()) == sent
    assert "message.suppressed" in system.timeline_kinds(case_id)
    assert turn(system, sms, "hello?") == ""


def test_bad_numbers_are_usage_errors_and_unknown_customers_are_not(system, redis_url):
    env = cli_env(system, redis_url)
    for command in ("export", "forget"):
        bad = CliRunner().invoke(cli, ["customer", command, "not-a-phone"], env=env)
        assert bad.exit_code == 2
        assert "'not-a-phone' is not a phone number" in bad.output
    unknown = CliRunner().invoke(cli, ["customer", "export", "+15550190000"], env=env)
    assert unknown.exit_code == 0
    assert json.loads(unknown.stdout)["cases"] == []
    assert "nothing found for ***0000" in unknown.stderr
    forget = CliRunner().invoke(cli, ["customer", "forget", "+15550190000"], env=env)
    assert (forget.exit_code, forget.output) == (0, "nothing found for ***0000; nothing to "
                                                    "erase\n")


def _last_activity(system, case_id: str) -> datetime:  # noqa: ANN001
    case = system.case(case_id)
    times = [case.created_at, case.updated_at] + [
        e["at"] for e in system.runtime.store.timeline(case_id)]
    return max(datetime.fromisoformat(t) for t in times)


def quiet_traces(client, phone: str) -> list[str]:  # noqa: ANN001
    """Keys naming ``phone`` apart from message-id marks, which expire within 4 days
    (retention does not look for them: only a scan of every key would find them)."""
    return [key for key, _ in traces(client, (phone,))
            if not (":seen:" in key and 0 < client.ttl(key) <= INBOUND_MEMORY_S)]


def test_retention_erases_quiet_cases_and_keeps_recent_ones(system, redis_client):
    old_phone, new_phone = "+15550195555", "+15550196666"
    old = system.post_event(event(old_phone)).json()["case_id"]
    system.settle()
    turn(system, system.customer(old_phone), BODY)
    new = system.post_event(event(new_phone)).json()["case_id"]
    system.settle()
    cutoff = _last_activity(system, new)
    assert _last_activity(system, old) < cutoff
    now = cutoff + timedelta(days=90)
    retention = Retention(privacy_of(system), 90, clock=lambda: now)

    swept = retention.sweep()
    assert (swept.examined, swept.erased.cases, swept.kept_active) == (2, 1, 1)
    assert system.case(old).details.get("erased_at")
    assert system.case(old).phone is None and system.case(new).phone == new_phone
    assert [e for e in system.runtime.store.timeline(old) if "text" in e] == []
    assert not redis_client.exists(key_for("conv", tag=f"sms:{old_phone}"))
    assert redis_client.exists(key_for("conv", tag=f"sms:{new_phone}"))
    assert traces(redis_client, ("Marmalade",)) == []
    assert quiet_traces(redis_client, old_phone) == [] and traces(redis_client, (new_phone,))

    again = retention.sweep()  # the watermark skips the erased case
    assert (again.examined, again.erased.cases) == (1, 0)
    assert float(redis_client.get(WATERMARK)) == redis_client.zscore(key_for("cases"), old)

    now += timedelta(days=1)
    later = retention.sweep()
    assert later.erased.cases == 1 and system.case(new).details.get("erased_at")
    assert traces(redis_client, ("Zanzibar",)) == []
    assert quiet_traces(redis_client, old_phone) == quiet_traces(redis_client, new_phone) == []


def test_one_process_sweeps_at_a_time_about_hourly(redis_client, tmp_path):
    retention = Retention(Privacy(Store(redis_client), tmp_path / "media"), 90)
    held = redis_client.lock(LOCK, timeout=30)
    assert held.acquire()
    assert retention.sweep_locked() is None
    held.release()
    assert retention.sweep_if_due(3600) is not None
    assert retention.sweep_if_due(3600) is None  # swept less than an hour ago
    assert 3500 < redis_client.ttl(DUE) <= 3600


def test_workers_sweep_in_the_background(redis_client, tmp_path):
    retention = Retention(Privacy(Store(redis_client), tmp_path / "media"), 90)
    sweeper = Sweeper(retention, every_s=3600, check_s=0.05).start()
    try:
        deadline = time.monotonic() + 10
        while not redis_client.exists(DUE) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert redis_client.exists(WATERMARK)
    finally:
        sweeper.stop()


def test_quiet_conversations_and_outbound_records_get_retention_ttls(redis_client, tmp_path):
    store = Store(redis_client)
    store.save_conversation(Conversation("telegram", "424242"))  # a stranger, no case
    store.update_outbound("telegram:1:0", status="sent", payload="{}")
    with store.conversation_lock("telegram", "424242"):
        swept = Retention(Privacy(store, tmp_path / "media"), 30).sweep()
    assert swept.ttls_set == 2
    assert 29 * 86400 < redis_client.ttl(key_for("conv", tag="telegram:424242")) <= 30 * 86400
    assert 29 * 86400 < redis_client.ttl(key_for("out", "telegram:1:0")) <= 30 * 86400
    assert redis_client.ttl(key_for("conv", "lock", tag="telegram:424242")) <= 30  # untouched


def test_forget_waits_for_a_turn_in_progress(redis_client, tmp_path):
    store = Store(redis_client)
    released = threading.Event()

    def live_turn() -> None:
        with store.conversation_lock("sms", PHONE):
            time.sleep(0.5)
            released.set()

    worker = threading.Thread(target=live_turn)
    worker.start()
    time.sleep(0.1)
    found, _ = Privacy(store, tmp_path / "media").forget(PHONE)
    assert released.is_set() and not found
    worker.join()


def test_cli_retention_sweep_prints_counts(redis_url, redis_client, tmp_path):
    done = CliRunner().invoke(cli, ["retention", "sweep"], env={
        "REDIS_URL": redis_url, "DOORSTEP_DATA_DIR": str(tmp_path), "RETENTION_DAYS": "30",
        "EVENTS_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})
    assert done.exit_code == 0, done.output
    assert done.output.startswith("retention (30 days): 0 old case(s) examined")


def test_anonymised_entries_keep_kind_time_and_codes_only():
    at = datetime.now(UTC).isoformat()
    assert anonymised_entry({"at": at, "kind": "message.in", "channel": "sms",
                             "message_id": "SM1", "text": BODY, "attachments": 1}) == \
        {"at": at, "kind": "message.in", "channel": "sms", "attachments": 1}
    assert anonymised_entry({"at": at, "kind": "message.failed", "key": "sms:SM1:0",
                             "error_code": "21211",
                             "reason": f"The 'To' number {PHONE} is not valid"}) == \
        {"at": at, "kind": "message.failed", "key": "sms:SM1:0", "error_code": "21211"}
    assert anonymised_entry({"at": at, "kind": "note.added", "author": "sam@example.com",
                             "author_name": "Sam", "text": NAME}) == \
        {"at": at, "kind": "note.added", "author": "sam@example.com"}
    assert anonymised_entry({"at": at, "kind": "case.updated",
                             "shipment": {"address": {"line1": NEW_ADDRESS}},
                             "details": {"instructions": INSTRUCTIONS}}) == \
        {"at": at, "kind": "case.updated"}
