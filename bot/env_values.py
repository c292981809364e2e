"""Read one setting's value from the environment, or say exactly what is wrong with it."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from urllib.parse import urlparse

from bot.errors import ConfigError


def http_url(name: str, value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{name} must be an http(s) URL such as https://example.com, "
                          f"got {value!r}")
    return value.rstrip("/")


def whsec(name: str, value: str) -> str:
    body = value.removeprefix("whsec_")
    try:
        raw = base64.b64decode(body, validate=True)
    except ValueError:
        raw = b""
    if not value.startswith("whsec_") or len(raw) < 16:
        raise ConfigError(f"{name} must look like whsec_<base64 of at least 16 bytes>; "
                          "generate one with `doorstep secret`")
    return value


def whole_number(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def positive_number(env: Mapping[str, str], name: str, default: float, unit: str) -> float:
    """A number of ``unit`` above 0 (decimals allowed)."""
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of {unit}, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be more than 0 {unit}")
    return value


def fraction(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number between 0 and 1, got {raw!r}") from None
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"{name} must be at least 0 and below 1, got {raw!r}")
    return value


def on_off(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("on", "true", "1", "yes"):
        return True
    if raw in ("off", "false", "0", "no"):
        return False
    raise ConfigError(f"{name} must be on or off, got {raw!r}")
