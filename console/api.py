"""The console's JSON API under ``/api``: everything the console does, for scripts too.

Authentication (session cookie + CSRF token, or a bearer token) is ``console.auth``'s
``staff_required``; the work is ``bot.desk``, ``bot.inbox``, ``bot.playbook`` and
``bot.staff``. Errors are ``{"error": "<what to do>"}``: a ``bot.errors.DeskError``
carries its own status (400, 404, 409, 422). ``/api/stream`` lives in ``console.stream``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from bot.desk import SUPERVISOR
from bot.errors import DeskError, Invalid, NotFound, StaffError
from bot.inbox import DESK_STATUSES, VIEWS
from bot.runtime import Runtime
from console.auth import actor, current_staff, staff_required
from console.openapi import openapi_document

bp = Blueprint("console_api", __name__)

MEDIA_CACHE = "private, max-age=3600"


class BadBody(DeskError):
    """The request body is not a JSON object."""

    status = 400


def runtime() -> Runtime:
    return current_app.extensions["doorstep"]


@bp.errorhandler(DeskError)
def _desk_error(exc: DeskError) -> tuple[Response, int]:
    return jsonify({"error": exc.message, "status": exc.status}), exc.status


def json_body(optional: bool = False) -> dict[str, Any]:
    """The request's JSON object (``{}`` for an empty optional body); BadBody otherwise."""
    raw = request.get_data(cache=True)
    if optional and not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested too deep to read
        raise BadBody("body must be a JSON object") from None
    if not isinstance(body, dict):
        raise BadBody("body must be a JSON object")
    return body


def field(body: dict[str, Any], name: str, kind: type = str, required: bool = True,
          default: Any = None) -> Any:
    """``body[name]`` checked against ``kind``; Invalid (422) naming the field otherwise."""
    if name not in body or body[name] is None:
        if required:
            raise Invalid(f"{name} is required")
        return default
    value = body[name]
    # bool is an int in Python; a JSON true is never a string, and 1 is never a boolean.
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise Invalid(f"{name} must be a {'string' if kind is str else kind.__name__}")
    return value


def choice(name: str, allowed: tuple[str, ...]) -> str | None:
    """A query parameter that must be one of ``allowed`` (or absent)."""
    value = request.args.get(name) or None
    if value is not None and value not in allowed:
        raise Invalid(f"{name} must be one of {', '.join(allowed)}")
    return value


