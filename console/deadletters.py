"""Dead letters in the console: the page at ``/console/dead-letters`` and its JSON API.

Staff see what finally failed (messages and shipper callbacks) and send it again;
supervisors switch shipper callbacks back on after the endpoint answered 410 Gone.
The work is ``bot.deadletters``.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template

from bot.desk import SUPERVISOR
from bot.errors import DeskError
from bot.runtime import Runtime
from console.auth import actor, current_staff, staff_required
from console.openapi import (
    BOOLEAN,
    STRING,
    TIME,
    _json_response,
    _op,
    _path_param,
    extend,
    nullable,
    obj,
    ref,
)

bp = Blueprint("console_deadletters", __name__)


def runtime() -> Runtime:
    return current_app.extensions["doorstep"]


@bp.errorhandler(DeskError)
def _desk_error(exc: DeskError) -> tuple[Response, int]:
    return jsonify({"error": exc.message, "status": exc.status}), exc.status


@bp.get("/console/dead-letters")
@staff_required()
def page() -> str:
    """What finally failed, with Retry and Discard (rendered here; the buttons use the API)."""
    rt = runtime()
    return render_template("dead_letters.html", page="dead-letters", staff=current_staff(),
                           letters=rt.dead_letters.list(), callbacks=rt.dead_letters.callbacks())


@bp.get("/api/dead-letters")
@staff_required()
def dead_letters() -> Response:
    rt = runtime()
    return jsonify({"dead_letters": rt.dead_letters.list(),
                    "callbacks": rt.dead_letters.callbacks()})


@bp.post("/api/dead-letters/<item_id>/retry")
@staff_required()
def retry(item_id: str) -> tuple[Response, int]:
    return jsonify(runtime().dead_letters.retry(item_id, actor().email)), 202


@bp.post("/api/dead-letters/<item_id>/discard")
@staff_required()
def discard(item_id: str) -> Response:
    return jsonify(runtime().dead_letters.discard(item_id, actor().email))


@bp.get("/api/callbacks")
@staff_required()
def callbacks() -> Response:
    return jsonify(runtime().dead_letters.callbacks())


@bp.post("/api/callbacks/enable")
@staff_required(SUPERVISOR)
def enable_callbacks() -> Response:
    return jsonify(runtime().dead_letters.enable_callbacks(actor().email))


_ITEM = _path_param("item_id", "The dead letter's id (message:<key> or callback:<key>).")
_CALLBACKS = obj(["enabled", "disabled", "configured"], enabled=BOOLEAN,
                 disabled={"oneOf": [obj(["at", "status"], at=TIME,
                                         status={"type": "integer"}), {"type": "null"}]},
                 configured=BOOLEAN, retried={"type": "integer", "minimum": 0})

extend(
    schemas={
        "DeadLetter": obj(
            ["id", "kind", "key", "reason", "failed_at"], id=STRING,
            kind={"type": "string", "enum": ["message", "callback"]}, key=STRING,
            case_id=nullable("string"), channel=nullable("string"),
            to=nullable("string"), type=nullable("string"),
            error_code=nullable(["string", "integer"]), status=nullable("integer"),
            reason=STRING, outcome=nullable("string"), failed_at=TIME),
        "CallbackSwitch": _CALLBACKS,
        "DeadLetterAction": obj(["id", "status"], id=STRING,
                                status={"type": "string", "enum": ["queued", "discarded"]}),
    },
    paths={
        "/api/dead-letters": {"get": _op(
            "Messages and callbacks that finally failed, most recent first.",
            {200: _json_response("The dead letters and the callback switch.", obj(
                ["dead_letters", "callbacks"],
                dead_letters={"type": "array", "items": ref("DeadLetter")},
                callbacks=ref("CallbackSwitch")))})},
        "/api/dead-letters/{item_id}/retry": {"post": _op(
            "Send it again (the same idempotency key); it leaves the list.",
            {202: _json_response("Queued.", ref("DeadLetterAction"))}, (404, 409),
            unsafe=True, params=[_ITEM])},
        "/api/dead-letters/{item_id}/discard": {"post": _op(
            "Drop it from the list (the case timeline keeps the record).",
            {200: _json_response("Discarded.", ref("DeadLetterAction"))}, (404,),
            unsafe=True, params=[_ITEM])},
        "/api/callbacks": {"get": _op(
            "Whether shipper callbacks are on (a 410 Gone switches them off).",
            {200: _json_response("The switch.", ref("CallbackSwitch"))})},
        "/api/callbacks/enable": {"post": _op(
            "Switch shipper callbacks back on and send the ones held meanwhile.",
            {200: _json_response("The switch, and how many callbacks were queued again.",
                                 ref("CallbackSwitch"))}, supervisor=True, unsafe=True)},
    },
)
