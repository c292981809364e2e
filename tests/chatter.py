"""One transcript for either channel, so a conversation test runs over SMS and Telegram alike.

``Chatter(system, "sms" | "telegram", "en" | "es")`` opens a case with ``open(event)``
(addressed to its phone or chat), then ``say``s, ``choose``s the nth offered choice
(SMS: types the digit; Telegram: presses the nth choice button), answers ``yes``/``no``
(SMS: types the word; Telegram: presses the quick-reply button) and reads ``reply()``.
Every SMS body read is checked to fit two segments; every Telegram button press is
checked to have been answered with ``answerCallbackQuery`` by :meth:`Chatter.silence`.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from channels.render import segments
from fakes.media_server import FakeMediaServer
from fakes.telegram_updates import callback_update, document_update, photo_update
from support import System

CHANNELS = ("sms", "telegram")
LANGS = ("en", "es")
PHONE = "+15551230001"
CHAT_ID = 5550101
YES = {"sms": {"en": "yes", "es": "si"}, "telegram": {"en": "Yes", "es": "Sí"}}
_CHOICE_LINE = re.compile(r"^(\d+)\) (.+)$", re.M)
# Every channel x language pair, with readable ids ("sms-en").
EVERY_WAY = pytest.mark.parametrize(
    ("channel", "lang"), [(c, lang) for c in CHANNELS for lang in LANGS],
    ids=[f"{c}-{lang}" for c in CHANNELS for lang in LANGS])


class Chatter:
    """A customer on one channel, in one language."""

    def __init__(self, system: System, channel: str, lang: str, phone: str = PHONE,
                 chat_id: int = CHAT_ID, media_server: FakeMediaServer | None = None) -> None:
        assert channel in CHANNELS and lang in LANGS
        self.system, self.channel, self.lang = system, channel, lang
        self.phone, self.chat_id = phone, chat_id
        self.media_server = media_server
        self.sms = system.customer(phone) if channel == "sms" else None
        self.chat = system.chat(chat_id) if channel == "telegram" else None
        self.last: dict[str, Any] = {}  # the last message read (Telegram's, or {"text": body})
        self.pressed: list[str] = []  # callback query ids of our button presses

    # -- the shipper's side -------------------------------------------------
    def address(self, event: dict[str, Any]) -> dict[str, Any]:
        """``event`` addressed to this customer (phone or Telegram chat, language)."""
        recipient = event["shipment"]["recipient"]
        recipient["language"] = self.lang
        if self.channel == "sms":
            recipient["phone"], recipient["telegram_chat_id"] = self.phone, None
        else:
            recipient["phone"], recipient["telegram_chat_id"] = None, self.chat_id
        return event

    def open(self, event: dict[str, Any]) -> str:
        """Post ``event`` (addressed to this customer); the new case's id."""
        resp = self.system.post_event(self.address(event))
        assert resp.status_code == 202, resp.text
        return resp.json()["case_id"]

    def first(self) -> str:
        """The first proactive message; on SMS also the separate "Reply STOP" message."""
        text = self.reply()
        assert "STOP" not in text
        if self.sms is not None:
            stop = self.sms.reply()  # not kept as the last message: it has no choices
            assert "STOP" in stop and segments(stop) == 1
        return text

    # -- the customer's side ------------------------------------------------
    def say(self, text: str) -> None:
        if self.sms is not None:
            self.sms.say(text)
        else:
            self.chat.say(text, language_code=self.lang)

    def reply(self, timeout: float = 10.0) -> str:
        """The next message to this customer (SMS: the whole body, numbered lines included)."""
        if self.sms is not None:
            body = self.sms.reply(timeout)
            assert segments(body) <= 2, f"more than two SMS segments: {body!r}"
            self.last = {"text": body}
            return body
        self.last = self.chat.reply_message(timeout)
        return self.last["text"]

    def choices(self) -> list[str]:
        """The numbered choices of the last message read, in order."""
        if self.sms is not None:
            return [label for _, label in _CHOICE_LINE.findall(self.last.get("text", ""))]
        markup = self.last.get("reply_markup") or {}
        buttons = [b for row in markup.get("inline_keyboard", []) for b in row]
        return [b["text"] for b in buttons if b["callback_data"].isdigit()]

    def buttons(self) -> list[str]:
        """Telegram: every button label of the last message read (SMS: none)."""
        return self.chat.buttons(self.last) if self.chat is not None else []

    def choose(self, n: int) -> None:
        """Pick the ``n``th choice of the last message read that offered choices."""
        if self.sms is not None:
            assert len(self.choices()) >= n, self.choices()
            self.sms.say(str(n))
            return
        self._press(lambda button: button["callback_data"] == str(n), f"choice {n}")

    def tap(self, label: str, typed: str) -> None:
        """Telegram: press the quick-reply button ``label`` (of the latest message read that
        has it: an earlier message's buttons stay on screen); SMS: type ``typed``."""
        if self.sms is not None:
            self.sms.say(typed)
            return
        self._press(lambda button: button["text"] == label, repr(label))

    def yes(self) -> None:
        self.tap(YES["telegram"][self.lang], YES["sms"][self.lang])

    def no(self) -> None:
        self.tap("No", "no")

    def photo(self, content: bytes, content_type: str = "image/png", caption: str = "",
              delay_s: float = 0) -> None:
        """Send a photo: a Telegram photo, or an MMS whose media the fake Twilio serves."""
        if self.chat is not None:
            self.telegram_photo(content, caption or None)
            return
        assert self.media_server is not None, "an SMS chatter needs the media_server fixture"
        url = self.media_server.add(content, content_type, delay_s=delay_s)
        resp = self.system.mms(self.phone, caption, [url], [content_type])
        assert resp.status_code == 200, resp.text

    def telegram_photo(self, content: bytes, caption: str | None = None,
                       file_size: int | None = None) -> None:
        """A Telegram photo from this customer's app (in its language)."""
        file_id = self.system.telegram.add_file(content, file_size=file_size)
        update = photo_update(self.chat.update_id(), self.chat_id, file_id, caption)
        update["message"]["from"]["language_code"] = self.lang
        self.chat.post(update)

    def telegram_document(self, content: bytes, name: str, mime: str) -> None:
        """A Telegram document (a file not sent as a photo) from this customer's app."""
        file_id = self.system.telegram.add_file(content)
        update = document_update(self.chat.update_id(), self.chat_id, file_id, name, mime,
                                 len(content))
        update["message"]["from"]["language_code"] = self.lang
        self.chat.post(update)

    def _press(self, wanted: Callable[[dict[str, Any]], bool], what: str) -> None:
        """Press the first button ``wanted`` finds, latest message read first."""
        for message in reversed(self.chat.messages()[:self.chat.read]):
            markup = message.get("reply_markup") or {}
            found = [b for row in markup.get("inline_keyboard", []) for b in row if wanted(b)]
            if found:
                update_id = self.chat.update_id()
                update = callback_update(update_id, self.chat_id, found[0]["callback_data"],
                                         bot_user=self.system.telegram.bot_user)
                update["callback_query"]["from"]["language_code"] = self.lang  # the app's
                self.pressed.append(update["callback_query"]["id"])
                self.chat.post(update)
                return
        raise AssertionError(f"no button {what} in the messages read so far")

    def eta(self) -> str:
        """Read the message every escalation ends with: roughly when a person replies."""
        text = self.reply()
        assert "within about" in text or "en unos" in text, text
        return text

    # -- the end of a conversation -------------------------------------------
    def silence(self) -> None:
        """Nothing more was sent; every SMS fit two segments; every press was answered."""
        self.system.runtime.queue.broker.join("inbound", timeout=15_000)
        self.system.drain()
        if self.sms is not None:
            self.sms.silence()
            for message in self.sms.messages():
                assert segments(message["body"]) <= 2, message["body"]
        else:
            self.chat.silence()
            answered = {c["callback_query_id"]
                        for c in self.system.telegram.calls_of("answerCallbackQuery")}
            assert set(self.pressed) <= answered, "a button press was never answered"

    def sent_texts(self) -> list[str]:
        """Every text this customer was sent so far."""
        if self.sms is not None:
            return [m["body"] for m in self.sms.messages()]
        return [m["text"] for m in self.chat.messages()]


