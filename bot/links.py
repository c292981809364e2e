"""Signed deep-link tokens: ``https://t.me/<bot>?start=<token>`` names one case.

A token is the case id's 8 random bytes and a 12-byte HMAC-SHA256 tag, base64url
(27 characters, within Telegram's 64-character ``start`` limit and alphabet). It
reveals nothing by itself and cannot be forged without the key. It works as long as
the case is open: the engine refuses tokens for closed cases.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

_CASE_ID = re.compile(r"cs_([0-9a-f]{16})")
_TAG_BYTES = 12


def link_key(events_secret: str) -> bytes:
    """The signing key, derived from ``EVENTS_WEBHOOK_SECRET`` (one secret fewer to manage)."""
    return hmac.new(events_secret.encode(), b"doorstep telegram deep links v1",
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
