"""``doorstep serve --web-workers N --queue-workers M``: one command starts gunicorn with N
web processes and M queue-worker processes around the embedded Redis, restarts a queue
worker that dies, and stops everything (Redis too) on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
import requests
from standardwebhooks import Webhook

from bot.redis_server import stop_embedded_redis
from support import failed_event, free_port, wait_for, wait_ready

pytestmark = pytest.mark.timeout(120)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def children(pid: int) -> list[int]:
    """Direct children of ``pid``, from /proc."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines()
                          if ":\t" in line)
        except OSError:
            continue  # gone meanwhile
        if int(fields.get("PPid", "0").strip()) == pid:
            found.append(int(status.parent.name))
    return found


def command_of(pid: int) -> str:
    """The command line of ``pid``; empty when the process is gone meanwhile (a killed
    worker can be reaped between listing the children and reading this)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def post_event(url: str) -> requests.Response:
    body, now, msg_id = json.dumps(failed_event()), datetime.now(UTC), "msg_" + uuid.uuid4().hex
    headers = {"content-type": "application/json", "webhook-id": msg_id,
               "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Webhook(SECRET).sign(msg_id, now, body)}
    return requests.post(url + "/events", data=body, headers=headers, timeout=10)


def test_serve_runs_web_and_queue_processes_and_stops_them_all(tmp_path):
    port, data = free_port(), tmp_path / "data"
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TWILIO_", "SHIPPER_", "REDIS_URL", "PROMETHEUS_"))}
    env.update(EVENTS_WEBHOOK_SECRET=SECRET, QUIET_HOURS="off", DOORSTEP_DATA_DIR=str(data),
               PUBLIC_URL=url)
    log_path = tmp_path / "serve.log"
    with log_path.open("ab") as log:
        serve = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(port),
                                  "--web-workers", "2", "--queue-workers", "2"],
                                 env=env, stdout=log, stderr=log)
    try:
        wait_ready(url, log_path)
        kids = {pid: command_of(pid) for pid in children(serve.pid)}
        masters = [pid for pid, cmd in kids.items() if "gunicorn" in cmd]
        queue = sorted(pid for pid, cmd in kids.items() if "bot.cli worker" in cmd)
        assert len(masters) == 1 and len(queue) == 2, kids
        assert len(children(masters[0])) == 2  # two web processes under gunicorn's master

        assert post_event(url).status_code == 202  # a web process opens the case...
        wait_for("the first texts in the sandbox outbox",  # ...a queue worker texts
                 lambda: outbox_size(data) >= 2, timeout=20)

        os.kill(queue[0], signal.SIGKILL)  # a queue worker dies: another takes its place
        replaced = wait_for("a new queue worker", lambda: [
            p for p in children(serve.pid) if "bot.cli worker" in command_of(p)
            and p not in queue], timeout=20)
        assert len(replaced) == 1
        assert post_event(url).status_code == 202
        wait_for("texts sent after the restart", lambda: outbox_size(data) >= 4,
                 timeout=20)
        metrics = requests.get(url + "/metrics", timeout=10).text
        assert 'doorstep_outbound_messages_total{channel="sms",status="sent"}' in metrics
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(60)
        left_running = stop_embedded_redis(data)  # never leave a server behind a failure
    assert serve.returncode == 0, log_path.read_text()
    assert not children(serve.pid)
    assert "embedded Redis stopped" in log_path.read_text()
    assert not left_running


def outbox_size(data: Path) -> int:
    """Texts in the sandbox outbox; the connection is closed again (an open one would
    rightly keep ``serve`` from stopping the embedded Redis)."""
    client = redis.Redis(unix_socket_path=str(data / "redis.sock"))
    try:
        return int(client.llen("ds:outbox"))
    finally:
        client.connection_pool.disconnect()
