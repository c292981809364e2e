"""``GET /metrics`` in the Prometheus text format, and webhook requests counted by outcome.

The figures are :mod:`bot.metrics`'s: with ``PROMETHEUS_MULTIPROC_DIR`` set in every
process's environment, all gunicorn workers' and ``doorstep worker`` processes' counts
summed; otherwise this process's own (``doorstep serve`` runs everything in one). With
``METRICS_TOKEN`` set the endpoint needs ``Authorization: Bearer <token>``; unset, it is
open: keep it on an internal network. It is not rate limited.

Each request to ``/events`` or a provider webhook is counted once, after its answer is
made (so refusals by the rate limiter and the body guards are counted too): the outcome
is read from the status, unless the view named it with :func:`note` (a replay).
"""

from __future__ import annotations

import hmac
import logging
import os

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from bot.metrics import RedisGauges, count_request, exposition, multiprocess_mode
from bot.runtime import Runtime

log = logging.getLogger("doorstep.http")
bp = Blueprint("metrics", __name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Flask endpoint -> the ``endpoint`` label.
COUNTED = {"doorstep.events": "events", "doorstep.twilio_sms": "twilio_sms",
           "doorstep.twilio_status": "twilio_status", "doorstep.telegram_webhook": "telegram"}
OUTCOMES = {401: "unauthorized", 403: "unauthorized", 404: "not_configured",
            429: "rate_limited", 503: "unavailable"}


def note(outcome: str) -> None:
    """Name this request's outcome where the status does not tell it (``replay``, ...)."""
    g.doorstep_outcome = outcome


def outcome_of(status: int) -> str:
    """The ``outcome`` label for an answer with this status."""
    if status < 400:
        return "accepted"
    return OUTCOMES.get(status) or ("invalid" if status < 500 else "error")


def _count(response: Response) -> Response:
    endpoint = COUNTED.get(request.endpoint or "")
    if endpoint is not None:
        count_request(endpoint, g.get("doorstep_outcome") or outcome_of(response.status_code))
    return response


@bp.get("/metrics")
def metrics() -> Response | tuple[Response, int, dict[str, str]]:
    token = current_app.extensions["doorstep"].settings.metrics_token
    if token and not _bearer_matches(token):
        return (jsonify({"error": "missing or wrong METRICS_TOKEN: send it as "
                                  "Authorization: Bearer <token>", "status": 401}),
                401, {"WWW-Authenticate": 'Bearer realm="metrics"'})
    return Response(exposition(current_app.extensions["doorstep.metrics"]),
                    content_type=CONTENT_TYPE)


def _bearer_matches(token: str) -> bool:
    given = request.headers.get("Authorization", "")
    if not given.startswith("Bearer "):
        return False
    return hmac.compare_digest(given.removeprefix("Bearer ").strip().encode(), token.encode())


def init_app(app: Flask, rt: Runtime) -> None:
    """Serve ``/metrics`` and count webhook requests."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR") and not multiprocess_mode():
        log.warning("PROMETHEUS_MULTIPROC_DIR was set after prometheus_client was imported "
                    "(in .env?): /metrics shows this process only. Set it in the process "
                    "environment.")
    app.extensions["doorstep.metrics"] = RedisGauges(
        rt.queue.broker, rt.engine.escalations.queue_state, rt.store.dead_letter_count)
    app.after_request(_count)
    app.register_blueprint(bp)
