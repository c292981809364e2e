"""The tracking page as a channel: a sender with nothing to send, and photo uploads.

The page shows the bot's replies from the case timeline (``message.queued`` entries of
channel ``web``), written when the turn commits. So :class:`WebSender` has nothing to
deliver: the queue records the message as sent, with no provider, no pacing, no retry,
no failover and nothing sent to the customer's phone.

Photos posted to the page are held by :class:`WebUploads` for the length of the request
that carries them: the view stashes the bytes, the engine's media intake fetches them
(by the stash reference in a :class:`~bot.models.MediaRef`) within the same turn, in the
same process, and the view drops whatever is left once the turn is over.
"""

from __future__ import annotations

import secrets
import threading

from bot.media import MediaRejected
from bot.models import MediaRef, Outbound


class WebSender:
    """Record a tracking-page message as sent: the page reads it from the timeline."""

    def send(self, outbound: Outbound) -> str:
        return f"web:{outbound.key}"


class WebUploads:
    """Photos posted to the tracking page, kept in memory for one request."""

    def __init__(self) -> None:
        self._held: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def stash(self, content: bytes) -> str:
        """Hold ``content`` until the turn fetches it; returns its reference."""
        ref = "upload:" + secrets.token_hex(12)
        with self._lock:
            self._held[ref] = content
        return ref

    def discard(self, ref: str) -> None:
        with self._lock:
            self._held.pop(ref, None)

    def fetch(self, ref: MediaRef, max_bytes: int) -> bytes:
        """The stashed bytes (taken: a second fetch finds nothing)."""
        with self._lock:
            content = self._held.pop(ref.ref, None)
        if content is None:
            raise MediaRejected("unavailable", "the upload is no longer held")
        if len(content) > max_bytes:
            raise MediaRejected("too_large", f"{len(content)} bytes")
        return content
