"""Forgery: 1 000 one-byte mutations of signed requests are refused and change nothing.

(10 000 under ``pytest -m long``; the test id gives the count.)

Three signed requests are sent once as they are (so they are processed) and then mutated:
a Twilio SMS webhook (form body signed with X-Twilio-Signature over URL and fields), a
shipper event (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature over the
raw body) and a Telegram update (X-Telegram-Bot-Api-Secret-Token). Each mutation changes
one byte, chosen by a seeded RNG, of the URL (path or query), the body, or a signing header
(half of them near misses: a letter's other case, a neighbouring byte); ten more re-sign
the event with a timestamp 301 s in the past or future.

Telegram's secret token authenticates the sender, not the body: a different body with the
right token is, by Telegram's own design, a genuine update. Its body is therefore not
mutated; its path and token are.

A mutation can leave the request's meaning untouched ("%2B" → "%2b" in a form body decodes
to the same "+"; the last base64 character of a signature carries two unused bits). Such a
request *is* the original, a replay: it may be refused or answered as a no-op. Every other
mutation must be refused (4xx). Redis (every key and value, by DUMP), the fake Twilio and
Telegram APIs and the fake shipper must show no change at all.

Requests go over raw sockets, so every mutated byte reaches the server as generated.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import socket
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import unquote, urlencode, urlsplit

import pytest
import redis
from standardwebhooks import Webhook
from twilio.request_validator import RequestValidator
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from fakes.telegram_updates import text_update
from support import TELEGRAM_SECRET, failed_event

SEED = 20261124
PHONE = "+15551230001"
CHAT = 5550077
SKEW = 301  # seconds: one more than Standard Webhooks' five-minute tolerance
SMS_PATH = "/webhooks/twilio/sms"
# How the 1 000 mutations are spread: (kind, part) -> count. "header:<name>" mutates that
# header's value; "timestamp" re-signs the event 301 s off (half past, half future).
# Two parts aim at the lenient spots of the encodings: "body@escapes" only hits the hex
# digits of the form's percent-escapes, "header:webhook-signature@tail" the last base64
# character before the padding (its two low bits are unused).
PLAN = {
    ("sms", "path"): 40, ("sms", "query"): 40, ("sms", "body"): 180,
    ("sms", "body@escapes"): 20, ("sms", "header:X-Twilio-Signature"): 70,
    ("event", "path"): 30, ("event", "body"): 200, ("event", "header:webhook-id"): 50,
    ("event", "header:webhook-timestamp"): 40, ("event", "header:webhook-signature"): 60,
    ("event", "header:webhook-signature@tail"): 10, ("event", "timestamp"): 10,
    ("telegram", "path"): 50, ("telegram", "header:X-Telegram-Bot-Api-Secret-Token"): 200,
}
# Replacement bytes. Framing stays intact (no CR, LF or NUL in the request line or
# headers; Content-Length always matches): this tests signatures, not the HTTP parser.
BODY_BYTES = list(range(256))
HEADER_BYTES = [0x09, *range(0x20, 0x7F), *range(0x80, 0x100)]
URL_BYTES = list(range(0x21, 0x7F))
# Redis keys that change on their own while workers run (dramatiq's worker heartbeats).
VOLATILE_SUFFIX = b":__heartbeats__"


@dataclass(frozen=True)
class Signed:
    """One HTTP request as bytes on the wire, apart from Host, framing and content type."""

    kind: str
    path: bytes
    query: bytes
    headers: tuple[tuple[str, bytes], ...]
    body: bytes
    content_type: str

    def header(self, name: str) -> bytes:
        return dict(self.headers)[name]


@dataclass(frozen=True)
class Mutation:
    kind: str
    part: str
    request: Signed | None  # None: built at send time (a timestamp re-signed 301 s off)
    shift: int = 0


# -- the three signed requests ------------------------------------------------------------
def signed_sms(settings) -> Signed:  # noqa: ANN001
    form = {"MessageSid": "SM" + "f" * 32, "SmsSid": "SM" + "f" * 32,
            "AccountSid": settings.twilio_account_sid, "From": PHONE,
            "To": settings.twilio_from_number, "Body": "2", "NumMedia": "0"}
    query = b"account=main"
    url = f"{settings.public_url}{SMS_PATH}?{query.decode()}"
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(url, form)
    return Signed("sms", SMS_PATH.encode(), query,
                  (("X-Twilio-Signature", signature.encode()),), urlencode(form).encode(),
                  "application/x-www-form-urlencoded")


def signed_event(secret: str, when: datetime, webhook_id: str = "msg_forgery_original",
                 body: bytes | None = None) -> Signed:
    body = body if body is not None else json.dumps(failed_event(phone=PHONE)).encode()
    signature = Webhook(secret).sign(webhook_id, when, body.decode())
    headers = (("webhook-id", webhook_id.encode()),
               ("webhook-timestamp", str(int(when.timestamp())).encode()),
               ("webhook-signature", signature.encode()))
    return Signed("event", b"/events", b"", headers, body, "application/json")


def signed_update() -> Signed:
    body = json.dumps(text_update(880_001, CHAT, "2")).encode()
    return Signed("telegram", b"/webhooks/telegram", b"",
                  (("X-Telegram-Bot-Api-Secret-Token", TELEGRAM_SECRET.encode()),), body,
                  "application/json")


# -- mutations ------------------------------------------------------------------------------
def _flip(data: bytes, rng: random.Random, alphabet: list[int], aim: str = "") -> bytes:
    """``data`` with one byte replaced: half the time by any other byte of ``alphabet``,
    half the time by a near miss (a letter in the other case, else a neighbouring byte),
    which catches case-insensitive or partial comparisons. ``aim`` narrows the position."""
    if aim == "escapes":
        at = rng.choice([m + i for m in range(len(data)) if data[m:m + 1] == b"%"
                         for i in (1, 2)])
    elif aim == "tail":
        at = len(data.rstrip(b"=")) - 1
    else:
        at = rng.randrange(len(data))
    old = data[at]
    swapped = ord(chr(old).swapcase())
    near = [swapped] if swapped != old and rng.random() < 0.5 else [old - 1, old + 1]
    near = [b for b in near if b != old and b in alphabet]
    byte = rng.choice(near) if near and rng.random() < 0.5 else \
        rng.choice([b for b in alphabet if b != old])
    return data[:at] + bytes([byte]) + data[at + 1:]


def mutations(originals: dict[str, Signed], rng: random.Random,
              scale: int = 1) -> list[Mutation]:
    """Exactly ``scale * sum(PLAN.values())`` distinct mutations, in a seeded random order."""
    out: list[Mutation] = []
    for (kind, part), per_thousand in PLAN.items():
        count = per_thousand * scale
        original = originals[kind]
        if part == "timestamp":
            out += [Mutation(kind, part, None, SKEW if i % 2 else -SKEW) for i in range(count)]
            continue
        field, _, aim = part.partition("@")
        seen: set[Signed] = set()
        while len(seen) < count:
            if field.startswith("header:"):
                name = field.split(":", 1)[1]
                value = _flip(original.header(name), rng, HEADER_BYTES, aim)
                mutated = replace(original, headers=tuple(
                    (n, value if n == name else v) for n, v in original.headers))
            elif field == "body":
                mutated = replace(original, body=_flip(original.body, rng, BODY_BYTES, aim))
            else:
                mutated = replace(original, **{field: _flip(getattr(original, field), rng,
                                                            URL_BYTES)})
            seen.add(mutated)
        out += [Mutation(kind, part, m) for m in sorted(seen, key=repr)]
    rng.shuffle(out)
    return out


def _lenient_b64(text: str) -> bytes | str:
    try:
        return base64.b64decode(text)
    except (binascii.Error, ValueError):
        return text


def meaning(request: Signed) -> tuple:
    """What the server can read from ``request``: equal meanings are the same request."""
    path = unquote(request.path.decode("latin-1"))
    headers = {n.lower(): v.decode("latin-1").strip(" \t") for n, v in request.headers}
    if request.kind == "sms":
        environ = EnvironBuilder(method="POST", data=request.body,
                                 content_type=request.content_type).get_environ()
        form = sorted(Request(environ).form.items(multi=True))
        return path, request.query, tuple(form), headers["x-twilio-signature"]
    if request.kind == "event":
        signatures = tuple((s.split(",", 1)[0], _lenient_b64(s.split(",", 1)[-1]))
                           for s in headers["webhook-signature"].split(" "))
        return (path, request.body, headers["webhook-id"], headers["webhook-timestamp"],
                signatures)
    return path, request.body, headers["x-telegram-bot-api-secret-token"]


# -- the wire ---------------------------------------------------------------------------------
def send(base_url: str, request: Signed) -> int:
    """POST ``request`` over a fresh connection, byte for byte; the response status."""
    netloc = urlsplit(base_url)
    target = request.path + (b"?" + request.query if request.query else b"")
    head = [b"POST " + target + b" HTTP/1.1", f"Host: {netloc.netloc}".encode(),
            f"Content-Type: {request.content_type}".encode(),
            f"Content-Length: {len(request.body)}".encode(), b"Connection: close"]
    head += [name.encode() + b": " + value for name, value in request.headers]
    with socket.create_connection((netloc.hostname, netloc.port), timeout=15) as sock:
        sock.sendall(b"\r\n".join(head) + b"\r\n\r\n" + request.body)
        response = b""
        while b"\r\n" not in response:
            chunk = sock.recv(4096)
            if not chunk:
                break
            response += chunk
    return int(response.split(b" ", 2)[1])


def _timestamp_mutation(secret: str, original: Signed, shift: int, n: int) -> Signed:
    """The original event under a fresh webhook-id, correctly signed ``shift`` seconds off.

    Timestamps are whole seconds: a +301 s one is sent early in a second, so the server
    still reads it as more than 300 s ahead.
    """
    if shift > 0 and time.time() % 1 > 0.5:
        time.sleep(1 - time.time() % 1)
    when = datetime.fromtimestamp(int(time.time()) + shift, UTC)
    return signed_event(secret, when, webhook_id=f"msg_forgery_skew_{n}", body=original.body)


# -- side effects -----------------------------------------------------------------------------
def redis_state(client: redis.Redis) -> dict[bytes, tuple[bytes | None, float]]:
    """Every key: its serialised value and when it expires (``inf`` for never)."""
    now, state = time.time(), {}
    for key in client.scan_iter(count=1000):
        if not key.endswith(VOLATILE_SUFFIX):
            ttl_ms = client.pttl(key)
            state[key] = (client.dump(key), now + ttl_ms / 1000 if ttl_ms >= 0 else float("inf"))
    return state


def changed_keys(before: dict, after: dict) -> list[bytes]:
    """Keys added, rewritten or gone before their time (pacing slots expire by design)."""
    now = time.time()
    return sorted(k for k in before.keys() | after.keys()
                  if k not in before or (k in after and after[k][0] != before[k][0])
                  or (k not in after and before[k][1] > now))


def outside_world(system) -> dict[str, int]:  # noqa: ANN001
    return {"twilio requests": len(system.twilio.requests_log),
            "telegram calls": len(system.telegram.calls),
            "shipper callbacks": len(system.shipper.callbacks) + len(system.shipper.rejected)}


def settle(system) -> None:  # noqa: ANN001
    system.runtime.queue.broker.join("inbound", timeout=10_000)
    system.drain()


@pytest.fixture
def system(make_system):
    return make_system(RATE_LIMIT_EVENTS="off", RATE_LIMIT_WEBHOOKS="off")


@pytest.mark.parametrize("total", [1000, pytest.param(10_000, marks=pytest.mark.long)])
def test_one_byte_mutations_of_signed_requests_are_refused_with_no_side_effects(
        system, redis_client, total):
    settings = system.settings
    secret = settings.events_webhook_secret
    # The originals, each processed once, so that unchanged meanings are replays.
    telegram_case = failed_event(phone=None)
    telegram_case["shipment"]["recipient"]["telegram_chat_id"] = CHAT
    assert system.post_event(telegram_case).status_code == 202
    originals = {"sms": signed_sms(settings), "event": signed_event(secret, datetime.now(UTC)),
                 "telegram": signed_update()}
    assert send(system.url, originals["event"]) == 202
    system.customer(PHONE).offered()
    system.chat(CHAT).reply()
    assert send(system.url, originals["sms"]) == 200
    assert send(system.url, originals["telegram"]) == 200
    settle(system)
    assert any("YES" in m["body"] for m in system.twilio.messages)  # the originals acted
    assert any("is that right" in m["text"] for m in system.telegram.sent(CHAT))
    before, world = redis_state(redis_client), outside_world(system)

    plan = mutations(originals, random.Random(SEED), scale=total // 1000)
    assert len(plan) == total
    refused, equivalent, accepted, errors = 0, [], [], []
    for n, mutation in enumerate(plan):
        request = mutation.request or _timestamp_mutation(secret, originals["event"],
                                                          mutation.shift, n)
        status = send(system.url, request)
        same = mutation.request is not None and meaning(request) == meaning(
            originals[mutation.kind])
        if same:
            equivalent.append(f"{mutation.kind} {mutation.part} -> {status}")
            if status >= 500:
                errors.append((status, mutation.kind, mutation.part, request))
        elif 400 <= status < 500:
            refused += 1
        elif status < 400:
            accepted.append((status, mutation.kind, mutation.part, request))
        else:
            errors.append((status, mutation.kind, mutation.part, request))
    settle(system)
    after = redis_state(redis_client)
    changed = changed_keys(before, after)
    summary = (f"{len(plan)} mutations: {refused} refused, {len(equivalent)} equivalent, "
               f"{len(accepted)} accepted, {len(errors)} server errors; "
               f"{len(changed)} Redis keys changed")
    print(f"\n{summary}\nequivalent (replays of the original): {equivalent}")
    assert not accepted, f"{summary}: {accepted[:5]}"
    assert not errors, f"{summary}: {errors[:5]}"
    assert not changed, f"{summary}: {changed[:10]}"
    assert outside_world(system) == world, summary
