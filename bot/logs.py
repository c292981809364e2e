"""Logging setup: JSON lines (or plain text), with a redaction safety net.

Code logs no message bodies, full phone numbers, names, addresses or secrets; the
redaction here catches what slips through, from our code and from libraries alike
(every record reaches the root handler): phone-number-looking digits are masked to
their last four, known secret values and token-shaped strings (Telegram bot tokens in
httpx's request lines, ``whsec_`` keys, ``Bearer``/``Basic`` credentials, passwords in
URLs) become ``[secret]``, tracking-page tokens (``/t/<token>``) become ``[token]``,
and query strings of URLs and request lines are dropped (a console search for a name
would otherwise land in an access log).

Libraries that log request payloads at INFO or DEBUG (python-telegram-bot, httpx,
Twilio's HTTP client, urllib3, Dramatiq, which prints job arguments) are held at
WARNING whatever ``LOG_LEVEL`` says: a body cannot be recognised by its shape.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pythonjsonlogger.json import JsonFormatter

from bot.phones import mask_phone

SECRET = "[secret]"
MIN_SECRET_CHARS = 8  # shorter "secrets" would blank out ordinary words
PAYLOAD_LOGGERS = ("telegram", "httpx", "httpcore", "hpack", "twilio.http_client",
                   "urllib3", "dramatiq", "waitress.queue")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_TOKENS = [
    (re.compile(r"(?<!\d)\d{6,12}(?::|%3[Aa])[A-Za-z0-9_-]{30,}"), SECRET),  # Telegram bot
    (re.compile(r"whsec_[A-Za-z0-9+/=]{8,}"), SECRET),
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}", re.I), r"\1 " + SECRET),
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+@", re.I), r"\1" + SECRET + "@"),
    # A tracking-page path holds the page's only credential: /t/<token> (access logs).
    (re.compile(r"(/t/)[^\s?#\"'<>/]+"), r"\1[token]"),
]
_QUERY = re.compile(r"((?:\b[a-z][a-z0-9+.-]*://|(?<=[\s\"'])/)[^\s?#\"'<>]*)\?[^\s#\"'<>]+",
                    re.I)
_PHONE = re.compile(
    r"(?<![\w+%])(?:\+|%2[Bb])\d{8,15}(?!\d)"  # E.164, also URL-encoded
    r"|(?<![\w+])\+?\d{1,3}[ .-]\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}(?!\d)"  # +1 555 019 1234
    r"|(?<![\w(])\(\d{3}\)\s?\d{3}[ .-]\d{4}(?!\d)"  # (555) 019-1234
    r"|(?<![\w.])\d{3}[.-]\d{3}[.-]\d{4}(?![\w])"  # 555-019-1234
    r"|(?<![\w.])\d{10,15}(?![\w])")  # digits only
_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName"}


class Redactor:
    """Mask phone numbers, secrets and query strings in text."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add_secrets(self, values: Iterable[str | None]) -> None:
        """Remember secret values (and their URL-encoded forms) to blank out."""
        for value in values:
            if value and len(value) >= MIN_SECRET_CHARS:
                self._secrets.update({value, quote(value, safe="")})
        if self._secrets:
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in ordered))

    def redact(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(SECRET, text)
        for pattern, replacement in _TOKENS:
            text = pattern.sub(replacement, text)
        text = _QUERY.sub(r"\1?[query]", text)
        return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)

    def redact_value(self, value: Any) -> Any:
        """``value`` with every string inside it (dicts, lists) redacted."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {k: self.redact_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_value(v) for v in value]
        return value


REDACTOR = Redactor()


# Library lines whose arguments are a job's arguments (an address, a note): Dramatiq's
# actor loggers (named after the actor: bot.queue.deliver_callback) print them at DEBUG.
_ARGUMENT_LINES = frozenset({"Received args=%r kwargs=%r."})


def _safe_arg(arg: Any) -> Any:
    # A Dramatiq message prints its arguments (a callback's address, say): name it instead.
    if hasattr(arg, "actor_name") and hasattr(arg, "message_id"):
        return f"{arg.actor_name}#{arg.message_id}"
    return arg


def redact_record(record: logging.LogRecord) -> None:
    """Rewrite ``record`` in place: message, exception text and string extras redacted."""
    if getattr(record, "_redacted", False):
        return
    args = record.args
    if isinstance(record.msg, str) and record.msg in _ARGUMENT_LINES:
        record.args = args = ("[hidden]",) * len(args or ())
    elif isinstance(args, tuple):
        record.args = tuple(_safe_arg(a) for a in args)
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = f"{record.msg} {args!r}"
    record.msg, record.args = REDACTOR.redact(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = REDACTOR.redact(record.exc_text)
    if record.stack_info:
        record.stack_info = REDACTOR.redact(record.stack_info)
    for key, value in list(vars(record).items()):
        if key not in _RESERVED and not key.startswith("_"):
            setattr(record, key, REDACTOR.redact_value(value))
    record._redacted = True  # type: ignore[attr-defined]


class RedactingFilter(logging.Filter):
    """Redact every record passing through a handler (add to any extra handler)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


class JsonLinesFormatter(JsonFormatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, extras."""

    def __init__(self) -> None:
        super().__init__(fmt=[], reserved_attrs=sorted(_RESERVED))

    def format(self, record: logging.LogRecord) -> str:
        redact_record(record)
        return super().format(record)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord,
                   message_dict: dict[str, Any]) -> None:
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(
            timespec="milliseconds")
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.getMessage()
        super().add_fields(log_data, record, message_dict)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return REDACTOR.redact_value(log_data)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message``, redacted like the JSON lines."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        redact_record(record)
        return REDACTOR.redact(super().format(record))


def formatter_for(fmt: str) -> logging.Formatter:
    """The production formatter for ``LOG_FORMAT`` (json or text)."""
    return JsonLinesFormatter() if fmt == "json" else TextFormatter()


class _StderrHandler(logging.StreamHandler):
    """Write to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(level: str = "INFO", fmt: str = "json",
                      secrets: Iterable[str | None] = ()) -> None:
    """Log one line per record to stderr, ``fmt`` json or text, never showing ``secrets``.

    Our handler is installed once per process; later calls set the level and format
    again and add to the secrets (tests build several apps in one process). When
    someone else configured logging first (an embedding app, a test runner), their
    handlers stay as they are, with the redaction filter added.
    """
    REDACTOR.add_secrets(secrets)
    root = logging.getLogger()
    ours = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if ours is None and root.handlers:
        for handler in root.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
    else:
        if ours is None:
            ours = _StderrHandler(sys.stderr)
            ours.addFilter(RedactingFilter())
            root.addHandler(ours)
        ours.setFormatter(formatter_for(fmt))
        root.setLevel(level)
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def secret_values(settings: Any) -> list[str]:
    """The secrets in ``settings`` that must never be logged."""
    names = ("events_webhook_secret", "shipper_webhook_secret", "twilio_auth_token",
             "telegram_bot_token", "telegram_webhook_secret", "rasa_token", "nlu_api_token",
             "metrics_token")
    return [v for v in (getattr(settings, n, None) for n in names) if v]
