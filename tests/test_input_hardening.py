"""Input hardening over real HTTP: 413, 415, 400/422 and 429 on every endpoint that takes a
body, odd but valid input handled, Redis down answered 503; a refused request changes
nothing in Redis and sends nothing."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from twilio.request_validator import RequestValidator

from support import TELEGRAM_SECRET, System, failed_event, signed_headers

LIMIT = 4096  # MAX_BODY_BYTES in these tests: small, so oversized bodies are cheap to send
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
DEEP = "<JSON nested 3 000 deep>"  # stands for itself in test ids; see expand()
QUIET = {"RATE_LIMIT_EVENTS": "off", "RATE_LIMIT_WEBHOOKS": "off", "MAX_BODY_BYTES": str(LIMIT)}


def expand(raw: str | bytes) -> str | bytes:
    """``raw``, with DEEP made into JSON nested deeper than any parser recurses."""
    return "[" * 3000 if raw == DEEP else raw


@pytest.fixture
def small(make_system) -> System:
    return make_system(**QUIET)


@pytest.fixture
def token(small: System) -> str:
    small.runtime.staff.add("boss@example.com", "supervisor", "a long enough password")
    return small.runtime.staff.issue_token("boss@example.com")


# -- what a refused request must leave alone ------------------------------------------
def redis_state(system: System) -> dict[bytes, bytes | None]:
    """Every key and its value, but for worker heartbeats and rate-limit counters."""
    client = system.runtime.redis
    return {key: client.dump(key) for key in client.scan_iter()
            if b"__heartbeats__" not in key and not key.startswith(b"ds:ratelimit")}


class Untouched:
    """Redis and every fake, as they were: a refused request changed and sent nothing."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.before = redis_state(system)
        self.telegram_calls = len(system.telegram.calls) if system.telegram else 0

    def check(self) -> None:
        system = self.system
        system.runtime.queue.broker.join("inbound", timeout=5_000)
        assert redis_state(system) == self.before
        assert system.twilio.messages == [] and system.shipper.callbacks == []
        assert system.telegram is None or len(system.telegram.calls) == self.telegram_calls


@pytest.fixture
def untouched(small: System) -> Iterator[Untouched]:
    watch = Untouched(small)
    yield watch
    watch.check()


def refused(resp: requests.Response, status: int) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith(JSON)
    body = resp.json()
    assert body["status"] == status and body["error"], body
    return body


def twilio_signed(system: System, path: str, form: dict[str, Any] | list[tuple[str, str]],
                  query: str = "") -> dict[str, str]:
    url = system.settings.public_url + path + (f"?{query}" if query else "")
    fields: dict[str, list[str]] = {}
    for name, value in (form.items() if isinstance(form, dict) else form):
        fields.setdefault(name, []).append(value)
    return {"X-Twilio-Signature": RequestValidator(system.settings.twilio_auth_token)
            .compute_signature(url, _MultiDict(fields))}


class _MultiDict(dict):
    def getlist(self, name: str) -> list[str]:
        return self[name]


def endpoint(system: System, name: str, token: str = "") -> tuple[str, dict[str, str]]:
    """The path of each POST endpoint and the headers that get a request past its auth."""
    return {
        "events": ("/events", {}),
        "twilio-sms": ("/webhooks/twilio/sms", {"X-Twilio-Signature": "not checked yet"}),
        "twilio-status": ("/webhooks/twilio/status", {"X-Twilio-Signature": "x"}),
        "telegram": ("/webhooks/telegram", {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}),
        "nlu": ("/model/parse", {}),
        "api": ("/api/conversations/cs_none/notes", {"Authorization": f"Bearer {token}"}),
        "simulator": ("/console/simulator/messages", {"Authorization": f"Bearer {token}"}),
        "login": ("/console/login", {}),
    }[name]


EVERY_POST = ["events", "twilio-sms", "twilio-status", "telegram", "nlu", "api", "simulator",
              "login"]
RIGHT_TYPE = {"twilio-sms": FORM, "twilio-status": FORM, "login": FORM}


# -- 413 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", EVERY_POST)
def test_a_body_over_max_body_bytes_gets_413(small, token, untouched, name):
    path, headers = endpoint(small, name, token)
    content_type = RIGHT_TYPE.get(name, JSON)
    body = "x=" + "a" * LIMIT if content_type == FORM else json.dumps({"text": "a" * LIMIT})
    resp = small.http.post(small.url + path, data=body, timeout=15,
                           headers={**headers, "Content-Type": content_type})
    assert "4096 bytes" in refused(resp, 413)["error"]