# -- who am I, what the API is --------------------------------------------------
@bp.get("/api/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(runtime().settings.public_url))


@bp.get("/api/me")
@staff_required()
def me() -> Response:
    staff = current_staff()
    assert staff is not None  # staff_required let the request in
    return jsonify({"email": staff.email, "name": staff.name, "role": staff.role})


# -- conversations ------------------------------------------------------------
@bp.get("/api/conversations")
@staff_required()
def conversations() -> Response:
    status = choice("status", DESK_STATUSES)
    view = choice("view", VIEWS)
    inbox = runtime().inbox
    found = inbox.conversations(status=status, view=view, q=request.args.get("q") or None,
                                type_=request.args.get("type") or None,
                                staff_email=actor().email)
    return jsonify({"conversations": found, "queue": inbox.queue_figures()})


@bp.get("/api/conversations/<case_id>")
@staff_required()
def conversation(case_id: str) -> Response:
    found = runtime().inbox.conversation(case_id)
    if found is None:
        raise NotFound(f"no conversation {case_id!r}")
    return jsonify(found)


@bp.post("/api/conversations/<case_id>/claim")
@staff_required()
def claim(case_id: str) -> Response:
    return jsonify({"conversation": runtime().desk.claim(case_id, actor())})


@bp.post("/api/conversations/<case_id>/release")
@staff_required()
def release(case_id: str) -> Response:
    return jsonify({"conversation": runtime().desk.release(case_id, actor())})


@bp.post("/api/conversations/<case_id>/messages")
@staff_required()
def send_message(case_id: str) -> tuple[Response, int]:
    text = field(json_body(), "text")
    return jsonify(runtime().desk.send_message(case_id, actor(), text)), 202


@bp.post("/api/conversations/<case_id>/notes")
@staff_required()
def add_note(case_id: str) -> tuple[Response, int]:
    text = field(json_body(), "text")
    return jsonify(runtime().desk.add_note(case_id, actor(), text)), 201


@bp.post("/api/conversations/<case_id>/handback")
@staff_required()
def hand_back(case_id: str) -> Response:
    restart = field(json_body(optional=True), "restart", bool, required=False, default=False)
    return jsonify({"conversation": runtime().desk.hand_back(case_id, actor(), restart)})


@bp.post("/api/conversations/<case_id>/resolve")
@staff_required()
def resolve(case_id: str) -> Response:
    body = json_body()
    code = field(body, "resolution_code")
    note = field(body, "note")
    return jsonify({"conversation": runtime().desk.resolve(case_id, actor(), code, note)})


@bp.get("/api/conversations/<case_id>/media/<media_id>")
@staff_required()
def media(case_id: str, media_id: str) -> Response:
    """A file the customer sent, only through the case it belongs to."""
    rt = runtime()
    received = any(entry.get("kind") == "media.received" and entry.get("media_id") == media_id
                   for entry in rt.store.timeline(case_id))
    stored = rt.engine.media.store.get(media_id) if received and rt.engine.media else None
    if stored is None:
        raise NotFound(f"no media {media_id!r} in conversation {case_id!r}")
    content, content_type = stored
    resp = Response(content, mimetype=content_type)
    resp.headers["Cache-Control"] = MEDIA_CACHE
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Disposition"] = "inline"
    return resp


# -- playbook: resolution codes and canned responses ---------------------------
@bp.get("/api/resolution-codes")
@staff_required()
def resolution_codes() -> Response:
    return jsonify({"resolution_codes": runtime().playbook.resolution_codes()})


@bp.post("/api/resolution-codes")
@staff_required(SUPERVISOR)
def add_resolution_code() -> tuple[Response, int]:
    body = json_body()
    code, label = field(body, "code"), field(body, "label")
    return jsonify(runtime().playbook.add_resolution_code(code, label)), 201


@bp.delete("/api/resolution-codes/<code>")
@staff_required(SUPERVISOR)
def remove_resolution_code(code: str) -> tuple[str, int]:
    runtime().playbook.remove_resolution_code(code)
    return "", 204


@bp.get("/api/canned-responses")
@staff_required()
def canned_responses() -> Response:
    return jsonify({"canned_responses": runtime().playbook.canned_responses()})


@bp.post("/api/canned-responses")
@staff_required(SUPERVISOR)
def add_canned_response() -> tuple[Response, int]:
    body = json_body()
    title, text = field(body, "title"), field(body, "text")
    return jsonify(runtime().playbook.add_canned_response(title, text)), 201


@bp.delete("/api/canned-responses/<response_id>")
@staff_required(SUPERVISOR)
def remove_canned_response(response_id: str) -> tuple[str, int]:
    runtime().playbook.remove_canned_response(response_id)
    return "", 204


# -- staff accounts -----------------------------------------------------------
@bp.get("/api/staff")
@staff_required(SUPERVISOR)
def staff() -> Response:
    return jsonify({"staff": [asdict(member) for member in runtime().staff.all()]})


@bp.post("/api/staff")
@staff_required(SUPERVISOR)
def add_staff() -> tuple[Response, int]:
    body = json_body()
    email, role, password = field(body, "email"), field(body, "role"), field(body, "password")
    name = field(body, "name", required=False)
    try:
        member = runtime().staff.add(email, role, password, name=name)
    except StaffError as exc:
        raise Invalid(str(exc)) from None
    return jsonify(asdict(member)), 201


@bp.post("/api/staff/<email>/disable")
@staff_required(SUPERVISOR)
def disable_staff(email: str) -> Response:
    rt = runtime()
    if rt.staff.get(email) is None:
        raise NotFound(f"no staff account {email!r}")
    member = rt.staff.disable(email)
    rt.sessions.revoke_all(member.email)
    return jsonify(asdict(member))
