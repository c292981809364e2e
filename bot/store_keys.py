"""How Redis keys are spelled: ``key_for`` is the one builder every key goes through."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import redis

PREFIX = "ds"
Pipe = redis.client.Pipeline


def key_for(kind: str, *parts: object, tag: str | None = None) -> str:
    """Build a Redis key: ``ds:<kind>:{<tag>}:<parts...>``."""
    pieces = [PREFIX, kind]
    if tag is not None:
        pieces.append("{" + tag + "}")
    pieces.extend(str(p) for p in parts)
    return ":".join(pieces)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def optout_digest(channel: str, address: str) -> str:
    """A one-way hash of a channel address, to honour an opt-out without the number."""
    return hashlib.sha256(f"doorstep optout v1:{channel}:{address}".encode()).hexdigest()


def optout_hash_key(channel: str, address: str) -> str:
    """Where an opt-out is kept once the customer's number is erased."""
    return key_for("optout", "sha256", optout_digest(channel, address))
