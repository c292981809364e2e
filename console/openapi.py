"""The OpenAPI 3.1 description of the JSON API, served at ``/api/openapi.json``.

Other modules add their own routes with :func:`extend` (issue 6 adds ``/events`` and the
outbound webhooks) before the document is first served; :func:`openapi_document` builds
a fresh dict on every call, so callers may change what they get.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from bot.desk import ROLES
from bot.inbox import DESK_STATUSES, VIEWS

JSON = "application/json"
Schema = dict[str, Any]

_extra_paths: dict[str, dict[str, Any]] = {}
_extra_webhooks: dict[str, dict[str, Any]] = {}
_extra_schemas: dict[str, Schema] = {}


def extend(paths: Mapping[str, dict[str, Any]] | None = None,
           webhooks: Mapping[str, dict[str, Any]] | None = None,
           schemas: Mapping[str, Schema] | None = None) -> None:
    """Add path items, webhooks and component schemas to every document built afterwards.

    Operations added here may use ``#/components/responses/<status>`` for the shared
    error answers and ``#/components/schemas/Error``.
    """
    _extra_paths.update(paths or {})
    _extra_webhooks.update(webhooks or {})
    _extra_schemas.update(schemas or {})


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(kind: str | list[str]) -> Schema:
    kinds = [kind] if isinstance(kind, str) else kind
    return {"type": [*kinds, "null"]}


def obj(required: list[str] | None = None, **props: Schema) -> Schema:
    """A JSON object schema; extra properties stay allowed (clients must ignore them)."""
    schema: Schema = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema


STRING: Schema = {"type": "string"}
TIME: Schema = {"type": "string", "format": "date-time"}
COUNT: Schema = {"type": "integer", "minimum": 0}
BOOLEAN: Schema = {"type": "boolean"}

_SCHEMAS: dict[str, Schema] = {
    "Error": obj(["error"], error={"type": "string", "description": "What to do next."},
                 status={"type": "integer"}),
    "Me": obj(["email", "name", "role"], email=STRING, name=STRING,
              role={"type": "string", "enum": list(ROLES)}),
    "StaffMember": obj(["email", "name", "role", "disabled", "created_at"], email=STRING,
                       name=STRING, role={"type": "string", "enum": list(ROLES)},
                       disabled={"type": "boolean"}, created_at=TIME),
    "Escalation": obj(
        ["reason", "escalated_at", "overdue", "assignee"],
        reason=nullable("string"),
        summary={"description": "The handoff summary: the exception, what the bot "
                                "collected, the last messages."},
        escalated_at=nullable("string"), eta_minutes=nullable("number"),
        overdue={"type": "boolean"}, assignee=nullable("string"),
        assignee_name=nullable("string"), claimed_at=nullable("string"),
        first_response_at=nullable("string")),
    "LastMessage": obj(["at", "direction", "text"], at=STRING,
                       direction={"type": "string", "enum": ["in", "out"]},
                       text=nullable("string")),
    "ConversationSummary": obj(
        ["id", "status", "case_status", "type", "tracking_number", "created_at",
         "escalation", "last_message"],
        id=STRING, status={"type": "string", "enum": list(DESK_STATUSES)},
        case_status=STRING, type=STRING, reason=nullable("string"), tracking_number=STRING,
        carrier=nullable("string"), order_ref=nullable("string"),
        recipient_name=nullable("string"), phone=nullable("string"),
        telegram_chat_id=nullable(["integer", "string"]), channel=nullable("string"),
        language=nullable("string"), created_at=STRING, updated_at=nullable("string"),
        escalation={"oneOf": [ref("Escalation"), {"type": "null"}]},
        last_message={"oneOf": [ref("LastMessage"), {"type": "null"}]}),
    "TranscriptEntry": obj(
        ["at", "direction", "author", "text"], at=STRING,
        direction={"type": "string", "enum": ["in", "out"]},
        author={"type": "string", "enum": ["customer", "bot", "system", "staff"]},
        author_name=nullable("string"), text=nullable("string"), channel=nullable("string"),
        key=nullable("string"), delivery=nullable("string"),
        error_code=nullable(["string", "integer"]),
        media={"type": "array", "items": ref("Media")}),
    "Note": obj(["at", "author", "text"], at=STRING, author=STRING,
                author_name=nullable("string"), text=STRING),
    "TimelineEntry": obj(["at", "kind"], at=STRING, kind=STRING),
    "Media": obj(["id", "content_type"], id=STRING, content_type=STRING,
                 size=nullable("integer"), at=nullable("string")),
    "ConversationDetail": {"allOf": [ref("ConversationSummary"), obj(
        ["case", "transcript", "notes", "timeline", "media", "slots"],
        case={"type": "object"},
        transcript={"type": "array", "items": ref("TranscriptEntry")},
        notes={"type": "array", "items": ref("Note")},
        timeline={"type": "array", "items": ref("TimelineEntry")},
        media={"type": "array", "items": ref("Media")},
        slots={"type": "object"}, flow=nullable("string"),
        handoff_summary={"description": "What the bot handed over (null if never "
                                        "escalated)."})]},
    "QueueFigures": obj(["waiting", "held", "overdue"], waiting=COUNT, held=COUNT,
                        overdue=COUNT, agents_online=COUNT,
                        median_wait_s=nullable("number"), eta_minutes=nullable("number")),
    "ConversationEnvelope": obj(["conversation"], conversation=ref("ConversationSummary")),
    "ResolutionCode": obj(["code", "label"],
                          code={"type": "string", "pattern": "^[a-z0-9_]{2,40}$"},
                          label={"type": "string", "minLength": 1, "maxLength": 80}),
    "CannedResponse": obj(["id", "title", "text"], id=STRING,
                          title={"type": "string", "minLength": 1, "maxLength": 80},
                          text={"type": "string", "minLength": 1, "maxLength": 1000}),
}

_ERRORS = {
    400: "The body is not a JSON object.",
    401: "Not logged in: no valid session cookie or bearer token.",
    403: "Not allowed: the role does not permit this, or the CSRF token is missing.",
    404: "No such conversation, media, code, response or staff member.",
    409: "Someone else holds the conversation, or its state does not allow this.",
    413: "The body is too large.",
    415: "The body is not application/json.",
    422: "A field is missing, of the wrong type or invalid (the error names it).",
    503: "Storage is unavailable; retry later.",
}


def _error_responses() -> dict[str, Any]:
    return {str(status): {"description": text, "content": {JSON: {"schema": ref("Error")}}}
            for status, text in _ERRORS.items()}


def _json_response(description: str, schema: Schema) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": STRING}


def _op(summary: str, ok: dict[int, dict[str, Any]], errors: tuple[int, ...] = (),
        body: Schema | None = None, body_required: bool = True, public: bool = False,
        supervisor: bool = False, unsafe: bool = False,
        params: list[dict[str, Any]] | None = None, tag: str = "console") -> dict[str, Any]:
    """One operation; protected ones answer 401 (and 403 for supervisors or CSRF)."""
    statuses = set(errors) | {503}
    if not public:
        statuses.add(401)
    if supervisor or unsafe:
        statuses.add(403)
    if body is not None:
        statuses |= {400, 413, 415, 422}
    responses: dict[str, Any] = {str(code): resp for code, resp in ok.items()}
    responses |= {str(code): {"$ref": f"#/components/responses/{code}"}
                  for code in sorted(statuses)}
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if public:
        op["security"] = []
    elif supervisor:
        op["description"] = "Supervisors only."
    parameters = list(params or [])
    if unsafe:
        parameters.append({"$ref": "#/components/parameters/CsrfToken"})
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = {"required": body_required, "content": {JSON: {"schema": body}}}
    return op


_ID = _path_param("id", "The case id.")
_CONVERSATION = {200: _json_response("The conversation as it stands now.",
                                     ref("ConversationEnvelope"))}


def _action(summary: str, body: Schema | None = None, ok: dict[int, Any] | None = None,
            body_required: bool = True) -> dict[str, Any]:
    return {"post": _op(summary, ok or _CONVERSATION, (404, 409, 422), body=body,
                        body_required=body_required, unsafe=True, params=[_ID])}


def _paths() -> dict[str, dict[str, Any]]:
    text_body = obj(["text"], text={"type": "string", "minLength": 1})
    no_content = {204: {"description": "Done."}}
    return {
        "/api/openapi.json": {"get": _op("This document.", {200: _json_response(
            "The OpenAPI document.", {"type": "object"})}, public=True, tag="meta")},
        "/api/me": {"get": _op("Who is logged in.", {200: _json_response(
            "The current staff member.", ref("Me"))})},
        "/api/conversations": {"get": _op(
            "Conversations, newest first, with live queue figures.",
            {200: _json_response("Matching conversations.", obj(
                ["conversations", "queue"],
                conversations={"type": "array", "items": ref("ConversationSummary")},
                queue=ref("QueueFigures")))},
            (422,), params=[
                {"name": "status", "in": "query", "description": "Default: escalated and held.",
                 "schema": {"type": "string", "enum": list(DESK_STATUSES)}},
                {"name": "view", "in": "query", "description": "mine: held by me.",
                 "schema": {"type": "string", "enum": list(VIEWS)}},
                {"name": "q", "in": "query", "schema": STRING,
                 "description": "Phone number (any format), tracking number or name."},
                {"name": "type", "in": "query", "schema": STRING,
                 "description": "An exception event type, such as delivery.failed."}])},
        "/api/conversations/{id}": {"get": _op(
            "One conversation in full: transcript, case, timeline, notes, handoff summary.",
            {200: _json_response("The conversation.", ref("ConversationDetail"))},
            (404,), params=[_ID])},
        "/api/conversations/{id}/claim": _action(
            "Take the conversation over; the customer is told who joined."),
        "/api/conversations/{id}/release": _action(
            "Put a held conversation back in the unassigned queue."),
        "/api/conversations/{id}/messages": _action(
            "Send a text to the customer on their channel.", text_body,
            {202: _json_response("Queued for sending.", obj(
                ["key", "conversation"], key=STRING,
                conversation=ref("ConversationSummary")))}),
        "/api/conversations/{id}/notes": _action(
            "Add an internal note (the customer never sees it).", text_body,
            {201: _json_response("The note was added.", obj(
                ["note", "conversation"], note=ref("Note"),
                conversation=ref("ConversationSummary")))}),
        "/api/conversations/{id}/handback": _action(
            "Give the conversation back to the bot (restart: start its flow over).",
            obj(restart={"type": "boolean", "default": False}), body_required=False),
        "/api/conversations/{id}/resolve": _action(
            "Close the case with a resolution code and a note; posts case.resolved.",
            obj(["resolution_code", "note"], resolution_code=STRING,
                note={"type": "string", "minLength": 1})),
        "/api/conversations/{id}/media/{media_id}": {"get": _op(
            "A photo or file the customer sent in this conversation.",
            {200: {"description": "The file's bytes (a photo: JPEG, PNG, HEIC or WebP), "
                                  "with its own content type.",
                   "content": {"image/*": {}}}},
            (404,), params=[_ID, _path_param("media_id", "From the conversation's media.")])},
        "/api/resolution-codes": {
            "get": _op("The resolution codes to choose from.", {200: _json_response(
                "In the order supervisors set.", obj(["resolution_codes"], resolution_codes={
                    "type": "array", "items": ref("ResolutionCode")}))}),
            "post": _op("Add a resolution code (or relabel an existing one).",
                        {201: _json_response("Saved.", ref("ResolutionCode"))},
                        body=obj(["code", "label"], code=STRING, label=STRING),
                        supervisor=True, unsafe=True)},
        "/api/resolution-codes/{code}": {"delete": _op(
            "Remove a resolution code (the last one cannot be removed).", no_content,
            (404, 422), supervisor=True, unsafe=True,
            params=[_path_param("code", "The code.")])},
        "/api/canned-responses": {
            "get": _op("Canned responses, oldest first.", {200: _json_response(
                "All of them.", obj(["canned_responses"], canned_responses={
                    "type": "array", "items": ref("CannedResponse")}))}),
            "post": _op("Save a canned response.",
                        {201: _json_response("Saved.", ref("CannedResponse"))},
                        body=obj(["title", "text"], title=STRING, text=STRING),
                        supervisor=True, unsafe=True)},
        "/api/canned-responses/{response_id}": {"delete": _op(
            "Delete a canned response.", no_content, (404,), supervisor=True, unsafe=True,
            params=[_path_param("response_id", "The response's id.")])},
        "/api/staff": {
            "get": _op("Staff accounts.", {200: _json_response("All accounts.", obj(
                ["staff"], staff={"type": "array", "items": ref("StaffMember")}))},
                supervisor=True),
            "post": _op("Create a staff account.",
                        {201: _json_response("Created.", ref("StaffMember"))},
                        body=obj(["email", "role", "password"], email=STRING,
                                 role={"type": "string", "enum": list(ROLES)},
                                 name=STRING, password={"type": "string", "minLength": 10}),
                        supervisor=True, unsafe=True)},
        "/api/staff/{email}/disable": {"post": _op(
            "Disable an account: its sessions and API token stop working at once.",
            {200: _json_response("The disabled account.", ref("StaffMember"))},
            (404,), supervisor=True, unsafe=True,
            params=[_path_param("email", "The account's email.")])},
        "/api/stream": {"get": _op(
            "Live updates (Server-Sent Events): `event: conversation` with data "
            '`{"type": "conversation.updated", "id", "case_status"}`; a `: keepalive` '
            "comment every 15 s.",
            {200: {"description": "An endless event stream.",
                   "content": {"text/event-stream": {"schema": STRING}}}})},
    }


def openapi_document(server_url: str) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document, with ``server_url`` as its one server."""
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Doorstep support console API", "version": "1",
                 "description": "Everything the support console does. Authenticate with the "
                                "console's session cookie (unsafe methods also need the "
                                "session's CSRF token in X-CSRF-Token) or with "
                                "`Authorization: Bearer <token>` from "
                                "`doorstep staff token EMAIL` (no CSRF token needed). "
                                'Errors are `{"error": "..."}`.'},
        "servers": [{"url": server_url.rstrip("/") or "/"}],
        "security": [{"session": []}, {"bearer": []}],
        "tags": [{"name": "console"}, {"name": "meta"}],
        "paths": {**_paths(), **_extra_paths},
        "components": {
            "schemas": {**_SCHEMAS, **_extra_schemas},
            "responses": _error_responses(),
            "parameters": {"CsrfToken": {
                "name": "X-CSRF-Token", "in": "header", "required": False,
                "schema": STRING,
                "description": "Required with the session cookie on POST and DELETE "
                               "(the token from the page's csrf-token meta tag); not "
                               "needed with a bearer token."}},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "doorstep_session",
                            "description": "The console login's session cookie. State-"
                                           "changing calls also need X-CSRF-Token."},
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "A staff API token: `doorstep staff token "
                                          "EMAIL`."}},
        },
    }
    if _extra_webhooks:
        doc["webhooks"] = dict(_extra_webhooks)
    return copy.deepcopy(doc)
