"""How Redis keys are spelled: ``key_for`` is the one builder every key goes through."""

from __future__ import annotations

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
