"""What supervisors set up for agents: canned responses and resolution codes.

Redis keys (one hash tag, so each script's keys share a Cluster slot):
``ds:playbook:{playbook}:codes`` (list: the codes in order), ``...:labels`` (hash code →
label), ``...:canned`` (list: response ids, oldest first), ``...:canned:items`` (hash id →
JSON ``{"id", "title", "text", "created_at"}``).

Resolution codes come from the settings' ``RESOLUTION_CODES`` until a supervisor changes
them: the first change copies the defaults into Redis, then edits that copy.
"""

from __future__ import annotations

import json
import re
import secrets

import redis

from bot.errors import Invalid, NotFound
from bot.store import key_for, now_iso

_TAG = "playbook"
_CODES = key_for("playbook", "codes", tag=_TAG)
_LABELS = key_for("playbook", "labels", tag=_TAG)
_CANNED = key_for("playbook", "canned", tag=_TAG)
_CANNED_ITEMS = key_for("playbook", "canned", "items", tag=_TAG)

CODE_PATTERN = re.compile(r"[a-z0-9_]{2,40}")
MAX_LABEL = 80
MAX_TITLE = 80
MAX_CANNED_TEXT = 1000

# Both scripts first copy the defaults in (on the first change only): ARGV[1] is the code,
# ARGV[2] its label (unused when removing), then code/label pairs of the defaults.
_SEED_DEFAULTS = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  for i = 3, #ARGV, 2 do
    redis.call('RPUSH', KEYS[1], ARGV[i])
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  end
end
"""
# Add a code, or relabel an existing one.
_ADD_CODE = _SEED_DEFAULTS + """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then
  redis.call('RPUSH', KEYS[1], ARGV[1])
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"""
# Remove a code unless it is the last one. Returns 1 removed, 0 unknown code, -1 the last.
_REMOVE_CODE = _SEED_DEFAULTS + """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
if redis.call('LLEN', KEYS[1]) <= 1 then return -1 end
redis.call('LREM', KEYS[1], 0, ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
"""


def _text(value: object, field: str, limit: int) -> str:
    """``value`` trimmed; Invalid unless it is a string of 1..limit characters."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"{field} must not be empty")
    cleaned = value.strip()
    if len(cleaned) > limit:
        raise Invalid(f"{field} must be at most {limit} characters (it has {len(cleaned)})")
    return cleaned


class Playbook:
    """Canned responses and resolution codes in Redis; codes start from the settings'
    ``RESOLUTION_CODES`` until a supervisor changes them."""

    def __init__(self, client: redis.Redis, default_codes: tuple[tuple[str, str], ...]) -> None:
        self.redis = client
        self.default_codes = default_codes
        self._add_code = client.register_script(_ADD_CODE)
        self._remove_code = client.register_script(_REMOVE_CODE)

    # -- resolution codes ----------------------------------------------------
    def resolution_codes(self) -> list[dict[str, str]]:
        """``[{"code", "label"}]`` in the order supervisors set."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.lrange(_CODES, 0, -1)
            pipe.hgetall(_LABELS)
            order, labels = pipe.execute()
        if not order:
            return [{"code": code, "label": label} for code, label in self.default_codes]
        return [{"code": c.decode(), "label": labels.get(c, c).decode()} for c in order]

    def add_resolution_code(self, code: str, label: str) -> dict[str, str]:
        """Add a code at the end, or relabel it if it exists; Invalid on a bad code or label."""
        code = code.strip() if isinstance(code, str) else code
        if not isinstance(code, str) or not CODE_PATTERN.fullmatch(code):
            raise Invalid("code must be 2 to 40 characters of a-z, 0-9 and _ "
                          "(like parcel_located)")
        label = _text(label, "label", MAX_LABEL)
        self._add_code(keys=[_CODES, _LABELS], args=[code, label, *self._flat_defaults()])
        return {"code": code, "label": label}

    def remove_resolution_code(self, code: str) -> None:
        """Remove a code; NotFound if unknown, Invalid if it is the last one."""
        outcome = self._remove_code(keys=[_CODES, _LABELS],
                                    args=[code, "", *self._flat_defaults()])
        if outcome == 0:
            raise NotFound(f"no resolution code {code!r}")
        if outcome == -1:
            raise Invalid("keep at least one resolution code")

    def is_resolution_code(self, code: str) -> bool:
        if not isinstance(code, str):
            return False
        return any(row["code"] == code for row in self.resolution_codes())

    def _flat_defaults(self) -> list[str]:
        return [part for pair in self.default_codes for part in pair]

    # -- canned responses ----------------------------------------------------
    def canned_responses(self) -> list[dict[str, str]]:
        """``[{"id", "title", "text"}]``, oldest first."""
        ids = self.redis.lrange(_CANNED, 0, -1)
        if not ids:
            return []
        rows = self.redis.hmget(_CANNED_ITEMS, ids)
        found = (json.loads(raw) for raw in rows if raw is not None)
        return [{"id": r["id"], "title": r["title"], "text": r["text"]} for r in found]

    def add_canned_response(self, title: str, text: str) -> dict[str, str]:
        """Save a response (title 1–80, text 1–1000 characters) at the end of the list."""
        title = _text(title, "title", MAX_TITLE)
        text = _text(text, "text", MAX_CANNED_TEXT)
        response_id = secrets.token_hex(5)
        row = {"id": response_id, "title": title, "text": text, "created_at": now_iso()}
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(_CANNED_ITEMS, response_id, json.dumps(row))
            pipe.rpush(_CANNED, response_id)
            pipe.execute()
        return {"id": response_id, "title": title, "text": text}

    def remove_canned_response(self, response_id: str) -> None:
        """Delete a response; NotFound if there is none with that id."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hdel(_CANNED_ITEMS, response_id)
            pipe.lrem(_CANNED, 0, response_id)
            deleted, _ = pipe.execute()
        if not deleted:
            raise NotFound(f"no canned response {response_id!r}")
