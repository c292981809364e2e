"""SMS through Twilio: verify and parse webhooks, send messages. The only twilio import."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

import requests
from flask import Request
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.errors import PermanentSendError, RecipientOptedOut, SendDeferred, TransientSendError
from bot.media import MediaRejected
from bot.models import Inbound, MediaRef, Outbound
from bot.phones import mask_phone, normalise_phone
from bot.settings import Settings
from bot.store import Store
from channels.render import render_sms

log = logging.getLogger("doorstep.twilio")

STATUS_PATH = "/webhooks/twilio/status"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
# What a Twilio error code means for us, whether it comes back from the create call or
# later in a status callback (accepted, then not delivered).
OPTED_OUT = "opted_out"
CODE_KINDS: dict[int, str] = {
    **dict.fromkeys((20429, 30001, 30003, 30008, 30010, 30017), "transient"),
    21610: OPTED_OUT,  # the recipient replied STOP to the carrier
    **dict.fromkeys((21211, 21214, 21408, 21612, 21614, 30004, 30005, 30006, 30007, 30034),
                    "permanent"),  # invalid, unknown, landline, blocked, filtered
}
MAX_PACING_WAIT_S = 5.0
MAX_MEDIA = 10  # Twilio sends at most 10 media per MMS


class TwilioSignature:
    """Check ``X-Twilio-Signature`` against ``PUBLIC_URL`` + the request's path."""

    def __init__(self, settings: Settings) -> None:
        self.public_url = settings.public_url
        self.validator = RequestValidator(settings.twilio_auth_token) \
            if settings.twilio_auth_token else None

    def verify(self, request: Request) -> bool:
        signature = request.headers.get("X-Twilio-Signature")
        if self.validator is None or not signature:
            return False
        url = self.public_url + request.path
        if request.query_string:
            url += "?" + request.query_string.decode("latin-1")
        return self.validator.validate(url, request.form, signature)


def parse_inbound(request: Request) -> Inbound | None:
    """The customer's message from Twilio's form fields; None when essential fields are bad."""
    form = request.form
    sender = normalise_phone(form.get("From", ""), None)
    message_id = form.get("MessageSid") or form.get("SmsSid")
    if not sender or not message_id:
        return None
    try:
        count = min(max(int(form.get("NumMedia") or 0), 0), MAX_MEDIA)
    except ValueError:
        count = 0
    media = tuple(MediaRef(form[f"MediaUrl{i}"], None, form.get(f"MediaContentType{i}"))
                  for i in range(count) if form.get(f"MediaUrl{i}", "").startswith("http"))
    return Inbound(channel="sms", sender=sender, text=form.get("Body", ""),
                   message_id=message_id, received_at=datetime.now(UTC), media=media)


class TwilioMediaFetcher:
    """Download MMS media from ``MediaUrlN`` with the account's credentials.

    Twilio answers with a redirect to its CDN; ``requests`` drops the credentials
    when the host changes, as it should. The body is read in chunks and abandoned
    as soon as it passes the size limit.
    """

    def __init__(self, settings: Settings, session: requests.Session | None = None) -> None:
        self.auth = (settings.twilio_account_sid or "", settings.twilio_auth_token or "")
        self.timeout_s = settings.media_fetch_timeout_s
        self.session = session or requests.Session()

    def fetch(self, ref: MediaRef, max_bytes: int) -> bytes:
        try:
            with self.session.get(ref.ref, auth=self.auth, timeout=self.timeout_s,
                                  stream=True) as resp:
                if resp.status_code != 200:
                    raise MediaRejected("unavailable", f"HTTP {resp.status_code}")
                declared = int(resp.headers.get("Content-Length") or 0)
                if declared > max_bytes:
                    raise MediaRejected("too_large", f"{declared} bytes")
                chunks, size = [], 0
                for chunk in resp.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise MediaRejected("too_large", f"over {max_bytes} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        except requests.RequestException as exc:
            raise MediaRejected("unavailable", type(exc).__name__) from None


def undelivered_kind(status: str, error_code: str) -> str | None:
    """What a status callback's failure means for us: ``transient`` (send it again later),
    ``permanent``, ``opted_out``, or None (not a failure, or nothing we can act on)."""
    if status not in ("undelivered", "failed") or not error_code.isdigit():
        return None
    return CODE_KINDS.get(int(error_code))


class TwilioSMS:
    """Send SMS with Twilio's REST API (``TWILIO_API_BASE_URL`` may point at a stand-in).

    Sends are paced per sender (``TWILIO_MESSAGES_PER_SECOND``, about 1/s for a long
    code) across all worker processes, through a slot reserved in Redis.
    """

    def __init__(self, settings: Settings, store: Store | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = Client(settings.twilio_account_sid, settings.twilio_auth_token,
                             http_client=TwilioHttpClient(timeout=10))
        self.client.api.base_url = settings.twilio_api_base_url
        self.from_number = settings.twilio_from_number
        self.service_sid = settings.twilio_messaging_service_sid
        self.status_callback = settings.public_url + STATUS_PATH
        rate = settings.twilio_messages_per_second
        self.interval_ms = int(1000 / rate) if rate > 0 and store is not None else 0
        self.store = store
        self.sleep = sleep

    def _pace(self) -> None:
        if not self.interval_ms or self.store is None:
            return
        sender = self.service_sid or self.from_number or ""
        wait = self.store.pace("twilio-sender", sender, self.interval_ms, 0, MAX_PACING_WAIT_S)
        if wait > MAX_PACING_WAIT_S:
            raise SendDeferred(wait)  # no slot reserved: the queue brings it back then
        if wait > 0:
            self.sleep(wait)

    def send(self, outbound: Outbound) -> str:
        self._pace()
        params: dict[str, str] = {"to": outbound.to, "status_callback": self.status_callback,
                                  "body": render_sms(outbound.text, outbound.choices)}
        if self.service_sid:
            params["messaging_service_sid"] = self.service_sid
        else:
            params["from_"] = self.from_number or ""
        try:
            message = self.client.messages.create(**params)
        except TwilioRestException as exc:
            code = exc.code
            kind = CODE_KINDS.get(code) if isinstance(code, int) else None
            if kind == OPTED_OUT:
                raise RecipientOptedOut("recipient unsubscribed", str(code)) from None
            if kind == "permanent" or (kind is None and 400 <= exc.status < 500
                                       and exc.status != 429):
                raise PermanentSendError(f"Twilio refused: {code}", str(code)) from None
            raise TransientSendError(f"Twilio {exc.status}", str(code or exc.status)) from None
        except (requests.RequestException, TwilioException) as exc:
            raise TransientSendError(f"Twilio unreachable: {type(exc).__name__}",
                                     "network") from None
        log.debug("twilio accepted %s for %s", message.sid, mask_phone(outbound.to))
        return message.sid
