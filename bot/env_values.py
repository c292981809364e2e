"""Read one setting's value from the environment, or say exactly what is wrong with it."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from typing import TypeVar
from urllib.parse import urlparse

from bot.errors import ConfigError

T = TypeVar("T", int, float)


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


def _number(env: Mapping[str, str], name: str, convert: Callable[[str], T],
            what: str) -> T | None:
    """``name``'s value converted, None when unset; a value that does not convert is named."""
    raw = env.get(name)
    if raw in (None, ""):
        return None
    try:
        return convert(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {what}, got {raw!r}") from None


def whole_number(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    value = _number(env, name, int, "a whole number")
    if value is None:
        return default
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def positive_number(env: Mapping[str, str], name: str, default: float, unit: str,
                    zero_allowed: bool = False) -> float:
    """A number of ``unit`` above 0, or 0 and above with ``zero_allowed`` (decimals allowed)."""
    value = _number(env, name, float, f"a number of {unit}")
    if value is None:
        return default
    if value < 0 or (value == 0 and not zero_allowed):
        raise ConfigError(f"{name} must be {'0 or more' if zero_allowed else 'more than 0'} "
                          f"{unit}")
    return value


def fraction(env: Mapping[str, str], name: str, default: float) -> float:
    value = _number(env, name, float, "a number between 0 and 1")
    if value is None:
        return default
    if not 0.0 <= value < 1.0:
        raise ConfigError(f"{name} must be at least 0 and below 1, got {env[name]!r}")
    return value


def amount(env: Mapping[str, str], name: str) -> float | None:
    """A money amount (0 or more), or None when unset."""
    value = _number(env, name, float, "an amount like 250")
    if value is not None and value < 0:
        raise ConfigError(f"{name} must not be negative")
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
