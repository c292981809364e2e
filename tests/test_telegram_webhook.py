"""The Telegram webhook: secret token, parsing, replays, buttons, rate limits, set-webhook."""

from __future__ import annotations

from click.testing import CliRunner

from bot.cli import cli
from bot.store import key_for
from fakes.telegram_updates import text_update
from support import TELEGRAM_SECRET, failed_event

CHAT = 5550001


def telegram_event(chat: int = CHAT, language: str = "en", **kw) -> dict:
    event = failed_event(phone=None, language=language, **kw)
    event["shipment"]["recipient"]["telegram_chat_id"] = chat
    return event


def test_missing_or_wrong_secret_token_is_refused_and_nothing_happens(system):
    system.post_event(telegram_event())
    chat = system.chat(CHAT)
    chat.reply()
    update = text_update(901, CHAT, "2")
    for secret in (None, "", "wrong", TELEGRAM_SECRET + "x", TELEGRAM_SECRET[:-1]):
        resp = system.telegram_post(update, secret=secret)
        assert resp.status_code == 403, secret
    chat.silence()
    conv = system.runtime.store.get_conversation("telegram", str(CHAT))
    assert conv.turns == 0
    assert not system.runtime.store.redis.exists(key_for("update", "telegram", "901"))


def test_bad_bodies_get_clear_errors(system):
    resp = system.http.post(system.url + "/webhooks/telegram", data="{}",
                            headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET,
                                     "Content-Type": "text/plain"}, timeout=5)
    assert resp.status_code == 415
    assert system.telegram_post({}, raw="{not json").status_code == 400
    resp = system.telegram_post({"hello": "world"})
    assert resp.status_code == 400 and "update" in resp.json()["error"]


def test_a_replayed_update_id_is_handled_once(system):
    system.post_event(telegram_event())
    chat = system.chat(CHAT)
    chat.reply()
    update = text_update(902, CHAT, "2")
    for _ in range(5):
        resp = system.telegram_post(update)
        assert resp.status_code == 200
    assert "is that right" in chat.reply()
    chat.silence()
    assert system.runtime.store.get_conversation("telegram", str(CHAT)).turns == 1


def test_group_chats_and_edits_are_ignored(system):
    update = text_update(903, -100123, "hi")
    update["message"]["chat"]["type"] = "group"
    assert system.telegram_post(update).json()["ignored"] is True
    edited = text_update(904, CHAT, "hi")
    edited["edited_message"] = edited.pop("message")
    assert system.telegram_post(edited).status_code == 200
    system.chat(CHAT).silence()


def test_buttons_book_a_window_and_every_press_is_answered(system):
    case_id = system.post_event(telegram_event()).json()["case_id"]
    chat = system.chat(CHAT)
    first = chat.reply_message()
    assert "STOP" not in first["text"]  # an SMS carrier rule, not Telegram's
    labels = chat.buttons(first)
    assert len(labels) == 3
    chat.press(labels[1])
    confirm = chat.reply_message()
    assert labels[1] in confirm["text"] and chat.buttons(confirm) == ["Yes", "No"]
    chat.press("Yes")
    assert chat.reply().startswith("Booked")
    callback = system.shipper.wait_for_callbacks(1)[0]["payload"]
    assert callback["type"] == "case.rescheduled" and callback["data"]["case_id"] == case_id
    assert len(system.telegram.calls_of("answerCallbackQuery")) == 2
    chat.silence()


def test_rate_limited_send_waits_retry_after_and_sends_once(system):
    system.telegram.fail_next("sendMessage", status=429, retry_after=1)
    system.post_event(telegram_event())
    chat = system.chat(CHAT)
    assert "couldn't deliver" in chat.reply(timeout=15)
    assert len(system.telegram.calls_of("sendMessage")) == 2  # the 429, then the send
    chat.silence()


def test_a_customer_who_blocked_the_bot_gets_nothing_more(system):
    system.telegram.fail_next("sendMessage", status=403)
    case_id = system.post_event(telegram_event()).json()["case_id"]
    system.drain()
    kinds = system.timeline_kinds(case_id)
    assert "message.failed" in kinds
    assert system.runtime.store.is_opted_out("telegram", str(CHAT))


def test_slash_stop_opts_out_and_start_opts_back_in(system):
    system.post_event(telegram_event())
    chat = system.chat(CHAT)
    chat.reply()
    chat.say("/stop")
    chat.silence()
    assert system.runtime.store.is_opted_out("telegram", str(CHAT))
    chat.say("2")
    chat.silence()
    chat.start("")
    assert "subscribed again" in chat.reply()


def test_set_webhook_registers_public_url_with_the_secret(make_system, monkeypatch):
    system = make_system(PUBLIC_URL="https://doorstep.example.com")
    env = {"TELEGRAM_BOT_TOKEN": system.settings.telegram_bot_token,
           "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
           "TELEGRAM_API_BASE_URL": system.telegram.url,
           "TELEGRAM_BOT_USERNAME": system.telegram.username,
           "PUBLIC_URL": "https://doorstep.example.com",
           "EVENTS_WEBHOOK_SECRET": system.settings.events_webhook_secret,
           "DOORSTEP_DATA_DIR": str(system.settings.data_dir)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(cli, ["telegram", "set-webhook"])
    assert result.exit_code == 0, result.output
    assert system.telegram.webhook["url"] == "https://doorstep.example.com/webhooks/telegram"
    assert system.telegram.webhook["secret_token"] == TELEGRAM_SECRET
    assert sorted(system.telegram.webhook["allowed_updates"]) == ["callback_query", "message"]


def test_set_webhook_without_telegram_settings_says_what_to_set(monkeypatch, tmp_path):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("DOORSTEP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("EVENTS_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    result = CliRunner().invoke(cli, ["telegram", "set-webhook"])
    assert result.exit_code != 0 and "TELEGRAM_BOT_TOKEN" in result.output
