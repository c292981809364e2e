"""Read and validate configuration once, at start.

Every setting comes from an environment variable (a ``.env`` file in the working
directory is read first if present). A bad or missing value raises
:class:`~bot.errors.ConfigError` naming the variable and what to do.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from urllib.parse import urlparse

from dotenv import load_dotenv

from bot.env_values import (
    http_url,
    positive_number,
    whole_number,
    whsec,
)
from bot.errors import ConfigError
from bot.settings_groups import (
    DEFAULT_NLU_THRESHOLD,
    console_settings,
    nlu_settings,
    reliability_settings,
    service_settings,
    telegram_settings,
    tracking_settings,
)

GENERATED_ENV = "generated.env"


@dataclass(frozen=True)
class Settings:
    """Validated configuration. Build with :func:`load_settings`."""

    data_dir: Path
    public_url: str
    events_webhook_secret: str
    redis_url: str | None = None
    shipper_webhook_url: str | None = None
    shipper_webhook_secret: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str = "https://api.twilio.com"
    quiet_hours: tuple[time, time] = (time(21, 0), time(8, 0))
    reminder_after_s: float = 4 * 3600
    expire_after_s: float = 24 * 3600
    holidays: frozenset[date] = field(default_factory=frozenset)
    window_capacity: int = 40
    booking_days: int = 7
    default_timezone: str = "America/New_York"
    queue_threads: int = 4
    queue_heartbeat_ms: int = 60_000
    queue_maintenance_chance: int = 1000
    outbound_max_retries: int = 12
    outbound_min_backoff_ms: int = 5_000
    # Standard Webhooks' schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), then two daily
    # attempts: about 3 days in all, inside the 5 days a webhook-id is remembered.
    callback_retry_schedule_s: tuple[int, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000,
                                                  86400, 86400)
    log_level: str = "INFO"
    log_format: str = "json"
    max_body_bytes: int = 1024 * 1024
    rate_limit_events: str | None = "100/second"
    rate_limit_webhooks: str | None = "100/second"
    proxy_hops: int = 0
    twilio_messages_per_second: float = 1.0
    retention_days: int = 90
    metrics_token: str | None = None
    nlu_backend: str = "embedded"
    nlu_threshold: float = DEFAULT_NLU_THRESHOLD
    nlu_model_dir: Path | None = None
    rasa_url: str | None = None
    rasa_token: str | None = None
    rasa_timeout_s: float = 2.0
    nlu_api_token: str | None = None
    telegram_bot_token: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_api_base_url: str = "https://api.telegram.org"
    telegram_bot_username: str | None = None
    telegram_invite_in_sms: bool = False
    tracking_links: bool = True
    tracking_link_days: int = 7
    rate_limit_tracking: str | None = "60/minute"
    service_area: tuple[str, ...] = ()
    pickup_points: tuple[tuple[str, str], ...] = ()
    damage_value_limit: float | None = None
    media_max_bytes: int = 10 * 1024 * 1024
    media_fetch_timeout_s: float = 10.0
    escalation_overdue_s: float = 30 * 60
    session_idle_s: float = 120 * 60
    login_max_failures: int = 5
    login_lock_s: float = 15 * 60
    resolution_codes: tuple[tuple[str, str], ...] = (
        ("redelivery_scheduled", "Redelivery scheduled"),
        ("address_corrected", "Address corrected"),
        ("refund_issued", "Refund issued"),
        ("replacement_sent", "Replacement sent"),
        ("claim_opened", "Damage or loss claim opened"),
        ("parcel_located", "Parcel located"),
        ("customer_unreachable", "Customer unreachable"),
        ("no_action_needed", "No action needed"),
    )

    @property
    def secure_cookies(self) -> bool:
        """Console cookies carry ``Secure`` when the service is served over https."""
        return self.public_url.startswith("https://")

    @property
    def telegram_enabled(self) -> bool:
        """Whether the Telegram channel is configured (bot token and webhook secret)."""
        return bool(self.telegram_bot_token and self.telegram_webhook_secret)

    @property
    def media_dir(self) -> Path:
        """Where customers' photos are kept."""
        return self.data_dir / "media"

    @property
    def model_dir(self) -> Path:
        """Where the embedded NLU keeps its trained model."""
        return self.nlu_model_dir or self.data_dir / "nlu"

    @property
    def twilio_enabled(self) -> bool:
        """Whether real SMS can be sent (otherwise the sandbox outbox is used)."""
        return bool(self.twilio_account_sid and self.twilio_auth_token)


