"""`doorstep serve` restarted mid-conversation, Redis killed too: nothing is lost.

Runs the real command in a subprocess with the embedded Redis (append-only file under
DOORSTEP_DATA_DIR), kills both with SIGKILL while a reply is still queued, starts
again, and finishes the conversation.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from twilio.request_validator import RequestValidator

from support import failed_event, free_port, signed_headers

pytestmark = pytest.mark.timeout(120)
PHONE = "+15551230001"


class Service:
    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(self.port)],
            env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            assert self.proc.poll() is None, self.log.read_text()
            time.sleep(0.1)
        raise AssertionError("service did not become ready:\n" + self.log.read_text())

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def sms(self, body: str) -> None:
        form = {"MessageSid": "SM" + uuid.uuid4().hex, "From": PHONE, "To": "+15005550006",
                "Body": body}
        path = "/webhooks/twilio/sms"
        sig = RequestValidator(self.env["TWILIO_AUTH_TOKEN"]).compute_signature(
            self.url + path, form)
        resp = requests.post(self.url + path, data=form, headers={"X-Twilio-Signature": sig},
                             timeout=15)
        assert resp.status_code == 200, resp.text


def test_restart_mid_conversation_keeps_state_and_queued_messages(tmp_path, twilio_api,
                                                                   shipper):
    port = free_port()
    data_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update({
        "DOORSTEP_DATA_DIR": str(data_dir), "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "EVENTS_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "SHIPPER_WEBHOOK_URL": shipper.callback_url, "SHIPPER_WEBHOOK_SECRET": shipper.secret,
        "TWILIO_ACCOUNT_SID": twilio_api.account_sid,
        "TWILIO_AUTH_TOKEN": twilio_api.auth_token, "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_API_BASE_URL": twilio_api.url, "QUIET_HOURS": "off",
        "OUTBOUND_MIN_BACKOFF_MS": "1500", "QUEUE_HEARTBEAT_MS": "1000",
        "QUEUE_MAINTENANCE_CHANCE": "1000000", "CALLBACK_RETRY_SCHEDULE": "1s",
    })
    service = Service(env, port, tmp_path / "serve.log")
    service.start()
    try:
        body = json.dumps(failed_event(phone=PHONE))
        headers = signed_headers(env["EVENTS_WEBHOOK_SECRET"], body)
        resp = requests.post(service.url + "/events", data=body, headers=headers, timeout=15)
        assert resp.status_code == 202, resp.text
        twilio_api.wait_for_messages(2)
        service.sms("1")
        assert "YES" in twilio_api.wait_for_messages(3)[2]["body"]

        twilio_api.down()  # the reply to the next message cannot be sent yet
        service.sms("no")
        time.sleep(1.5)  # > appendfsync everysec: the turn is on disk
        service.kill()
        redis_pid = int((data_dir / "redis.pid").read_text())
        os.kill(redis_pid, signal.SIGKILL)
        assert len(twilio_api.messages) == 3

        twilio_api.up()
        service.start()
        again = twilio_api.wait_for_messages(4, timeout=30)[3]["body"]
        assert "Pick another time" in again
        service.sms("2")
        assert "YES" in twilio_api.wait_for_messages(5)[4]["body"]
        service.sms("yes")
        assert twilio_api.wait_for_messages(6)[5]["body"].startswith("Booked")
        callback = shipper.wait_for_callbacks(1, timeout=15)[0]
        assert callback["payload"]["type"] == "case.rescheduled"
        time.sleep(1)
        assert len(twilio_api.messages) == 6
    finally:
        service.stop()
        subprocess.run([sys.executable, "-m", "bot.cli", "redis-stop"], env=env,
                       capture_output=True, timeout=30)
