"""The insights routes over real HTTP: the Flask app served by waitress, a supervisor's
API token, timed from the client over loopback (so: server time plus a socket hop)."""

from __future__ import annotations

import statistics
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

EMAIL = "bench@doorstep.local"


class _NoNLU:
    """The insights need no NLU: skip loading (or training) the model."""

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def measure_routes(url: str, workdir: Path, runs: int
                   ) -> list[tuple[str, str, str | None, float | None]]:
    """Rows (figure, measured, target key, value in ms) for the page, the JSON, the CSV."""
    import waitress

    from bot.settings import generated_secret, load_settings
    from console.insights_charts import CHARTS
    from webhook_server import build, create_app

    settings = load_settings({"REDIS_URL": url, "DOORSTEP_DATA_DIR": str(workdir / "data"),
                              "EVENTS_WEBHOOK_SECRET": generated_secret(),
                              "QUIET_HOURS": "off", "LOG_LEVEL": "WARNING"}, read_dotenv=False)
    runtime = build(settings, nlu=_NoNLU())  # type: ignore[arg-type]
    app = create_app(runtime=runtime)
    runtime.insights.refresh()  # waits for the load create_app started
    runtime.staff.add(EMAIL, "supervisor", "bench-password-1234", name="Bench")
    token = runtime.staff.issue_token(EMAIL)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    base = f"http://127.0.0.1:{server.effective_port}"
    http = requests.Session()
    http.trust_env = False
    http.headers["Authorization"] = f"Bearer {token}"
    some_case = runtime.store.recent_case_ids(1)[0]
    rows: list[tuple[str, str, str | None, float | None]] = []

    def get(path: str) -> float:
        t0 = time.perf_counter()
        resp = http.get(base + path, timeout=60)
        size = len(resp.content)
        if resp.status_code != 200 or not size:
            raise RuntimeError(f"GET {path}: {resp.status_code} {resp.text[:200]}")
        return (time.perf_counter() - t0) * 1000

    def a_new_event() -> None:
        """A shipper event on one case: the version moves, the figures cache misses."""
        runtime.store.append_timeline(some_case, "event.received", type="delivery.delayed",
                                      webhook_id="msg_bench",
                                      occurred_at=datetime.now(UTC).isoformat())
    try:
        for name, path, target in (("GET /console/insights", "/console/insights", "page"),
                                   ("GET /api/insights", "/api/insights", "api")):
            changed, cached = [], []
            for _ in range(runs):
                a_new_event()
                changed.append(get(path))
                cached.append(get(path))
            median = statistics.median(changed)
            rows.append((f"{name}, after a new event (med/p95)",
                         f"{median:.0f} / {_p95(changed):.0f} ms", target, _p95(changed)))
            rows.append((f"{name}, cached (med/p95)",
                         f"{statistics.median(cached):.0f} / {_p95(cached):.0f} ms", None, None))
        whole = []
        for _ in range(max(3, runs // 4)):
            a_new_event()
            whole.append(get("/console/insights") + sum(
                get(f"/console/insights/charts/{name}.svg") for name in CHARTS))
        rows.append((f"page + its {len(CHARTS)} chart SVGs, one by one (med)",
                     f"{statistics.median(whole):.0f} ms", None, None))
        csv_ms = [get("/api/insights/export.csv") for _ in range(3)]
        rows.append(("GET /api/insights/export.csv, all rows (med)",
                     f"{statistics.median(csv_ms):.0f} ms", None, None))
    finally:
        http.close()  # before the server: a kept-alive connection would outlive it
        time.sleep(0.2)
        server.close()
        runtime.close()
    return rows