def _clock(name: str, text: str) -> time:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ConfigError(f"{name} must be HH:MM-HH:MM, e.g. 21:00-08:00")
    return time(int(m[1]), int(m[2]))


def _quiet_hours(env: Mapping[str, str]) -> tuple[time, time]:
    raw = env.get("QUIET_HOURS") or "21:00-08:00"
    if raw.strip().lower() == "off":
        return (time(0, 0), time(0, 0))
    parts = raw.split("-")
    if len(parts) != 2:
        raise ConfigError("QUIET_HOURS must be HH:MM-HH:MM (e.g. 21:00-08:00) or 'off'")
    return (_clock("QUIET_HOURS", parts[0]), _clock("QUIET_HOURS", parts[1]))


def _holidays(env: Mapping[str, str]) -> frozenset[date]:
    days = set()
    for item in filter(None, (s.strip() for s in env.get("HOLIDAYS", "").split(","))):
        try:
            days.add(date.fromisoformat(item))
        except ValueError:
            raise ConfigError(f"HOLIDAYS must be comma-separated YYYY-MM-DD dates; bad: {item!r}") \
                from None
    return frozenset(days)


def _timezone(env: Mapping[str, str]) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = env.get("DEFAULT_TIMEZONE") or "America/New_York"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"DEFAULT_TIMEZONE must be an IANA zone like America/New_York, "
                          f"got {name!r}") from None
    return name


def _schedule(env: Mapping[str, str]) -> tuple[int, ...]:
    raw = env.get("CALLBACK_RETRY_SCHEDULE")
    if not raw:
        return Settings.callback_retry_schedule_s
    units = {"s": 1, "m": 60, "h": 3600}
    out = []
    for item in raw.split(","):
        m = re.fullmatch(r"\s*(\d+)([smh]?)\s*", item)
        if not m:
            raise ConfigError("CALLBACK_RETRY_SCHEDULE must be delays like 5s,5m,30m,2h")
        out.append(int(m[1]) * units[m[2] or "s"])
    return tuple(out)


