"""No log line carries a message body, a full phone number, a name, an address or a secret.

One run of the real app at ``LOG_LEVEL=DEBUG`` with canary data: SMS turns (a
reschedule and an address correction), a Telegram chat linked by contact, an escalation
answered from the console API with a note and a resolution, and a send Twilio refuses.
Every line from every logger is captured through the production JSON formatter, with
the libraries' own DEBUG logging let through too (httpx prints Telegram request URLs,
which hold the bot token); only python-telegram-bot stays at WARNING, because its DEBUG
lines print each call's parameters, message text included, and a text cannot be
recognised by its shape. Then the lines are searched for every canary.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from console_api_support import staff_api
from console_support import escalate

from bot.logs import PAYLOAD_LOGGERS, REDACTOR, formatter_for
from support import TELEGRAM_SECRET, failed_event, free_port, stop_processes, wait_ready

pytestmark = pytest.mark.timeout(180)
ROOT = Path(__file__).resolve().parent.parent
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

PHONES = ("+15550191111", "+15550192222", "+15550193333", "+15550194444")
CHAT = 987650777
NAME = "Zanzibar Quetzal"
EVENT_ADDRESS = "77 Canary Wharf Lane"
NEW_ADDRESS = "12 Pelican Rise"
BODIES = ("Marmalade Sunrise Cantaloupe", "leave it with Periwinkle at the porch",
          "Tangerine Octopus Waltz", "Kumquat Lagoon Harbour is our depot",
          "Xylophone Meadow called back", "Saffron Glacier confirmed")
WORDS = ("Zanzibar", "Quetzal", "Canary Wharf", "Pelican Rise", "Marmalade", "Periwinkle",
         "Tangerine", "Kumquat", "Xylophone", "Saffron")


def number_forms(phone: str) -> list[str]:
    """``+15550191111`` as people and programs write it."""
    national = phone[2:]
    return [phone, phone[1:], national, f"{national[:3]}-{national[3:6]}-{national[6:]}",
            f"({national[:3]}) {national[3:6]}-{national[6:]}", "%2B" + phone[1:]]


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every record from every logger, as the production JSON formatter writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter_for("json"))
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *PAYLOAD_LOGGERS)}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # as LOG_LEVEL=DEBUG does where Doorstep owns logging
    yield stream
    root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def event(phone: str, **kw: str) -> dict:
    found = failed_event(phone=phone, **kw)
    found["shipment"]["recipient"]["name"] = NAME
    found["shipment"]["address"]["line1"] = EVENT_ADDRESS
    return found




def talk(system, who, *texts: str) -> None:  # noqa: ANN001
    for text in texts:
        who.say(text)
        system.settle()


def test_no_log_line_holds_a_body_number_name_address_or_secret(make_system, log_lines):
    system = make_system(LOG_LEVEL="DEBUG")
    for name in PAYLOAD_LOGGERS:  # the libraries' own chatter too, except...
        logging.getLogger(name).setLevel(logging.DEBUG)
    logging.getLogger("telegram").setLevel(logging.WARNING)  # ...call parameters: bodies

    reschedule, correction, linked, escalated = (system.customer(p) for p in PHONES)
    system.post_event(event(reschedule.phone))
    system.settle()
    talk(system, reschedule, BODIES[0], "2", "yes")

    system.post_event(event(correction.phone, type_="delivery.address_invalid"))
    system.settle()
    talk(system, correction, NEW_ADDRESS + " Apt 5, Boston MA 02110", "yes", BODIES[1])

    linked_case = system.post_event(event(linked.phone)).json()["case_id"]
    system.settle()
    chat = system.chat(CHAT)
    talk(system, chat, BODIES[2])
    chat.share_contact(linked.phone)
    system.settle()
    assert system.case(linked_case).telegram_chat_id == CHAT
    talk(system, chat, "2")

    case_id = escalate(system, escalated, **{"type_": "delivery.failed"})
    sam = staff_api(system, "sam@example.com", name="Sam")
    assert sam.post(f"/api/conversations/{case_id}/claim").status_code == 200
    assert sam.post(f"/api/conversations/{case_id}/messages",
                    json={"text": BODIES[3]}).status_code == 202
    system.settle()
    system.twilio.fail_next(1, status=400, code=21211)  # Twilio refuses the next send
    assert sam.post(f"/api/conversations/{case_id}/messages",
                    json={"text": "One more thing"}).status_code == 202
    system.settle()
    assert "message.failed" in system.timeline_kinds(case_id)
    assert sam.post(f"/api/conversations/{case_id}/notes",
                    json={"text": BODIES[4]}).status_code == 201
    assert sam.get("/api/conversations", params={"q": NAME}).status_code == 200
    assert sam.post(f"/api/conversations/{case_id}/resolve",
                    json={"resolution_code": "redelivery_scheduled",
                          "note": BODIES[5]}).status_code == 200
    system.settle()
    for message in escalated.messages():  # the staff reply did reach the customer
        if BODIES[3] in message["body"]:
            break
    else:
        raise AssertionError("the staff reply was not sent")

    settings = system.settings
    secrets = [settings.twilio_auth_token, settings.telegram_bot_token, TELEGRAM_SECRET,
               settings.events_webhook_secret, settings.shipper_webhook_secret]
    canaries = [*WORDS, str(CHAT), *secrets] + [f for p in PHONES for f in number_forms(p)]
    lines = log_lines.getvalue().splitlines()
    found = [(c, line) for line in lines for c in canaries if c in line]
    print(f"{len(lines)} log lines searched, {len(found)} canary occurrences")
    assert found == [], found[:5]
    assert len(lines) > 100
    records = [json.loads(line) for line in lines]
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)
    loggers = {r["logger"] for r in records}
    assert {"doorstep.queue", "doorstep.http", "httpx", "urllib3.connectionpool"} <= loggers
    # The bot token was in httpx's request lines, and was blanked rather than absent.
    assert any("/bot[secret]/" in r["message"] for r in records if r["logger"] == "httpx")
    assert any("failed for good" in r["message"] for r in records)


def test_redaction_covers_what_the_code_never_logs_on_purpose():
    REDACTOR.add_secrets(["AC-secret-auth-token-1234"])
    samples = {
        '127.0.0.1 - - [01/May/2026 12:00:00] "GET /api/conversations?q=Zanzibar+Quetzal '
        'HTTP/1.1" 200 -': '"GET /api/conversations?[query] HTTP/1.1"',
        "HTTP Request: POST https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K"
        "5PALDsaw/sendMessage": "/bot[secret]/sendMessage",
        "could not lock ds:conv:lock:{sms:+15550191111} within 10s": "{sms:***1111}",
        "To=%2B15550191111&Body=x": "To=***1111",
        "contact 15550191111 shared": "contact ***1111 shared",
        "call (555) 019-1111 or 555.019.1111": "call ***1111 or ***1111",
        "Authorization: Basic QUMxMjM0NTY3ODkwOnNlY3JldA==": "Basic [secret]",
        "redis://:hunter2hunter2@redis:6379/0": "redis://:[secret]@redis",
        "token AC-secret-auth-token-1234 leaked": "token [secret] leaked",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw": "[secret]",
    }
    for raw, shown in samples.items():
        assert shown in REDACTOR.redact(raw), (raw, REDACTOR.redact(raw))
    kept = "case cs_0123456789abcdef at 2026-05-01T12:00:00.000+00:00 took 1234 ms"
    assert REDACTOR.redact(kept) == kept


def test_exceptions_and_extra_fields_are_redacted_too():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter_for("json"))
    log = logging.getLogger("doorstep.test_logs_pii")
    log.addHandler(handler)
    log.propagate = False
    try:
        try:
            raise ValueError("The 'To' number +15550191111 is not valid")
        except ValueError:
            log.exception("send failed", extra={"to": "+15550191111"})
    finally:
        log.removeHandler(handler)
        log.propagate = True
    line = json.loads(stream.getvalue())
    assert line["message"] == "send failed" and line["to"] == "***1111"
    assert "***1111 is not valid" in line["exc_info"]
    assert "5550191111" not in stream.getvalue()


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_a_process_logs_redacted_lines_to_stderr_in_the_chosen_format(fmt):
    code = ("import logging; from bot.logs import configure_logging; "
            f"configure_logging('INFO', {fmt!r}, ['s3cret-token-value']); "
            "logging.getLogger('doorstep.x').info('to %s with %s', '+15550191111', "
            "'s3cret-token-value'); logging.getLogger('httpx').info('hidden')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1  # httpx is held at WARNING
    if fmt == "json":
        line = json.loads(lines[0])
        assert (line["level"], line["logger"]) == ("INFO", "doorstep.x")
        assert line["message"] == "to ***1111 with [secret]"
    else:
        assert lines[0].endswith(" INFO doorstep.x: to ***1111 with [secret]")


@pytest.mark.parametrize("config", ["python:bot.gunicorn_config", "gunicorn.conf.py"])
def test_gunicorn_access_log_lines_are_redacted(config, redis_url, tmp_path):
    """An operator who turns on gunicorn's access log gets the requests, with no tracking
    token, query string or phone number in them (request line and referrer alike)."""
    port, access = free_port(), tmp_path / "access.log"
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TWILIO_", "SHIPPER_", "REDIS_URL", "PROMETHEUS_"))}
    env.update(REDIS_URL=redis_url, DOORSTEP_DATA_DIR=str(tmp_path / "data"), PUBLIC_URL=url,
               EVENTS_WEBHOOK_SECRET=SECRET)
    with (tmp_path / "web.log").open("ab") as log:
        web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", config, "-w", "1",
                                "-b", f"127.0.0.1:{port}", "--access-logfile", str(access),
                                "webhook_server:create_app()"], cwd=ROOT, env=env,
                               stdout=log, stderr=log)
    token = "Zq8" + "x" * 40
    try:
        wait_ready(url, tmp_path / "web.log")
        assert requests.get(f"{url}/t/{token}", timeout=10).status_code == 404
        assert requests.get(url + "/readyz?phone=%2B15550191111", timeout=10,
                            headers={"Referer": f"{url}/t/{token}?from=+15550191111"}
                            ).status_code == 200
    finally:
        stop_processes(web)
    lines = access.read_text()
    assert '"GET /t/[token] HTTP/1.1" 404' in lines
    assert '"GET /readyz?[query] HTTP/1.1" 200' in lines
    assert token not in lines and token[:12] not in lines
    for form in number_forms("+15550191111"):
        assert form not in lines
