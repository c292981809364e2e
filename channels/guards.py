"""The HTTP error contract: size and content-type guards, and every error answered as JSON.

Errors are ``{"error": "<what to do next>", "status": <code>}``:

- 413 when the body is over ``MAX_BODY_BYTES``, refused before a view runs (a chunked
  body is buffered first, up to the limit, so its size is known too);
- 415 when a JSON endpoint under ``/api/`` or ``/console/simulator/`` gets a body of
  another type, or the login form gets something other than a form (the endpoints in
  ``channels.http`` and ``channels.nlu_api`` check their own types);
- 400 or 422 from the views for malformed or invalid bodies;
- 503 when Redis is unreachable;
- 500 only for a bug: logged with its traceback (never the body or headers).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable
from typing import Any

import redis
from flask import Flask, Response, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)

log = logging.getLogger("doorstep.http")

JSON = "application/json"
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
# Path prefix -> the body types its unsafe methods accept.
ACCEPTED_BODIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/api/", (JSON,)),
    ("/console/simulator/", (JSON,)),
    ("/console/login", FORMS),
    ("/console/logout", FORMS),
)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OVERSIZED = "doorstep.body_over_limit"  # set in the WSGI environ by ChunkedBodyLimit
UNREADABLE = "doorstep.body_unreadable"  # likewise, for a broken chunked encoding


def init_app(app: Flask, max_body_bytes: int) -> None:
    """Cap bodies at ``max_body_bytes``, check body types, and answer errors as JSON."""
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    app.wsgi_app = ChunkedBodyLimit(app.wsgi_app, max_body_bytes)  # type: ignore[method-assign]
    app.json = NestingSafeJSON(app)
    app.before_request(_refuse_unacceptable_bodies)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(redis.exceptions.ConnectionError, _storage_down)
    app.register_error_handler(InternalServerError, _server_error)


class ChunkedBodyLimit:
    """Buffer a body sent without Content-Length (chunked), up to the limit, so its size is
    known before a view runs.

    Werkzeug cuts such a body off at ``MAX_CONTENT_LENGTH`` without saying so; a signature
    or a JSON parser would then refuse the truncated body with a misleading 401 or 400.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if not environ.get("CONTENT_LENGTH") \
                and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            try:
                body = environ["wsgi.input"].read(self.max_bytes + 1)
            except (OSError, ValueError):  # a malformed chunk, or the client went away
                environ[UNREADABLE], body = True, b""
            if len(body) > self.max_bytes:
                environ[OVERSIZED], body = True, b""
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


class NestingSafeJSON(DefaultJSONProvider):
    """Flask's JSON, where nesting too deep to parse is invalid JSON, not a crash."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def _has_body() -> bool:
    return bool(request.content_length)  # chunked bodies have one now (ChunkedBodyLimit)


def _refuse_unacceptable_bodies() -> None:
    limit = request.max_content_length
    if request.environ.get(OVERSIZED) or \
            limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()
    if request.environ.get(UNREADABLE):
        raise BadRequest("the chunked body could not be read; send it again")
    if request.method not in BODY_METHODS or not _has_body():
        return
    for prefix, accepted in ACCEPTED_BODIES:
        if request.path.startswith(prefix):
            if request.mimetype not in accepted:
                raise UnsupportedMediaType(f"Content-Type must be {' or '.join(accepted)}")
            return


def _http_error(exc: HTTPException) -> Response:
    """Answer any HTTP error as JSON, keeping its headers (``Allow`` on a 405, for one)."""
    response = exc.get_response()
    description = exc.description
    if exc.code == 413:
        description = f"the body is over {request.max_content_length} bytes; send a smaller one"
    response.set_data(jsonify({"error": description, "status": exc.code}).get_data())
    response.mimetype = JSON
    return response


def _storage_down(exc: Exception) -> tuple[Response, int]:
    log.error("Redis unavailable: %s", type(exc).__name__)
    return jsonify({"error": "storage unavailable; retry later", "status": 503}), 503


def _server_error(exc: InternalServerError) -> tuple[Response, int]:
    # Flask has already logged the traceback ("Exception on <path> [<method>]").
    return jsonify({"error": "internal error (logged); retry later or report it",
                    "status": 500}), 500
