"""The Flask app factory: ``create_app()``; ``python webhook_server.py`` serves it.

``gunicorn 'webhook_server:create_app()'`` runs the web side only; run queue workers
with ``doorstep worker`` beside it (or use ``doorstep serve`` for both in one process).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.logs import configure_logging, secret_values
from bot.media import MediaFetcher
from bot.models import WEB
from bot.ports import Sender
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings, load_settings
from bot.store import Store
from channels import guards, limits, tracking
from channels import metrics as metrics_endpoint
from channels.http import init_app
from channels.sandbox import SandboxOutbox
from channels.telegram import TelegramClient, TelegramMediaFetcher, TelegramSender
from channels.twilio_sms import TwilioMediaFetcher, TwilioSMS
from channels.web import WebSender, WebUploads
from console import init_app as init_console
from nlu.base import NLU
from nlu.embedded import EmbeddedNLU

_TELEGRAM: dict[tuple[str, str], TelegramClient] = {}


def telegram_client(settings: Settings) -> TelegramClient:
    """This process's Telegram client (one ``Bot`` on one event loop per token)."""
    key = (settings.telegram_bot_token or "", settings.telegram_api_base_url)
    with _ENGINES_LOCK:
        if key not in _TELEGRAM:
            _TELEGRAM[key] = TelegramClient(settings)
        return _TELEGRAM[key]


def sender_factory(settings: Settings) -> Callable[[Store], dict[str, Sender]]:
    """Twilio when credentials are set, else the sandbox outbox; Telegram when set up; the
    tracking page's recorder."""
    def build(store: Store) -> dict[str, Sender]:
        sms: Sender = TwilioSMS(settings, store) if settings.twilio_enabled \
            else SandboxOutbox(store)
        senders = {"sms": sms, WEB: WebSender()}  # web: the tracking page's replies
        if settings.telegram_enabled:
            senders["telegram"] = TelegramSender(telegram_client(settings), store)
        return senders
    return build


def media_fetchers(settings: Settings) -> dict[str, MediaFetcher]:
    """How each configured channel downloads the photos customers send."""
    fetchers: dict[str, MediaFetcher] = {WEB: WebUploads()}  # photos posted to the page
    if settings.twilio_enabled:
        fetchers["sms"] = TwilioMediaFetcher(settings)
    if settings.telegram_enabled:
        fetchers["telegram"] = TelegramMediaFetcher(telegram_client(settings),
                                                    settings.media_fetch_timeout_s)
    return fetchers


_ENGINES: dict[tuple[Path, float], EmbeddedNLU] = {}
_ENGINES_LOCK = threading.Lock()


def embedded_nlu(settings: Settings) -> EmbeddedNLU:
    """This process's embedded engine (loaded once per model directory and threshold)."""
    key = (settings.model_dir, settings.nlu_threshold)
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = EmbeddedNLU.from_dir(settings.model_dir, settings.nlu_threshold)
        return _ENGINES[key]


def default_nlu(settings: Settings) -> NLU:
    """The configured NLU: the embedded engine, or a Rasa server backed by it."""
    local = embedded_nlu(settings)
    if settings.nlu_backend != "rasa" or not settings.rasa_url:
        return local
    from nlu.rasa_http import RasaHTTPNLU

    return RasaHTTPNLU(settings.rasa_url, local, timeout=settings.rasa_timeout_s,
                       token=settings.rasa_token)


def build(settings: Settings | None = None, clock: Callable[[], datetime] | None = None,
          nlu: NLU | None = None) -> Runtime:
    """Build this process's runtime from settings (read from the environment by default)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format, secret_values(settings))
    return build_runtime(settings, sender_factory(settings), nlu or default_nlu(settings), clock,
                         media_fetchers(settings))


def create_app(config: Settings | Mapping[str, str] | None = None,
               clock: Callable[[], datetime] | None = None,
               runtime: Runtime | None = None) -> Flask:
    """Create the web app. ``config``: settings, or environment-style overrides for tests."""
    if runtime is None:
        settings = config if isinstance(config, Settings) else \
            load_settings(config) if config is not None else None
        runtime = build(settings, clock)
    app = Flask(__name__)
    hops = runtime.settings.proxy_hops
    if hops:  # the client's address from X-Forwarded-For, for rate limits and the login throttle
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    limits.init_app(app, runtime)  # first: a throttled request costs no parsing at all
    guards.init_app(app, runtime.settings.max_body_bytes)
    init_app(app, runtime)
    tracking.init_app(app, runtime)
    metrics_endpoint.init_app(app, runtime)
    init_console(app)
    return app


if __name__ == "__main__":
    from bot.cli import main

    main(["serve"])
