"""FakeMediaServer: a loopback stand-in for Twilio's MMS media URLs.

Twilio hands inbound MMS media to the webhook as ``MediaUrl0..N`` pointing at
``https://api.twilio.com/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}``.
With "HTTP Basic Authentication for media access" on, those URLs need the account SID and auth
token; Twilio then answers with a redirect to its CDN, which serves the bytes without auth. This
fake serves the same path shape, the same auth rule and, on request, the same redirect.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any, NamedTuple

from werkzeug.wrappers import Request, Response

from .http import HTTPFake
from .twilio_api import twilio_error

__all__ = ["FakeMediaServer", "MediaRequest"]

_CDN_PREFIX = "/media.twiliocdn.com/"


class MediaRequest(NamedTuple):
    """One request seen by the media fake."""

    path: str
    had_valid_auth: bool


class FakeMediaServer(HTTPFake):
    """Serves registered media at Twilio-shaped URLs behind HTTP Basic auth.

    Recorded state (a snapshot, safe to read from any thread): :attr:`requests`.
    """

    def __init__(self, account_sid: str, auth_token: str) -> None:
        """Create (not start) the fake for the account whose credentials guard the media."""
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._lock = threading.Lock()
        self._media: dict[str, dict[str, Any]] = {}  # path -> content, content_type, delay_s
        self._cdn: dict[str, str] = {}  # CDN path -> media path
        self._requests: list[MediaRequest] = []
        self._wake = threading.Event()  # set by clear()/stop() to cut programmed stalls short
        super().__init__("fake-twilio-media")

    @property
    def requests(self) -> list[MediaRequest]:
        """Every request: (path, had_valid_auth), in order."""
        with self._lock:
            return list(self._requests)

    def add(self, content: bytes, content_type: str, delay_s: float = 0,
            redirect: bool = False, *, message_sid: str | None = None) -> str:
        """Register media and return its Twilio-shaped URL on this fake.

        ``delay_s`` stalls the response that carries the bytes (to exercise client timeouts).
        ``redirect=True`` answers the authenticated URL with 307 to an unauthenticated CDN
        path on the same server, as Twilio does.
        """
        message_sid = message_sid or "MM" + secrets.token_hex(16)
        path = (f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message_sid}"
                f"/Media/ME{secrets.token_hex(16)}")
        media = {"content": bytes(content), "content_type": content_type, "delay_s": delay_s,
                 "cdn": None}
        with self._lock:
            if redirect:
                media["cdn"] = f"{_CDN_PREFIX}{self.account_sid}/{secrets.token_hex(20)}"
                self._cdn[media["cdn"]] = path
            self._media[path] = media
        return self.url + path

    def clear(self) -> None:
        """Forget media and recorded requests; release stalled responses."""
        self._wake.set()
        with self._lock:
            self._media.clear()
            self._cdn.clear()
            self._requests.clear()
        self._wake = threading.Event()

    def stop(self) -> None:
        """Release stalled responses, then stop serving."""
        self._wake.set()
        super().stop()

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        auth = request.authorization
        valid = auth is not None and auth.type == "basic" and \
            (auth.username, auth.password) == (self.account_sid, self.auth_token)
        with self._lock:
            self._requests.append(MediaRequest(request.path, valid))
            cdn_of = self._cdn.get(request.path)
            media = self._media.get(cdn_of or request.path)
        if request.method not in ("GET", "HEAD"):
            response = twilio_error(405)
        elif media is None:
            response = twilio_error(404, 20404,
                                    f"The requested resource {request.path} was not found")
        elif cdn_of is None and not valid:
            response = twilio_error(401)
        elif cdn_of is None and media["cdn"]:
            response = Response(status=307, headers={"Location": self.url + media["cdn"]})
        else:
            self._wake.wait(media["delay_s"])
            response = Response(media["content"], content_type=media["content_type"])
        return response(environ, start_response)
