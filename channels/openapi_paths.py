"""The OpenAPI description of what ``channels/`` serves, added to ``/api/openapi.json``.

``/events`` (its body schema generated from :class:`bot.events.ExceptionEvent`), the
Twilio and Telegram webhooks, the NLU endpoint, ``/healthz``, ``/readyz`` and ``/metrics``;
and under the document's top-level ``webhooks``, the signed callbacks Doorstep posts to the
shipper.
Every status code, content type and header here is one the server really uses.
"""

from __future__ import annotations

from typing import Any

from bot.events import ExceptionEvent
from channels.telegram import SECRET_HEADER, WEBHOOK_PATH
from channels.telegram_update import update_schemas
from console.openapi import COUNT, STRING, TIME, extend, nullable, obj, ref

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
Schema = dict[str, Any]

_ERRORS = {
    400: "The body could not be read as the endpoint expects (the error says why).",
    401: "The signature or token is missing, wrong or stale.",
    403: "The signature or secret header is missing or wrong.",
    404: "This channel is not configured.",
    413: "The body is over MAX_BODY_BYTES (default 1 MiB).",
    415: "The Content-Type is not the one this endpoint takes.",
    422: "A field is missing, of the wrong type or invalid (`field` names it).",
    429: "Too many requests from this source address; retry after `Retry-After` seconds.",
    503: "Storage is unavailable or the conversation is busy; retry later.",
}
_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before retrying.",
                                "schema": {"type": "integer", "minimum": 1}}}


def _error(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {"description": _ERRORS[status],
                                "content": {JSON: {"schema": ref("ChannelError")}}}
    if status == 429:
        response["headers"] = _RETRY_AFTER
    return response


def _header(name: str, description: str, required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": "header", "required": required, "description": description,
            "schema": STRING}


def _op(summary: str, ok: dict[str, Any], errors: tuple[int, ...], tag: str,
        body: tuple[str, Schema] | None = None, params: list[dict[str, Any]] | None = None,
        description: str | None = None) -> dict[str, Any]:
    """Describe one operation outside the console's session/bearer security."""
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "security": [],
                          "responses": {**ok, **{str(code): _error(code) for code in errors}}}
    if description:
        op["description"] = description
    if params:
        op["parameters"] = params
    if body is not None:
        media_type, schema = body
        op["requestBody"] = {"required": True, "content": {media_type: {"schema": schema}}}
    return op


def _json_ok(status: int, description: str, schema: Schema) -> dict[str, Any]:
    return {str(status): {"description": description, "content": {JSON: {"schema": schema}}}}


# -- /events: the exception-event contract, from the pydantic model ----------------------
def event_schemas() -> dict[str, Schema]:
    """Generate ``ExceptionEvent`` and the models it uses as component schemas."""
    schema = ExceptionEvent.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = schema.pop("$defs", {})
    return {**defs, "ExceptionEvent": schema}


_STANDARD_WEBHOOK_HEADERS = [
    _header("webhook-id", "The message id; stable across retries (replays are answered "
                          "202 with `duplicate: true`)."),
    _header("webhook-timestamp", "Unix seconds of this attempt; more than 5 minutes off "
                                 "is refused."),
    _header("webhook-signature", "`v1,<base64 HMAC-SHA256>` of `id.timestamp.body` with "
                                 "EVENTS_WEBHOOK_SECRET (space-separated when several)."),
]


def _events() -> dict[str, Any]:
    accepted = obj(["case_id", "duplicate"], case_id=nullable("string"),
                   duplicate={"type": "boolean"},
                   telegram_link={"type": "string", "description": "A t.me deep link, when "
                                  "the event asked for a Telegram invite."})
    return {"post": _op(
        "Receive a delivery-exception event from a shipper (Standard Webhooks signed).",
        _json_ok(202, "Accepted: the case it opened or updated (null when a closing event "
                      "found no open case).", accepted),
        (400, 401, 413, 415, 422, 429, 503), "shipper",
        body=(JSON, ref("ExceptionEvent")), params=_STANDARD_WEBHOOK_HEADERS,
        description="Checks, in order: rate limit (429), size (413), Content-Type (415), "
                    "signature (401), JSON and the event contract (422 naming the field).")}


# -- Twilio ---------------------------------------------------------------------------------
_TWILIO_SIGNATURE = [_header(
    "X-Twilio-Signature", "Base64 HMAC-SHA1 with TWILIO_AUTH_TOKEN of PUBLIC_URL + path "
                          "(+ query) followed by each form field's name and value, sorted.")]
