"""``doorstep serve --web-workers N --queue-workers M``: gunicorn and queue-worker
processes on this machine, started, watched and stopped together.

The parent prepares what every child would otherwise race for (the embedded Redis, the
trained NLU model, the demo data), then starts ``gunicorn`` with N web workers and M
``doorstep worker`` processes with the same environment. A queue worker that dies is
started again (after a pause if it keeps dying); if gunicorn's master dies, everything
stops. SIGTERM or SIGINT stop all children, gracefully.
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("doorstep.supervisor")
RESTART_PAUSE_S = (1.0, 5.0, 30.0)  # after the 1st, 2nd, 3rd+ quick death in a row
QUICK_DEATH_S = 60.0
STOP_GRACE_S = 30.0


@dataclass(frozen=True)
class ProcessPlan:
    """What to run: the bind address, how many of each process, and their environment."""

    host: str
    port: int
    web_workers: int
    queue_workers: int
    http_threads: int
    env: Mapping[str, str]


def gunicorn_command(plan: ProcessPlan) -> list[str]:
    """gunicorn with Doorstep's settings module (``bot.gunicorn_config``)."""
    return [sys.executable, "-m", "gunicorn", "-c", "python:bot.gunicorn_config",
            "-w", str(plan.web_workers), "-k", "gthread", "--threads", str(plan.http_threads),
            "-b", f"{plan.host}:{plan.port}", "webhook_server:create_app()"]


def worker_command() -> list[str]:
    return [sys.executable, "-m", "bot.cli", "worker"]


def metrics_dir(env: Mapping[str, str], data_dir: Path) -> dict[str, str]:
    """``PROMETHEUS_MULTIPROC_DIR`` for the set (the configured one, else one under the data
    directory), emptied: files of processes from an earlier run would be summed too."""
    path = Path(env.get("PROMETHEUS_MULTIPROC_DIR") or data_dir / "prometheus")
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    return {"PROMETHEUS_MULTIPROC_DIR": str(path)}


class Supervisor:
    """Start the processes of a :class:`ProcessPlan`; ``run`` until told to stop."""

    def __init__(self, plan: ProcessPlan) -> None:
        self.plan = plan
        self.stopping = threading.Event()
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen | None] = [None] * plan.queue_workers
        self._deaths = [0] * plan.queue_workers
        self._started = [0.0] * plan.queue_workers

    def start(self) -> None:
        self.web = subprocess.Popen(gunicorn_command(self.plan), env=dict(self.plan.env))
        for i in range(self.plan.queue_workers):
            self._start_worker(i)

    def _start_worker(self, i: int) -> None:
        self.workers[i] = subprocess.Popen(worker_command(), env=dict(self.plan.env))
        self._started[i] = time.monotonic()

    def pids(self) -> dict[str, list[int]]:
        return {"web": [self.web.pid] if self.web else [],
                "queue": [p.pid for p in self.workers if p is not None]}

    def run(self) -> int:
        """Watch the children until ``stop`` (or gunicorn's end); the exit status."""
        status = 0
        while not self.stopping.wait(0.5):
            if self.web is not None and self.web.poll() is not None:
                log.error("gunicorn exited (status %s): stopping", self.web.returncode)
                status = self.web.returncode or 1
                break
            for i, proc in enumerate(self.workers):
                if proc is not None and proc.poll() is not None:
                    self._restart_later(i, proc.returncode)
        self.stop_children()
        return status

    def _restart_later(self, i: int, code: int) -> None:
        quick = time.monotonic() - self._started[i] < QUICK_DEATH_S
        self._deaths[i] = self._deaths[i] + 1 if quick else 0
        pause = RESTART_PAUSE_S[min(self._deaths[i], len(RESTART_PAUSE_S)) - 1] \
            if self._deaths[i] else 0.0
        log.error("queue worker %d exited (status %s); starting it again in %.0f s",
                  i + 1, code, pause)
        self.workers[i] = None
        if not self.stopping.wait(pause):
            self._start_worker(i)

    def stop(self, *_: object) -> None:
        self.stopping.set()

    def stop_children(self) -> None:
        """SIGTERM to all (gunicorn finishes its requests; workers their jobs), then wait;
        SIGKILL what is still running after STOP_GRACE_S."""
        procs = [p for p in (self.web, *self.workers) if p is not None]
        for proc in stop_gracefully(procs, STOP_GRACE_S):
            log.error("pid %d did not stop in %.0f s: killed", proc.pid, STOP_GRACE_S)


def stop_gracefully(procs: Iterable[subprocess.Popen], grace_s: float) -> list[subprocess.Popen]:
    """SIGTERM each process still running, wait up to ``grace_s`` for them all, then
    SIGKILL (and reap) what is left. Returns the ones that had to be killed."""
    running = [p for p in procs if p.poll() is None]
    for proc in running:
        proc.send_signal(signal.SIGTERM)
    deadline, killed = time.monotonic() + grace_s, []
    for proc in running:
        try:
            proc.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            killed.append(proc)
    return killed


def child_env(base: Mapping[str, str], extra: Mapping[str, str]) -> dict[str, str]:
    """The children's environment: this process's, plus what the parent decided."""
    env = dict(base)
    env.update(extra)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
