"""The load process of ``python -m bench load``: asyncio + aiohttp over loopback.

Runs in its own process (started by :class:`bench.load.Driver`), so its CPU is not the
servers'. It takes one operation at a time from a pipe and answers with a summary:

- ``turns``: closed loop, one conversation per phone; each sends its next signed SMS as
  soon as the previous answer arrived.
- ``events``: signed ``POST /events``, ``concurrency`` at a time, for ``duration`` seconds
  or until every event is sent (``duration`` None).
- ``replies``: open loop at ``rate`` turns/s; each turn goes to a phone with no turn
  outstanding, and counts until the fake Twilio has received every reply to it. The
  latency of a turn runs from its scheduled time (so a late send is not hidden).
- ``ping``: redis-py (asyncio) PINGs, ``concurrency`` clients.

Every request of a timed step is built and signed before its window opens. Before a timed
closed loop, each conversation sends one untimed request (opening its keep-alive
connection). A non-2xx answer or a failed connection is an error, counted by status.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import aiohttp
from standardwebhooks import Webhook
from twilio.request_validator import RequestValidator

SMS_PATH = "/webhooks/twilio/sms"
EVENTS_PATH = "/events"
# Real dialogue turns: each is answered (where-is-my-parcel, greeting, help) and leaves
# the case where it was, so a conversation can go on for thousands of turns. (A bare
# "reschedule" is not understood mid-flow: the second such text escalates the case, and
# the bot then stays silent.)
TEXTS = ("where is my parcel", "when will it arrive", "hi", "help",
         "has my package shipped yet")
TURNS_SIGNED_PER_SECOND = 3000  # most turns/s one run can use (per step, all conversations)
EVENTS_SIGNED_PER_SECOND = 2500
Prepared = tuple[bytes, dict[str, str], str]  # body, headers, what it says (or "")


# -- building signed requests -------------------------------------------------
def sms_turn(public_url: str, validator: RequestValidator, account_sid: str, to: str,
             phone: str, text: str) -> Prepared:
    """A signed inbound SMS webhook, as Twilio posts it."""
    sid = "SM" + uuid.uuid4().hex
    form = {"From": phone, "To": to, "Body": text, "MessageSid": sid,
            "AccountSid": account_sid, "NumMedia": "0"}
    signature = validator.compute_signature(public_url + SMS_PATH, form)
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": signature}
    return urlencode(form).encode(), headers, text


def delivery_failed_event(phone: str, now: datetime) -> dict[str, Any]:
    """A ``delivery.failed`` event (README "Event contract") with a unique tracking number."""
    zone = ZoneInfo("America/New_York")
    day = now.astimezone(zone).date() + timedelta(days=1)

    def window(offset: int, start: int, end: int) -> dict[str, str]:
        d = day + timedelta(days=offset)
        return {"start": datetime(d.year, d.month, d.day, start, tzinfo=zone).isoformat(),
                "end": datetime(d.year, d.month, d.day, end, tzinfo=zone).isoformat()}
    return {"type": "delivery.failed", "occurred_at": now.isoformat(),
            "shipment": {"tracking_number": "1ZBENCH" + uuid.uuid4().hex[:12].upper(),
                         "order_ref": "A-1001", "carrier": "acme",
                         "recipient": {"name": "Ana Diaz", "phone": phone, "language": "en",
                                       "telegram_chat_id": None},
                         "address": {"line1": "12 Oak St", "line2": "Apt 4", "city": "Boston",
                                     "region": "MA", "postal_code": "02110", "country": "US"},
                         "timezone": "America/New_York",
                         "value": {"amount": 129.99, "currency": "USD"}},
            "details": {"reason": "recipient_absent", "driver_note": "no answer",
                        "available_windows": [window(0, 12, 17), window(0, 17, 21),
                                              window(1, 8, 12)]}}


def signed_event(signer: Webhook, phone: str) -> Prepared:
    """A Standard Webhooks signed ``POST /events`` body and headers."""
    now, msg_id = datetime.now(UTC), "msg_" + uuid.uuid4().hex
    body = json.dumps(delivery_failed_event(phone, now))
    headers = {"Content-Type": "application/json", "webhook-id": msg_id,
               "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": signer.sign(msg_id, now, body)}
    return body.encode(), headers, ""


def _conversation(public_url: str, twilio: dict[str, str], phone: str, start: int,
                  count: int) -> Iterator[Prepared]:
    validator = RequestValidator(twilio["auth_token"])
    texts = itertools.islice(itertools.cycle(TEXTS), start % len(TEXTS), None)
    return iter([sms_turn(public_url, validator, twilio["account_sid"], twilio["from_number"],
                          phone, next(texts)) for _ in range(count)])


# -- measuring ------------------------------------------------------------------
def percentile(samples: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1) in milliseconds, or None without samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1000


def _summary(latencies: list[float], errors: Counter[str], elapsed: float,
             **extra: Any) -> dict[str, Any]:
    return {"ok": len(latencies), "errors": dict(errors), "elapsed": elapsed,
            "rate": len(latencies) / elapsed if elapsed > 0 else 0.0,
            "p50": percentile(latencies, 0.50), "p99": percentile(latencies, 0.99), **extra}


def _session(connections: int) -> aiohttp.ClientSession:
    # Close idle connections before gunicorn's 2 s keep-alive does, never racing it.
    connector = aiohttp.TCPConnector(limit=connections, keepalive_timeout=1.5)
    return aiohttp.ClientSession(connector=connector,
                                 timeout=aiohttp.ClientTimeout(total=30))


async def _post(session: aiohttp.ClientSession, url: str, request: Prepared) -> str:
    """POST one prepared request; its status as text ("200"), or the exception's name."""
    body, headers, _ = request
    try:
        async with session.post(url, data=body, headers=headers) as resp:
            await resp.read()
            return str(resp.status)
    except (TimeoutError, aiohttp.ClientError) as exc:
        return type(exc).__name__


