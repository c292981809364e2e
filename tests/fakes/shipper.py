"""FakeShipper: a loopback HTTP server that receives Doorstep's Standard Webhooks callbacks.

Every POST (``/callbacks`` or any other path) is verified with
``standardwebhooks.Webhook(secret).verify(body, headers)`` using the ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature`` headers. Verified deliveries are recorded in
:attr:`FakeShipper.callbacks` (replays included, so deliveries can be counted), failures in
:attr:`FakeShipper.rejected`. Responses are 200 unless programmed with
:meth:`FakeShipper.respond_with` or taken :meth:`FakeShipper.down`.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
import uuid
from collections import deque
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from standardwebhooks import Webhook
from werkzeug.wrappers import Request, Response

from .http import HTTPFake

__all__ = ["FakeShipper", "generate_secret"]


def generate_secret(n_bytes: int = 24) -> str:
    """A fresh Standard Webhooks secret: ``whsec_`` + base64 of random bytes."""
    return "whsec_" + base64.b64encode(os.urandom(n_bytes)).decode("ascii")


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "error"


class FakeShipper(HTTPFake):
    """The shipper's side of Doorstep's outbound webhooks, verifying every signature.

    Recorded state (snapshots, safe from any thread):

    * :attr:`callbacks` -- verified deliveries, in arrival order: ``id``, ``timestamp`` (int
      seconds), ``payload`` (parsed JSON), ``headers`` (lower-case names), ``path``, ``body``
      (raw text), ``status`` and ``retry_after`` (what this fake answered: the HTTP status
      and the ``Retry-After`` value or None) and ``at`` (``time.monotonic()`` on arrival).
    * :attr:`rejected` -- requests that failed verification (answered 401): ``path``,
      ``headers``, ``body``, ``reason``.
    """

    def __init__(self, secret: str | None = None) -> None:
        """Create (not start) the fake; ``secret`` defaults to a freshly generated one."""
        self.secret = secret or generate_secret()
        self._webhook = Webhook(self.secret)
        self._cond = threading.Condition()
        self._callbacks: list[dict[str, Any]] = []
        self._rejected: list[dict[str, Any]] = []
        self._responses: deque[tuple[int, int | str | None]] = deque()
        self._down: tuple[int, int | str | None] | None = None
        super().__init__("fake-shipper")

    @property
    def callback_url(self) -> str:
        """``<url>/callbacks``, the conventional endpoint to configure in Doorstep."""
        return self.url + "/callbacks"

    @property
    def callbacks(self) -> list[dict[str, Any]]:
        """Verified deliveries (replayed ids included), oldest first."""
        with self._cond:
            return [dict(c) for c in self._callbacks]

    @property
    def rejected(self) -> list[dict[str, Any]]:
        """Requests whose Standard Webhooks verification failed."""
        with self._cond:
            return [dict(r) for r in self._rejected]

    def unique_ids(self) -> list[str]:
        """Distinct ``webhook-id`` values of verified deliveries, in first-seen order."""
        with self._cond:
            return list(dict.fromkeys(c["id"] for c in self._callbacks))

    def wait_for_callbacks(self, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Block until at least ``n`` verified deliveries arrived (any status); return them all."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._callbacks) >= n, timeout):
                raise AssertionError(
                    f"FakeShipper: expected >= {n} verified callbacks within {timeout}s, got "
                    f"{len(self._callbacks)}; rejected: {self._rejected!r}")
            return [dict(c) for c in self._callbacks]

    def respond_with(self, status: int, n: int = 1, retry_after: int | str | None = None) -> None:
        """Answer the next ``n`` verified deliveries with ``status`` (and ``Retry-After``)."""
        with self._cond:
            self._responses.extend([(status, retry_after)] * n)

    def down(self, status: int = 503, retry_after: int | str | None = None) -> None:
        """Answer every verified delivery with ``status`` until :meth:`up` (still recorded)."""
        with self._cond:
            self._down = (status, retry_after)

    def up(self) -> None:
        """Answer normally again (programmed responses, then 200)."""
        with self._cond:
            self._down = None

    def clear(self) -> None:
        """Forget recorded deliveries and rejections, drop programmed responses, come up."""
        with self._cond:
            self._callbacks.clear()
            self._rejected.clear()
            self._responses.clear()
            self._down = None

    def sign(self, payload: Any, msg_id: str | None = None,
             timestamp: datetime | None = None) -> tuple[bytes, dict[str, str]]:
        """Body and Standard Webhooks headers for ``payload``, signed with this secret.

        A test helper (Doorstep signs its own requests); the signature comes from
        ``standardwebhooks.Webhook(secret).sign``.
        """
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        timestamp = timestamp or datetime.now(UTC)
        body = payload if isinstance(payload, str) else json.dumps(payload)
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(int(timestamp.timestamp())),
                   "webhook-signature": self._webhook.sign(msg_id, timestamp, body),
                   "content-type": "application/json"}
        return body.encode("utf-8"), headers

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self._handle(Request(environ))(environ, start_response)

    def _handle(self, request: Request) -> Response:
        arrived = time.monotonic()
        if request.method != "POST":
            return _json(405, {"error": "method not allowed"})
        body = request.get_data(cache=True).decode("utf-8", "replace")
        headers = {k.lower(): v for k, v in request.headers.items()}
        try:
            payload = self._webhook.verify(body, headers)
        except Exception as exc:  # bad/missing headers, bad signature, stale time, non-JSON
            with self._cond:
                self._rejected.append({"path": request.path, "headers": headers, "body": body,
                                       "reason": f"{type(exc).__name__}: {exc}"})
            return _json(401, {"error": "invalid webhook signature"})
        with self._cond:
            if self._down is not None:
                status, retry_after = self._down
            else:
                status, retry_after = self._responses.popleft() if self._responses else \
                    (200, None)
            self._callbacks.append({
                "id": headers["webhook-id"], "timestamp": int(float(headers["webhook-timestamp"])),
                "payload": payload, "headers": headers, "path": request.path, "body": body,
                "status": status, "retry_after": retry_after, "at": arrived})
            self._cond.notify_all()
        if status == 204:
            return Response(status=204)
        response = _json(status, {"ok": True} if status < 300 else {"error": _phrase(status)})
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response
