"""The customer simulator at ``/console/simulator``: play a customer over the sandbox SMS.

A staff member posts a sample exception event for a phone number and then texts as that
customer; the bot's answers are read back from the sandbox outbox (``channels/sandbox.py``),
so the whole loop — event, bot, escalation, takeover — runs on one machine with no Twilio
account. With Twilio configured every sending call answers 409: the texts would reach
whoever owns the number.

JSON endpoints (staff only, 401 without a session; POSTs need the CSRF token):

- ``GET  /console/simulator/messages?phone=…`` → ``{"phone", "sandbox", "messages",
  "case"}``; a message is ``{"id", "at", "from": "customer"|"business", "text",
  "case_id"}``, oldest first; ``case`` is the conversation's case (``{"id", "url",
  "status", "desk_status", "type", "tracking_number", "held_by"}``) or null.
- ``POST /console/simulator/events`` ``{"phone", "type", "name", "language"}`` → 201
  ``{"case_id", "case_url", "duplicate"}``.
- ``POST /console/simulator/messages`` ``{"phone", "text"}`` → 202 ``{"handled", "case"}``.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from bot.demo import (
    DEMO_SHIPPER_PATH,
    LANGUAGES,
    SAMPLE_TYPES,
    SANDBOX_ONLY,
    customer_says,
    open_sample,
    random_sandbox_phone,
)
from bot.errors import BusyConversation, EventError
from bot.inbox import desk_status
from bot.phones import mask_phone, normalise_phone
from bot.store import key_for, now_iso
from console.auth import current_staff, staff_required

if TYPE_CHECKING:
    from bot.models import Case
    from bot.runtime import Runtime

log = logging.getLogger("doorstep.simulator")

# The page's script is console/static/simulator.js, served with the console's static files.
bp = Blueprint("console_simulator", __name__, template_folder="templates")

MAX_TEXT = 1600  # one SMS body, as Twilio takes it
MAX_NAME = 100
SENT_KEPT = 200  # customer texts remembered per simulated phone
SENT_TTL_S = 7 * 24 * 3600


class Refused(Exception):
    """A simulator call that cannot be done: answered ``{"error": message}`` with status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@bp.errorhandler(Refused)
def _refused(exc: Refused) -> tuple[Response, int]:
    return jsonify({"error": exc.message}), exc.status


def _runtime() -> Runtime:
    return current_app.extensions["doorstep"]


def json_staff_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """``staff_required()`` for JSON endpoints outside ``/api``: 401 JSON, not a redirect
    to the login page, when nobody is signed in."""
    protected = staff_required()(view)

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_staff() is None:
            return jsonify({"error": "sign in at /console/login"}), 401
        return protected(*args, **kwargs)
    return wrapped


def _sent_key(phone: str) -> str:
    return key_for("simulator", "sent", tag=phone)


# -- the page ---------------------------------------------------------------------------
@bp.get("/console/simulator")
@staff_required()
def page() -> tuple[str, int]:
    """The simulator: a phone-style chat for one customer and a sample-event form."""
    wanted = normalise_phone(request.args.get("phone", "")[:40]) if request.args.get("phone") \
        else None
    return render_template(
        "simulator.html", staff=current_staff(), page="simulator",
        sandbox=not _runtime().settings.twilio_enabled,
        sandbox_only=f"The simulator {SANDBOX_ONLY}",
        phone=wanted or random_sandbox_phone(), phone_given=wanted is not None,
        sample_types=SAMPLE_TYPES, languages=LANGUAGES), 200


# -- JSON ---------------------------------------------------------------------------------
@bp.get("/console/simulator/messages")
@json_staff_required
def messages() -> Response:
    """The conversation with one phone: its texts both ways, oldest first, and its case."""
    rt = _runtime()
    phone = _phone(request.args.get("phone"))
    return jsonify({"phone": phone, "sandbox": not rt.settings.twilio_enabled,
                    "messages": conversation(rt, phone), "case": _case_info(rt, phone)})


@bp.post(DEMO_SHIPPER_PATH)
def demo_shipper() -> tuple[Response, int] | tuple[str, int]:
    """``serve --demo``'s stand-in shipper: check the callback's signature, answer 204."""
    from standardwebhooks import Webhook
    from standardwebhooks.webhooks import WebhookVerificationError

    settings = _runtime().settings
    url = settings.shipper_webhook_url or ""
    if not url.endswith(DEMO_SHIPPER_PATH) or not settings.shipper_webhook_secret:
        return jsonify({"error": "not found"}), 404
    try:
        payload = Webhook(settings.shipper_webhook_secret).verify(request.get_data(),
                                                                  dict(request.headers))
    except WebhookVerificationError:
        return jsonify({"error": "invalid or missing webhook signature"}), 401
    log.info("demo shipper received %s", payload.get("type"))
    return "", 204


