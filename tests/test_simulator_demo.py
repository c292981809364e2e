"""The customer simulator (/console/simulator) and ``doorstep serve --demo``, over real HTTP
and in a real headless Chromium (screenshot: ``test-artifacts/simulator-phone.png``)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import requests
from browser import PHONE as PHONE_VIEWPORT
from click.testing import CliRunner
from console_support import PASSWORD, add_staff, login, login_form
from playwright.sync_api import expect

from bot.cli import cli
from bot.demo import DEMO_CASES, DEMO_EMAIL, DEMO_PASSWORD, prepare_demo
from support import free_port

pytestmark = pytest.mark.timeout(120)
expect.set_options(timeout=10_000)
SANDBOX = {"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "", "TWILIO_FROM_NUMBER": ""}
PHONE = "+15550100777"
AGENT = "sam@example.com"


@pytest.fixture
def sandbox(make_system):
    return make_system(**SANDBOX)


@pytest.fixture
def agent(sandbox):
    add_staff(sandbox, AGENT)
    client = login(sandbox, AGENT)
    yield client
    client.close()


def _messages(client, phone: str = PHONE) -> dict:
    resp = client.get("/console/simulator/messages", params={"phone": phone})
    assert resp.status_code == 200, resp.text
    return resp.json()


def _wait_for(client, predicate, timeout: float = 15.0, phone: str = PHONE) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        data = _messages(client, phone)
        if predicate(data):
            return data
        assert time.monotonic() < deadline, data
        time.sleep(0.1)


def _from_doorstep(data: dict) -> list[str]:
    return [m["text"] for m in data["messages"] if m["from"] == "business"]


def test_a_sample_event_opens_a_case_and_the_bots_first_text_shows_in_the_chat(sandbox, agent):
    page = agent.get("/console/simulator", params={"phone": PHONE})
    assert page.status_code == 200
    assert PHONE in page.text and "sim-event-form" in page.text
    resp = agent.post("/console/simulator/events",
                      json={"phone": "+1 555 010 0777", "type": "delivery.failed",
                            "name": "Ana Diaz", "language": "en"})
    assert resp.status_code == 201, resp.text
    case_id = resp.json()["case_id"]
    assert resp.json()["case_url"] == f"/console/c/{case_id}"
    case = sandbox.case(case_id)
    assert case.phone == PHONE and case.type == "delivery.failed"

    data = _wait_for(agent, lambda d: len(_from_doorstep(d)) >= 2)
    assert "couldn't deliver" in _from_doorstep(data)[0]
    assert data["case"]["id"] == case_id and data["case"]["desk_status"] == "bot"
    assert data["case"]["url"] == f"/console/c/{case_id}"
    assert data["sandbox"] is True
    assert sandbox.twilio.messages == []


def test_asking_for_a_person_escalates_and_the_chat_keeps_both_sides(sandbox, agent):
    case_id = agent.post("/console/simulator/events",
                         json={"phone": PHONE, "type": "delivery.damaged", "name": "Ben",
                               "language": "en"}).json()["case_id"]
    _wait_for(agent, lambda d: _from_doorstep(d))
    resp = agent.post("/console/simulator/messages",
                      json={"phone": PHONE, "text": "I want to talk to a person"})
    assert resp.status_code == 202, resp.text
    assert resp.json()["handled"] is True
    assert sandbox.case(case_id).status == "escalated"
    assert case_id in [c["id"] for c in sandbox.runtime.inbox.conversations(status="escalated")]
    assert resp.json()["case"]["desk_status"] == "escalated"

    data = _messages(agent)
    customer = [m for m in data["messages"] if m["from"] == "customer"]
    assert [m["text"] for m in customer] == ["I want to talk to a person"]
    assert customer[0]["case_id"] == case_id
    ats = [m["at"] for m in data["messages"]]
    assert ats == sorted(ats)


def test_a_text_before_any_case_still_shows_after_a_reload(sandbox, agent):
    resp = agent.post("/console/simulator/messages", json={"phone": PHONE, "text": "hello?"})
    assert resp.status_code == 202, resp.text
    assert resp.json()["case"] is None
    texts = [m["text"] for m in _messages(agent)["messages"] if m["from"] == "customer"]
    assert texts == ["hello?"]


def test_bad_phone_numbers_types_and_texts_are_refused_with_a_reason(sandbox, agent):
    resp = agent.get("/console/simulator/messages", params={"phone": "call me"})
    assert resp.status_code == 422 and "phone number" in resp.json()["error"]
    resp = agent.post("/console/simulator/events", json={"phone": "12", "type": "delivery.failed"})
    assert resp.status_code == 422 and "phone number" in resp.json()["error"]
    resp = agent.post("/console/simulator/events",
                      json={"phone": PHONE, "type": "delivery.teleported"})
    assert resp.status_code == 422 and "type must be one of" in resp.json()["error"]
    resp = agent.post("/console/simulator/events", json={"phone": PHONE, "language": "fr"})
    assert resp.status_code == 422 and "language" in resp.json()["error"]
    resp = agent.post("/console/simulator/messages", json={"phone": PHONE, "text": "  "})
    assert resp.status_code == 422
    resp = agent.post("/console/simulator/messages", data="not json",
                      headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and "JSON" in resp.json()["error"]
    assert sandbox.runtime.store.cases_for_recipient("sms", PHONE) == []


def test_with_twilio_configured_the_simulator_refuses_to_send(make_system):
    system = make_system()
    assert system.settings.twilio_enabled
    add_staff(system, AGENT)
    client = login(system, AGENT)
    page = client.get("/console/simulator")
    assert page.status_code == 200
    assert "only works with the sandbox SMS channel" in page.text
    resp = client.post("/console/simulator/events",
                       json={"phone": PHONE, "type": "delivery.failed", "language": "en"})
    assert resp.status_code == 409
    assert "sandbox SMS channel" in resp.json()["error"]
    resp = client.post("/console/simulator/messages", json={"phone": PHONE, "text": "hi"})
    assert resp.status_code == 409
    assert _messages(client)["sandbox"] is False
    system.drain()
    assert system.twilio.messages == []
    assert system.runtime.store.cases_for_recipient("sms", PHONE) == []


def test_the_simulator_needs_a_signed_in_staff_member(sandbox, http):
    page = http.get(sandbox.url + "/console/simulator", allow_redirects=False, timeout=15)
    assert page.status_code in (302, 303)
    assert page.headers["Location"].startswith("/console/login?next=")
    resp = http.get(sandbox.url + "/console/simulator/messages", params={"phone": PHONE},
                    timeout=15)
    assert resp.status_code == 401 and "error" in resp.json()
    resp = http.post(sandbox.url + "/console/simulator/events", json={"phone": PHONE},
                     timeout=15)
    assert resp.status_code == 401
    assert sandbox.runtime.store.cases_for_recipient("sms", PHONE) == []


def test_a_post_without_the_csrf_token_is_refused(sandbox, agent):
    resp = agent.http.post(sandbox.url + "/console/simulator/events", timeout=15,
                           json={"phone": PHONE, "type": "delivery.failed"})
    assert resp.status_code == 403
    assert "CSRF" in resp.json()["error"]
    resp = agent.http.post(sandbox.url + "/console/simulator/messages", timeout=15,
                           json={"phone": PHONE, "text": "hi"},
                           headers={"X-CSRF-Token": "forged"})
    assert resp.status_code == 403
    assert sandbox.runtime.store.cases_for_recipient("sms", PHONE) == []


# -- doorstep serve --demo ------------------------------------------------------------------
def test_prepare_demo_twice_opens_one_set_of_cases_and_its_login_works(sandbox):
    first = prepare_demo(sandbox.runtime)
    second = prepare_demo(sandbox.runtime)
    assert first.seeded and not second.seeded
    assert first.staff_created and not second.staff_created
    assert len(first.case_ids) == len(DEMO_CASES)
    assert second.case_ids == first.case_ids
    assert len(sandbox.runtime.store.recent_case_ids(100)) == len(DEMO_CASES)
    for sample in DEMO_CASES:
        assert len(sandbox.runtime.store.cases_for_recipient("sms", sample.phone)) == 1
    escalated = [c["id"] for c in sandbox.runtime.inbox.conversations(status="escalated")]
    assert len(first.escalated_case_ids) == 1
    assert escalated == list(first.escalated_case_ids)

    client = login(sandbox, DEMO_EMAIL, DEMO_PASSWORD)
    assert sandbox.runtime.staff.get(DEMO_EMAIL).role == "supervisor"
    page = client.get(f"/console/c/{escalated[0]}")
    assert page.status_code == 200
    client.close()


def test_prepare_demo_refuses_when_twilio_is_configured(make_system):
    from bot.errors import ConfigError

    system = make_system()
    with pytest.raises(ConfigError, match="sandbox SMS"):
        prepare_demo(system.runtime)
    assert system.runtime.staff.get(DEMO_EMAIL) is None


def test_serve_demo_with_twilio_configured_exits_with_an_error(tmp_path):
    env = {"TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "x" * 32,
           "TWILIO_FROM_NUMBER": "+15005550006", "DOORSTEP_DATA_DIR": str(tmp_path),
           "EVENTS_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
           "TWILIO_MESSAGING_SERVICE_SID": None, "PUBLIC_URL": None}
    result = CliRunner().invoke(cli, ["serve", "--demo", "--port", "0"], env=env)
    assert result.exit_code == 1, result.output
    assert "--demo only works with the sandbox SMS channel" in result.output
    assert not (tmp_path / "redis.sock").exists()


def test_serve_demo_starts_with_the_demo_login(redis_url, redis_client, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TWILIO_", "SHIPPER_", "REDIS_URL", "PUBLIC_URL"))}
    env.update({"REDIS_URL": redis_url, "DOORSTEP_DATA_DIR": str(tmp_path),
                "EVENTS_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                "QUIET_HOURS": "off", "PUBLIC_URL": f"http://127.0.0.1:{port}"})
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--demo", "--port",
                                 str(port)], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        with requests.Session() as http:
            http.trust_env = False
            deadline = time.monotonic() + 60
            while True:
                try:
                    page = http.get(url + "/console/login", timeout=2)
                    break
                except requests.RequestException:
                    assert proc.poll() is None, log_path.read_text()
                    assert time.monotonic() < deadline, log_path.read_text()
                    time.sleep(0.2)
            assert page.status_code == 200
            _resolve_the_escalated_demo_case(http, url)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    printed = log_path.read_text()
    assert "not for production" in printed
    assert f"{DEMO_EMAIL} / {DEMO_PASSWORD}" in printed
    assert f"{url}/console/simulator" in printed
    assert redis_client.exists("ds:demo:seeded")


def _resolve_the_escalated_demo_case(http: requests.Session, url: str) -> None:
    """Sign in as the demo supervisor, take the escalated sample case, resolve it, and see
    ``case.resolved`` delivered to the demo's stand-in shipper."""
    token = login_form(http, url)
    signed_in = http.post(url + "/console/login", timeout=15, allow_redirects=False,
                          data={"email": DEMO_EMAIL, "password": DEMO_PASSWORD,
                                "csrf_token": token, "next": "/console"})
    assert signed_in.status_code in (302, 303)
    csrf = re.search(r'name="csrf-token" content="([^"]+)"',
                     http.get(url + "/console", timeout=15).text).group(1)
    rows = http.get(url + "/api/conversations?status=escalated", timeout=15).json()
    case_id = rows["conversations"][0]["id"]
    headers = {"X-CSRF-Token": csrf}
    assert http.post(f"{url}/api/conversations/{case_id}/claim", headers=headers,
                     timeout=15).status_code == 200
    resolved = http.post(f"{url}/api/conversations/{case_id}/resolve", headers=headers,
                         json={"resolution_code": "parcel_located", "note": "Found at depot"},
                         timeout=15)
    assert resolved.status_code == 200, resolved.text
    deadline = time.monotonic() + 30
    while True:
        timeline = http.get(f"{url}/api/conversations/{case_id}", timeout=15).json()["timeline"]
        delivered = [e for e in timeline if e["kind"] == "callback.delivered"]
        if any(e["type"] == "case.resolved" for e in delivered):
            break
        assert time.monotonic() < deadline, [e["kind"] for e in timeline]
        time.sleep(0.2)
    assert all(e["status"] == 204 for e in delivered)


