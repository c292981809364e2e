"""Replays over real HTTP: one signed request sent 100 times, 50 at once, is one turn.

Providers retry and proxies duplicate: an SMS webhook (same MessageSid and signature), a
Telegram update (same update_id) and a shipper event (same webhook-id, body and signature)
each arrive 100 times, 50 concurrently (1000 times, 100 concurrently, under ``-m long``;
the test id says which). Every copy must be answered 2xx; exactly one may act. Rate
limiting is off here (it has its own tests): it would refuse copies by design.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import requests
from standardwebhooks import Webhook
from twilio.request_validator import RequestValidator

from fakes.telegram_updates import text_update
from support import TELEGRAM_SECRET, failed_event

PHONE = "+15551230001"
CHAT = 5550042


@pytest.fixture
def system(make_system):
    return make_system(RATE_LIMIT_EVENTS="off", RATE_LIMIT_WEBHOOKS="off")


# (copies, at once): the figure in CI, ten times the copies under ``-m long``.
SIZES = [pytest.param((100, 50), id="100x50"),
         pytest.param((1000, 100), id="1000x100", marks=pytest.mark.long)]


def hammer(url: str, body: bytes, headers: dict[str, str],
           size: tuple[int, int]) -> list[requests.Response]:
    """POST the identical request ``copies`` times from ``at_once`` threads released together."""
    copies, at_once = size
    local, go = threading.local(), threading.Event()

    def post(_: int) -> requests.Response:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.trust_env = False
        go.wait()
        return local.session.post(url, data=body, headers=headers, timeout=30)

    with ThreadPoolExecutor(max_workers=at_once) as pool:
        futures = [pool.submit(post, i) for i in range(copies)]
        go.set()
        return [f.result() for f in futures]


def statuses(responses: list[requests.Response]) -> Counter:
    return Counter(r.status_code for r in responses)


@pytest.mark.parametrize("size", SIZES)
def test_one_sms_replayed_concurrently_is_one_turn_and_one_reply(system, size):
    copies, at_once = size
    customer = system.customer(PHONE)
    case_id = system.post_event(failed_event(phone=PHONE)).json()["case_id"]
    customer.offered()
    form = {"MessageSid": "SM" + "7" * 32, "SmsSid": "SM" + "7" * 32,
            "AccountSid": system.settings.twilio_account_sid, "From": PHONE,
            "To": system.settings.twilio_from_number, "Body": "2", "NumMedia": "0"}
    path = "/webhooks/twilio/sms"
    signature = RequestValidator(system.settings.twilio_auth_token).compute_signature(
        system.settings.public_url + path, form)
    responses = hammer(system.url + path, urlencode(form).encode(),
                       {"Content-Type": "application/x-www-form-urlencoded",
                        "X-Twilio-Signature": signature}, size)
    codes = statuses(responses)
    system.drain()
    turns = system.timeline_kinds(case_id).count("message.in")
    conv = system.runtime.store.get_conversation("sms", PHONE)
    replies = customer.messages()[2:]  # after the offer and its opt-out line
    print(f"\nSMS replay: {copies} posts ({at_once} at once) -> {dict(codes)}, "
          f"{turns} turn, {len(replies)} reply")
    assert codes == {200: copies}, f"{copies} copies of one SMS answered {dict(codes)}"
    assert turns == 1 and conv.turns == 1, f"{copies} copies made {turns} turns"
    assert len(replies) == 1 and "YES" in replies[0]["body"], \
        f"{copies} copies got {len(replies)} replies"
    customer.read = 3
    customer.silence()


@pytest.mark.parametrize("size", SIZES)
def test_one_telegram_update_replayed_concurrently_is_one_turn_and_one_reply(system, size):
    copies, at_once = size
    event = failed_event(phone=None)
    event["shipment"]["recipient"]["telegram_chat_id"] = CHAT
    case_id = system.post_event(event).json()["case_id"]
    chat = system.chat(CHAT)
    chat.reply()
    body = json.dumps(text_update(777_001, CHAT, "2")).encode()
    responses = hammer(system.url + "/webhooks/telegram", body,
                       {"Content-Type": "application/json",
                        "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}, size)
    codes = statuses(responses)
    system.runtime.queue.broker.join("inbound", timeout=10_000)
    system.drain()
    duplicates = sum(1 for r in responses if r.ok and r.json().get("duplicate"))
    turns = system.timeline_kinds(case_id).count("message.in")
    conv = system.runtime.store.get_conversation("telegram", str(CHAT))
    replies = chat.messages()[1:]
    print(f"\nTelegram replay: {copies} posts ({at_once} at once) -> {dict(codes)} "
          f"({duplicates} marked duplicate), {turns} turn, {len(replies)} reply")
    assert codes == {200: copies}, f"{copies} copies of one update answered {dict(codes)}"
    assert duplicates == copies - 1
    assert turns == 1 and conv.turns == 1, f"{copies} copies made {turns} turns"
    assert len(replies) == 1 and "is that right" in replies[0]["text"], \
        f"{copies} copies got {len(replies)} replies"


@pytest.mark.parametrize("size", SIZES)
def test_one_shipper_event_replayed_concurrently_opens_one_case_and_texts_once(system, size):
    copies, at_once = size
    customer = system.customer(PHONE)
    body = json.dumps(failed_event(phone=PHONE))
    now, webhook_id = datetime.now(UTC), "msg_replay_" + "9" * 20
    headers = {"Content-Type": "application/json", "webhook-id": webhook_id,
               "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Webhook(system.settings.events_webhook_secret)
               .sign(webhook_id, now, body)}
    responses = hammer(system.url + "/events", body.encode(), headers, size)
    codes = statuses(responses)
    answers = [r.json() for r in responses if r.status_code == 202]
    case_ids = {a["case_id"] for a in answers}
    firsts = [a for a in answers if not a["duplicate"]]
    system.drain()
    store = system.runtime.store
    opened = [k for c in case_ids for k in system.timeline_kinds(c) if k == "case.opened"]
    received = [k for c in case_ids for k in system.timeline_kinds(c) if k == "event.received"]
    texts = customer.messages()
    print(f"\nEvent replay: {copies} posts ({at_once} at once) -> {dict(codes)}, "
          f"{len(case_ids)} case, {len(firsts)} not duplicate, {len(texts)} SMS "
          f"(first text + opt-out line)")
    assert codes == {202: copies}, f"{copies} copies of one event answered {dict(codes)}"
    assert len(case_ids) == 1 and len(firsts) == 1, \
        f"{copies} copies: {len(case_ids)} cases, {len(firsts)} not marked duplicate"
    assert store.recent_case_ids() == list(case_ids)
    assert len(opened) == 1 and len(received) == 1
    assert [t["body"].startswith("Hi Ana") for t in texts] == [True, False], texts
    assert "STOP" in texts[1]["body"]
    customer.read = 2
    customer.silence()
