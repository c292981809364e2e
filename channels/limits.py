"""Rate limits per source address on ``/events``, the Twilio and Telegram webhooks, and
the tracking page's posts (``POST /t/<token>``).

Flask-Limiter counts in the runtime's own Redis (same connection pool, keys under
``ds:ratelimit``), so every web process shares one budget per source. The check runs in
``before_request``: before the body is read or a signature is checked, so forgers are
throttled too. A breach answers 429 ``{"error", "status"}`` with ``Retry-After``.

When Redis is down the limiter's ``ConnectionError`` is not swallowed: it reaches the
app's handler and the request is answered 503, as it would be a moment later by the view
itself (every limited endpoint needs Redis to record what it receives). Failing open
would only move the same 503 past the limiter.
"""

from __future__ import annotations

import math
import time
from urllib.parse import urlparse

from flask import Flask, Response, jsonify, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from bot.runtime import Runtime
from bot.store import key_for

LIMITED_WEBHOOKS = ("doorstep.twilio_sms", "doorstep.twilio_status", "doorstep.telegram_webhook")
EVENTS_ENDPOINT = "doorstep.events"
TRACKING_ENDPOINT = "tracking.take"  # POST /t/<token>: a customer's answer or action


def storage_uri(redis_url: str) -> str:
    """Return the ``limits`` storage URI for a redis-py URL (``unix://`` → ``redis+unix://``)."""
    scheme = urlparse(redis_url).scheme
    return "redis+unix://" + redis_url.removeprefix("unix://") if scheme == "unix" \
        else redis_url


def rates_by_endpoint(rt: Runtime) -> dict[str, str]:
    """Map each limited endpoint to its limit string (endpoints whose limit is off are absent)."""
    rates: dict[str, str | None] = {EVENTS_ENDPOINT: rt.settings.rate_limit_events}
    rates |= dict.fromkeys(LIMITED_WEBHOOKS, rt.settings.rate_limit_webhooks)
    rates[TRACKING_ENDPOINT] = rt.settings.rate_limit_tracking
    return {endpoint: rate for endpoint, rate in rates.items() if rate}


def init_app(app: Flask, rt: Runtime) -> Limiter | None:
    """Limit ``/events`` and the webhooks per source address; None when both limits are off."""
    rates = rates_by_endpoint(rt)
    if not rates:
        return None
    limiter = Limiter(
        get_remote_address,  # the client behind TRUSTED_PROXY_HOPS proxies (ProxyFix)
        default_limits=[lambda: rates.get(request.endpoint or "", "")],
        storage_uri=storage_uri(rt.redis_url),
        storage_options={"connection_pool": rt.redis.connection_pool,
                         "key_prefix": key_for("ratelimit")},
        strategy="sliding-window-counter",  # smooth, and two counters per key
        headers_enabled=False,  # Retry-After only on the 429 (see _too_many)
        swallow_errors=False,
    )
    limiter.request_filter(lambda: request.endpoint not in rates)
    limiter.init_app(app)
    app.extensions["doorstep.limiter"] = limiter

    @app.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded) -> tuple[Response, int, dict[str, str]]:
        return (jsonify({"error": f"rate limit exceeded ({exc.description} per source "
                                  f"address); retry after the Retry-After seconds",
                         "status": 429}),
                429, {"Retry-After": str(_retry_after(limiter))})

    return limiter


def retry_after(app: Flask) -> int:
    """Whole seconds until the limit this request breached lets one through (at least 1)."""
    limiter = app.extensions.get("doorstep.limiter")
    return _retry_after(limiter) if limiter is not None else 1


def _retry_after(limiter: Limiter) -> int:
    """Count whole seconds until the breached window lets a request through (at least 1)."""
    limit = limiter.current_limit
    if limit is None:
        return 1
    return max(1, math.ceil(limit.window.reset_time - time.time()))
