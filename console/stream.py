"""Live console updates: ``GET /api/stream`` as Server-Sent Events fed by Redis pub/sub.

Every change to a case is published on :data:`bot.store.CONSOLE_CHANNEL`, so a browser
connected to any web process hears about changes made in any other. A stream lives a few
minutes and then ends; the browser's ``EventSource`` reconnects on its own (after the
``retry`` we send first), which also re-checks the login. In between, the account and
session are re-checked at every keepalive, so a disabled account's stream stops within
one keepalive interval.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis
from flask import Blueprint, Response, current_app, request

from bot.store import CONSOLE_CHANNEL
from console.auth import SESSION_COOKIE, staff_required

bp = Blueprint("console_stream", __name__)
log = logging.getLogger("doorstep.console")

KEEPALIVE_S = 15.0  # a comment this often keeps proxies from closing an idle stream
STREAM_S = 300.0  # then end the stream; EventSource reconnects
RETRY_MS = 3000  # how long the browser waits before reconnecting


def sse_event(event: str, data: str) -> str:
    """One Server-Sent Event; a multi-line ``data`` becomes several ``data:`` lines."""
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {event}\n{lines}\n"


def console_events(client: redis.Redis, still_allowed: Callable[[], bool],
                   keepalive_s: float | None = None, lifetime_s: float | None = None
                   ) -> Iterator[str]:
    """Yield the stream's text: ``retry`` once subscribed, then one ``conversation`` event
    per published change and a keepalive comment every ``keepalive_s``; stop when
    ``still_allowed()`` says no at a keepalive, after ``lifetime_s``, or when Redis goes.
    The subscription is always dropped on the way out (client gone included)."""
    keepalive_s = KEEPALIVE_S if keepalive_s is None else keepalive_s
    lifetime_s = STREAM_S if lifetime_s is None else lifetime_s
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(CONSOLE_CHANNEL)
        yield f"retry: {RETRY_MS}\n\n"
        now = time.monotonic()
        ends, next_keepalive = now + lifetime_s, now + keepalive_s
        while True:
            now = time.monotonic()
            if now >= ends:
                return
            if now >= next_keepalive:
                if not still_allowed():
                    return
                yield ": keepalive\n\n"
                next_keepalive = now + keepalive_s
            message = pubsub.get_message(timeout=max(0.0, min(next_keepalive, ends) - now))
            if message is not None and message.get("type") == "message":
                data = message["data"]
                yield sse_event("conversation", data.decode() if isinstance(data, bytes)
                                else str(data))
    except redis.exceptions.RedisError as exc:
        # The browser reconnects after ``retry``; by then Redis may be back.
        log.warning("console stream ended: Redis unavailable (%s)", type(exc).__name__)
    finally:
        try:
            pubsub.unsubscribe()
        except redis.exceptions.RedisError:
            pass
        pubsub.close()


def _still_signed_in(runtime: Any) -> Callable[[], bool]:
    """A check that whoever opened this stream may still use the console: the same API
    token or cookie session (not revoked, not expired, account not disabled), as
    :mod:`console.auth` decides per request. Read now, checked later without a request."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        token = token.strip()
        return lambda: runtime.staff.member_for_token(token) is not None
    sid = request.cookies.get(SESSION_COOKIE, "")

    def by_session() -> bool:
        # An open tab is not activity: the session still ends after SESSION_IDLE_MINUTES
        # without a request of the person's own, and the stream with it.
        session = runtime.sessions.get(sid, touch=False)
        member = runtime.staff.get(session.email) if session is not None else None
        if member is None or member.disabled:
            return False
        runtime.store.touch_staff(member.email)  # an open console counts as "online"
        return True
    return by_session


@bp.get("/api/stream")
@staff_required()
def stream() -> Response:
    """Server-Sent Events: ``event: conversation`` with the published JSON per change."""
    runtime: Any = current_app.extensions["doorstep"]
    events = console_events(runtime.redis, _still_signed_in(runtime))
    return Response(events, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
