"""Demo seed data: synthetic cases written like live ones, closed, never texted.

Seeded into a real Redis with a fixed ``now`` and seed; the insights over them are
checked for consistency, not for exact values (those are in ``test_insights.py``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from bot.cli import cli
from bot.demo_seed import SeedResult, seed_cases
from bot.insights import Filters, Insights
from bot.models import CLOSED_STATUSES, ESCALATED, EXPIRED, RESOLVED
from bot.store import Store, key_for

pytestmark = pytest.mark.timeout(180)
NOW = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
TZ = "America/New_York"
ROOT = Path(__file__).resolve().parent.parent
# The modules whose timeline entries a seeded case imitates.
LIVE = ("bot/cases.py", "bot/engine.py", "bot/queue.py", "bot/delivery_reports.py",
        "bot/desk.py", "bot/idle.py", "bot/escalation.py", "bot/callback_jobs.py",
        "bot/failover.py")
FIELDS = {  # the fields the live code writes, for the kinds the insights read
    "case.opened": {"type", "carrier", "reason", "postal_code"},
    "event.received": {"type", "webhook_id", "occurred_at"},
    "message.queued": {"key", "channel", "text", "choices", "author"},
    "message.sent": {"key", "provider_id", "channel"},
    "message.status": {"key", "status", "error_code"},
    "message.failed": {"key", "error_code", "reason", "channel"},
    "message.in": {"channel", "message_id", "text", "attachments"},
    "windows.offered": {"windows", "count"},
    "case.escalated": {"reason", "eta_minutes"},
    "staff.claimed": {"by", "name"},
}


def seeded_figures(store: Store, result: SeedResult) -> dict:
    return Insights(store, TZ).figures(Filters(result.first_day, result.last_day))


@pytest.fixture
def store(redis_client: redis.Redis) -> Store:
    return Store(redis_client)


@pytest.fixture
def seeded(store: Store) -> SeedResult:
    return seed_cases(store, 400, seed=11, now=NOW, timezone=TZ)


def test_seeding_writes_closed_cases_over_the_last_days(store: Store,
                                                        seeded: SeedResult) -> None:
    ids = store.recent_case_ids(1000)
    assert len(ids) == seeded.cases == 400
    cases = store.get_cases(ids)
    assert {c.status for c in cases} <= CLOSED_STATUSES
    assert all(c.details["demo"] is True for c in cases)
    assert all(re.fullmatch(r"\+1\d{3}55501\d\d", c.phone) for c in cases if c.phone)
    oldest = NOW - timedelta(days=91)
    assert all(oldest < datetime.fromisoformat(c.created_at) <= NOW for c in cases)
    assert (seeded.first_day, seeded.last_day) == (NOW.date() - timedelta(days=89), NOW.date())
    assert sum(seeded.closed_by.values()) == 400


def test_timelines_hold_only_entries_the_live_code_writes(store: Store,
                                                          seeded: SeedResult) -> None:
    source = "".join((ROOT / path).read_text() for path in LIVE)
    statuses = {f"case.{s}" for s in (RESOLVED, EXPIRED, ESCALATED)}  # f"case.{status}"
    seen: set[str] = set()
    for case_id in store.recent_case_ids(60):
        timeline = store.timeline(case_id)
        assert timeline[0]["kind"] == "case.opened" and timeline[1]["kind"] == "event.received"
        assert timeline[-1]["at"] <= NOW.isoformat()
        for entry in timeline:
            kind = entry["kind"]
            seen.add(kind)
            assert kind in statuses or f'"{kind}"' in source, kind
            assert FIELDS.get(kind, set()) <= set(entry), (kind, entry)
    assert {"case.opened", "message.queued", "message.sent", "case.resolved"} <= seen


def test_figures_over_the_seeded_store_are_plausible_and_consistent(
        store: Store, seeded: SeedResult) -> None:
    figures = seeded_figures(store, seeded)
    n = seeded.cases
    assert figures["cases"] == n
    out = figures["outcomes"]
    assert out["resolved_by_customer"] + out["resolved_by_staff"] + \
        out["resolved_by_shipper"] + out["expired"] == n
    assert out["open"] == 0
    assert out["resolved_by_staff"] == seeded.closed_by["staff"]
    assert 0.4 < figures["rates"]["self_service"] < 0.8
    assert 0.05 < figures["rates"]["escalation"] < 0.35
    assert all(figures["top"][name] for name in ("postal_codes", "carriers", "reasons"))
    assert figures["top"]["reasons"][0][0] == "no_one_home"
    for name in ("time_to_resolution", "time_to_first_staff_response"):
        assert figures["durations"][name]["median_s"] > 0
    assert figures["reschedule"]["offered"] > figures["reschedule"]["booked_first_offer"] > 0
    assert figures["delivery"]["sms"]["queued"] > 0 and figures["delivery"]["telegram"]["sent"] > 0
    assert 0 < figures["opt_out"]["rate"] < 0.1
    assert sum(sum(series) for series in figures["over_time"]["by_type"].values()) == n


def test_the_same_seed_gives_the_same_figures(store: Store, seeded: SeedResult) -> None:
    first = seeded_figures(store, seeded)
    store.redis.flushall()
    again = seed_cases(store, 400, seed=11, now=NOW, timezone=TZ)
    assert seeded_figures(store, again) == first
    store.redis.flushall()
    other = seed_cases(store, 400, seed=12, now=NOW, timezone=TZ)
    assert seeded_figures(store, other) != first


def test_seeding_a_seed_already_there_is_refused(store: Store, seeded: SeedResult) -> None:
    with pytest.raises(ValueError, match="already in this store"):
        seed_cases(store, 10, seed=11, now=NOW, timezone=TZ)


def test_seeded_cases_are_no_live_work_and_nothing_is_sent(system) -> None:  # noqa: ANN001
    store = system.runtime.store
    seed_cases(store, 300, seed=5, timezone=system.settings.default_timezone)
    time.sleep(0.5)  # the queue workers are running: give them a chance to find anything
    system.drain()
    assert system.runtime.inbox.conversations() == []  # the staff inbox's waiting list
    assert system.runtime.inbox.conversations(view="unassigned") == []
    assert store.escalated_case_ids() == []
    assert store.redis.keys(key_for("out", "*")) == []  # no outbound message recorded
    assert store.redis.keys(key_for("conv", "*")) == []  # no conversation to answer in
    assert store.outbox() == []
    assert system.twilio.messages == [] and system.telegram.sent() == []
    assert system.shipper.callbacks == []
    figures = system.runtime.insights.figures(Filters.from_query({}, system.runtime.insights
                                                                 .today()))
    assert figures["cases"] == 300


def _doorstep(redis_url: str, tmp_path: Path, *args: str, **env: str | None):  # noqa: ANN202
    base = {"REDIS_URL": redis_url, "DOORSTEP_DATA_DIR": str(tmp_path),
            "EVENTS_WEBHOOK_SECRET": "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "TWILIO_ACCOUNT_SID": None, "TWILIO_AUTH_TOKEN": None, "TWILIO_FROM_NUMBER": None}
    return CliRunner().invoke(cli, list(args), env={**base, **env})


def test_cli_seeds_and_a_rebuild_gives_the_same_figures(redis_client: redis.Redis,
                                                        redis_url: str, tmp_path: Path) -> None:
    done = _doorstep(redis_url, tmp_path, "demo", "seed", "--cases", "200", "--seed", "4")
    assert done.exit_code == 0, done.output
    assert "seeded 200 demo cases" in done.output and "closed by:" in done.output
    store = Store(redis_client)
    insights = Insights(store, TZ)
    filters = Filters.from_query({}, insights.today())
    before = insights.figures(filters)
    assert before["cases"] == 200
    rebuilt = _doorstep(redis_url, tmp_path, "insights", "rebuild")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "200 cases" in rebuilt.output
    assert Insights(store, TZ).figures(filters) == before


def test_cli_refuses_to_seed_with_twilio_configured(redis_client: redis.Redis, redis_url: str,
                                                   tmp_path: Path) -> None:
    done = _doorstep(redis_url, tmp_path, "demo", "seed", "--cases", "200",
                     TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN="t" * 32,
                     TWILIO_FROM_NUMBER="+15005550006")
    assert done.exit_code == 1
    assert "Twilio is configured" in done.output
    assert redis_client.zcard(key_for("cases")) == 0


def test_bench_insights_runs_and_prints_its_table(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TWILIO_", "REDIS_URL", "SHIPPER_"))}
    env["DOORSTEP_DATA_DIR"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-m", "bench", "insights", "--cases", "2000"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=170)
    assert done.returncode == 0, done.stderr[-3000:]
    for figure in ("seed", "cold load", "figures", "CSV export", "recording"):
        assert figure in done.stdout, done.stdout
    assert "target" in done.stdout


def test_serve_demo_seeds_an_empty_store_once(store: Store, tmp_path: Path) -> None:
    from bot.demo_seed import seed_demo_once
    from bot.settings import load_settings

    settings = load_settings({"DOORSTEP_DATA_DIR": str(tmp_path), "EVENTS_WEBHOOK_SECRET":
                              "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, read_dotenv=False)
    first = seed_demo_once(store, settings, count=50)
    assert first is not None and first.cases == 50
    assert seed_demo_once(store, settings, count=50) is None  # a second start
    assert store.redis.zcard(key_for("cases")) == 50
    store.redis.delete(key_for("demo", "insights_seeded"))
    assert seed_demo_once(store, settings, count=50) is None  # a store in use