async def _closed_loop(url: str, sources: list[Iterator[Prepared]],
                       duration: float | None) -> dict[str, Any]:
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    exhausted = 0
    async with _session(len(sources)) as session:
        if duration is not None:  # open each keep-alive connection, untimed
            for status in await asyncio.gather(*(_post(session, url, next(s)) for s in sources)):
                if not status.startswith("2"):
                    errors[status] += 1
        started, started_at = time.perf_counter(), time.monotonic()
        deadline = started + duration if duration is not None else math.inf

        async def converse(source: Iterator[Prepared]) -> None:
            nonlocal exhausted
            for request in source:
                if time.perf_counter() >= deadline:
                    return
                sent = time.perf_counter()
                status = await _post(session, url, request)
                if status.startswith("2"):
                    latencies.append(time.perf_counter() - sent)
                else:
                    errors[status] += 1
            exhausted += duration is not None
        await asyncio.gather(*(converse(s) for s in sources))
        elapsed = time.perf_counter() - started
    return _summary(latencies, errors, elapsed, exhausted=exhausted, started_at=started_at)


async def turns(url: str, public_url: str, twilio: dict[str, str], phones: list[str],
                duration: float) -> dict[str, Any]:
    """Closed-loop SMS turns to ``url`` (a server's base URL), one conversation per phone."""
    each = math.ceil(duration * min(1500, TURNS_SIGNED_PER_SECOND / len(phones))) + 1
    sources = [_conversation(public_url, twilio, phone, i, each)
               for i, phone in enumerate(phones)]
    return await _closed_loop(url + SMS_PATH, sources, duration)


async def events(url: str, secret: str, phones: list[str], concurrency: int,
                 duration: float | None) -> dict[str, Any]:
    """Signed events (one per phone) at ``concurrency``: for ``duration`` s, or all.

    A timed step's events are signed before it. Sending them all (the drain) signs each
    just before it goes: a signature is only good for 5 minutes, and 100 000 events take
    longer than that; signing costs some 50 us against milliseconds of ingestion."""
    signer = Webhook(secret)
    shared: Iterator[Prepared] = (signed_event(signer, phone) for phone in phones)
    if duration is not None:
        cap = math.ceil(duration * EVENTS_SIGNED_PER_SECOND) + concurrency
        shared = iter([signed_event(signer, phone) for phone in phones[:cap]])
    return await _closed_loop(url + EVENTS_PATH, [shared] * concurrency, duration)


@dataclass
class Outstanding:
    """A turn sent in the open loop, until its phone may take the next one."""

    due: float  # when it was scheduled (time.monotonic())
    replies_expected: int
    replies_seen: int = 0
    answered: bool = False  # the webhook's HTTP answer came back


