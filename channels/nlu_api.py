"""Rasa-compatible NLU endpoint: ``POST /model/parse``.

Request JSON: ``{"text": str}`` plus optional ``reference_time`` (ISO 8601 with an
offset; default now), ``timezone`` (IANA name; default ``DEFAULT_TIMEZONE``), ``language``
(``en``/``es``, a hint) and Rasa's ``message_id`` (ignored). The answer is Rasa's
``/model/parse`` shape plus ``language``. With ``NLU_API_TOKEN`` set, callers must pass it
as Rasa does (``?token=...``) or as ``Authorization: Bearer ...``.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, Response, current_app, jsonify, request

from bot.runtime import Runtime
from nlu.base import LANGUAGES

bp = Blueprint("nlu_api", __name__)
MAX_TEXT = 10_000
MAX_ZONE_NAME = 64  # the longest IANA name is 32 characters; longer is not worth a lookup
EARLIEST, LATEST = 1970, 2100  # reference times outside these years are a caller's mistake


def _error(status: int, message: str, field: str | None = None) -> tuple[Response, int]:
    body: dict[str, Any] = {"error": message, "status": status}
    if field:
        body["field"] = field
    return jsonify(body), status


def _authorised(token: str | None) -> bool:
    if not token:
        return True
    given = request.args.get("token") or ""
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        given = auth.removeprefix("Bearer ").strip()
    return hmac.compare_digest(given.encode(), token.encode())


def _reference(payload: dict[str, Any], default_tz: str) -> tuple[datetime, str] | str:
    """``(reference_time, timezone)`` from the request, or an error message."""
    tz = payload.get("timezone") or default_tz
    try:
        zone = ZoneInfo(tz) if isinstance(tz, str) and len(tz) <= MAX_ZONE_NAME else None
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name the OS refuses
        zone = None
    if zone is None:
        return "timezone must be an IANA name such as America/New_York"
    raw = payload.get("reference_time")
    if raw is None:
        return datetime.now(zone), tz
    try:
        when = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None or when.utcoffset() is None:
        return "reference_time must be ISO 8601 with an offset, e.g. 2026-11-24T10:00:00-05:00"
    if not EARLIEST <= when.year <= LATEST:
        return f"reference_time must be between the years {EARLIEST} and {LATEST}"
    return when, tz


@bp.post("/model/parse")
def model_parse() -> tuple[Response, int]:
    rt: Runtime = current_app.extensions["doorstep"]
    if not _authorised(rt.settings.nlu_api_token):
        return _error(401, "missing or wrong NLU API token")
    if request.mimetype != "application/json":
        return _error(415, "Content-Type must be application/json")
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _error(400, "body must be a JSON object such as {\"text\": \"hi\"}", "body")
    text = payload.get("text")
    if not isinstance(text, str):
        return _error(422, "text is required and must be a string", "text")
    if len(text) > MAX_TEXT:
        return _error(422, f"text must be at most {MAX_TEXT} characters", "text")
    language = payload.get("language")
    if language is not None and language not in LANGUAGES:
        return _error(422, "language must be 'en' or 'es' when given", "language")
    reference = _reference(payload, rt.settings.default_timezone)
    if isinstance(reference, str):
        field = "timezone" if reference.startswith("timezone") else "reference_time"
        return _error(422, reference, field)
    when, tz = reference
    result = rt.nlu.parse(text, when, tz, language)
    return jsonify(result.to_dict()), 200
