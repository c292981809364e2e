"""Tests of the fakes themselves, driven through the real client libraries over loopback HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from flask import Flask, request
from standardwebhooks import Webhook
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from .http import LocalServer
from .shipper import FakeShipper, generate_secret
from .twilio_api import FakeTwilioAPI, num_segments

TOKEN = "0123456789abcdef0123456789abcdef"
TO, FROM = "+15551230000", "+15550001111"
SERVICE = "MG" + "ab" * 16


@pytest.fixture
def twilio_fake() -> Iterator[FakeTwilioAPI]:
    with FakeTwilioAPI(auth_token=TOKEN) as fake:
        yield fake


@pytest.fixture
def client(twilio_fake: FakeTwilioAPI) -> Client:
    """The real twilio client, redirected the way Doorstep does it."""
    client = Client(twilio_fake.account_sid, TOKEN)
    client.api.base_url = twilio_fake.url
    return client


def _messages_url(fake: FakeTwilioAPI) -> str:
    return f"{fake.url}/2010-04-01/Accounts/{fake.account_sid}/Messages.json"


def test_local_server_serves_then_stops(http: requests.Session) -> None:
    app = Flask("ping")
    app.add_url_rule("/ping", "ping", lambda: "pong")
    server = LocalServer(app).start()
    url = server.url
    assert url.startswith("http://127.0.0.1:")
    assert http.get(url + "/ping", timeout=5).text == "pong"
    server.stop()
    with pytest.raises(requests.ConnectionError):
        http.get(url + "/ping", timeout=5)


def test_client_message_is_recorded_and_schema_valid(
    twilio_fake: FakeTwilioAPI, client: Client
) -> None:
    msg = client.messages.create(to=TO, from_=FROM, body="Your parcel is at the depot",
                                 status_callback="http://127.0.0.1:9/status")
    assert msg.sid.startswith("SM") and len(msg.sid) == 34
    assert (msg.status, msg.to, msg.from_, msg.num_segments) == ("queued", TO, FROM, "1")
    assert msg.account_sid == twilio_fake.account_sid
    assert isinstance(msg.date_created, datetime)
    [rec] = twilio_fake.wait_for_messages(1)
    assert rec["sid"] == msg.sid and rec["from_"] == FROM and rec["to"] == TO
    assert rec["body"] == "Your parcel is at the depot"
    assert rec["status_callback"] == "http://127.0.0.1:9/status"
    assert rec["raw_form"]["To"] == [TO] and rec["media_urls"] == []
    assert twilio_fake.invalid_requests == []


def test_repeated_media_urls_validate_as_array(twilio_fake: FakeTwilioAPI, client: Client) -> None:
    urls = ["https://cdn.example.test/a.jpg", "https://cdn.example.test/b.jpg"]
    msg = client.messages.create(to=TO, messaging_service_sid=SERVICE, media_url=urls)
    assert msg.sid.startswith("MM") and msg.num_media == "2" and msg.from_ is None
    assert twilio_fake.messages[0]["media_urls"] == urls
    assert twilio_fake.messages[0]["messaging_service_sid"] == SERVICE
    assert twilio_fake.invalid_requests == []


def test_bad_auth_raises_20003(twilio_fake: FakeTwilioAPI) -> None:
    bad = Client(twilio_fake.account_sid, "wrong-token")
    bad.api.base_url = twilio_fake.url
    with pytest.raises(TwilioRestException) as info:
        bad.messages.create(to=TO, from_=FROM, body="hi")
    assert (info.value.status, info.value.code) == (401, 20003)
    assert twilio_fake.messages == []
    assert twilio_fake.requests_log[-1]["status"] == 401


def test_fail_next_makes_client_raise_with_code(
    twilio_fake: FakeTwilioAPI, client: Client
) -> None:
    twilio_fake.fail_next(1, status=400, code=21610)
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to=TO, from_=FROM, body="hi")
    assert (info.value.status, info.value.code) == (400, 21610)
    assert "unsubscribed" in info.value.msg
    assert client.messages.create(to=TO, from_=FROM, body="hi").status == "queued"
    assert len(twilio_fake.messages) == 1 and twilio_fake.invalid_requests == []


def test_rate_limit_has_twilio_body_and_retry_after(
    twilio_fake: FakeTwilioAPI, http: requests.Session
) -> None:
    twilio_fake.fail_next(2, status=429, retry_after=3)
    auth = (twilio_fake.account_sid, TOKEN)
    for _ in range(2):
        resp = http.post(_messages_url(twilio_fake), data={"To": TO, "From": FROM, "Body": "x"},
                         auth=auth, timeout=5)
        assert resp.status_code == 429 and resp.headers["Retry-After"] == "3"
        assert resp.json() == {"code": 20429, "message": "Too Many Requests", "status": 429,
                               "more_info": "https://www.twilio.com/docs/errors/20429"}
    resp = http.post(_messages_url(twilio_fake), data={"To": TO, "From": FROM, "Body": "x"},
                     auth=auth, timeout=5)
    assert resp.status_code == 201


def test_down_and_up(twilio_fake: FakeTwilioAPI, client: Client) -> None:
    twilio_fake.down()
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to=TO, from_=FROM, body="hi")
    assert (info.value.status, info.value.code) == (503, 20503)
    twilio_fake.up()
    assert client.messages.create(to=TO, from_=FROM, body="hi").sid


def test_form_missing_to_is_recorded_invalid(
    twilio_fake: FakeTwilioAPI, http: requests.Session
) -> None:
    resp = http.post(_messages_url(twilio_fake), data={"From": FROM, "Body": "hi"},
                     auth=(twilio_fake.account_sid, TOKEN), timeout=5)
    assert resp.status_code == 400 and resp.json()["code"] == 21604
    [bad] = twilio_fake.invalid_requests
    assert bad["code"] == 21604 and any("'To' is a required property" in e for e in bad["errors"])
    assert twilio_fake.messages == []


def test_schema_violation_is_recorded_invalid(
    twilio_fake: FakeTwilioAPI, http: requests.Session
) -> None:
    form = {"To": TO, "MessagingServiceSid": "MG123", "Body": "hi"}
    resp = http.post(_messages_url(twilio_fake), data=form,
                     auth=(twilio_fake.account_sid, TOKEN), timeout=5)
    assert resp.status_code == 400 and resp.json()["code"] == 20001
    [bad] = twilio_fake.invalid_requests
    assert any("MG123" in e for e in bad["errors"]) and bad["raw_form"]["To"] == [TO]


def test_wait_for_messages_times_out_with_context(twilio_fake: FakeTwilioAPI) -> None:
    with pytest.raises(AssertionError, match="expected >= 1 messages"):
        twilio_fake.wait_for_messages(1, timeout=0.2)


def test_send_status_is_signed_like_twilio(twilio_fake: FakeTwilioAPI, client: Client) -> None:
    received: list[dict[str, Any]] = []
    app = Flask("status-receiver")

    @app.post("/twilio/status")
    def status() -> tuple[str, int]:
        signature = request.headers.get("X-Twilio-Signature", "")
        valid = RequestValidator(TOKEN).validate(request.url, request.form, signature)
        received.append({"url": request.url, "form": request.form.to_dict(), "valid": valid})
        return "", 204 if valid else 403

    with LocalServer(app) as receiver:
        callback = receiver.url + "/twilio/status?tenant=acme"
        msg = client.messages.create(to=TO, from_=FROM, body="hi", status_callback=callback)
        resp = twilio_fake.send_status(msg.sid, "undelivered", error_code=30003)
    assert resp.status_code == 204
    [got] = received
    assert got["valid"] and got["url"] == callback
    assert got["form"] == {
        "MessageSid": msg.sid, "SmsSid": msg.sid, "MessageStatus": "undelivered",
        "SmsStatus": "undelivered", "AccountSid": twilio_fake.account_sid, "From": FROM,
        "To": TO, "ApiVersion": "2010-04-01", "ErrorCode": "30003"}
    assert twilio_fake.messages[0]["status"] == "undelivered"


def test_send_status_refuses_non_loopback(twilio_fake: FakeTwilioAPI, client: Client) -> None:
    msg = client.messages.create(to=TO, from_=FROM, body="hi",
                                 status_callback="https://doorstep.example.com/status")
    with pytest.raises(ValueError, match="non-loopback"):
        twilio_fake.send_status(msg.sid, "delivered")


def test_num_segments() -> None:
    assert num_segments("a" * 160) == 1 and num_segments("a" * 161) == 2
    assert num_segments("€" * 80) == 1 and num_segments("€" * 81) == 2
    assert num_segments("👍" * 35) == 1 and num_segments("ł" * 71) == 2


@pytest.fixture
def shipper() -> Iterator[FakeShipper]:
    with FakeShipper(secret=generate_secret()) as fake:
        yield fake


def _signed(secret: str, payload: dict[str, Any], msg_id: str) -> tuple[str, dict[str, str]]:
    now = datetime.now(UTC)
    body = json.dumps(payload)
    return body, {"webhook-id": msg_id, "webhook-timestamp": str(int(now.timestamp())),
                  "webhook-signature": Webhook(secret).sign(msg_id, now, body),
                  "content-type": "application/json"}


def test_shipper_accepts_signed_and_rejects_tampered(
    shipper: FakeShipper, http: requests.Session
) -> None:
    payload = {"type": "exception.resolved", "data": {"parcel": "PX1", "action": "redeliver"}}
    body, headers = _signed(shipper.secret, payload, "msg_1")
    resp = http.post(shipper.callback_url, data=body, headers=headers, timeout=5)
    assert resp.status_code == 200
    [cb] = shipper.wait_for_callbacks(1)
    assert cb["id"] == "msg_1" and cb["payload"] == payload and cb["path"] == "/callbacks"
    assert cb["timestamp"] == int(headers["webhook-timestamp"]) and cb["status"] == 200

    tampered = body.replace("redeliver", "refund")
    resp = http.post(shipper.callback_url, data=tampered, headers=headers, timeout=5)
    assert resp.status_code == 401
    [rej] = shipper.rejected
    assert "No matching signature" in rej["reason"] and len(shipper.callbacks) == 1

    resp = http.post(shipper.callback_url, data=body, headers={"content-type": "application/json"},
                     timeout=5)
    assert resp.status_code == 401 and len(shipper.rejected) == 2


def test_shipper_records_replays_and_programmed_responses(
    shipper: FakeShipper, http: requests.Session
) -> None:
    shipper.respond_with(429, retry_after=7)
    shipper.respond_with(410)
    body, headers = shipper.sign({"n": 1}, msg_id="msg_same")
    statuses = [http.post(shipper.url + "/any/path", data=body, headers=headers, timeout=5)
                for _ in range(3)]
    assert [r.status_code for r in statuses] == [429, 410, 200]
    assert statuses[0].headers["Retry-After"] == "7"
    assert [c["status"] for c in shipper.wait_for_callbacks(3)] == [429, 410, 200]
    assert shipper.unique_ids() == ["msg_same"]
    shipper.clear()
    assert shipper.callbacks == [] and shipper.unique_ids() == []


def test_wait_for_callbacks_wakes_on_arrival(shipper: FakeShipper, http: requests.Session) -> None:
    body, headers = shipper.sign({"late": True})
    timer = threading.Timer(0.2, lambda: http.post(shipper.callback_url, data=body,
                                                   headers=headers, timeout=5))
    timer.start()
    try:
        assert shipper.wait_for_callbacks(1, timeout=5)[0]["payload"] == {"late": True}
    finally:
        timer.join()
    with pytest.raises(AssertionError, match="expected >= 2 verified callbacks"):
        shipper.wait_for_callbacks(2, timeout=0.1)


def test_concurrent_creates_are_all_recorded(twilio_fake: FakeTwilioAPI) -> None:
    def send(i: int) -> None:
        client = twilio_fake.client()
        client.messages.create(to=TO, from_=FROM, body=f"message {i}")

    threads = [threading.Thread(target=send, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    got = twilio_fake.wait_for_messages(12, timeout=30)
    for thread in threads:
        thread.join(10)
    assert sorted(m["body"] for m in got) == sorted(f"message {i}" for i in range(12))
    assert len({m["sid"] for m in got}) == 12 and twilio_fake.invalid_requests == []