@bp.post("/console/simulator/events")
@json_staff_required
def post_event() -> tuple[Response, int]:
    """Open a case from a sample event for the phone, as a shipper's webhook would."""
    rt = _sandbox_runtime()
    body = _body()
    phone = _phone(body.get("phone"))
    type_ = body.get("type") or "delivery.failed"
    if type_ not in SAMPLE_TYPES:
        raise Refused(422, f"type must be one of {', '.join(SAMPLE_TYPES)}")
    language = body.get("language") or "en"
    if language not in LANGUAGES:
        raise Refused(422, f"language must be one of {', '.join(LANGUAGES)}")
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise Refused(422, "name must be text")
    name = (name or "").strip()
    if len(name) > MAX_NAME:
        raise Refused(422, f"name must be at most {MAX_NAME} characters")
    try:
        outcome = open_sample(rt, type_, phone, name or None, language)
    except EventError as exc:
        raise Refused(422, f"the sample event was refused: {exc}") from None
    except BusyConversation:
        raise Refused(503, "this customer's conversation is busy; try again in a moment") \
            from None
    log.info("simulator: %s opened case %s for %s", type_, outcome.case_id, mask_phone(phone))
    return jsonify({"case_id": outcome.case_id, "duplicate": outcome.duplicate,
                    "case_url": f"/console/c/{outcome.case_id}" if outcome.case_id else None}), 201


@bp.post("/console/simulator/messages")
@json_staff_required
def post_message() -> tuple[Response, int]:
    """Text the bot as the customer: handled like an SMS arriving from Twilio."""
    rt = _sandbox_runtime()
    body = _body()
    phone = _phone(body.get("phone"))
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise Refused(422, "type a message for the customer to send")
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise Refused(422, f"a text message holds at most {MAX_TEXT} characters")
    message_id = "SMsim" + uuid.uuid4().hex
    _remember(rt, phone, message_id, text)
    try:
        handled = customer_says(rt, phone, text, message_id=message_id)
    except BusyConversation:
        raise Refused(503, "this customer's conversation is busy; try again in a moment") \
            from None
    return jsonify({"handled": handled, "case": _case_info(rt, phone)}), 202


# -- helpers ------------------------------------------------------------------------------
def _sandbox_runtime() -> Runtime:
    rt = _runtime()
    if rt.settings.twilio_enabled:
        raise Refused(409, f"the simulator {SANDBOX_ONLY}")
    return rt


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Refused(400, "send a JSON object with Content-Type: application/json")
    return body


def _phone(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise Refused(422, "give the customer's phone number, e.g. +15550100123")
    phone = normalise_phone(raw.strip()[:40])
    if phone is None:
        raise Refused(422, f"{raw.strip()[:40]!r} is not a phone number; use E.164, "
                           "e.g. +15550100123")
    return phone


def _remember(rt: Runtime, phone: str, message_id: str, text: str) -> None:
    """Keep what the customer typed, also when no case records it (no case yet)."""
    key = _sent_key(phone)
    with rt.redis.pipeline(transaction=True) as pipe:
        pipe.rpush(key, json.dumps({"id": message_id, "at": now_iso(), "text": text}))
        pipe.ltrim(key, -SENT_KEPT, -1)
        pipe.expire(key, SENT_TTL_S)
        pipe.execute()


def conversation(rt: Runtime, phone: str) -> list[dict[str, Any]]:
    """The customer's texts (typed here, or in a case timeline) and the sandbox outbox's
    texts to ``phone``, oldest first."""
    found: dict[str, dict[str, Any]] = {}
    for raw in rt.redis.lrange(_sent_key(phone), 0, -1):
        item = json.loads(raw)
        found[item["id"]] = {"id": item["id"], "at": item["at"], "from": "customer",
                             "text": item["text"], "case_id": None}
    for case in rt.store.cases_for_recipient("sms", phone):
        for entry in rt.store.timeline(case.id):
            if entry.get("kind") != "message.in" or entry.get("channel") != "sms":
                continue
            message_id = entry.get("message_id") or f"{case.id}:{entry['at']}"
            known = found.get(message_id)
            if known is not None:
                known["case_id"] = case.id
                continue
            found[message_id] = {"id": message_id, "at": entry["at"], "from": "customer",
                                 "text": entry.get("text") or "", "case_id": case.id}
    for sent in rt.store.outbox(phone):
        found[sent["sid"]] = {"id": sent["sid"], "at": sent["at"], "from": "business",
                              "text": sent["body"], "case_id": sent.get("case_id")}
    return sorted(found.values(), key=lambda m: m["at"])


def _case_info(rt: Runtime, phone: str) -> dict[str, Any] | None:
    """The case the phone's conversation is about (else its newest case), for the page."""
    conv = rt.store.get_conversation("sms", phone)
    case: Case | None = rt.store.get_case(conv.case_id) if conv.case_id else None
    if case is None:
        cases = rt.store.cases_for_recipient("sms", phone)
        case = cases[0] if cases else None
    if case is None:
        return None
    handoff = case.handoff or {}
    return {"id": case.id, "url": f"/console/c/{case.id}", "status": case.status,
            "desk_status": desk_status(case), "type": case.type,
            "tracking_number": case.tracking_number,
            "held_by": handoff.get("assignee_name") or case.held_by}
