"""Test helpers: the running system, a customer transcript, event payloads."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
from standardwebhooks import Webhook
from twilio.request_validator import RequestValidator

from bot.broker import start_worker
from bot.queue import CALLBACK_QUEUE
from bot.runtime import Runtime
from bot.settings import load_settings
from bot.store import key_for
from bot.supervisor import stop_gracefully
from fakes.http import LocalServer
from fakes.shipper import FakeShipper
from fakes.telegram_api import FakeTelegramAPI
from fakes.telegram_updates import (
    callback_update,
    contact_update,
    document_update,
    photo_update,
    start_update,
    text_update,
)
from fakes.twilio_api import FakeTwilioAPI
from webhook_server import build, create_app

TZ = "America/New_York"
TELEGRAM_SECRET = "tg-secret_" + "x" * 22


class _LateApp:
    """A WSGI app set after the server is bound (PUBLIC_URL needs the port first)."""

    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


class System:
    """Doorstep running in this process over real HTTP, with its fakes."""

    def __init__(self, runtime: Runtime, server: LocalServer, twilio: FakeTwilioAPI,
                 shipper: FakeShipper, telegram: FakeTelegramAPI | None = None,
                 workers: bool = True) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.server = server
        self.url = server.url
        self.twilio = twilio
        self.shipper = shipper
        self.telegram = telegram
        self.http = requests.Session()
        self.http.trust_env = False
        self.worker = start_worker(runtime.queue.broker, 2) if workers else None

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        self.runtime.close()
        self.server.stop()

    # -- shipper side --------------------------------------------------------
    def post_event(self, payload: Any, webhook_id: str | None = None,
                   secret: str | None = None, timestamp: datetime | None = None,
                   headers: dict[str, str] | None = None) -> requests.Response:
        body = payload if isinstance(payload, str) else json.dumps(payload)
        webhook_id = webhook_id or "msg_" + uuid.uuid4().hex
        timestamp = timestamp or datetime.now(UTC)
        signer = Webhook(secret or self.settings.events_webhook_secret)
        sent = {"content-type": "application/json", "webhook-id": webhook_id,
                "webhook-timestamp": str(int(timestamp.timestamp())),
                "webhook-signature": signer.sign(webhook_id, timestamp, body)}
        sent.update(headers or {})
        return self.http.post(self.url + "/events", data=body.encode(), headers=sent, timeout=15)

    # -- Twilio side ---------------------------------------------------------
    def twilio_post(self, path: str, form: dict[str, str], token: str | None = None,
                    signature: str | None = None) -> requests.Response:
        url = self.settings.public_url + path
        sig = signature if signature is not None else \
            RequestValidator(token or self.settings.twilio_auth_token).compute_signature(url, form)
        return self.http.post(self.url + path, data=form, headers={"X-Twilio-Signature": sig},
                              timeout=15)

    def sms(self, phone: str, body: str, sid: str | None = None, **kw: Any) -> requests.Response:
        form = {"MessageSid": sid or "SM" + uuid.uuid4().hex, "SmsSid": "", "AccountSid":
                self.settings.twilio_account_sid or "", "From": phone,
                "To": self.settings.twilio_from_number or "", "Body": body, "NumMedia": "0"}
        form["SmsSid"] = form["MessageSid"]
        return self.twilio_post("/webhooks/twilio/sms", form, **kw)

    def customer(self, phone: str) -> Customer:
        return Customer(self, phone)

    def chat(self, chat_id: int) -> TelegramChat:
        return TelegramChat(self, chat_id)

    def mms(self, phone: str, body: str, media_urls: list[str],
            types: list[str] | None = None) -> requests.Response:
        """An MMS from ``phone`` with media, as Twilio posts it."""
        sid = "MM" + uuid.uuid4().hex
        form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": self.settings.twilio_account_sid
                or "", "From": phone, "To": self.settings.twilio_from_number or "",
                "Body": body, "NumMedia": str(len(media_urls))}
        for i, url in enumerate(media_urls):
            form[f"MediaUrl{i}"] = url
            form[f"MediaContentType{i}"] = (types or ["image/jpeg"] * len(media_urls))[i]
        return self.twilio_post("/webhooks/twilio/sms", form)

    def telegram_post(self, update: dict[str, Any], secret: str | None = TELEGRAM_SECRET,
                      raw: str | None = None) -> requests.Response:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return self.http.post(self.url + "/webhooks/telegram",
                              data=raw if raw is not None else json.dumps(update),
                              headers=headers, timeout=15)

    def drain(self, timeout: float = 10.0) -> None:
        """Wait until no message is queued for sending now and no callback is pending."""
        store = self.runtime.store
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            keys = store.redis.keys(key_for("out", "*"))
            busy = [k for k in keys if store.redis.hget(k, "status") == b"queued"]
            if not busy:
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"outbound messages still queued after {timeout}s")
        self.runtime.queue.broker.join(CALLBACK_QUEUE, timeout=int(timeout * 1000))

    def settle(self) -> None:
        """Wait until inbound messages are handled and nothing is queued to send now."""
        self.runtime.queue.broker.join("inbound", timeout=10_000)
        self.drain()

    def case(self, case_id: str):  # noqa: ANN201
        return self.runtime.store.get_case(case_id)

    def timeline_kinds(self, case_id: str) -> list[str]:
        return [e["kind"] for e in self.runtime.store.timeline(case_id)]


class Customer:
    """A transcript: ``say`` a text, read the bot's ``reply``."""

    def __init__(self, system: System, phone: str) -> None:
        self.system = system
        self.phone = phone
        self.read = 0

    def messages(self) -> list[dict[str, Any]]:
        return [m for m in self.system.twilio.messages if m["to"] == self.phone]

    def say(self, text: str, sid: str | None = None) -> requests.Response:
        resp = self.system.sms(self.phone, text, sid=sid)
        assert resp.status_code == 200, resp.text
        assert resp.headers["Content-Type"].startswith("text/xml")
        return resp

    def reply(self, timeout: float = 10.0) -> str:
        """The next message the bot sent to this customer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mine = self.messages()
            if len(mine) > self.read:
                self.read += 1
                return mine[self.read - 1]["body"]
            time.sleep(0.02)
        raise AssertionError(f"no reply #{self.read + 1} to {self.phone} within {timeout}s")

    def offered(self) -> str:
        """Read the first proactive text (the windows) and the opt-out line after it."""
        first = self.reply()
        assert "STOP" in self.reply()
        return first

    def book(self, answer: str, yes: str = "yes") -> str:
        """Answer with a window, check the bot asks to confirm, say yes; the booking text."""
        self.say(answer)
        confirm = self.reply()
        assert "YES" in confirm or "SI" in confirm, confirm
        self.say(yes)
        booked = self.reply()
        assert booked.startswith(("Booked", "Reservado")), booked
        return booked

    def silence(self) -> None:
        """Assert nothing more was sent (after the queues drained)."""
        self.system.drain()
        extra = self.messages()[self.read:]
        assert extra == [], f"unexpected messages: {[m['body'] for m in extra]}"


class TelegramChat:
    """A Telegram transcript: ``say``, ``press`` a button, send a ``photo``; read ``reply``."""

    _next_update = 1000

    def __init__(self, system: System, chat_id: int) -> None:
        self.system = system
        self.chat_id = chat_id
        self.read = 0

    @classmethod
    def update_id(cls) -> int:
        cls._next_update += 1
        return cls._next_update

    def post(self, update: dict[str, Any]) -> requests.Response:
        resp = self.system.telegram_post(update)
        assert resp.status_code == 200, resp.text
        return resp

    def say(self, text: str, language_code: str = "en") -> requests.Response:
        return self.post(text_update(self.update_id(), self.chat_id, text,
                                     language_code=language_code))

    def start(self, payload: str) -> requests.Response:
        return self.post(start_update(self.update_id(), self.chat_id, payload))

    def share_contact(self, phone: str, own: bool = True) -> requests.Response:
        owner = self.chat_id if own else self.chat_id + 1
        return self.post(contact_update(self.update_id(), self.chat_id, phone, owner))

    def photo(self, content: bytes, caption: str | None = None,
              file_size: int | None = None) -> requests.Response:
        file_id = self.system.telegram.add_file(content, file_size=file_size)
        return self.post(photo_update(self.update_id(), self.chat_id, file_id, caption))

    def document(self, content: bytes, name: str, mime: str) -> requests.Response:
        file_id = self.system.telegram.add_file(content)
        return self.post(document_update(self.update_id(), self.chat_id, file_id, name, mime,
                                         len(content)))

    def press(self, label: str) -> requests.Response:
        """Press the button labelled ``label`` on the last message that had buttons."""
        for message in reversed(self.messages()[:self.read]):
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if button["text"] == label:
                        return self.post(callback_update(
                            self.update_id(), self.chat_id, button["callback_data"],
                            bot_user=self.system.telegram.bot_user))
        raise AssertionError(f"no button {label!r} in the messages read so far")

    def messages(self) -> list[dict[str, Any]]:
        return self.system.telegram.sent(self.chat_id)

    def reply_message(self, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mine = self.messages()
            if len(mine) > self.read:
                self.read += 1
                return mine[self.read - 1]
            time.sleep(0.02)
        raise AssertionError(f"no reply #{self.read + 1} in chat {self.chat_id} within {timeout}s")

    def reply(self, timeout: float = 10.0) -> str:
        return self.reply_message(timeout)["text"]

    def buttons(self, message: dict[str, Any]) -> list[str]:
        markup = message.get("reply_markup") or {}
        return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]

    def silence(self) -> None:
        self.system.drain()
        self.system.runtime.queue.broker.join("inbound", timeout=10_000)
        self.system.drain()
        extra = self.messages()[self.read:]
        assert extra == [], f"unexpected messages: {[m['text'] for m in extra]}"


def windows_from(now: datetime, tz: str = TZ) -> list[dict[str, str]]:
    """Tomorrow 12-17 and 17-21, the day after 8-12, local to ``tz``."""
    zone = ZoneInfo(tz)
    day = now.astimezone(zone).date() + timedelta(days=1)
    after = day + timedelta(days=1)

    def w(d, a, b):  # noqa: ANN001, ANN202
        return {"start": datetime(d.year, d.month, d.day, a, tzinfo=zone).isoformat(),
                "end": datetime(d.year, d.month, d.day, b, tzinfo=zone).isoformat()}
    return [w(day, 12, 17), w(day, 17, 21), w(after, 8, 12)]


def failed_event(phone: str = "+15551230001", language: str = "en", tz: str = TZ,
                 windows: list[dict[str, str]] | None = None, tracking: str | None = None,
                 type_: str = "delivery.failed", **details: Any) -> dict[str, Any]:
    """A ``delivery.failed`` event shaped like the contract in the README."""
    now = datetime.now(UTC)
    body_details: dict[str, Any] = {"reason": "recipient_absent", "driver_note": "no answer"}
    if windows is not False:
        body_details["available_windows"] = windows if windows is not None else windows_from(now,
                                                                                            tz)
    body_details.update(details)
    return {
        "type": type_,
        "occurred_at": now.isoformat(),
        "shipment": {
            "tracking_number": tracking or "1Z999AA1" + uuid.uuid4().hex[:10].upper(),
            "order_ref": "A-1001", "carrier": "acme",
            "recipient": {"name": "Ana Diaz", "phone": phone, "language": language,
                          "telegram_chat_id": None},
            "address": {"line1": "12 Oak St", "line2": "Apt 4", "city": "Boston",
                        "region": "MA", "postal_code": "02110", "country": "US"},
            "timezone": tz, "value": {"amount": 129.99, "currency": "USD"},
        },
        "details": body_details,
    }


def wait_for(what: str, found: Any, timeout: float = 10.0) -> Any:
    """Poll ``found()`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = found()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout}s")


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def signed_headers(secret: str, body: str) -> dict[str, str]:
    """Standard Webhooks headers for ``body``, as a shipper would send them."""
    now, msg_id = datetime.now(UTC), "msg_" + uuid.uuid4().hex
    return {"content-type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, now, body)}


def quiet_now(tz: str = TZ) -> str:
    """A QUIET_HOURS value that covers the present moment (from an hour ago to in two)."""
    local = datetime.now(ZoneInfo(tz))
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    return f"{start}-{(local + timedelta(hours=2)).strftime('%H:%M')}"


def start_system(env: dict[str, str], twilio: FakeTwilioAPI, shipper: FakeShipper,
                 telegram: FakeTelegramAPI | None = None, workers: bool = True) -> System:
    late = _LateApp()
    server = LocalServer(late).start()
    settings = load_settings({**env, "PUBLIC_URL": server.url}, read_dotenv=False)
    runtime = build(settings)
    late.app = create_app(runtime=runtime)
    return System(runtime, server, twilio, shipper, telegram, workers)


def wait_ready(url: str, log: Path, timeout: float = 60) -> None:
    """Wait for a server process to answer ``/readyz``; fail with its log if it does not."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url + "/readyz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


def stop_processes(*procs: subprocess.Popen) -> None:
    """SIGTERM them all, then wait (killing what is still running after 20 s)."""
    stop_gracefully(procs, 20)