def plain(text: str) -> str:
    """``text`` without accents, as a long Spanish SMS is folded to GSM-7 ("dirección")."""
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def says(text: str, *phrases: str) -> bool:
    """True when ``text`` contains every phrase, accents aside."""
    return all(plain(p) in plain(text) for p in phrases)


def callbacks(system: System, *types: str, timeout: float = 10.0) -> dict[str, dict[str, Any]]:
    """Wait for a signed callback of each of ``types``; their ``data`` by type.

    Checks the Standard Webhooks envelope (the fake shipper verified each signature) and
    the fields every callback carries.
    """
    deadline = time.monotonic() + timeout
    while True:
        got = {c["payload"]["type"]: c["payload"] for c in system.shipper.callbacks}
        if all(t in got for t in types) or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    missing = [t for t in types if t not in got]
    assert not missing, f"no {missing} callback; got {sorted(got)}"
    assert system.shipper.rejected == []
    for payload in got.values():
        assert set(payload) == {"type", "timestamp", "data"}, payload
        assert {"case_id", "tracking_number", "order_ref"} <= set(payload["data"])
    return {t: got[t]["data"] for t in types}


def callback_types(system: System) -> list[str]:
    """The types of the callbacks the shipper received so far, in order."""
    return [c["payload"]["type"] for c in system.shipper.callbacks]
