"""HTTP endpoints: shipper events, Twilio webhooks, health. Flask stops here."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from standardwebhooks.webhooks import WebhookVerificationError

from bot.delivery_reports import record_status
from bot.errors import BusyConversation, EventError
from bot.events import parse_event
from bot.runtime import Runtime
from channels import nlu_api
from channels.metrics import note
from channels.telegram import SECRET_HEADER, WEBHOOK_PATH, parse_update, secret_matches
from channels.twilio_sms import EMPTY_TWIML, TwilioSignature, parse_inbound, undelivered_kind

log = logging.getLogger("doorstep.http")
bp = Blueprint("doorstep", __name__)


def runtime() -> Runtime:
    return current_app.extensions["doorstep"]


def error(status: int, message: str, **extra: Any) -> tuple[Response, int]:
    """The error contract: ``{"error": <what to do next>, "status": <code>, ...}``."""
    return jsonify({"error": message, "status": status, **extra}), status


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    try:
        runtime().redis.ping()
    except Exception as exc:  # any Redis failure means not ready
        return jsonify({"status": "unavailable", "redis": type(exc).__name__}), 503
    return jsonify({"status": "ready"}), 200


@bp.post("/events")
def events() -> tuple[Response, int]:
    rt = runtime()
    if not request.mimetype == "application/json":
        return error(415, "Content-Type must be application/json")
    body = request.get_data(cache=False)
    try:
        current_app.extensions["doorstep.events_webhook"].verify(body, dict(request.headers),
                                                                 json_parse=False)
    except (WebhookVerificationError, ValueError, UnicodeDecodeError):
        return error(401, "invalid or missing webhook signature, or stale webhook-timestamp")
    webhook_id = request.headers["webhook-id"]
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return error(422, "body is not valid UTF-8 JSON", field="body")
    try:
        event, phone = parse_event(payload)
    except EventError as exc:
        return error(422, exc.message, field=exc.field)
    outcome = rt.opener.receive(webhook_id, event, phone)
    if outcome.duplicate:
        note("replay")
    log.info("event %s (%s): case %s%s", webhook_id, event.type, outcome.case_id,
             " (replay)" if outcome.duplicate else "")
    body: dict[str, Any] = {"case_id": outcome.case_id, "duplicate": outcome.duplicate}
    link = rt.opener.telegram_link(outcome.case_id) if outcome.case_id else None
    if link:
        body["telegram_link"] = link
    return jsonify(body), 202


def _twilio_guard() -> tuple[Response, int] | None:
    if request.mimetype != "application/x-www-form-urlencoded":
        return error(415, "Content-Type must be application/x-www-form-urlencoded")
    if not current_app.extensions["doorstep.twilio_signature"].verify(request):
        return error(403, "invalid or missing X-Twilio-Signature")
    return None


@bp.post("/webhooks/twilio/sms")
def twilio_sms() -> tuple[Response | str, int, dict[str, str]] | tuple[Response, int]:
    refused = _twilio_guard()
    if refused:
        return refused
    inbound = parse_inbound(request)
    if inbound is None:
        return error(400, "From must be a phone number and MessageSid is required")
    try:
        if inbound.media:
            # Downloading photos can take seconds: a worker does it, Twilio gets its answer.
            runtime().queue.receive(inbound)
        elif not runtime().engine.handle(inbound):
            note("replay")
    except BusyConversation:
        note("busy")
        return error(503, "conversation busy, retry")
    return EMPTY_TWIML, 200, {"Content-Type": "text/xml"}


@bp.post(WEBHOOK_PATH)
def telegram_webhook() -> tuple[Response, int]:
    rt = runtime()
    if not rt.settings.telegram_enabled:
        return error(404, "the Telegram channel is not configured")
    if not secret_matches(request.headers.get(SECRET_HEADER), rt.settings.telegram_webhook_secret):
        return error(403, f"invalid or missing {SECRET_HEADER}")
    if request.mimetype != "application/json":
        return error(415, "Content-Type must be application/json")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return error(400, "body must be a JSON object (a Telegram Update)")
    try:
        update_id, inbound = parse_update(data)
    except ValueError as exc:
        return error(400, str(exc))
    if inbound is None:
        note("ignored")
        return jsonify({"ok": True, "ignored": True}), 200
    if not rt.store.claim_update("telegram", str(update_id)):
        note("replay")
        return jsonify({"ok": True, "duplicate": True}), 200
    try:
        rt.queue.receive(inbound)
    except Exception:
        rt.store.release_update("telegram", str(update_id))  # let Telegram's retry through
        raise
    return jsonify({"ok": True}), 200


@bp.post("/webhooks/twilio/status")
def twilio_status() -> tuple[Response | str, int]:
    refused = _twilio_guard()
    if refused:
        return refused
    rt = runtime()
    sid = request.form.get("MessageSid", "")
    status = request.form.get("MessageStatus", "")
    if not sid or not status:
        return error(400, "MessageSid and MessageStatus are required")
    code = request.form.get("ErrorCode", "")
    # Recorded on the message and its case; an undelivered one is sent again later or
    # fails over (the queue ignores reports about an attempt it has since replaced).
    record_status(rt.queue, sid, status, code, undelivered_kind(status, code))
    return "", 204


def init_app(app: Any, rt: Runtime) -> None:
    """Attach the runtime, register the endpoints and describe them in the OpenAPI document."""
    from standardwebhooks import Webhook

    from channels import openapi_paths

    openapi_paths.register()
    app.extensions["doorstep"] = rt
    app.extensions["doorstep.events_webhook"] = Webhook(rt.settings.events_webhook_secret)
    app.extensions["doorstep.twilio_signature"] = TwilioSignature(rt.settings)
    app.register_blueprint(bp)
    app.register_blueprint(nlu_api.bp)
