"""The settings of one concern each: NLU, Telegram, tracking page, service area, console,
reliability.

Each reader takes the environment and returns ``Settings`` fields, or raises
:class:`~bot.errors.ConfigError` naming the variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from bot.env_values import (
    amount,
    fraction,
    http_url,
    on_off,
    positive_number,
    whole_number,
)
from bot.errors import ConfigError

DEFAULT_NLU_THRESHOLD = 0.3


def nlu_settings(env: Mapping[str, str]) -> dict[str, object]:
    backend = (env.get("NLU_BACKEND") or "embedded").strip().lower()
    if backend not in ("embedded", "rasa"):
        raise ConfigError(f"NLU_BACKEND must be 'embedded' or 'rasa', got {backend!r}")
    rasa_url = env.get("RASA_URL") or None
    if backend == "rasa" and not rasa_url:
        raise ConfigError("RASA_URL is required when NLU_BACKEND=rasa, "
                          "e.g. RASA_URL=http://localhost:5005")
    timeout = positive_number(env, "RASA_TIMEOUT", 2.0, "seconds")
    model_dir = env.get("NLU_MODEL_DIR") or None
    return {"nlu_backend": backend,
            "nlu_threshold": fraction(env, "NLU_THRESHOLD", DEFAULT_NLU_THRESHOLD),
            "nlu_model_dir": Path(model_dir).resolve() if model_dir else None,
            "rasa_url": http_url("RASA_URL", rasa_url) if rasa_url else None,
            "rasa_token": env.get("RASA_TOKEN") or None,
            "rasa_timeout_s": timeout,
            "nlu_api_token": env.get("NLU_API_TOKEN") or None}


def telegram_settings(env: Mapping[str, str]) -> dict[str, object]:
    token = env.get("TELEGRAM_BOT_TOKEN") or None
    secret = env.get("TELEGRAM_WEBHOOK_SECRET") or None
    if token and not re.fullmatch(r"\d+:[A-Za-z0-9_-]{20,}", token):
        raise ConfigError("TELEGRAM_BOT_TOKEN must look like 123456789:AA... (from @BotFather)")
    if token and not secret:
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_BOT_TOKEN: 1-256 "
                          "characters A-Z a-z 0-9 _ - (`doorstep secret --telegram` makes one)")
    if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise ConfigError("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters A-Z a-z 0-9 _ -")
    username = (env.get("TELEGRAM_BOT_USERNAME") or "").strip().lstrip("@") or None
    if username and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", username):
        raise ConfigError("TELEGRAM_BOT_USERNAME must be the bot's @username, e.g. acme_bot")
    invite = on_off(env, "TELEGRAM_INVITE_IN_SMS", False)
    if invite and not (token and username):
        raise ConfigError("TELEGRAM_INVITE_IN_SMS=on needs TELEGRAM_BOT_TOKEN and "
                          "TELEGRAM_BOT_USERNAME")
    return {"telegram_bot_token": token, "telegram_webhook_secret": secret,
            "telegram_api_base_url": http_url("TELEGRAM_API_BASE_URL",
                                          env.get("TELEGRAM_API_BASE_URL")
                                          or "https://api.telegram.org"),
            "telegram_bot_username": username, "telegram_invite_in_sms": invite}


def tracking_settings(env: Mapping[str, str]) -> dict[str, object]:
    """The customer tracking page: links in messages, how long a closed case's page lasts,
    and how many posts one address may make to it."""
    return {"tracking_links": on_off(env, "TRACKING_LINKS", True),
            "tracking_link_days": whole_number(env, "TRACKING_LINK_DAYS", 7, 0),
            "rate_limit_tracking": rate_limit(env, "RATE_LIMIT_TRACKING", "60/minute")}


def service_settings(env: Mapping[str, str]) -> dict[str, object]:
    area = tuple(filter(None, (p.strip().upper() for p in
                               (env.get("SERVICE_AREA") or "").split(","))))
    for code in area:
        if not re.fullmatch(r"[A-Z0-9-]{1,10}", code):
            raise ConfigError(f"SERVICE_AREA must be comma-separated postal codes or prefixes "
                              f"like 021,10001; bad: {code!r}")
    points = []
    for item in filter(None, (p.strip() for p in (env.get("PICKUP_POINTS") or "").split(";"))):
        name, sep, address = item.partition("|")
        if not sep or not name.strip() or not address.strip():
            raise ConfigError("PICKUP_POINTS must be 'Name|address' entries separated by ';', "
                              f"e.g. 'Acme Depot|1 Dock Rd, Boston MA 02110'; bad: {item!r}")
        points.append((name.strip(), address.strip()))
    limit = amount(env, "DAMAGE_VALUE_LIMIT")
    mb = whole_number(env, "MEDIA_MAX_MB", 10, 1)
    timeout = positive_number(env, "MEDIA_FETCH_TIMEOUT", 10.0, "seconds")
    return {"service_area": area, "pickup_points": tuple(points), "damage_value_limit": limit,
            "media_max_bytes": mb * 1024 * 1024, "media_fetch_timeout_s": timeout}


def console_settings(env: Mapping[str, str]) -> dict[str, object]:
    codes = []
    for item in filter(None, (p.strip() for p in (env.get("RESOLUTION_CODES") or "").split(","))):
        code, _, label = item.partition("=")
        code = code.strip().lower()
        if not re.fullmatch(r"[a-z0-9_]{2,40}", code):
            raise ConfigError("RESOLUTION_CODES must be comma-separated codes like "
                              "refund_issued or refund_issued=Refund issued (a-z, 0-9, _); "
                              f"bad: {item!r}")
        codes.append((code, label.strip() or code.replace("_", " ").capitalize()))
    return {
        "escalation_overdue_s": positive_number(env, "ESCALATION_OVERDUE_MINUTES", 30,
                                                "minutes") * 60,
        "session_idle_s": positive_number(env, "SESSION_IDLE_MINUTES", 120, "minutes") * 60,
        "login_max_failures": whole_number(env, "LOGIN_MAX_FAILURES", 5, 1),
        "login_lock_s": positive_number(env, "LOGIN_LOCK_MINUTES", 15, "minutes") * 60,
        **({"resolution_codes": tuple(codes)} if codes else {}),
    }


def rate_limit(env: Mapping[str, str], name: str, default: str) -> str | None:
    from limits import parse_many

    raw = (env.get(name) or default).strip()
    if raw.lower() == "off":
        return None
    try:
        parse_many(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a rate like 100/second or 600/minute;10/second, "
                          f"or off; got {raw!r}") from None
    return raw


def reliability_settings(env: Mapping[str, str]) -> dict[str, object]:
    log_format = (env.get("LOG_FORMAT") or "json").strip().lower()
    if log_format not in ("json", "text"):
        raise ConfigError(f"LOG_FORMAT must be json or text, got {log_format!r}")
    return {
        "log_format": log_format,
        "max_body_bytes": whole_number(env, "MAX_BODY_BYTES", 1024 * 1024, 1024),
        "rate_limit_events": rate_limit(env, "RATE_LIMIT_EVENTS", "100/second"),
        "rate_limit_webhooks": rate_limit(env, "RATE_LIMIT_WEBHOOKS", "100/second"),
        "proxy_hops": whole_number(env, "TRUSTED_PROXY_HOPS", 0, 0),
        "twilio_messages_per_second": positive_number(
            env, "TWILIO_MESSAGES_PER_SECOND", 1.0, "messages per second (0: no pacing)",
            zero_allowed=True),
        "retention_days": whole_number(env, "RETENTION_DAYS", 90, 1),
        **metrics_settings(env),
    }


def metrics_settings(env: Mapping[str, str]) -> dict[str, object]:
    token = env.get("METRICS_TOKEN") or None
    if token and not re.fullmatch(r"[\x21-\x7e]{16,}", token):
        raise ConfigError("METRICS_TOKEN must be at least 16 printable ASCII characters "
                          "without spaces, e.g. from `openssl rand -hex 24`")
    # prometheus_client's own variable (it reads it itself): a directory it cannot write
    # would fail the first count of every process, so it is checked here, at start.
    shared = env.get("PROMETHEUS_MULTIPROC_DIR")
    if shared:
        try:
            Path(shared).mkdir(parents=True, exist_ok=True)
        except OSError:
            raise ConfigError("PROMETHEUS_MULTIPROC_DIR must be a directory this process can "
                              f"create or write, got {shared!r}") from None
        if not os.access(shared, os.W_OK):
            raise ConfigError(f"PROMETHEUS_MULTIPROC_DIR {shared!r} is not writable")
    return {"metrics_token": token}