_TWILIO_CHECKS = ("Checks, in order: rate limit (429), size (413), Content-Type (415), "
                  "signature (403), fields (400).")


def _twilio_schemas() -> dict[str, Schema]:
    text = STRING
    sms = obj(["MessageSid", "From"], MessageSid=text, SmsSid=text, AccountSid=text,
              MessagingServiceSid=text, From=text, To=text, Body=text,
              NumMedia={"type": "string", "pattern": "^[0-9]{1,2}$"})
    sms["description"] = ("Twilio's incoming-message form; also MediaUrl0..9 and "
                          "MediaContentType0..9 when NumMedia > 0, and more fields Doorstep "
                          "ignores.")
    sms["additionalProperties"] = {"type": "string"}
    status = obj(["MessageSid", "MessageStatus"], MessageSid=text, MessageStatus=text,
                 ErrorCode=text, AccountSid=text, To=text, From=text)
    status["additionalProperties"] = {"type": "string"}
    return {"TwilioIncomingMessage": sms, "TwilioMessageStatus": status}


def _twilio() -> dict[str, dict[str, Any]]:
    twiml = {"200": {"description": "Handled (or queued when it carries media): an empty "
                                    "TwiML answer; replies are sent through the REST API.",
                     "content": {"text/xml": {"schema": STRING}}}}
    return {
        "/webhooks/twilio/sms": {"post": _op(
            "Receive an SMS or MMS from Twilio.", twiml, (400, 403, 413, 415, 429, 503),
            "twilio", body=(FORM, ref("TwilioIncomingMessage")), params=_TWILIO_SIGNATURE,
            description=_TWILIO_CHECKS + " 503: the conversation is busy; Twilio does not "
                                         "retry it unless the webhook URL asks it to.")},
        "/webhooks/twilio/status": {"post": _op(
            "Receive a delivery status for a message Doorstep sent.",
            {"204": {"description": "Recorded (or not one of ours: ignored)."}},
            (400, 403, 413, 415, 429, 503), "twilio",
            body=(FORM, ref("TwilioMessageStatus")), params=_TWILIO_SIGNATURE,
            description=_TWILIO_CHECKS)},
    }


# -- Telegram -------------------------------------------------------------------------------
def _telegram_schemas() -> dict[str, Schema]:
    return update_schemas("#/components/schemas/{model}")


def _telegram() -> dict[str, Any]:
    ack = obj(["ok"], ok={"type": "boolean"}, ignored={"type": "boolean"},
              duplicate={"type": "boolean"})
    return {"post": _op(
        "Receive an update from Telegram (setWebhook with secret_token).",
        _json_ok(200, "Taken (queued, ignored or a duplicate update_id).", ack),
        (400, 403, 404, 413, 415, 429, 503), "telegram", body=(JSON, ref("TelegramUpdate")),
        params=[_header(SECRET_HEADER, "TELEGRAM_WEBHOOK_SECRET, as given to setWebhook.")],
        description="Checks, in order: rate limit (429), size (413), configured (404), "
                    "secret header (403), Content-Type (415), a JSON object that is an "
                    "Update (400).")}


# -- NLU, health -------------------------------------------------------------------------------
def _nlu_schemas() -> dict[str, Schema]:
    intent = obj(["name", "confidence"], name=STRING, confidence={"type": "number"})
    entity = obj(["entity", "value", "start", "end"], entity=STRING, value={},
                 start=COUNT, end=COUNT, confidence={"type": "number"}, extractor=STRING,
                 text=STRING)
    return {
        "NluParseRequest": obj(
            ["text"], text={"type": "string", "maxLength": 10_000},
            reference_time={"type": "string", "format": "date-time",
                            "description": "With an offset; default now."},
            timezone={"type": "string", "description": "IANA name; default "
                                                       "DEFAULT_TIMEZONE."},
            language={"type": "string", "enum": ["en", "es"]},
            message_id={"description": "Rasa's; ignored."}),
        "NluIntent": intent, "NluEntity": entity,
        "NluParseResult": obj(
            ["text", "intent", "intent_ranking", "entities", "language"], text=STRING,
            intent=ref("NluIntent"), intent_ranking={"type": "array", "items": ref("NluIntent")},
            entities={"type": "array", "items": ref("NluEntity")}, language=STRING),
    }


def _nlu() -> dict[str, Any]:
    return {"post": _op(
        "Parse a message (Rasa-compatible /model/parse).",
        _json_ok(200, "Rasa's parse result plus the language.", ref("NluParseResult")),
        (400, 401, 413, 415, 422), "nlu", body=(JSON, ref("NluParseRequest")),
        params=[{"name": "token", "in": "query", "required": False, "schema": STRING,
                 "description": "NLU_API_TOKEN, when set (or send it as a Bearer token)."}],
        description="Open when NLU_API_TOKEN is unset.")}


