"""Who is this? Linking a Telegram chat to a shipment, and revealing nothing before."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from support import failed_event

CHAT = 7770001
PHONE = "+15551230001"


def open_sms_case(system, **kw) -> tuple[str, dict, dict]:
    event = failed_event(phone=PHONE, **kw)
    body = system.post_event(event).json()
    return body["case_id"], body, event


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["start"][0]


def assert_reveals_nothing(text: str, event: dict) -> None:
    shipment = event["shipment"]
    for secret in (shipment["order_ref"], shipment["tracking_number"], "Acme", "acme",
                   shipment["recipient"]["name"].split()[0]):
        assert secret not in text, (secret, text)


def test_deep_link_moves_the_dialogue_to_telegram(system):
    case_id, body, _ = open_sms_case(system)
    sms = system.customer(PHONE)
    sms.offered()
    assert body["telegram_link"].startswith("https://t.me/doorstep_test_bot?start=")
    chat = system.chat(CHAT)
    chat.start(token_of(body["telegram_link"]))
    assert "we found your parcel A-1001" in chat.reply()
    prompt = chat.reply_message()
    assert len(chat.buttons(prompt)) == 3
    chat.press(chat.buttons(prompt)[0])
    chat.reply()
    chat.press("Yes")
    assert chat.reply().startswith("Booked")
    assert system.case(case_id).telegram_chat_id == CHAT
    assert "telegram.linked" in system.timeline_kinds(case_id)
    sms.silence()  # nothing more went by SMS once the customer moved


def test_a_tampered_or_unknown_deep_link_is_refused(system):
    _, body, event = open_sms_case(system)
    token = token_of(body["telegram_link"])
    chat = system.chat(CHAT)
    chat.start(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    refused = chat.reply()
    assert "couldn't match" in refused
    assert_reveals_nothing(refused, event)


def test_own_contact_links_the_chat(system):
    case_id, _, _ = open_sms_case(system)
    chat = system.chat(CHAT)
    chat.say("hi")
    ask = chat.reply_message()
    keyboard = ask["reply_markup"]["keyboard"]
    assert keyboard[0][0]["request_contact"] is True
    chat.share_contact("+1 555 123 0001")
    assert "we found your parcel" in chat.reply()
    assert system.case(case_id).telegram_chat_id == CHAT


def test_someone_elses_contact_is_refused(system):
    case_id, _, event = open_sms_case(system)
    chat = system.chat(CHAT)
    chat.share_contact(PHONE, own=False)
    refused = chat.reply()
    assert "your own phone number" in refused
    assert_reveals_nothing(refused, event)
    assert system.case(case_id).telegram_chat_id is None


def test_tracking_number_and_postal_code_link_the_chat(system):
    case_id, _, event = open_sms_case(system, language="es")
    tracking = event["shipment"]["tracking_number"]
    chat = system.chat(CHAT)
    chat.say(f"mi número es {tracking}", language_code="es")
    assert "código postal" in chat.reply()
    chat.say("02110", language_code="es")
    assert "encontramos su paquete" in chat.reply()
    assert system.case(case_id).telegram_chat_id == CHAT


def test_five_wrong_postal_codes_lock_the_chat_for_an_hour(system):
    case_id, _, event = open_sms_case(system)
    tracking = event["shipment"]["tracking_number"]
    chat = system.chat(CHAT)
    for attempt in range(5):
        chat.say(f"{tracking} 9999{attempt}")
        answer = chat.reply()
        assert_reveals_nothing(answer, event)
    assert "in an hour" in answer
    chat.say(f"{tracking} 02110")  # the right answer, too late
    assert "in an hour" in chat.reply()
    assert system.case(case_id).telegram_chat_id is None
    ttl = system.runtime.store.redis.ttl(f"ds:linkfail:{{{CHAT}}}")
    assert 3500 < ttl <= 3600


def test_an_unlinked_chat_learns_nothing_about_any_parcel(system):
    _, _, event = open_sms_case(system)
    chat = system.chat(CHAT)
    for text in ("where is my package?", "A-1001", "I want to reschedule to tomorrow"):
        chat.say(text)
        answer = chat.reply()
        assert_reveals_nothing(answer, event)
    chat.silence()


def test_first_sms_carries_a_deep_link_when_the_operator_allows_it(make_system):
    system = make_system(TELEGRAM_INVITE_IN_SMS="on")
    _, body, _ = open_sms_case(system)
    sms = system.customer(PHONE)
    texts = [sms.reply() for _ in range(3)]
    assert any(body["telegram_link"] in t for t in texts)


def test_shipper_can_turn_the_invite_off_per_event(make_system):
    system = make_system(TELEGRAM_INVITE_IN_SMS="on")
    open_sms_case(system, telegram_invite=False)
    sms = system.customer(PHONE)
    sms.offered()
    sms.silence()
