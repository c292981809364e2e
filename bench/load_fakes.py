"""A lean stand-in for Twilio's Messages API, run as its own process by ``python -m bench load``.

Why not ``tests/fakes/twilio_api.py`` (FakeTwilioAPI)? It validates every request against
Twilio's whole OpenAPI description with openapi-core, one request at a time under a lock,
on a threaded werkzeug server: several milliseconds of CPU per send. At hundreds of sends
a second that fake would become the bottleneck and take a core from the system under
test, so the bench would measure the fake. This recorder checks what Twilio itself would
refuse a send for (the account in the path, Basic auth, a form body, ``To`` in E.164, a
sender, a body of 1..1600 characters, an http(s) ``StatusCallback``), answers 201 with
Twilio's message resource (``sid`` "SM" + 32 hex, ``status`` "queued"), and keeps only
what the bench needs: each accepted message's ``To`` and arrival time. The test suite
keeps proving the wire format in full against the OpenAPI document.

Arrival times are ``time.monotonic()``: one clock for every process on the machine, so
the load driver can subtract its own send times from them.

Bench-only routes (not Twilio's): ``GET /bench/arrivals?after=N`` returns
``{"arrivals": [[to, t], ...], "next": M, "rejected": R}`` for accepted messages from
index N on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import signal
import sys
import time
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

from aiohttp import BasicAuth, web

MESSAGES_ROUTE = "/2010-04-01/Accounts/{account_sid}/Messages.json"
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")


class MessagesRecorder:
    """Accept (or refuse, as Twilio would) message creates; remember where and when."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.arrivals: list[tuple[str, float]] = []
        self.rejected = 0

    def refusal(self, request: web.Request, form: dict[str, str]) -> web.Response | None:
        """Twilio's error answer for this create, or None when it would accept it."""
        header = request.headers.get("Authorization", "")
        try:
            auth = BasicAuth.decode(header)
        except ValueError:
            auth = None
        if auth is None or (auth.login, auth.password) != (self.account_sid, self.auth_token):
            return _error(401, 20003, "Authenticate")
        if request.match_info["account_sid"] != self.account_sid:
            return _error(404, 20404, "The requested resource was not found")
        if request.content_type != "application/x-www-form-urlencoded":
            return _error(400, 20001, "Invalid parameter")
        if not _E164.match(form.get("To", "")):
            return _error(400, 21211, "Invalid 'To' Phone Number")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return _error(400, 21603, "A 'From' phone number is required.")
        if not 0 < len(form.get("Body", "")) <= 1600:
            return _error(400, 21619, "A text message body or media url must be specified.")
        callback = urlsplit(form.get("StatusCallback", "http://ok/"))
        if callback.scheme not in ("http", "https") or not callback.hostname:
            return _error(400, 21609, "Invalid 'StatusCallback'")
        return None

    async def create_message(self, request: web.Request) -> web.Response:
        arrived = time.monotonic()
        form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        refused = self.refusal(request, form)
        if refused is not None:
            self.rejected += 1
            return refused
        self.arrivals.append((form["To"], arrived))
        return web.json_response(self._resource(form), status=201)

    def _resource(self, form: dict[str, str]) -> dict[str, object]:
        sid = "SM" + uuid.uuid4().hex
        now = format_datetime(datetime.now(UTC))
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        return {"account_sid": self.account_sid, "api_version": "2010-04-01",
                "body": form["Body"], "date_created": now, "date_sent": None,
                "date_updated": now, "direction": "outbound-api", "error_code": None,
                "error_message": None, "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"), "num_media": "0",
                "num_segments": "1", "price": None, "price_unit": "USD", "sid": sid,
                "status": "queued", "subresource_uris": {"media": f"{uri}/Media.json"},
                "to": form["To"], "uri": f"{uri}.json"}

    async def list_arrivals(self, request: web.Request) -> web.Response:
        start = int(request.query.get("after", "0"))
        end = len(self.arrivals)
        return web.json_response({"arrivals": self.arrivals[start:end], "next": end,
                                  "rejected": self.rejected})


def _error(status: int, code: int, message: str) -> web.Response:
    body = {"code": code, "message": message, "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}"}
    return web.Response(text=json.dumps(body), status=status, content_type="application/json")


def build_app(recorder: MessagesRecorder) -> web.Application:
    """The aiohttp application serving ``recorder``."""
    app = web.Application()
    app.router.add_post(MESSAGES_ROUTE, recorder.create_message)
    app.router.add_get("/bench/arrivals", recorder.list_arrivals)
    return app


async def serve(recorder: MessagesRecorder) -> None:
    """Serve on 127.0.0.1:<free port> until SIGTERM/SIGINT; print ``PORT <n>`` once listening."""
    runner = web.AppRunner(build_app(recorder), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(f"PORT {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description="Lean Twilio Messages API stand-in")
    parser.add_argument("--account-sid", required=True)
    args = parser.parse_args()
    token = sys.stdin.readline().strip()  # on stdin: kept out of the process list
    asyncio.run(serve(MessagesRecorder(args.account_sid, token)))


if __name__ == "__main__":
    main()