def _health() -> dict[str, dict[str, Any]]:
    ok = obj(["status"], status={"type": "string", "enum": ["ok"]})
    ready = obj(["status"], status={"type": "string", "enum": ["ready", "unavailable"]},
                redis=STRING)
    return {
        "/healthz": {"get": _op("Liveness: the process answers.",
                                _json_ok(200, "Alive.", ok), (), "meta")},
        "/readyz": {"get": _op("Readiness: Redis answers.", {
            **_json_ok(200, "Ready.", ready),
            **_json_ok(503, "Redis is unavailable (names the error).", ready)}, (), "meta")},
        "/metrics": {"get": _op(
            "Prometheus metrics (text format 0.0.4).",
            {"200": {"description": "Every metric; figures Redis could not give are left out "
                                    "and doorstep_metrics_redis_up is 0.",
                     "content": {"text/plain": {"schema": STRING}}}}, (401,), "meta",
            description="Open when METRICS_TOKEN is unset; otherwise send "
                        "`Authorization: Bearer <METRICS_TOKEN>`.")},
    }


# -- what Doorstep posts to the shipper ------------------------------------------------------
CALLBACK_TYPES: dict[str, tuple[str, Schema]] = {
    "case.rescheduled": ("The customer confirmed a window, and it was reserved.",
                         obj(["window"], window=obj(["start", "end"], start=TIME, end=TIME))),
    "case.address_changed": ("The customer confirmed a corrected address.",
                             obj(["address"], address={"type": "object"},
                                 instructions=nullable("string"))),
    "case.pickup_selected": ("The customer chose a pickup point.",
                             obj(["pickup_point"], pickup_point={"type": "object"})),
    "case.damage_reported": ("A damage report is complete.",
                             obj(["claim_reference"], claim_reference=STRING,
                                 description=nullable("string"),
                                 photos={"type": "array", "items": {"type": "object"}},
                                 preferred_remedy=nullable("string"),
                                 dangerous={"type": "boolean"})),
    "case.delay_acknowledged": ("The customer accepted the new estimate.",
                                obj(["new_eta"], new_eta=STRING)),
    "case.missing_reported": ("The customer answered the missing-parcel questions.",
                              obj()),
    "case.instructions_added": ("The customer left delivery instructions.",
                                obj(["instructions"], instructions=STRING)),
    "case.escalated": ("The case needs a person.", obj(["reason"], reason=STRING,
                                                       summary={})),
    "case.resolved": ("The case was closed by a closing event or by staff.",
                      obj(["resolution"], resolution=STRING,
                          resolution_code=STRING, note=STRING, resolved_by=STRING)),
    "case.expired": ("No reply after the reminder.", obj(["reason"], reason=STRING)),
}


def _callback(type_: str, summary: str, data: Schema) -> dict[str, Any]:
    body = obj(["type", "timestamp", "data"], type={"const": type_}, timestamp=TIME,
               data={"allOf": [ref("CallbackCase"), data]})
    return {"post": {
        "summary": summary, "tags": ["shipper"], "security": [],
        "parameters": _STANDARD_WEBHOOK_HEADERS,
        "requestBody": {"required": True, "content": {JSON: {"schema": body}}},
        "responses": {
            "2XX": {"description": "Delivered."},
            "410": {"description": "Gone: callbacks stop until a supervisor re-enables them."},
            "default": {"description": "Retried on CALLBACK_RETRY_SCHEDULE (about 3 days), "
                                       "honouring a longer Retry-After."}}}}


def register() -> None:
    """Add the channel endpoints, shipper callbacks and their schemas to the document."""
    schemas: dict[str, Schema] = {
        "ChannelError": obj(["error"], error={"type": "string",
                                              "description": "What to do next."},
                            status={"type": "integer"}, field=STRING),
        "CallbackCase": obj(["case_id", "tracking_number", "order_ref"], case_id=STRING,
                            tracking_number=STRING, order_ref=nullable("string")),
        **event_schemas(), **_twilio_schemas(), **_telegram_schemas(), **_nlu_schemas(),
    }
    extend(paths={"/events": _events(), **_twilio(), WEBHOOK_PATH: _telegram(),
                  "/model/parse": _nlu(), **_health()},
           webhooks={type_: _callback(type_, summary, data)
                     for type_, (summary, data) in CALLBACK_TYPES.items()},
           schemas=schemas)