# -- in a real browser ---------------------------------------------------------------------
def test_the_whole_loop_in_the_browser(sandbox, browser, screenshot):
    add_staff(sandbox, AGENT, name="Sam")
    context = browser.new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(sandbox.url + f"/console/simulator?phone={PHONE}")
        page.fill("#email", AGENT)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        expect(page.locator("#sim-phone")).to_have_value(PHONE)

        page.select_option("#sim-type", "delivery.failed")
        page.fill("#sim-name", "Ana Diaz")
        page.click("#sim-post-event")
        chat = page.locator("#sim-chat")
        expect(chat.locator("li[data-from=business]").first).to_contain_text("couldn't deliver")
        expect(page.locator("#sim-case-status")).to_have_text("awaiting customer")

        page.fill("#sim-text", "I want to talk to a person")
        page.click("#sim-send")
        expect(chat.locator("li[data-from=customer]")).to_have_text(
            re.compile("I want to talk to a person"))
        expect(page.locator("#sim-case-status")).to_have_text("escalated")
        case_id = page.locator("#sim-case-id").inner_text()
        expect(page.locator("#sim-case-link")).to_have_attribute("href", f"/console/c/{case_id}")

        staff = login(sandbox, AGENT)
        assert staff.post(f"/api/conversations/{case_id}/claim").status_code == 200
        reply = "Hi Ana, Sam here: I'll sort this out."
        assert staff.post(f"/api/conversations/{case_id}/messages",
                          json={"text": reply}).status_code == 202
        staff.close()
        # Not necessarily last: the "chatting with Sam" notice is a separate send job.
        expect(chat.locator("li[data-from=business]", has_text=reply)).to_have_count(1)
        expect(page.locator("#sim-case-status")).to_have_text("held by Sam")
        screenshot(page, "simulator-phone.png")

        page.reload()  # the conversation comes back from the server
        expect(chat.locator("li[data-from=customer]")).to_have_count(1)
        expect(chat.locator("li[data-from=business]", has_text=reply)).to_have_count(1)
        page.click("#sim-case-link")
        expect(page).to_have_url(sandbox.url + f"/console/c/{case_id}")
    finally:
        context.close()
    assert errors == [], errors
    assert sandbox.twilio.messages == []