def generated_secret() -> str:
    """Return a fresh Standard Webhooks secret (``whsec_`` + base64 of 24 random bytes)."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _events_secret(env: Mapping[str, str], data_dir: Path, generate: bool) -> str:
    value = env.get("EVENTS_WEBHOOK_SECRET")
    if value:
        return whsec("EVENTS_WEBHOOK_SECRET", value)
    path = data_dir / GENERATED_ENV
    if path.exists():
        for line in path.read_text().splitlines():
            if line.startswith("EVENTS_WEBHOOK_SECRET="):
                return whsec("EVENTS_WEBHOOK_SECRET", line.split("=", 1)[1].strip())
    if not generate:
        raise ConfigError("EVENTS_WEBHOOK_SECRET is not set; set it to a whsec_ secret "
                          "(`doorstep secret` prints a new one)")
    data_dir.mkdir(parents=True, exist_ok=True)
    value = generated_secret()
    path.write_text(f"# written by doorstep on first start; set EVENTS_WEBHOOK_SECRET to replace\n"
                    f"EVENTS_WEBHOOK_SECRET={value}\n")
    path.chmod(0o600)
    return value


def load_settings(env: Mapping[str, str] | None = None, *, read_dotenv: bool = True,
                  generate_secret: bool = True) -> Settings:
    """Read settings from ``env`` (default: the process environment plus ``.env``).

    Without ``EVENTS_WEBHOOK_SECRET`` a secret is generated once and kept in
    ``DOORSTEP_DATA_DIR/generated.env`` so a fresh install starts with one command.
    """
    if env is None:
        if read_dotenv:
            load_dotenv(Path.cwd() / ".env", override=False)
        env = os.environ
    data_dir = Path(env.get("DOORSTEP_DATA_DIR") or "./var").resolve()
    redis_url = env.get("REDIS_URL") or None
    if redis_url and urlparse(redis_url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"REDIS_URL must start with redis://, rediss:// or unix://, "
                          f"got {redis_url!r}")

    shipper_url = env.get("SHIPPER_WEBHOOK_URL") or None
    shipper_secret = env.get("SHIPPER_WEBHOOK_SECRET") or None
    if shipper_url:
        shipper_url = http_url("SHIPPER_WEBHOOK_URL", shipper_url)
        if not shipper_secret:
            raise ConfigError("SHIPPER_WEBHOOK_SECRET is required when SHIPPER_WEBHOOK_URL is set")
    if shipper_secret:
        whsec("SHIPPER_WEBHOOK_SECRET", shipper_secret)

    sid = env.get("TWILIO_ACCOUNT_SID") or None
    token = env.get("TWILIO_AUTH_TOKEN") or None
    sender = env.get("TWILIO_FROM_NUMBER") or None
    service = env.get("TWILIO_MESSAGING_SERVICE_SID") or None
    if bool(sid) != bool(token):
        raise ConfigError("set both TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, or neither "
                          "(neither keeps outbound SMS in the local sandbox outbox)")
    if sid:
        if not re.fullmatch(r"AC[0-9a-fA-F]{32}", sid):
            raise ConfigError("TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits")
        if not (sender or service):
            raise ConfigError("set TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID "
                              "to send SMS with Twilio")
    if service and not re.fullmatch(r"MG[0-9a-fA-F]{32}", service):
        raise ConfigError("TWILIO_MESSAGING_SERVICE_SID must be MG followed by 32 hex digits")
    if sender:
        from bot.phones import normalise_phone

        normalised = normalise_phone(sender)
        if normalised is None:
            raise ConfigError("TWILIO_FROM_NUMBER must be a phone number in E.164, "
                              "e.g. +15551234567")
        sender = normalised

    level = (env.get("LOG_LEVEL") or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")

    return Settings(
        **nlu_settings(env),  # type: ignore[arg-type]
        **telegram_settings(env),  # type: ignore[arg-type]
        **service_settings(env),  # type: ignore[arg-type]
        **console_settings(env),  # type: ignore[arg-type]
        **reliability_settings(env),  # type: ignore[arg-type]
        **tracking_settings(env),  # type: ignore[arg-type]
        data_dir=data_dir,
        public_url=http_url("PUBLIC_URL", env.get("PUBLIC_URL") or "http://127.0.0.1:8000"),
        events_webhook_secret=_events_secret(env, data_dir, generate_secret),
        redis_url=redis_url,
        shipper_webhook_url=shipper_url,
        shipper_webhook_secret=shipper_secret,
        twilio_account_sid=sid,
        twilio_auth_token=token,
        twilio_from_number=sender,
        twilio_messaging_service_sid=service,
        twilio_api_base_url=http_url("TWILIO_API_BASE_URL",
                                 env.get("TWILIO_API_BASE_URL") or "https://api.twilio.com"),
        quiet_hours=_quiet_hours(env),
        reminder_after_s=positive_number(env, "REMINDER_AFTER_MINUTES", 240, "minutes") * 60,
        expire_after_s=positive_number(env, "EXPIRE_AFTER_MINUTES", 1440, "minutes") * 60,
        holidays=_holidays(env),
        window_capacity=whole_number(env, "WINDOW_CAPACITY", 40, 1),
        booking_days=whole_number(env, "BOOKING_DAYS", 7, 1),
        default_timezone=_timezone(env),
        queue_threads=whole_number(env, "QUEUE_WORKER_THREADS", 4, 1),
        queue_heartbeat_ms=whole_number(env, "QUEUE_HEARTBEAT_MS", 60_000, 500),
        queue_maintenance_chance=whole_number(env, "QUEUE_MAINTENANCE_CHANCE", 1000, 1),
        outbound_max_retries=whole_number(env, "OUTBOUND_MAX_RETRIES", 12, 0),
        outbound_min_backoff_ms=whole_number(env, "OUTBOUND_MIN_BACKOFF_MS", 5000, 10),
        callback_retry_schedule_s=_schedule(env),
        log_level=level,
    )
