"""Fault-injection helpers: processes to SIGKILL, a door to slam, waits, figures.

``WorkerProcess`` runs the real ``doorstep worker``; ``AofRedis`` a redis-server with
append-only persistence (``appendfsync everysec``, as the embedded server runs), which
replays its file when started again on the same directory; ``Door`` serves a fake on a
fixed port that can be closed (connection refused) and opened again. The tests hand
every process they start to a fixture that kills it at teardown, pass or fail.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import redis
from werkzeug.serving import BaseWSGIServer, make_server

from bot.redis_server import redis_server_binary
from fakes.http import LOOPBACK_HOST, _QuietHandler
from fakes.shipper import FakeShipper
from fakes.twilio_api import FakeTwilioAPI

T = TypeVar("T")
EVENTS_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
READY_LINE = b"Doorstep worker running"


def wait_for(condition: Callable[[], T], timeout: float, what: str,
             interval: float = 0.05) -> T:
    """Poll ``condition`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def app_env(redis_url: str, twilio: FakeTwilioAPI, shipper: FakeShipper, data_dir: Path,
            **overrides: str) -> dict[str, str]:
    """Settings (as environment variables) for Doorstep against the fakes and ``redis_url``."""
    env = {
        "REDIS_URL": redis_url,
        "DOORSTEP_DATA_DIR": str(data_dir),
        "NLU_MODEL_DIR": os.environ["NLU_MODEL_DIR"],
        "PUBLIC_URL": "http://127.0.0.1:9",  # status callbacks go nowhere (none are sent)
        "EVENTS_WEBHOOK_SECRET": EVENTS_SECRET,
        "SHIPPER_WEBHOOK_URL": shipper.callback_url,
        "SHIPPER_WEBHOOK_SECRET": shipper.secret,
        "TWILIO_ACCOUNT_SID": twilio.account_sid,
        "TWILIO_AUTH_TOKEN": twilio.auth_token,
        "TWILIO_FROM_NUMBER": "+15005550006",
        "TWILIO_API_BASE_URL": twilio.url,
        "TWILIO_MESSAGES_PER_SECOND": "0",
        "QUIET_HOURS": "off",
        "LOG_FORMAT": "text",
    }
    env.update(overrides)
    return env


class WorkerProcess:
    """One ``doorstep worker`` subprocess, logging to ``log``."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        base = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "REDIS_"))}
        self._log_file = log.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"],
                                     env={**base, **env}, stdout=self._log_file,
                                     stderr=subprocess.STDOUT)
        self.started = time.monotonic()
        self.ready_at: float | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def ready(self) -> bool:
        """True once the worker said it runs; fails at once if it died first."""
        if self.ready_at is None:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker {self.pid} exited with {self.proc.returncode}:\n"
                                     + self.log.read_text(errors="replace")[-3000:])
            if READY_LINE in self.log.read_bytes():
                self.ready_at = time.monotonic()
        return self.ready_at is not None

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no requeue, jobs in hand stay unacknowledged."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._log_file.close()

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL if it will not go)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._log_file.close()


class AofRedis:
    """A redis-server with the AOF on, on a Unix socket in ``workdir``; SIGKILL it, start
    it again on the same directory (it replays the AOF) and socket."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.socket = workdir / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> AofRedis:
        self.proc = subprocess.Popen(
            [redis_server_binary(), "--port", "0", "--unixsocket", str(self.socket),
             "--unixsocketperm", "700", "--dir", str(self.workdir), "--save", "",
             "--appendonly", "yes", "--appendfilename", "doorstep.aof",
             "--appendfsync", "everysec", "--logfile", str(self.workdir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.alive, 15, "redis-server to answer PING")
        return self

    def alive(self) -> bool:
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1).ping())
        except redis.exceptions.RedisError:
            return False

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.kills += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class Door:
    """Serve a WSGI app on a fixed loopback port that can be shut (connection refused)."""

    def __init__(self, app: Any, port: int) -> None:
        self.app, self.port = app, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def open(self) -> None:
        self._server = make_server(LOOPBACK_HOST, self.port, self.app, threaded=True,
                                   request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(5)
            self._server = self._thread = None


def shipper_app(shipper: FakeShipper) -> Any:
    """The fake shipper's WSGI app, to serve behind a :class:`Door`."""
    return shipper._wsgi  # noqa: SLF001 - the fake's own server stays up beside it
