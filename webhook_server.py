"""The Flask app factory: ``create_app()``; ``python webhook_server.py`` serves it.

``gunicorn 'webhook_server:create_app()'`` runs the web side only; run queue workers
with ``doorstep worker`` beside it (or use ``doorstep serve`` for both in one process).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime

import redis
from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from bot.logs import configure_logging
from bot.ports import Sender
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings, load_settings
from bot.store import Store
from channels.http import init_app
from channels.sandbox import SandboxOutbox
from channels.twilio_sms import TwilioSMS
from nlu.base import NLU

MAX_BODY_BYTES = 1024 * 1024


def sender_factory(settings: Settings) -> Callable[[Store], dict[str, Sender]]:
    """Twilio when credentials are set, else the sandbox outbox."""
    def build(store: Store) -> dict[str, Sender]:
        sms: Sender = TwilioSMS(settings) if settings.twilio_enabled else SandboxOutbox(store)
        return {"sms": sms}
    return build


def default_nlu() -> NLU:
    from nlu.embedded import EmbeddedNLU

    return EmbeddedNLU()


def build(settings: Settings | None = None, clock: Callable[[], datetime] | None = None,
          nlu: NLU | None = None) -> Runtime:
    """Build this process's runtime from settings (read from the environment by default)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    return build_runtime(settings, sender_factory(settings), nlu or default_nlu(), clock)


def create_app(config: Settings | Mapping[str, str] | None = None,
               clock: Callable[[], datetime] | None = None,
               runtime: Runtime | None = None) -> Flask:
    """Create the web app. ``config``: settings, or environment-style overrides for tests."""
    if runtime is None:
        settings = config if isinstance(config, Settings) else \
            load_settings(config) if config is not None else None
        runtime = build(settings, clock)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    init_app(app, runtime)

    @app.errorhandler(HTTPException)
    def _json_error(exc: HTTPException):  # noqa: ANN202 - Flask handler
        return jsonify({"error": exc.description, "status": exc.code}), exc.code

    @app.errorhandler(redis.exceptions.ConnectionError)
    def _storage_down(exc: Exception):  # noqa: ANN202 - Flask handler
        logging.getLogger("doorstep.http").error("Redis unavailable: %s", type(exc).__name__)
        return jsonify({"error": "storage unavailable; retry later", "status": 503}), 503

    return app


if __name__ == "__main__":
    from bot.cli import main

    main(["serve"])
