"""Tests of the Telegram fake, driven through python-telegram-bot and requests."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import pytest
import requests
import telegram
from flask import Flask, request
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter, TimedOut

from .http import LocalServer
from .telegram_api import FakeTelegramAPI, check_object
from .telegram_updates import (
    callback_update,
    contact_update,
    document_update,
    photo_update,
    start_update,
    text_update,
)

T = TypeVar("T")
CHAT = 777000111
# The smallest valid PNG (1x1, transparent): enough for filetype to call it image/png.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA"
                       "60e6kgAAAABJRU5ErkJggg==")


@pytest.fixture
def tg() -> Iterator[FakeTelegramAPI]:
    with FakeTelegramAPI() as fake:
        yield fake


def run(tg: FakeTelegramAPI, step: Callable[[telegram.Bot], Awaitable[T]]) -> T:
    """Run ``step`` with a real, initialized Bot pointed at the fake, the way Doorstep builds it."""
    async def main() -> T:
        bot = telegram.Bot(tg.token, base_url=tg.url + "/bot", base_file_url=tg.url + "/file/bot")
        async with bot:
            return await step(bot)
    return asyncio.run(main())


def test_token_is_realistic_and_initialize_calls_get_me(tg: FakeTelegramAPI) -> None:
    bot_id, secret = tg.token.split(":")
    assert bot_id.isdigit() and len(secret) == 35 and secret.startswith("AA")

    async def me(bot: telegram.Bot) -> tuple[int, str]:
        return bot.id, bot.username

    assert run(tg, me) == (int(bot_id), "doorstep_test_bot")
    assert tg.calls == [("getMe", {})] and tg.invalid_requests == []


def test_send_message_with_inline_keyboard_is_recorded(tg: FakeTelegramAPI) -> None:
    markup = telegram.InlineKeyboardMarkup([
        [telegram.InlineKeyboardButton("Tue 14:00-16:00", callback_data="slot:tue-14")],
        [telegram.InlineKeyboardButton("Track", url="https://example.com/t/PX1")]])

    async def send(bot: telegram.Bot) -> list[telegram.Message]:
        return [await bot.send_message(CHAT, "Pick a window", reply_markup=markup),
                await bot.send_message(CHAT + 1, "Someone else")]

    first, second = run(tg, send)
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.chat.id == CHAT and first.chat.type == "private" and first.text == "Pick a window"
    assert first.reply_markup == markup and first.from_user.is_bot
    [sent] = tg.sent(CHAT)
    assert sent["chat_id"] == CHAT and sent["text"] == "Pick a window"
    assert sent["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Tue 14:00-16:00", "callback_data": "slot:tue-14"}
    assert len(tg.sent()) == 2 and len(tg.calls_of("sendMessage")) == 2
    assert tg.invalid_requests == []


def test_reply_keyboard_asking_for_contact_is_valid(tg: FakeTelegramAPI) -> None:
    markup = telegram.ReplyKeyboardMarkup(
        [[telegram.KeyboardButton("Share my number", request_contact=True)], ["No thanks"]],
        one_time_keyboard=True, resize_keyboard=True)

    async def send(bot: telegram.Bot) -> telegram.Message:
        return await bot.send_message(CHAT, "Can we have your number?", reply_markup=markup)

    msg = run(tg, send)
    assert msg.reply_markup is None  # Telegram echoes only inline keyboards in a Message
    keyboard = tg.sent(CHAT)[0]["reply_markup"]
    assert keyboard["keyboard"] == [[{"text": "Share my number", "request_contact": True}],
                                    [{"text": "No thanks"}]]
    assert keyboard["one_time_keyboard"] is True and tg.invalid_requests == []


def test_callback_answer_edit_and_webhook(tg: FakeTelegramAPI) -> None:
    async def steps(bot: telegram.Bot) -> tuple[Any, ...]:
        sent = await bot.send_message(CHAT, "Pick", reply_markup=telegram.InlineKeyboardMarkup(
            [[telegram.InlineKeyboardButton("A", callback_data="a")]]))
        answered = await bot.answer_callback_query("4000000000001", text="Saved")
        edited = await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=None)
        hooked = await bot.set_webhook("https://doorstep.example.com/telegram/webhook",
                                       secret_token="s3cr3t-_token", drop_pending_updates=True,
                                       allowed_updates=["message", "callback_query"])
        return answered, edited, hooked, await bot.get_webhook_info()

    answered, edited, hooked, info = run(tg, steps)
    assert answered is True and hooked is True
    assert isinstance(edited, telegram.Message) and edited.text == "Pick"
    assert edited.reply_markup is None and edited.edit_date is not None
    assert tg.webhook == {"url": "https://doorstep.example.com/telegram/webhook",
                          "secret_token": "s3cr3t-_token", "drop_pending_updates": True,
                          "allowed_updates": ["message", "callback_query"]}
    assert info.url == tg.webhook["url"] and info.allowed_updates == ("message", "callback_query")
    assert tg.calls_of("answerCallbackQuery") == [
        {"callback_query_id": "4000000000001", "text": "Saved"}]
    assert tg.invalid_requests == []


def test_get_file_and_download(tg: FakeTelegramAPI) -> None:
    file_id = tg.add_file(PNG)

    async def fetch(bot: telegram.Bot) -> tuple[telegram.File, bytearray]:
        file = await bot.get_file(file_id)
        return file, await file.download_as_bytearray()

    file, data = run(tg, fetch)
    assert bytes(data) == PNG and file.file_size == len(PNG) and file.file_id == file_id
    assert file.file_path == f"{tg.url}/file/bot{tg.token}/photos/file_0.png"


def test_declared_size_over_20_mb_is_too_big_for_get_file(tg: FakeTelegramAPI) -> None:
    big, medium = tg.add_file(b"%PDF-1.4", file_size=21 * 2**20), tg.add_file(
        b"%PDF-1.4", file_size=15 * 2**20)

    async def get(bot: telegram.Bot) -> telegram.File:
        assert (await bot.get_file(medium)).file_size == 15 * 2**20
        return await bot.get_file(big)

    with pytest.raises(BadRequest, match="File is too big"):
        run(tg, get)


def test_stalled_download_times_out(tg: FakeTelegramAPI) -> None:
    file_id = tg.add_file(PNG, delay_s=10)

    async def fetch(bot: telegram.Bot) -> bytearray:
        file = await bot.get_file(file_id)
        return await file.download_as_bytearray(read_timeout=0.3)

    with pytest.raises(TimedOut):
        run(tg, fetch)


def test_wait_for_sent_wakes_on_arrival(tg: FakeTelegramAPI) -> None:
    async def later(bot: telegram.Bot) -> None:
        await asyncio.sleep(0.2)
        await bot.send_message(CHAT, "late")

    async def main() -> None:
        async with tg.bot() as bot:
            await later(bot)

    thread = threading.Thread(target=asyncio.run, args=(main(),))
    thread.start()
    try:
        assert tg.wait_for_sent(1, chat_id=CHAT, timeout=5)[0]["text"] == "late"
    finally:
        thread.join(10)
    with pytest.raises(AssertionError, match="expected >= 2 sent messages"):
        tg.wait_for_sent(2, timeout=0.1)


def test_429_surfaces_as_retry_after_then_succeeds(
    tg: FakeTelegramAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # PTB 22 warns when retry_after is read as int
    tg.fail_next("sendMessage", 429, retry_after=7)

    async def send_twice(bot: telegram.Bot) -> telegram.Message:
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(CHAT, "hi")
        assert info.value.retry_after == timedelta(seconds=7)
        return await bot.send_message(CHAT, "hi")

    assert run(tg, send_twice).message_id == 1
    assert len(tg.calls_of("sendMessage")) == 2 and len(tg.sent()) == 1


def test_429_body_has_telegram_shape(tg: FakeTelegramAPI, http: requests.Session) -> None:
    tg.fail_next("sendMessage", 429, retry_after=3)
    resp = http.post(f"{tg.url}/bot{tg.token}/sendMessage", data={"chat_id": CHAT, "text": "x"},
                     timeout=5)
    assert resp.status_code == 429 and resp.json() == {
        "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3}}


def test_403_surfaces_as_forbidden(tg: FakeTelegramAPI) -> None:
    tg.fail_next("sendMessage", 403)

    async def send(bot: telegram.Bot) -> telegram.Message:
        return await bot.send_message(CHAT, "hi")

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        run(tg, send)
    assert tg.sent() == [] and tg.invalid_requests == []


def test_raw_post_missing_chat_id_is_invalid(tg: FakeTelegramAPI, http: requests.Session) -> None:
    resp = http.post(f"{tg.url}/bot{tg.token}/sendMessage", data={"text": "hi"}, timeout=5)
    assert resp.status_code == 400
    body = resp.json()
    assert body["ok"] is False and body["error_code"] == 400
    assert body["description"].startswith("Bad Request: ") and "chat_id" in body["description"]
    [problem] = tg.invalid_requests
    assert problem == "sendMessage: chat_id: required field is missing"
    assert tg.calls == []


@pytest.mark.parametrize(("form", "expected"), [
    ({"chat_id": CHAT, "text": "hi", "colour": "red"}, "colour: unknown field"),
    ({"chat_id": CHAT, "text": "hi", "disable_notification": "maybe"}, "expected Boolean"),
    ({"chat_id": CHAT, "text": "hi", "message_thread_id": "x"}, "expected Integer"),
    ({"chat_id": CHAT, "text": ""}, "message text is empty"),
    ({"chat_id": CHAT, "text": "x" * 4097}, "message is too long"),
    ({"chat_id": CHAT, "text": "hi", "reply_markup": "{not json"}, "expected InlineKeyboardMarkup"),
    ({"chat_id": CHAT, "text": "hi", "reply_markup": json.dumps(
        {"inline_keyboard": [[{"text": "A", "callback_data": "é" * 33}]]})}, "BUTTON_DATA_INVALID"),
    ({"chat_id": CHAT, "text": "hi", "reply_markup": json.dumps(
        {"inline_keyboard": [[{"text": "A"}]]})}, "can't parse inline keyboard button"),
    ({"chat_id": CHAT, "text": "hi", "reply_markup": json.dumps(
        {"keyboard": [[{"text": "A", "request_contact": "yes"}]]})},
     "reply_markup.keyboard[0][0].request_contact: expected Boolean"),
    ({"chat_id": CHAT, "text": "hi", "reply_markup": json.dumps(
        {"inline_keyboard": [[{"text": "A", "callbackdata": "a"}]]})},
     "inline_keyboard[0][0].callbackdata: unknown field"),
])
def test_contract_violations_are_refused(
    tg: FakeTelegramAPI, http: requests.Session, form: dict[str, Any], expected: str
) -> None:
    resp = http.post(f"{tg.url}/bot{tg.token}/sendMessage", data=form, timeout=5)
    assert resp.status_code == 400, resp.text
    [problem] = tg.invalid_requests
    assert expected in problem and expected in resp.json()["description"]


def test_json_bodies_are_checked_strictly(tg: FakeTelegramAPI, http: requests.Session) -> None:
    url = f"{tg.url}/bot{tg.token}/sendMessage"
    assert http.post(url, json={"chat_id": CHAT, "text": "ok"}, timeout=5).json()["ok"] is True
    resp = http.post(url, json={"chat_id": CHAT, "text": 5}, timeout=5)
    assert resp.status_code == 400 and "text: expected String" in tg.invalid_requests[0]


def test_bad_callback_data_from_the_real_bot_raises_bad_request(tg: FakeTelegramAPI) -> None:
    button = telegram.InlineKeyboardButton("A", callback_data="x" * 65)
    markup = telegram.InlineKeyboardMarkup([[button]])

    async def send(bot: telegram.Bot) -> telegram.Message:
        return await bot.send_message(CHAT, "Pick", reply_markup=markup)

    with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
        run(tg, send)
    assert len(tg.invalid_requests) == 1 and tg.sent() == []


def test_webhook_rules(tg: FakeTelegramAPI, http: requests.Session) -> None:
    url = f"{tg.url}/bot{tg.token}/setWebhook"
    for form in ({"url": "http://doorstep.example.com/hook"},
                 {"url": "https://doorstep.example.com:8080/hook"},
                 {"url": "https://doorstep.example.com/hook", "secret_token": "no spaces"}):
        assert http.post(url, data=form, timeout=5).status_code == 400
    assert len(tg.invalid_requests) == 3 and tg.webhook == {}


def test_wrong_token_and_unknown_method(tg: FakeTelegramAPI, http: requests.Session) -> None:
    resp = http.post(f"{tg.url}/bot123:wrong/getMe", timeout=5)
    assert resp.status_code == 401 and resp.json() == {
        "ok": False, "error_code": 401, "description": "Unauthorized"}
    resp = http.post(f"{tg.url}/bot{tg.token}/sendTelepathy", timeout=5)
    assert resp.status_code == 404 and resp.json()["description"] == "Not Found"
    bot = telegram.Bot("123:wrong", base_url=tg.url + "/bot")
    with pytest.raises(InvalidToken):
        asyncio.run(bot.initialize())


def test_unimplemented_method_is_flagged(tg: FakeTelegramAPI, http: requests.Session) -> None:
    assert http.post(f"{tg.url}/bot{tg.token}/sendChatAction",
                     data={"chat_id": CHAT, "action": "typing"}, timeout=5).json()["result"] is True
    resp = http.post(f"{tg.url}/bot{tg.token}/getChat", data={"chat_id": CHAT}, timeout=5)
    assert resp.status_code == 400 and "does not implement getChat" in tg.invalid_requests[0]


def test_clear_forgets_everything(tg: FakeTelegramAPI, http: requests.Session) -> None:
    file_id = tg.add_file(b"data")
    tg.fail_next("sendMessage", 403)
    http.post(f"{tg.url}/bot{tg.token}/sendMessage", data={"text": "no chat"}, timeout=5)
    tg.clear()
    assert (tg.calls, tg.invalid_requests, tg.sent(), tg.webhook) == ([], [], [], {})
    resp = http.post(f"{tg.url}/bot{tg.token}/sendMessage", data={"chat_id": 1, "text": "x"},
                     timeout=5)
    assert resp.status_code == 200
    resp = http.post(f"{tg.url}/bot{tg.token}/getFile", data={"file_id": file_id}, timeout=5)
    assert resp.status_code == 400 and "invalid file_id" in resp.json()["description"]


def test_responses_match_the_published_types(tg: FakeTelegramAPI, http: requests.Session) -> None:
    base = f"{tg.url}/bot{tg.token}/"
    file_id = tg.add_file(PNG)
    markup = json.dumps({"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]})
    for method, form, type_name in [
        ("getMe", {}, "User"),
        ("sendMessage", {"chat_id": CHAT, "text": "hi", "reply_markup": markup}, "Message"),
        ("editMessageReplyMarkup", {"chat_id": CHAT, "message_id": 1}, "Message"),
        ("getFile", {"file_id": file_id}, "File"),
        ("getWebhookInfo", {}, "WebhookInfo"),
    ]:
        result = http.post(base + method, data=form, timeout=5).json()["result"]
        assert check_object(result, type_name) == [], method


UPDATES: list[tuple[dict[str, Any], Callable[[telegram.Update], Any], Any]] = [
    (text_update(1, CHAT, "tomorrow after 5"), lambda u: (u.message.text, u.effective_user.id,
                                                          u.effective_user.language_code),
     ("tomorrow after 5", CHAT, "en")),
    (text_update(2, CHAT, "hola", user_id=5, first_name="Eva", language_code="es"),
     lambda u: (u.effective_user.id, u.effective_user.first_name), (5, "Eva")),
    (start_update(3, CHAT, "case_PX1"), lambda u: (u.message.text, u.message.entities[0].type,
                                                   u.message.entities[0].length),
     ("/start case_PX1", "bot_command", 6)),
    (photo_update(4, CHAT, "BIG", caption="Box is torn"), lambda u: (
        [p.file_id == "BIG" for p in u.message.photo], u.message.caption,
        u.message.photo[0].width < u.message.photo[-1].width), ([False, False, True],
                                                                 "Box is torn", True)),
    (document_update(5, CHAT, "DOC", "label.pdf", "application/pdf"),
     lambda u: (u.message.document.file_id, u.message.document.mime_type),
     ("DOC", "application/pdf")),
    (contact_update(6, CHAT, "+15551230001", CHAT),
     lambda u: (u.message.contact.user_id, u.message.contact.phone_number),
     (CHAT, "+15551230001")),
    (callback_update(7, CHAT, "slot:tue-14", message_id=9), lambda u: (
        u.callback_query.data, u.callback_query.message.message_id, u.callback_query.from_user.id,
        u.callback_query.message.from_user.is_bot), ("slot:tue-14", 9, CHAT, True)),
]


@pytest.mark.parametrize(("data", "read", "expected"), UPDATES)
def test_update_builders_parse_and_match_the_published_types(
    data: dict[str, Any], read: Callable[[telegram.Update], Any], expected: Any
) -> None:
    assert check_object(data, "Update") == []
    update = telegram.Update.de_json(json.loads(json.dumps(data)), bot=None)
    assert update.effective_chat.id == CHAT and update.effective_chat.type == "private"
    assert update.effective_user.is_bot is False and update.update_id == data["update_id"]
    assert read(update) == expected


def test_photo_sizes_have_distinct_ids() -> None:
    photo = photo_update(1, CHAT, "BIG", sizes=4)["message"]["photo"]
    assert len(photo) == 4 and len({p["file_id"] for p in photo}) == 4
    assert len({p["file_unique_id"] for p in photo}) == 4


def test_deliver_posts_with_the_webhook_secret(tg: FakeTelegramAPI, http: requests.Session) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    app = Flask("telegram-webhook")

    @app.post("/telegram/webhook")
    def hook() -> tuple[str, int]:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), request.json))
        return "", 200

    http.post(f"{tg.url}/bot{tg.token}/setWebhook",
              data={"url": "https://doorstep.example.com/hook", "secret_token": "abc"}, timeout=5)
    with LocalServer(app) as receiver:
        update = text_update(1, CHAT, "hi")
        assert tg.deliver(receiver.url + "/telegram/webhook", update).status_code == 200
    assert received == [("abc", update)]
    with pytest.raises(ValueError, match="non-loopback"):
        tg.deliver("https://doorstep.example.com/hook", update)