class OpenLoop:
    """Turns at a fixed rate, each to a phone with no turn outstanding (FIFO of phones)."""

    def __init__(self, session: aiohttp.ClientSession, url: str,
                 pools: dict[str, Iterator[Prepared]], replies_per_text: dict[str, int] | None):
        self.session, self.url, self.pools = session, url, pools
        self.replies_per_text = replies_per_text  # None: nothing to wait for but HTTP
        self.free: asyncio.Queue[str] = asyncio.Queue()
        for phone in pools:
            self.free.put_nowait(phone)
        self.outstanding: dict[str, Outstanding] = {}
        self.http_latencies: list[float] = []
        self.reply_latencies: list[float] = []
        self.errors: Counter[str] = Counter()

    async def turn(self, phone: str, due: float) -> None:
        request = next(self.pools[phone])
        expected = self.replies_per_text[request[2]] if self.replies_per_text else 0
        turn = self.outstanding[phone] = Outstanding(due, expected)  # replies may beat HTTP
        status = await _post(self.session, self.url, request)
        turn.answered = True
        if status.startswith("2"):
            self.http_latencies.append(time.monotonic() - due)
        else:
            self.errors[status] += 1
            turn.replies_expected = 0
        self._release_if_done(phone)

    def arrived(self, to: str, at: float) -> None:
        turn = self.outstanding.get(to)
        if turn is None:
            return
        turn.replies_seen += 1
        if turn.replies_seen == 1:
            self.reply_latencies.append(at - turn.due)
        self._release_if_done(to)

    def _release_if_done(self, phone: str) -> None:
        turn = self.outstanding[phone]
        if turn.answered and turn.replies_seen >= turn.replies_expected:
            del self.outstanding[phone]
            self.free.put_nowait(phone)

    async def arrivals(self, fake_url: str, after: int) -> dict[str, Any]:
        async with self.session.get(f"{fake_url}/bench/arrivals?after={after}") as resp:
            return dict(await resp.json())

    async def watch(self, fake_url: str, seen: int) -> None:
        """Poll the fake Twilio's arrivals after the first ``seen`` every 10 ms."""
        while True:
            found = await self.arrivals(fake_url, seen)
            for to, at in found["arrivals"]:
                self.arrived(to, at)
            seen = found["next"]
            await asyncio.sleep(0.01)

    async def run(self, rate: float, total: int) -> float:
        """Send ``total`` turns at ``rate``/s; wait (15 s at most) for the last replies."""
        started = time.monotonic()
        tasks = []
        for i in range(total):
            due = started + i / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            tasks.append(asyncio.create_task(self.turn(await self.free.get(), due)))
        await asyncio.gather(*tasks)
        give_up = time.monotonic() + 15
        while self.outstanding and time.monotonic() < give_up:
            await asyncio.sleep(0.05)
        self.errors["no reply"] += len(self.outstanding)
        return time.monotonic() - started


async def replies(url: str, public_url: str, twilio: dict[str, str], phones: list[str],
                  rate: float, duration: float, fake_url: str | None,
                  replies_per_text: dict[str, int]) -> dict[str, Any]:
    """Open-loop turns at ``rate``/s; with ``fake_url``, time each turn's first reply."""
    total = max(1, round(rate * duration))
    each = math.ceil(total / len(phones)) + 2
    pools = {p: _conversation(public_url, twilio, p, i, each) for i, p in enumerate(phones)}
    async with _session(len(phones) + 1) as session:
        loop = OpenLoop(session, url + SMS_PATH, pools, replies_per_text if fake_url else None)
        watcher = None
        if fake_url:
            seen = (await loop.arrivals(fake_url, 0))["next"]
            watcher = asyncio.create_task(loop.watch(fake_url, seen))
        elapsed = await loop.run(rate, total)
        if watcher is not None:
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
    result = _summary(loop.http_latencies, +loop.errors, elapsed)
    result.update(reply_p50=percentile(loop.reply_latencies, 0.5),
                  reply_p99=percentile(loop.reply_latencies, 0.99),
                  replies=len(loop.reply_latencies))
    return result


async def ping(redis_url: str, concurrency: int, duration: float) -> dict[str, Any]:
    """PINGs from ``concurrency`` redis-py asyncio clients for ``duration`` seconds."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(redis_url, max_connections=concurrency)
    latencies: list[float] = []
    await asyncio.gather(*(client.ping() for _ in range(concurrency)))
    started = time.perf_counter()
    deadline = started + duration

    async def pinger() -> None:
        while (sent := time.perf_counter()) < deadline:
            await client.ping()
            latencies.append(time.perf_counter() - sent)
    await asyncio.gather(*(pinger() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await client.aclose()
    return _summary(latencies, Counter(), elapsed)


OPERATIONS = {"turns": turns, "events": events, "replies": replies, "ping": ping}


def serve(conn: Connection) -> None:
    """Run operations from ``conn`` (``{"op": name, **arguments}``) until ``{"op": "stop"}``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the orchestrator's to handle
    while True:
        try:
            request = conn.recv()
        except EOFError:  # the orchestrator is gone
            return
        name = request.pop("op")
        if name == "stop":
            return
        try:
            conn.send(asyncio.run(OPERATIONS[name](**request)))
        except Exception as exc:  # report it to the orchestrator instead of dying silently
            conn.send({"failed": f"{name}: {type(exc).__name__}: {exc}"})
