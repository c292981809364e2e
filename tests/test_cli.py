"""The `doorstep` commands and the gunicorn deployment, as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
import requests
from twilio.request_validator import RequestValidator

from support import failed_event, free_port, stop_processes, wait_ready

pytestmark = pytest.mark.timeout(120)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TWILIO_", "SHIPPER_", "REDIS_URL"))}
    env.update({"EVENTS_WEBHOOK_SECRET": SECRET, "QUIET_HOURS": "off"}, **extra)
    return env


def _doorstep(*args: str, env: dict[str, str], **kw) -> subprocess.CompletedProcess:  # noqa: ANN003
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env,
                          capture_output=True, text=True, timeout=60, **kw)


def test_send_event_signs_and_posts_a_file(system, tmp_path):
    path = tmp_path / "event.json"
    path.write_text(json.dumps(failed_event()))
    env = _env(PUBLIC_URL=system.url, EVENTS_WEBHOOK_SECRET=system.settings.events_webhook_secret,
               DOORSTEP_DATA_DIR=str(tmp_path))
    done = _doorstep("send-event", str(path), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("202 ") and "case_id" in done.stdout
    assert "couldn't deliver" in system.customer("+15551230001").reply()


def test_send_event_reports_a_refused_event(system, tmp_path):
    path = tmp_path / "event.json"
    path.write_text(json.dumps({"type": "delivery.failed"}))
    env = _env(PUBLIC_URL=system.url, EVENTS_WEBHOOK_SECRET=system.settings.events_webhook_secret,
               DOORSTEP_DATA_DIR=str(tmp_path))
    done = _doorstep("send-event", str(path), env=env)
    assert done.returncode == 1
    assert done.stdout.startswith("422 ") and "occurred_at" in done.stdout


def test_chat_talks_through_the_same_engine_and_store(system, redis_url, tmp_path):
    case_id = system.post_event(failed_event()).json()["case_id"]
    system.customer("+15551230001").reply()
    env = _env(REDIS_URL=redis_url, DOORSTEP_DATA_DIR=str(tmp_path))
    done = _doorstep("chat", "--phone", "+1 555 123 0001", env=env, input="2\nyes\n")
    assert done.returncode == 0, done.stderr
    assert "YES to book it" in done.stdout
    assert "Booked:" in done.stdout
    assert system.case(case_id).status == "resolved"
    assert system.shipper.wait_for_callbacks(1)[0]["payload"]["type"] == "case.rescheduled"


def test_bad_configuration_stops_serve_with_a_message_naming_the_variable(tmp_path):
    env = _env(PUBLIC_URL="not a url", DOORSTEP_DATA_DIR=str(tmp_path))
    done = _doorstep("serve", "--port", "0", env=env)
    assert done.returncode != 0
    assert "PUBLIC_URL" in done.stderr


def test_gunicorn_web_and_separate_worker_process(redis_url, redis_client, twilio_api, shipper,
                                                  tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _env(REDIS_URL=redis_url, DOORSTEP_DATA_DIR=str(tmp_path), PUBLIC_URL=url,
               TWILIO_ACCOUNT_SID=twilio_api.account_sid,
               TWILIO_AUTH_TOKEN=twilio_api.auth_token, TWILIO_FROM_NUMBER="+15005550006",
               TWILIO_API_BASE_URL=twilio_api.url, SHIPPER_WEBHOOK_URL=shipper.callback_url,
               SHIPPER_WEBHOOK_SECRET=shipper.secret)
    log = (tmp_path / "procs.log").open("ab")
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
                            "webhook_server:create_app()"], env=env, stdout=log, stderr=log)
    worker = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env=env, stdout=log,
                              stderr=log)
    try:
        wait_ready(url, tmp_path / "procs.log", timeout=30)
        from datetime import UTC, datetime

        from standardwebhooks import Webhook

        body, now, msg_id = json.dumps(failed_event()), datetime.now(UTC), "msg_" + uuid.uuid4().hex
        headers = {"content-type": "application/json", "webhook-id": msg_id,
                   "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": Webhook(SECRET).sign(msg_id, now, body)}
        assert requests.post(url + "/events", data=body, headers=headers,
                             timeout=10).status_code == 202
        twilio_api.wait_for_messages(2, timeout=20)
        form = {"MessageSid": "SM" + uuid.uuid4().hex, "From": "+15551230001",
                "To": "+15005550006", "Body": "3"}
        sig = RequestValidator(twilio_api.auth_token).compute_signature(
            url + "/webhooks/twilio/sms", form)
        resp = requests.post(url + "/webhooks/twilio/sms", data=form,
                             headers={"X-Twilio-Signature": sig}, timeout=10)
        assert resp.status_code == 200
        assert "YES" in twilio_api.wait_for_messages(3, timeout=20)[2]["body"]
    finally:
        stop_processes(web, worker)
    assert worker.returncode == 0
