"""The published Telegram Bot API as a contract: check a call's fields, types and limits.

Reads ``shared/peers/telegram_bot_api.json`` (methods and types with required fields),
decodes form values by their declared type as Telegram does, and adds the limits the
description states in prose (text length, callback data size, webhook URL and secret rules).
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_SPEC_ENV = "DOORSTEP_TELEGRAM_API_SPEC"
_DEFAULT_SPEC = Path(__file__).resolve().parents[3] / "shared" / "peers" / "telegram_bot_api.json"
_INT_RE = re.compile(r"-?\d+")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_WEBHOOK_PORTS = {80, 88, 443, 8443}
_PARSE_MODES = {"html", "markdown", "markdownv2"}
UPLOAD = object()  # stands for a multipart file part (an InputFile)
_BASIC: dict[str, Any] = {
    "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "String": lambda v: isinstance(v, str), "Boolean": lambda v: isinstance(v, bool),
    "InputFile": lambda v: isinstance(v, str) or v is UPLOAD,
}


@cache
def bot_api_spec(spec_path: str | None = None) -> dict[str, Any]:
    """The Bot API description (``methods`` and ``types``), read once per process."""
    path = Path(spec_path or os.environ.get(_SPEC_ENV) or _DEFAULT_SPEC)
    if not path.is_file():
        raise FileNotFoundError(f"Telegram Bot API description not found at {path} (${_SPEC_ENV})")
    return json.loads(path.read_text(encoding="utf-8"))


def check_fields(obj: dict[str, Any], fields: list[dict[str, Any]], where: str) -> list[str]:
    known = {f["name"]: f for f in fields}
    out = [f"{where}{f['name']}: required field is missing" for f in fields
           if f["required"] and f["name"] not in obj]
    for key, value in obj.items():
        if key not in known:
            out.append(f"{where}{key}: unknown field")
        else:
            out += _check_value(value, known[key]["types"], f"{where}{key}")
    return out


def _check_value(value: Any, types: list[str], where: str) -> list[str]:
    """Problems with ``value`` as any of ``types`` ([] if one fits); the closest type reports."""
    spec_types = bot_api_spec()["types"]
    if isinstance(value, dict) and len(types) > 1:  # pick object types by their required keys
        fitting = [t for t in types if all(f["name"] in value for f in
                   spec_types.get(t, {}).get("fields", []) if f["required"])]
        types = fitting or types
    attempts = [_check_one(value, t, where) for t in types]
    return [] if any(not a for a in attempts) else min(attempts, key=len)


def _check_one(value: Any, type_: str, where: str) -> list[str]:
    if type_.startswith("Array of "):
        if not isinstance(value, list):
            return [f"{where}: expected {type_}, got {type(value).__name__}"]
        return [p for i, item in enumerate(value)
                for p in _check_value(item, [type_.removeprefix("Array of ")], f"{where}[{i}]")]
    if type_ in _BASIC:
        return [] if _BASIC[type_](value) else [
            f"{where}: expected {type_}, got {type(value).__name__} {value!r:.40}"]
    if type_ == "KeyboardButton" and isinstance(value, str):
        return []  # "For simple text buttons, String can be used instead of this object"
    if not isinstance(value, dict):
        return [f"{where}: expected {type_} (a JSON object), got {type(value).__name__}"]
    spec = bot_api_spec()["types"].get(type_, {})
    if spec.get("subtypes"):
        return _check_value(value, spec["subtypes"], where)
    return check_fields(value, spec.get("fields", []), where + ".") + \
        _button_rules(value, type_, where)


def _button_rules(button: dict[str, Any], type_: str, where: str) -> list[str]:
    """Telegram's own limits on keyboard buttons, beyond the field types."""
    kinds = set(button) - {"text", "icon_custom_emoji_id", "style"}
    out = []
    if type_ == "InlineKeyboardButton":
        if len(kinds) != 1:
            out.append(f"{where}: can't parse inline keyboard button: exactly one of url, "
                       f"callback_data, ... must be used, got {sorted(kinds)}")
        data = button.get("callback_data")
        if isinstance(data, str) and not 1 <= len(data.encode()) <= 64:
            out.append(f"{where}.callback_data: BUTTON_DATA_INVALID (must be 1-64 bytes)")
    elif type_ == "KeyboardButton" and len(kinds) > 1:
        out.append(f"{where}: keyboard button uses {sorted(kinds)}; at most one is allowed")
    return out


def check_object(value: Any, type_name: str) -> list[str]:
    """Problems with ``value`` as the Bot API type ``type_name`` (e.g. ``"Update"``); [] if none."""
    return _check_value(value, [type_name], type_name)


def decode_form(raw: str, types: list[str]) -> Any:
    """Decode one form value by its declared types, the way the Bot API server does."""
    if "Integer" in types and _INT_RE.fullmatch(raw):
        return int(raw)
    if "String" in types or "InputFile" in types:
        return raw
    if "Boolean" in types and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if "Float" in types:
        try:
            return float(raw)
        except ValueError:
            return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # reported as a type error by the checker


def limits(method: str, p: dict[str, Any]) -> list[str]:
    """Telegram's documented limits for the methods Doorstep uses."""
    out = []
    if method == "sendMessage" and "chat_id" in p and not isinstance(p["chat_id"], int):
        out.append("chat not found (the fake knows only private chats with integer ids)")
    text = p.get("text")
    if method in ("sendMessage", "editMessageText") and isinstance(text, str):
        if not text.strip():
            out.append("message text is empty")
        elif len(text) > 4096:
            out.append(f"message is too long ({len(text)} > 4096 characters)")
    if method == "answerCallbackQuery" and isinstance(text, str) and len(text) > 200:
        out.append("answerCallbackQuery text is longer than 200 characters")
    mode = p.get("parse_mode")
    if isinstance(mode, str) and mode.lower() not in _PARSE_MODES:
        out.append(f"unsupported parse_mode {mode!r}")
    secret = p.get("secret_token")
    if method == "setWebhook" and isinstance(secret, str) and not _SECRET_RE.fullmatch(secret):
        out.append("secret token contains unallowed characters or is not 1-256 long")
    url = p.get("url")
    if method == "setWebhook" and isinstance(url, str) and url:
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            out.append("bad webhook: An HTTPS URL must be provided for webhook")
        elif (parts.port or 443) not in _WEBHOOK_PORTS:
            out.append("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    if method.startswith("editMessage") and "inline_message_id" not in p and \
            not ("chat_id" in p and "message_id" in p):
        out.append("message identifier is not specified")
    return out
