"""Telegram through python-telegram-bot: verify and parse updates, send, fetch photos.

The only module importing ``telegram``. python-telegram-bot is asynchronous; Doorstep's
web and worker code is not, so one :class:`TelegramClient` per process owns one
``telegram.Bot`` on one event loop in a background thread, and synchronous callers
submit coroutines to it (building a ``Bot`` per message would cost ~100 ms).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import threading
import time
import warnings
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

# Opt in to PTB's future: durations (``RetryAfter.retry_after``) as timedelta, no warnings.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import (  # noqa: E402 - after the opt-in above
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TelegramError
from telegram.request import HTTPXRequest

from bot.errors import PermanentSendError, RecipientOptedOut, SendDeferred, TransientSendError
from bot.media import MediaRejected
from bot.models import Contact, Inbound, MediaRef, Outbound
from bot.settings import Settings
from bot.store import Store
from channels.render import render_telegram
from channels.telegram_update import check_update

log = logging.getLogger("doorstep.telegram")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PATH = "/webhooks/telegram"
ALLOWED_UPDATES = ("message", "callback_query")
PER_CHAT_MS = 1000  # Telegram: about one message per second to one chat
OVERALL_MS = 34  # and about 30 per second in all
MAX_PACING_WAIT_S = 5.0
T = TypeVar("T")


def secret_matches(given: str | None, expected: str | None) -> bool:
    """Constant-time check of ``X-Telegram-Bot-Api-Secret-Token``."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def parse_update(data: dict[str, Any]) -> tuple[int, Inbound | None]:
    """``(update_id, inbound)``; inbound is None for updates we do not act on.

    Raises ValueError when the body is not a Telegram update.
    """
    check_update(data)  # the fields read below have the types they should
    try:
        update = Update.de_json(data, bot=None)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
        raise ValueError(f"not a Telegram update: {type(exc).__name__}") from None
    if update is None or not isinstance(update.update_id, int):
        raise ValueError("not a Telegram update: update_id missing")
    received = datetime.now(UTC)
    message_id = f"tg{update.update_id}"
    query = update.callback_query
    if query is not None:
        chat = query.message.chat if query.message else None
        if chat is not None and chat.type != "private" or query.from_user is None:
            return update.update_id, None
        return update.update_id, Inbound(
            channel="telegram", sender=str(chat.id if chat else query.from_user.id),
            text=(query.data or "")[:64], message_id=message_id, received_at=received,
            ack_id=query.id, locale=query.from_user.language_code)
    message = update.message
    if message is None or message.chat.type != "private" or message.from_user is None:
        return update.update_id, None  # edits, groups, channels: not a customer talking to us
    text = message.text or message.caption or ""
    media: list[MediaRef] = []
    unsupported: list[str] = []
    if message.photo:
        largest = message.photo[-1]
        media.append(MediaRef(largest.file_id, largest.file_size, "image/jpeg"))
    if message.document is not None:
        doc = message.document
        media.append(MediaRef(doc.file_id, doc.file_size, doc.mime_type))
    for kind in ("video", "voice", "audio", "sticker", "animation", "video_note", "location"):
        if getattr(message, kind, None):
            unsupported.append(kind)
    contact = None
    if message.contact is not None:
        contact = Contact(phone=message.contact.phone_number,
                          own=message.contact.user_id == message.from_user.id)
    start_token = None
    if text.startswith("/start"):
        command, _, payload = text.partition(" ")
        if command.split("@")[0] == "/start":
            start_token, text = payload.strip(), ""
    return update.update_id, Inbound(
        channel="telegram", sender=str(message.chat.id), text=text, message_id=message_id,
        received_at=received, media=tuple(media), contact=contact, start_token=start_token,
        unsupported=tuple(unsupported), locale=message.from_user.language_code)


