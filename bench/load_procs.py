"""The processes ``python -m bench load`` runs: Redis, the fake Twilio, Doorstep under
gunicorn with ``doorstep worker`` queue processes, and the baseline app under gunicorn.

Each gets a clean environment (inherited ``TWILIO_*``, ``SHIPPER_*``, ``TELEGRAM_*``,
``REDIS_URL``, ``PROMETHEUS_*``, ``NLU_*``/``RASA_*`` are dropped) and its own session, so
a Ctrl-C reaches the bench, which stops them all in order; if the bench itself is killed,
the kernel sends each a SIGTERM (``PR_SET_PDEATHSIG``). Output goes to log files in the
run's temporary directory; a process that fails to start is reported with its log's tail.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import redis
import requests
from twilio.request_validator import RequestValidator

from bot.redis_server import redis_server_binary
from bot.settings import generated_secret
from bot.supervisor import stop_gracefully

ROOT = Path(__file__).resolve().parents[1]
DOORSTEP_APP = "webhook_server:create_app()"
BASELINE_APP = "bench.baseline_app:create_app()"
FROM_NUMBER = "+15005550006"  # Twilio's test "from" number
PR_SET_PDEATHSIG = 1
_DROPPED = ("TWILIO_", "SHIPPER_", "TELEGRAM_", "REDIS_URL", "PROMETHEUS_", "NLU_", "RASA_")


def _die_with_the_bench() -> None:
    """In the child before exec: SIGTERM it when the bench dies, even by SIGKILL (Linux)."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` (``VmRSS`` in /proc/<pid>/status), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes used so far (/proc/<pid>/stat), in seconds."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def nlu_model_dir() -> Path:
    """The trained NLU model, trained now only when missing or stale (never in a timed
    step): ``NLU_MODEL_DIR``, else ``var/nlu`` — where ``doorstep nlu train`` puts it."""
    from nlu.embedded import load_model

    path = Path(os.environ.get("NLU_MODEL_DIR") or ROOT / "var" / "nlu")
    print(f"NLU model: {path} (trained first if stale)", file=sys.stderr)
    load_model(path)
    return path


