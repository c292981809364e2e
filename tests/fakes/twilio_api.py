"""FakeTwilioAPI: a loopback HTTP server speaking Twilio's 2010 REST API for sending messages.

Only ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` is implemented. Every request is
checked against Twilio's published OpenAPI description (``shared/peers/twilio_api_v2010.json``)
with openapi-core, then against the business rules the real API enforces. Point the twilio
library at it with ``client.api.base_url = fake.url`` (or use :meth:`FakeTwilioAPI.client`).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import uuid
from collections import deque
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cache
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from werkzeug.wrappers import Request, Response

from .http import HTTPFake

__all__ = ["FakeTwilioAPI", "MESSAGES_PATH", "messages_openapi", "num_segments"]

MESSAGES_PATH = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
_MESSAGES_RE = re.compile(r"/2010-04-01/Accounts/([^/]+)/Messages\.json")
_SPEC_ENV = "DOORSTEP_TWILIO_OPENAPI"
_DEFAULT_SPEC = Path(__file__).resolve().parents[3] / "shared" / "peers" / "twilio_api_v2010.json"
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
_E164ISH = re.compile(r"^([a-z]+:)?\+[1-9]\d{1,14}$")
# Real Twilio error codes (https://www.twilio.com/docs/errors/<code>) and their messages.
ERROR_MESSAGES: dict[int, str] = {  # 20001 is the fake's code for OpenAPI-schema violations
    20001: "Invalid parameter", 20003: "Authenticate", 20004: "Method not allowed",
    20404: "The requested resource was not found", 20429: "Too Many Requests",
    20500: "Internal Server Error", 20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number", 21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.", 21609: "Invalid 'StatusCallback'",
    21610: "Attempt to send to unsubscribed recipient",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21619: "A text message body or media url must be specified.",
}
_DEFAULT_CODE = {400: 20001, 401: 20003, 404: 20404, 405: 20004, 429: 20429, 503: 20503}
_GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
             "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM7_EXT = set("^{}\\[~]|€\f")


def num_segments(body: str) -> int:
    """SMS segments for ``body``: GSM-7 160/153 chars, otherwise UCS-2 70/67 code units."""
    if all(c in _GSM7 or c in _GSM7_EXT for c in body):
        units, single, multi = sum(2 if c in _GSM7_EXT else 1 for c in body), 160, 153
    else:
        units, single, multi = len(body.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else -(-units // multi)


@cache
def messages_openapi(spec_path: str | None = None) -> OpenAPI:
    """openapi-core validator for the Messages create operation, built once per process.

    The description is trimmed to the Messages list path (all components kept) and its
    ``servers`` are replaced by ``/`` so that requests to any loopback host/port match.
    """
    path = Path(spec_path or os.environ.get(_SPEC_ENV) or _DEFAULT_SPEC)
    if not path.is_file():
        raise FileNotFoundError(f"Twilio OpenAPI description not found at {path} (${_SPEC_ENV})")
    doc = json.loads(path.read_text(encoding="utf-8"))
    here = [{"url": "/"}]
    spec = {**doc, "servers": here,
            "paths": {MESSAGES_PATH: {**doc["paths"][MESSAGES_PATH], "servers": here}}}
    return OpenAPI.from_dict(spec)


def twilio_error(status: int, code: int | None = None, message: str | None = None,
                 retry_after: float | None = None) -> Response:
    """A Twilio-style JSON error response: ``{code, message, more_info, status}``."""
    code = code if code is not None else _DEFAULT_CODE.get(status, 20000 + status)
    text = message or ERROR_MESSAGES.get(code) or HTTPStatus(status).phrase
    body = {"code": code, "message": text,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}
    resp = Response(json.dumps(body), status=status, content_type="application/json")
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    if retry_after is not None:
        resp.headers["Retry-After"] = str(retry_after)
    return resp


def _business_error(form: dict[str, list[str]]) -> int | None:
    """The Twilio error code the real API would answer for this (schema-valid) form, if any."""
    one = {k: v[-1] for k, v in form.items() if v}
    if not one.get("To"):
        return 21604
    if not _E164ISH.match(one["To"]):
        return 21211
    if not (one.get("From") or one.get("MessagingServiceSid")):
        return 21603
    if not (one.get("Body") or form.get("MediaUrl") or one.get("ContentSid")):
        return 21619
    if len(one.get("Body", "")) > 1600:
        return 21617
    callback = urlsplit(one.get("StatusCallback", "http://ok/"))
    if callback.scheme not in ("http", "https") or not callback.hostname or "_" in callback.netloc:
        return 21609
    return None


class FakeTwilioAPI(HTTPFake):
    """A validating stand-in for ``api.twilio.com`` (Messages create only), on loopback.

    Recorded state (snapshots, safe to read from any thread): :attr:`messages`,
    :attr:`invalid_requests`, :attr:`requests_log` (401s show up there).
    """

    def __init__(self, account_sid: str | None = None, auth_token: str = "fake-auth-token",
                 *, service_from: str = "+15005550006", spec_path: str | None = None) -> None:
        """Create (not start) the fake; ``service_from`` is the sender a Messaging Service uses."""
        self.account_sid = account_sid or "AC" + uuid.uuid4().hex
        self.auth_token = auth_token
        self.service_from = service_from
        self._openapi = messages_openapi(spec_path)
        self._cond = threading.Condition()
        self._validate_lock = threading.Lock()
        self._messages: list[dict[str, Any]] = []
        self._invalid: list[dict[str, Any]] = []
        self._log: list[dict[str, Any]] = []
        self._failures: deque[tuple[int, int | None, str | None, float | None]] = deque()
        # Timed phases: [seconds, status, code, retry_after, started (monotonic) or None].
        self._phases: deque[list[Any]] = deque()
        self._latency_s = 0.0
        self._down = False
        super().__init__("fake-twilio")

    def client(self, **kwargs: Any) -> Client:
        """A ``twilio.rest.Client`` for this fake (TWILIO_* environment variables ignored)."""
        kwargs.setdefault("environment", {})
        client = Client(self.account_sid, self.auth_token, **kwargs)
        client.api.base_url = self.url
        return client

    def _snapshot(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(item) for item in items]

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Accepted messages: sid, to, from_, body, messaging_service_sid, status_callback,
        media_urls, raw_form (``dict[str, list[str]]``), status, resource (the 201 JSON)."""
        return self._snapshot(self._messages)

    @property
    def invalid_requests(self) -> list[dict[str, Any]]:
        """Requests rejected with 400 for their content (schema or Twilio business rules)."""
        return self._snapshot(self._invalid)

    @property
    def requests_log(self) -> list[dict[str, Any]]:
        """Every request seen: method, path, user (Basic auth username), status answered,
        ``at`` (``time.monotonic()`` on arrival) and the form's ``to`` and ``body`` (or None)."""
        return self._snapshot(self._log)

    def wait_for_messages(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until at least ``n`` messages were accepted; return them all."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._messages) >= n, timeout):
                raise AssertionError(
                    f"FakeTwilioAPI: expected >= {n} messages within {timeout}s, got "
                    f"{len(self._messages)}; invalid requests: {self._invalid!r}; "
                    f"requests: {self._log!r}")
            return [dict(m) for m in self._messages]

    def clear(self) -> None:
        """Forget everything recorded, drop programmed failures and come back up."""
        with self._cond:
            for items in (self._messages, self._invalid, self._log):
                items.clear()
            self._failures.clear()
            self._phases.clear()
            self._latency_s = 0.0
            self._down = False

    def fail_next(self, n: int = 1, status: int = 500, code: int | None = None,
                  message: str | None = None, retry_after: float | None = None) -> None:
        """Answer the next ``n`` valid creates with ``status`` and a Twilio error body."""
        with self._cond:
            self._failures.extend([(status, code, message, retry_after)] * n)

    def slow_down(self, seconds: float) -> None:
        """Take ``seconds`` over each valid create before answering, as a busy API does."""
        self._latency_s = seconds

    def fail_for(self, seconds: float, status: int = 500, code: int | None = None,
                 retry_after: float | None = None) -> None:
        """Answer valid creates with ``status`` for ``seconds``, then recover.

        Phases queue up behind :meth:`fail_next` failures and each other: a phase's clock
        starts at the first request it answers, so ``fail_next(3)`` then ``fail_for(2, 429)``
        means three 500s, then 429s for two seconds, then 201s.
        """
        with self._cond:
            self._phases.append([seconds, status, code, retry_after, None])

    def _next_failure(self) -> tuple[int, int | None, str | None, float | None] | None:
        """The programmed failure for this request, if any (call with the lock held)."""
        if self._failures:
            return self._failures.popleft()
        now = time.monotonic()
        while self._phases:
            phase = self._phases[0]
            if phase[4] is None:
                phase[4] = now
            if now - phase[4] < phase[0]:
                return phase[1], phase[2], None, phase[3]
            self._phases.popleft()
        return None

    def down(self) -> None:
        """Answer 503 (code 20503) to every request until :meth:`up`."""
        self._down = True

    def up(self) -> None:
        """Stop answering 503 to everything."""
        self._down = False

    def send_status(self, sid: str, status: str, error_code: int | None = None,
                    *, timeout: float = 10.0) -> requests.Response:
        """POST a signed status callback, as Twilio does, to the message's StatusCallback."""
        with self._cond:
            msg = next((m for m in self._messages if m["sid"] == sid), None)
            if msg is None:
                raise KeyError(f"FakeTwilioAPI: no accepted message with sid {sid}")
            msg["status"] = status
        url = msg["status_callback"]
        if not url:
            raise ValueError(f"FakeTwilioAPI: message {sid} was created without StatusCallback")
        if urlsplit(url).hostname not in _LOOPBACK_HOSTS:
            raise ValueError(f"FakeTwilioAPI: refusing to call non-loopback callback {url}")
        params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
                  "AccountSid": self.account_sid, "From": msg["from_"] or self.service_from,
                  "To": msg["to"], "ApiVersion": "2010-04-01"}
        if msg["messaging_service_sid"]:
            params["MessagingServiceSid"] = msg["messaging_service_sid"]
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        signature = RequestValidator(self.auth_token).compute_signature(url, params)
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1",
                   "I-Twilio-Idempotency-Token": str(uuid.uuid4())}
        with requests.Session() as session:
            session.trust_env = False  # never route loopback callbacks through a proxy
            return session.post(url, data=params, headers=headers, timeout=timeout,
                                allow_redirects=False)

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        arrived = time.monotonic()
        request = Request(environ)
        response, auth = self._handle(request), request.authorization
        form = dict(parse_qsl(request.get_data(cache=True).decode("utf-8", "replace"))) \
            if request.mimetype == "application/x-www-form-urlencoded" else {}
        with self._cond:
            self._log.append({"method": request.method, "path": request.path, "status":
                              response.status_code, "user": auth and auth.username,
                              "at": arrived, "to": form.get("To"), "body": form.get("Body")})
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        if self._down:  # a bool read is atomic; no lock needed
            return twilio_error(503)
        match = _MESSAGES_RE.fullmatch(request.path)
        missing = f"The requested resource {request.path} was not found"
        if match is None or request.method != "POST":
            return twilio_error(404, 20404, missing) if match is None else twilio_error(405)
        auth = request.authorization
        if auth is None or auth.type != "basic" or \
                (auth.username, auth.password) != (self.account_sid, self.auth_token):
            return twilio_error(401)
        if match.group(1) != self.account_sid:
            return twilio_error(404, 20404, missing)
        return self._create(request)

    def _create(self, request: Request) -> Response:
        form: dict[str, list[str]] = {}
        if request.mimetype == "application/x-www-form-urlencoded":
            raw = request.get_data(cache=True).decode("utf-8", "replace")
            for key, value in parse_qsl(raw, keep_blank_values=True):
                form.setdefault(key, []).append(value)
        with self._validate_lock:
            result = self._openapi.unmarshal_request(WerkzeugOpenAPIRequest(request))
        errors = [f"{type(e).__name__}: {e}" + (f"; {e.__cause__}" if e.__cause__ and
                  str(e.__cause__) not in str(e) else "") for e in result.errors]
        code = _business_error(form)
        if errors or code is not None:
            with self._cond:
                self._invalid.append({"path": request.path, "content_type": request.content_type,
                                      "raw_form": form, "errors": errors, "code": code})
            return twilio_error(400, code)
        if self._latency_s:
            time.sleep(self._latency_s)
        with self._cond:
            failure = self._next_failure()
        return twilio_error(*failure) if failure is not None else self._accept(form)

    def _accept(self, form: dict[str, list[str]]) -> Response:
        one = {k: v[-1] for k, v in form.items()}
        media = form.get("MediaUrl", [])
        sid = ("MM" if media else "SM") + uuid.uuid4().hex
        now = format_datetime(datetime.now(UTC))
        service = one.get("MessagingServiceSid")
        body = one.get("Body", "")
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        resource = {
            "account_sid": self.account_sid, "api_version": "2010-04-01", "body": body,
            "date_created": now, "date_sent": None, "date_updated": now,
            "direction": "outbound-api", "error_code": None, "error_message": None,
            "from": one.get("From"), "messaging_service_sid": service, "num_media": str(len(media)),
            "num_segments": "0" if service else str(num_segments(body)),
            "price": None, "price_unit": "USD", "sid": sid, "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"}, "to": one["To"],
            "uri": f"{uri}.json",
        }
        record = {"sid": sid, "to": one["To"], "from_": one.get("From"), "body": one.get("Body"),
                  "messaging_service_sid": service, "status_callback": one.get("StatusCallback"),
                  "media_urls": list(media), "raw_form": form, "status": "queued",
                  "resource": resource}
        with self._cond:
            self._messages.append(record)
            self._cond.notify_all()
        return Response(json.dumps(resource), status=201, content_type="application/json")