@pytest.mark.parametrize("name", ["events", "telegram", "twilio-sms"])
def test_a_chunked_body_over_the_limit_gets_413_not_a_misleading_401(small, untouched, name):
    path, headers = endpoint(small, name)
    chunks = (b"a" * 1000 for _ in range(LIMIT // 1000 + 2))  # no Content-Length: chunked
    resp = small.http.post(small.url + path, data=chunks, timeout=15,
                           headers={**headers, "Content-Type": RIGHT_TYPE.get(name, JSON)})
    refused(resp, 413)


def test_a_chunked_body_within_the_limit_is_read_whole(small):
    body = json.dumps(failed_event())
    chunks = (body[i:i + 500].encode() for i in range(0, len(body), 500))
    resp = small.http.post(small.url + "/events", data=chunks, timeout=15,
                           headers=signed_headers(small.settings.events_webhook_secret, body))
    assert resp.status_code == 202, resp.text


# -- 415 ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", EVERY_POST)
def test_the_wrong_content_type_gets_415(small, token, untouched, name):
    path, headers = endpoint(small, name, token)
    wrong = JSON if name in RIGHT_TYPE else "text/plain"
    resp = small.http.post(small.url + path, data='{"text": "hi"}', timeout=15,
                           headers={**headers, "Content-Type": wrong})
    assert "Content-Type" in refused(resp, 415)["error"]


# -- 400 / 422 ---------------------------------------------------------------------------
def signed_event(system: System, body: str | bytes) -> requests.Response:
    text = body if isinstance(body, str) else "placeholder"
    headers = signed_headers(system.settings.events_webhook_secret, text)
    return system.http.post(system.url + "/events", data=body, headers=headers, timeout=15)


@pytest.mark.parametrize("body, field", [
    ("{not json", "body"), (DEEP, "body"), ("[1, 2]", "body"), ('"text"', "body"),
    ('{"type": "delivery.failed"}', "occurred_at"),
])
def test_a_signed_event_that_is_not_an_event_gets_422_naming_the_field(small, untouched,
                                                                        body, field):
    assert refused(signed_event(small, expand(body)), 422)["field"] == field


def test_a_signed_event_with_a_timezone_too_long_for_a_file_name_gets_422(small):
    event = failed_event()
    event["shipment"]["timezone"] = "America/" + "x" * 300
    assert refused(signed_event(small, json.dumps(event)), 422)["field"] == "shipment.timezone"


def test_an_event_body_that_is_not_utf8_cannot_be_verified_so_gets_401(small, untouched):
    refused(signed_event(small, b'{"type": "\xff\xfe"}'), 401)


@pytest.mark.parametrize("raw, words", [
    ("{not json", "JSON object"), (DEEP, "JSON object"), ("[]", "JSON object"),
    (b'{"update_id": "\xff"}', "JSON object"),
    ('{"update_id": 1, "message": {"message_id": 1, "date": 1, "chat": {"id": 5, "type": '
     '"private"}, "text": 5}}', "message.text"),
    ('{"update_id": 1, "message": {"message_id": 1, "date": 100000000000000000000, '
     '"chat": {"id": 5, "type": "private"}, "text": "hi"}}', "message.date"),
    ('{"update_id": 1, "callback_query": {"id": "1", "chat_instance": "1", "data": 7, '
     '"from": {"id": 5, "is_bot": false, "first_name": "A"}}}', "callback_query.data"),
])
def test_a_telegram_body_that_is_not_an_update_gets_400_saying_why(small, untouched, raw,
                                                                   words):
    resp = small.telegram_post({}, raw=expand(raw))
    assert words in refused(resp, 400)["error"]


@pytest.mark.parametrize("raw, status, field", [
    ("{not json", 400, "body"), (DEEP, 400, "body"), (b'{"text": "\xff"}', 400, "body"),
    ('{"text": 5}', 422, "text"), ('{"text": "hi", "timezone": "' + "a" * 300 + '"}', 422,
                                   "timezone"),
    ('{"text": "tomorrow", "reference_time": "9999-12-31T23:59:59+00:00"}', 422,
     "reference_time"),
    ('{"text": "hi", "language": ["en"]}', 422, "language"),
])
def test_a_malformed_nlu_request_gets_400_or_422_naming_the_field(small, raw, status, field):
    resp = small.http.post(small.url + "/model/parse", data=expand(raw), timeout=15,
                           headers={"Content-Type": JSON})
    assert refused(resp, status)["field"] == field


@pytest.mark.parametrize("path, form, words", [
    ("/webhooks/twilio/sms", {"MessageSid": "SM1", "Body": "hi"}, "From"),
    ("/webhooks/twilio/sms", {"MessageSid": "SM1", "From": "not a phone"}, "From"),
    ("/webhooks/twilio/status", {"MessageSid": "SM1"}, "MessageStatus"),
])
def test_a_signed_twilio_form_missing_fields_gets_400(small, untouched, path, form, words):
    resp = small.http.post(small.url + path, data=form, timeout=15,
                           headers=twilio_signed(small, path, form))
    assert words in refused(resp, 400)["error"]


def test_a_malformed_console_api_body_gets_400(small, token, untouched):
    path, headers = endpoint(small, "api", token)
    resp = small.http.post(small.url + path, data="{not json", timeout=15,
                           headers={**headers, "Content-Type": JSON})
    assert resp.status_code == 400 and "JSON object" in resp.json()["error"]


def test_a_console_api_body_nested_too_deep_gets_400(small, token):
    path, headers = endpoint(small, "api", token)
    resp = small.http.post(small.url + path, data=expand(DEEP), timeout=15,
                           headers={**headers, "Content-Type": JSON})
    assert resp.status_code == 400


# -- odd but valid input ------------------------------------------------------------------
def raw_http(system: System, request: bytes) -> bytes:
    """Send bytes no HTTP client library would send; the server's answer."""
    url = urlsplit(system.url)
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_query_strings_nul_bytes_and_bad_utf8_are_handled_not_crashed_on(small, token):
    event = json.dumps(failed_event())
    headers = signed_headers(small.settings.events_webhook_secret, event)
    resp = small.http.post(small.url + "/events?x=%FF%00&x=2", data=event, headers=headers,
                           timeout=15)
    assert resp.status_code == 202, resp.text
    bearer = {"Authorization": f"Bearer {token}"}
    found = small.http.get(small.url + "/api/conversations?q=%FF%00", headers=bearer,
                           timeout=15)
    assert found.status_code == 200
    assert small.http.get(small.url + "/api/conversations/%FF%00", headers=bearer,
                          timeout=15).status_code == 404
    answer = raw_http(small, b"POST /webhooks/telegram HTTP/1.1\r\nHost: x\r\n"
                             b"X-Telegram-Bot-Api-Secret-Token: a\x00b\r\nContent-Type: "
                             b"application/json\r\nContent-Length: 2\r\nConnection: close"
                             b"\r\n\r\n{}")
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]
    answer = raw_http(small, b"GET /healthz\xff\x00 HTTP/1.1\r\nHost: x\r\nConnection: "
                             b"close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 404"), answer[:200]


def test_huge_or_too_many_headers_are_refused_by_the_server_not_the_app(small):
    for headers in ({"X-Big": "a" * 100_000}, {f"X-H{i}": "a" for i in range(200)}):
        assert small.http.get(small.url + "/healthz", headers=headers,
                              timeout=15).status_code == 431


def test_a_twilio_form_with_a_query_nul_bytes_duplicates_and_bad_utf8_is_handled(small):
    phone = "+15551230009"
    form = [("MessageSid", "SM" + uuid.uuid4().hex), ("From", phone), ("From", "+15550000000"),
            ("Body", "hi\x00 there"), ("NumMedia", "x")]
    path, query = "/webhooks/twilio/sms", "a=%FF&b=1"
    resp = small.http.post(small.url + f"{path}?{query}", data=form, timeout=15,
                           headers=twilio_signed(small, path, form, query))
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/xml")
    assert small.twilio.wait_for_messages(1)[0]["to"] == phone  # the first From counts
    raw = b"MessageSid=SM2&From=%2B15551230009&Body=%FF%FEcaf%E9"
    # werkzeug keeps percent-escapes that are not UTF-8 as they are; Twilio signs the same
    server_form = [("MessageSid", "SM2"), ("From", phone), ("Body", "%FF%FEcaf%E9")]
    resp = small.http.post(small.url + path, data=raw, timeout=15,
                           headers={**twilio_signed(small, path, server_form),
                                    "Content-Type": FORM})
    assert resp.status_code == 200, resp.text


# -- 429 ----------------------------------------------------------------------------------
def test_each_webhook_is_rate_limited_per_source_before_its_signature_is_checked(make_system):
    system = make_system(RATE_LIMIT_EVENTS="3/minute", RATE_LIMIT_WEBHOOKS="2/minute",
                         TRUSTED_PROXY_HOPS="1")
    watch = Untouched(system)
    forger = {"X-Forwarded-For": "203.0.113.7", "Content-Type": JSON}
    for path, allowed, first in (("/events", 3, 401), ("/webhooks/twilio/sms", 2, 415),
                                 ("/webhooks/twilio/status", 2, 415),
                                 ("/webhooks/telegram", 2, 403)):
        for _ in range(allowed):
            resp = system.http.post(system.url + path, data="{}", headers=forger, timeout=15)
            assert resp.status_code == first, (path, resp.text)
        resp = system.http.post(system.url + path, data="{}", headers=forger, timeout=15)
        assert "rate limit" in refused(resp, 429)["error"]
        assert 1 <= int(resp.headers["Retry-After"]) <= 60
        other = {**forger, "X-Forwarded-For": "198.51.100.2"}  # another source: its own budget
        assert system.http.post(system.url + path, data="{}", headers=other,
                                timeout=15).status_code == first
    event = json.dumps(failed_event())  # signed and valid, but over the budget: not opened
    headers = {**signed_headers(system.settings.events_webhook_secret, event), **forger}
    refused(system.http.post(system.url + "/events", data=event, headers=headers, timeout=15),
            429)
    watch.check()
    for _ in range(5):  # neither the console API nor health checks are limited
        assert system.http.get(system.url + "/healthz", headers=forger).status_code == 200
        assert system.http.get(system.url + "/api/me", headers=forger).status_code == 401


# -- Redis down, errors, headers, logs ------------------------------------------------------
def test_redis_down_answers_503_from_the_rate_limiter_not_500(system):
    pool = system.runtime.redis.connection_pool
    saved = dict(pool.connection_kwargs)
    pool.disconnect()
    pool.connection_kwargs["path" if "path" in saved else "port"] = \
        "/nonexistent/redis.sock" if "path" in saved else 1
    try:
        event = json.dumps(failed_event())
        headers = signed_headers(system.settings.events_webhook_secret, event)
        resp = system.http.post(system.url + "/events", data=event, headers=headers, timeout=15)
        assert "retry later" in refused(resp, 503)["error"]
        refused(system.telegram_post({"update_id": 1}), 503)
        assert system.http.get(system.url + "/healthz").status_code == 200
        assert system.http.get(system.url + "/readyz").status_code == 503
    finally:
        pool.disconnect()
        pool.connection_kwargs.update(saved)


def test_errors_are_json_and_keep_their_headers(small):
    refused(small.http.get(small.url + "/no/such/page"), 404)
    resp = small.http.get(small.url + "/events")
    refused(resp, 405)
    assert "POST" in resp.headers["Allow"]


def test_console_pages_carry_security_headers(small):
    resp = small.http.get(small.url + "/console/login")
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-store"


def test_secrets_never_reach_the_logs(small, token, caplog):
    caplog.set_level("DEBUG")
    secrets = [small.settings.events_webhook_secret, small.settings.twilio_auth_token or "",
               TELEGRAM_SECRET, token]
    event = json.dumps(failed_event())
    small.http.post(small.url + "/events", data=event, timeout=15,
                    headers=signed_headers(small.settings.events_webhook_secret, event))
    small.http.post(small.url + "/events?token=" + token, data="{", timeout=15,
                    headers=signed_headers(small.settings.events_webhook_secret, "{"))
    small.telegram_post({"update_id": 5})
    small.http.get(small.url + "/api/me", headers={"Authorization": f"Bearer {token}"})
    small.sms("+15551230001", f"my token is {TELEGRAM_SECRET[:4]}")
    small.drain()
    assert "doorstep.http" in caplog.text or "event msg_" in caplog.text  # logs were captured
    for secret in secrets:
        assert secret and secret not in caplog.text