class Processes:
    """Start everything on enter (waiting until each answers); stop it all on exit."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args, self.workdir = args, workdir
        self.started: list[subprocess.Popen[bytes]] = []
        self.logs: list[IO[bytes]] = []
        self.secret = generated_secret()
        self.twilio = {"account_sid": "AC" + uuid.uuid4().hex,
                       "auth_token": secrets.token_hex(16), "from_number": FROM_NUMBER}
        self.account_sid, self.from_number = self.twilio["account_sid"], FROM_NUMBER
        self.validator = RequestValidator(self.twilio["auth_token"])
        self.doorstep_url = f"http://127.0.0.1:{free_port()}"
        self.baseline_url = f"http://127.0.0.1:{free_port()}"
        self.queue_workers: list[subprocess.Popen[bytes]] = []
        self.masters: dict[str, subprocess.Popen[bytes]] = {}
        self.redis_process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None,
               **kw: object) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("ab")
        self.logs.append(log)
        kw.setdefault("stdout", log)
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stderr=log, start_new_session=True,
                                preexec_fn=_die_with_the_bench, **kw)  # type: ignore[call-overload]
        proc.log_path = log.name  # type: ignore[attr-defined]
        self.started.append(proc)
        return proc

    def _start(self) -> None:
        self.redis_url = self.args.redis_url or self._start_redis()
        client = redis.Redis.from_url(self.redis_url)
        self.redis_version = client.info("server")["redis_version"]
        model_dir = nlu_model_dir()
        self._start_fake()
        env = self._server_env(model_dir)
        self.masters["doorstep"] = self._gunicorn("doorstep", DOORSTEP_APP, self.doorstep_url,
                                                  env)
        self.masters["baseline"] = self._gunicorn("baseline", BASELINE_APP, self.baseline_url,
                                                  env)
        worker_env = {**env, "QUEUE_WORKER_THREADS": str(self.args.queue_threads)}
        for i in range(self.args.queue_workers):
            self.queue_workers.append(self._spawn(f"queue-worker-{i}", [
                sys.executable, "-m", "bot.cli", "worker"], worker_env))
        for name, url in (("doorstep", self.doorstep_url), ("baseline", self.baseline_url)):
            self._wait_ready(url, self.masters[name])
        for name in self.masters:  # every gunicorn worker up (each loads the app itself)
            self._wait_until(lambda n=name: len(self.web_worker_pids(n))
                             == self.args.web_workers, self.masters[name], 60)

    def _start_redis(self) -> str:
        data = self.workdir / "redis"
        data.mkdir()
        sock = data / "redis.sock"
        # As the embedded server runs: append-only, fsync every second.
        self.redis_process = self._spawn("redis", [
            redis_server_binary(), "--port", "0", "--unixsocket", str(sock), "--save", "",
            "--appendonly", "yes", "--appendfsync", "everysec", "--dir", str(data)])
        url = f"unix://{sock}"

        def answers() -> bool:
            try:
                return bool(redis.Redis.from_url(url).ping())
            except redis.RedisError:
                return False
        self._wait_until(answers, self.started[-1], 20)
        return url

    def _start_fake(self) -> None:
        proc = self._spawn("fake-twilio", [sys.executable, "-m", "bench.load_fakes",
                                           "--account-sid", self.account_sid],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(self.twilio["auth_token"].encode() + b"\n")
        proc.stdin.close()
        line = proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            raise RuntimeError(f"fake Twilio did not start: {self._tail(proc)}")
        self.fake_url = f"http://127.0.0.1:{int(line.split()[1])}"

    def _server_env(self, model_dir: Path) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_DROPPED)}
        env.update(REDIS_URL=self.redis_url, DOORSTEP_DATA_DIR=str(self.workdir / "data"),
                   NLU_MODEL_DIR=str(model_dir), PUBLIC_URL=self.doorstep_url,
                   EVENTS_WEBHOOK_SECRET=self.secret, QUIET_HOURS="off",
                   RATE_LIMIT_EVENTS="off", RATE_LIMIT_WEBHOOKS="off",
                   TWILIO_ACCOUNT_SID=self.account_sid,
                   TWILIO_AUTH_TOKEN=self.twilio["auth_token"],
                   TWILIO_FROM_NUMBER=FROM_NUMBER, TWILIO_API_BASE_URL=self.fake_url,
                   TWILIO_MESSAGES_PER_SECOND="0", LOG_LEVEL="WARNING")
        return env

    def _gunicorn(self, name: str, app: str, url: str,
                  env: dict[str, str]) -> subprocess.Popen[bytes]:
        args = self.args
        argv = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                "-w", str(args.web_workers), "-k", args.worker_class,
                "-b", url.removeprefix("http://")]
        if args.worker_class == "gthread":
            argv += ["--threads", str(args.threads)]
        return self._spawn(name, [*argv, app], env)

    def _wait_ready(self, url: str, proc: subprocess.Popen[bytes]) -> None:
        def ready() -> bool:
            try:
                return requests.get(url + "/readyz", timeout=1).status_code == 200
            except requests.RequestException:
                return False
        self._wait_until(ready, proc, 120)

    def _wait_until(self, done: Callable[[], bool], proc: subprocess.Popen[bytes],
                    timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{Path(proc.log_path).stem} did not start:"  # type: ignore
                                   f" {self._tail(proc)}")
            time.sleep(0.1)

    @staticmethod
    def _tail(proc: subprocess.Popen[bytes]) -> str:
        path = Path(proc.log_path)  # type: ignore[attr-defined]
        return "\n" + "\n".join(path.read_text(errors="replace").splitlines()[-20:])

    def web_worker_pids(self, name: str) -> list[int]:
        """The gunicorn workers (children of the master) serving ``name``."""
        master = self.masters[name].pid
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def cpu_pids(self) -> dict[str, list[int]]:
        """Whose CPU time the table splits a turn's cost between."""
        pids = {"web": self.web_worker_pids("doorstep"),
                "queue": [p.pid for p in self.queue_workers],
                "baseline": self.web_worker_pids("baseline")}
        if self.redis_process is not None:  # not a --redis-url one: its CPU is not seen
            pids["redis"] = [self.redis_process.pid]
        return pids

    def describe(self) -> str:
        a = self.args
        web = f"{a.web_workers} {a.worker_class} web workers" + (
            f" x {a.threads} threads" if a.worker_class == "gthread" else "")
        where = "given" if a.redis_url else "unix socket, appendfsync everysec"
        return (f"{web}, {a.queue_workers} queue worker(s) x {a.queue_threads} threads, "
                f"Redis {self.redis_version} ({where})")

    def stop(self) -> None:
        """SIGTERM everything but Redis, wait (killing what lingers), then Redis."""
        servers = [p for p in self.started if p is not self.redis_process]
        stop_gracefully(servers, 20)
        if self.redis_process:
            stop_gracefully([self.redis_process], 20)
        self.started.clear()
        for log in self.logs:
            log.close()
