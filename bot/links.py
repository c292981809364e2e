"""Signed link tokens that name one case: Telegram deep links and tracking-page links.

A token is the case id's 8 random bytes and a 12-byte HMAC-SHA256 tag, base64url
(27 characters, within Telegram's 64-character ``start`` limit and alphabet). It
reveals nothing by itself and cannot be forged without the key.

* ``https://t.me/<bot>?start=<token>`` (key :func:`link_key`) works as long as the
  case is open: the engine refuses tokens for closed cases.
* ``PUBLIC_URL/t/<token>`` (key :func:`tracking_key`), the customer's tracking page,
  works while the case is open and shows its outcome for ``TRACKING_LINK_DAYS`` after.

Both keys are derived from ``EVENTS_WEBHOOK_SECRET`` with different labels, so a deep-link
token is not a tracking token, nor the other way round.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings

_CASE_ID = re.compile(r"cs_([0-9a-f]{16})")
_TAG_BYTES = 12


def link_key(events_secret: str) -> bytes:
    """The signing key, derived from ``EVENTS_WEBHOOK_SECRET`` (one secret fewer to manage)."""
    return hmac.new(events_secret.encode(), b"doorstep telegram deep links v1",
                    hashlib.sha256).digest()


def tracking_key(events_secret: str) -> bytes:
    """The tracking-page signing key: the same secret, another label (domain separation)."""
    return hmac.new(events_secret.encode(), b"doorstep tracking links v1",
                    hashlib.sha256).digest()


def _tag(key: bytes, raw: bytes) -> bytes:
    return hmac.new(key, b"case:" + raw, hashlib.sha256).digest()[:_TAG_BYTES]


def link_token(case_id: str, key: bytes) -> str:
    """The token for ``case_id`` (raises ValueError for an id not made by Doorstep)."""
    m = _CASE_ID.fullmatch(case_id)
    if not m:
        raise ValueError(f"not a case id: {case_id!r}")
    raw = bytes.fromhex(m[1])
    return base64.urlsafe_b64encode(raw + _tag(key, raw)).decode().rstrip("=")


def case_from_token(token: str, key: bytes) -> str | None:
    """The case id a genuine token names, or None for anything else."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{27}", token or ""):
        return None
    blob = base64.urlsafe_b64decode(token + "=")
    raw, tag = blob[:8], blob[8:]
    if not hmac.compare_digest(tag, _tag(key, raw)):
        return None
    case_id = "cs_" + raw.hex()
    # base64 leaves spare bits in the last character: accept only the canonical spelling.
    return case_id if link_token(case_id, key) == token else None


def deep_link(username: str, case_id: str, key: bytes) -> str:
    return f"https://t.me/{username}?start={link_token(case_id, key)}"


def tracking_link(public_url: str, case_id: str, key: bytes) -> str:
    """``PUBLIC_URL/t/<token>``: the customer's tracking page for ``case_id``."""
    return f"{public_url.rstrip('/')}/t/{link_token(case_id, key)}"


def tracking_url(settings: Settings, case_id: str) -> str | None:
    """The tracking link to put in a message about ``case_id``; None with
    ``TRACKING_LINKS=off``."""
    if not settings.tracking_links:
        return None
    return tracking_link(settings.public_url, case_id, tracking_key(settings.events_webhook_secret))