class TelegramClient:
    """One ``telegram.Bot`` on one event loop thread, shared by this process."""

    def __init__(self, settings: Settings) -> None:
        self.token = settings.telegram_bot_token or ""
        self.base = settings.telegram_api_base_url
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bot: Bot | None = None
        self._ready: asyncio.Future[None] | None = None

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            # A fork (gunicorn) copies this object but not its thread: start afresh.
            if self._loop is None or self._pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="telegram-loop",
                                 daemon=True).start()
                request = HTTPXRequest(connection_pool_size=16, read_timeout=15,
                                       connect_timeout=5)
                self._bot = Bot(self.token, base_url=self.base + "/bot",
                                base_file_url=self.base + "/file/bot", request=request)
                self._loop, self._pid, self._ready = loop, os.getpid(), None
            return self._loop

    async def _initialized(self) -> Bot:
        bot = self._bot
        assert bot is not None
        if self._ready is None:
            self._ready = asyncio.ensure_future(bot.initialize())
        try:
            await asyncio.shield(self._ready)
        except Exception:
            self._ready = None  # try again next time (network trouble at start)
            raise
        return bot

    def run(self, call: Callable[[Bot], Awaitable[T]], timeout: float = 30.0) -> T:
        """Run ``call(bot)`` on the client's loop and wait for its result."""
        loop = self._start()

        async def job() -> T:
            return await call(await self._initialized())

        future = asyncio.run_coroutine_threadsafe(job(), loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    @property
    def bot(self) -> Bot:
        self._start()
        assert self._bot is not None
        return self._bot


def _send_error(exc: Exception) -> Exception:
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():  # PTB 22 warns that this becomes a timedelta: both work
            warnings.simplefilter("ignore")
            wait = exc.retry_after
        seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
        return TransientSendError("Telegram rate limit", "429", retry_after_s=seconds)
    if isinstance(exc, Forbidden):
        return RecipientOptedOut("the customer blocked the bot", "403")
    if isinstance(exc, InvalidToken):
        return PermanentSendError("TELEGRAM_BOT_TOKEN was refused", "401")
    if isinstance(exc, BadRequest):
        return PermanentSendError(f"Telegram refused: {exc.message}", "400")
    return TransientSendError(f"Telegram unreachable: {type(exc).__name__}", "network")


class TelegramSender:
    """Send queued messages to Telegram chats, paced to Telegram's limits."""

    def __init__(self, client: TelegramClient, store: Store,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.store = store
        self.sleep = sleep

    def send(self, outbound: Outbound) -> str:
        wait = self.store.pace("telegram", outbound.to, PER_CHAT_MS, OVERALL_MS,
                               MAX_PACING_WAIT_S)
        if wait > MAX_PACING_WAIT_S:
            raise SendDeferred(wait)  # no slot reserved: the queue brings it back then
        if wait > 0:
            self.sleep(wait)
        text, rows, contact_label = render_telegram(outbound)
        markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None
        if contact_label:
            markup = ReplyKeyboardMarkup(
                [[KeyboardButton(contact_label, request_contact=True)]],
                one_time_keyboard=True, resize_keyboard=True)
        elif rows:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(label, callback_data=data) for label, data in row]
                 for row in rows])
        try:
            message = self.client.run(lambda bot: bot.send_message(
                chat_id=int(outbound.to), text=text, reply_markup=markup))
        except (TelegramError, TimeoutError, OSError) as exc:
            raise _send_error(exc) from None
        return f"tg:{outbound.to}:{message.message_id}"

    def acknowledge(self, ack_id: str) -> None:
        """Answer a button press so the customer's app stops its spinner."""
        try:
            self.client.run(lambda bot: bot.answer_callback_query(ack_id), timeout=10)
        except (TelegramError, TimeoutError, OSError) as exc:
            # An unanswered press only leaves a spinner: never lose the turn over it.
            log.warning("answerCallbackQuery failed: %s", type(exc).__name__)


class TelegramMediaFetcher:
    """Download a photo the customer sent: ``getFile``, then the file itself."""

    def __init__(self, client: TelegramClient, timeout_s: float) -> None:
        self.client = client
        self.timeout_s = timeout_s

    def fetch(self, ref: MediaRef, max_bytes: int) -> bytes:
        async def download(bot: Bot) -> bytes:
            file = await bot.get_file(ref.ref)
            if file.file_size is not None and file.file_size > max_bytes:
                raise MediaRejected("too_large", f"{file.file_size} bytes")
            return bytes(await file.download_as_bytearray())

        try:
            return self.client.run(download, timeout=self.timeout_s)
        except MediaRejected:
            raise
        except BadRequest as exc:
            reason = "too_large" if "too big" in exc.message.lower() else "unavailable"
            raise MediaRejected(reason, exc.message) from None
        except (TelegramError, TimeoutError, OSError) as exc:
            raise MediaRejected("unavailable", type(exc).__name__) from None


def set_webhook(client: TelegramClient, url: str, secret: str) -> bool:
    """Register ``url`` with Telegram, with our secret token and the updates we handle."""
    return client.run(lambda bot: bot.set_webhook(
        url=url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)))


def bot_username(client: TelegramClient) -> str:
    return client.run(lambda bot: bot.get_me()).username or ""
