"""GET /metrics: Prometheus text that parses, counts that match what happened, gunicorn.

Counters are process-wide, so each test compares a scrape before with one after. The
multi-process proof runs real gunicorn with two workers sharing PROMETHEUS_MULTIPROC_DIR.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dramatiq
import pytest
import requests
from console_support import escalate
from dramatiq.brokers.redis import RedisBroker
from prometheus_client.parser import text_string_to_metric_families

from bot.desk import Actor
from bot.errors import ConfigError
from bot.metrics import RedisGauges, exposition
from bot.settings import load_settings
from fakes.telegram_updates import text_update
from support import (
    System,
    failed_event,
    free_port,
    signed_headers,
    stop_processes,
    wait_for,
    wait_ready,
)

ROOT = Path(__file__).resolve().parent.parent
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
TOKEN = "metrics-token-" + "x" * 20
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def parse(text: str) -> Samples:
    """Every sample, by name and labels (the text must parse as Prometheus' format)."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(system: System, **headers: str) -> Samples:
    resp = system.http.get(system.url + "/metrics", headers=headers, timeout=15)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(resp.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def changes(before: Samples, after: Samples, name: str) -> dict[frozenset, float]:
    """The samples of ``name`` that changed, by labels, and by how much."""
    keys = {k for k in (*before, *after) if k[0] == name}
    moved = {k[1]: after.get(k, 0.0) - before.get(k, 0.0) for k in keys}
    return {labels: delta for labels, delta in moved.items() if delta}


def labels(**pairs: str) -> frozenset[tuple[str, str]]:
    return frozenset(pairs.items())


def test_counts_follow_events_turns_replays_refusals_and_sends(system, customer):
    before = scrape(system)
    event = failed_event(phone=customer.phone)
    assert system.post_event(event, webhook_id="msg_metrics_1").status_code == 202
    assert system.post_event(event, webhook_id="msg_metrics_1").json()["duplicate"] is True
    assert system.post_event(failed_event(), secret="whsec_" + "A" * 32).status_code == 401
    customer.offered()
    customer.say("2", sid="SM" + "b" * 32)
    assert "YES" in customer.reply()
    customer.say("2", sid="SM" + "b" * 32)
    assert system.sms(customer.phone, "1", signature="forged").status_code == 403
    customer.silence()
    after = scrape(system)

    assert changes(before, after, "doorstep_webhook_requests_total") == {
        labels(endpoint="events", outcome="accepted"): 1,
        labels(endpoint="events", outcome="replay"): 1,
        labels(endpoint="events", outcome="unauthorized"): 1,
        labels(endpoint="twilio_sms", outcome="accepted"): 1,
        labels(endpoint="twilio_sms", outcome="replay"): 1,
        labels(endpoint="twilio_sms", outcome="unauthorized"): 1,
    }
    assert changes(before, after, "doorstep_turns_total") == {
        labels(channel="sms", outcome="handled"): 1, labels(channel="sms", outcome="replay"): 1}
    assert changes(before, after, "doorstep_turn_seconds_count") == {labels(channel="sms"): 1}
    assert value(after, "doorstep_turn_seconds_bucket", channel="sms", le="+Inf") == \
        value(after, "doorstep_turn_seconds_count", channel="sms")
    # The two first texts of the case, then the answer to "2".
    assert changes(before, after, "doorstep_outbound_messages_total") == {
        labels(channel="sms", status="sent"): 3}
    assert value(after, "doorstep_metrics_redis_up") == 1


def test_telegram_updates_are_counted_and_their_turns_timed_in_the_worker(system):
    chat = system.chat(4242)
    update = text_update(chat.update_id(), 4242, "hello")
    before = scrape(system)
    chat.post(update)
    chat.reply()
    assert chat.post(update).json() == {"ok": True, "duplicate": True}
    assert system.telegram_post({}, secret="wrong").status_code == 403
    chat.silence()
    after = scrape(system)
    assert changes(before, after, "doorstep_webhook_requests_total") == {
        labels(endpoint="telegram", outcome="accepted"): 1,
        labels(endpoint="telegram", outcome="replay"): 1,
        labels(endpoint="telegram", outcome="unauthorized"): 1,
    }
    assert changes(before, after, "doorstep_turn_seconds_count") == {
        labels(channel="telegram"): 1}
    assert changes(before, after, "doorstep_outbound_messages_total") == {
        labels(channel="telegram", status="sent"): 1}


def test_refusals_before_the_view_are_counted_too(make_system):
    system = make_system(RATE_LIMIT_WEBHOOKS="2/minute", MAX_BODY_BYTES="1024")
    before = scrape(system)
    form = {"MessageSid": "SM" + "c" * 32, "MessageStatus": "delivered"}
    assert system.twilio_post("/webhooks/twilio/status", form).status_code == 204
    assert system.twilio_post("/webhooks/twilio/status",
                              {**form, "Pad": "x" * 2048}).status_code == 413
    assert system.twilio_post("/webhooks/twilio/status", form).status_code == 429
    assert changes(before, scrape(system), "doorstep_webhook_requests_total") == {
        labels(endpoint="twilio_status", outcome="accepted"): 1,
        labels(endpoint="twilio_status", outcome="invalid"): 1,
        labels(endpoint="twilio_status", outcome="rate_limited"): 1,
    }


def test_queue_gauges_show_jobs_no_worker_has_taken(system):
    system.worker.stop()
    system.worker = None
    broker = system.runtime.queue.broker
    # A job due two minutes ago that nobody took: its age is at least that.
    broker.enqueue(dramatiq.Message(queue_name="idle", actor_name="check_overdue",
                                    args=("case", "since"), kwargs={}, options={},
                                    message_timestamp=int((time.time() - 120) * 1000)))
    assert system.post_event(failed_event()).status_code == 202
    samples = scrape(system)
    assert value(samples, "doorstep_queue_depth", queue="outbound") == 1  # the first texts
    assert value(samples, "doorstep_queue_depth", queue="idle") == 1
    assert value(samples, "doorstep_queue_delayed", queue="idle") == 1  # the reminder
    assert value(samples, "doorstep_queue_oldest_age_seconds", queue="idle") >= 120
    assert value(samples, "doorstep_queue_depth", queue="callbacks") == 0
    assert value(samples, "doorstep_queue_oldest_age_seconds", queue="callbacks") == 0
    assert value(samples, "doorstep_metrics_redis_up") == 1


def test_escalations_waiting_and_held_are_counted(system):
    waiting = system.customer("+15551230001")
    held = system.customer("+15551230002")
    escalate(system, waiting)
    system.runtime.desk.claim(escalate(system, held), Actor("sam@example.com", "Sam", "agent"))
    samples = scrape(system)
    assert value(samples, "doorstep_escalations_waiting") == 1
    assert value(samples, "doorstep_escalations_held") == 1
    assert value(samples, "doorstep_escalations_overdue") == 0
    assert value(samples, "doorstep_dead_letters") == 0


def test_without_redis_the_gauges_are_left_out_and_redis_up_is_zero():
    dead = RedisBroker(url=f"redis://127.0.0.1:{free_port()}/0", namespace="doorstep-queue")
    dead.declare_queue("outbound")

    def nothing_answers() -> tuple[int, int, int, list[float]]:
        dead.client.ping()
        raise AssertionError("unreachable")

    samples = parse(exposition(RedisGauges(dead, nothing_answers, lambda: 0)).decode())
    assert value(samples, "doorstep_metrics_redis_up") == 0
    assert not any(name.startswith(("doorstep_queue_", "doorstep_escalations_"))
                   for name, _ in samples)
    dead.close()


def test_metrics_token_is_required_when_set(make_system):
    system = make_system(METRICS_TOKEN=TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": TOKEN}):
        resp = system.http.get(system.url + "/metrics", headers=headers, timeout=15)
        assert resp.status_code == 401
        assert resp.json()["status"] == 401 and "METRICS_TOKEN" in resp.json()["error"]
    assert value(scrape(system, Authorization=f"Bearer {TOKEN}"),
                 "doorstep_metrics_redis_up") == 1


@pytest.mark.parametrize(("name", "bad"), [("METRICS_TOKEN", "short"),
                                          ("PROMETHEUS_MULTIPROC_DIR", "a-file/metrics")])
def test_bad_metrics_settings_are_refused_at_start(tmp_path, name, bad):
    (tmp_path / "a-file").write_text("not a directory")
    with pytest.raises(ConfigError, match=name):
        load_settings({"DOORSTEP_DATA_DIR": str(tmp_path), name: str(tmp_path / bad)
                       if "/" in bad else bad}, read_dotenv=False)


def test_gunicorn_workers_and_a_queue_worker_are_summed(redis_url, redis_client, twilio_api,
                                                       tmp_path):
    port, prom = free_port(), tmp_path / "prometheus"
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TWILIO_", "SHIPPER_", "REDIS_URL", "PROMETHEUS_"))}
    env.update(REDIS_URL=redis_url, DOORSTEP_DATA_DIR=str(tmp_path / "data"), PUBLIC_URL=url,
               EVENTS_WEBHOOK_SECRET=SECRET, QUIET_HOURS="off", RATE_LIMIT_EVENTS="off",
               TWILIO_ACCOUNT_SID=twilio_api.account_sid, TWILIO_FROM_NUMBER="+15005550006",
               TWILIO_AUTH_TOKEN=twilio_api.auth_token, TWILIO_API_BASE_URL=twilio_api.url,
               TWILIO_MESSAGES_PER_SECOND="0", PROMETHEUS_MULTIPROC_DIR=str(prom))
    log = (tmp_path / "procs.log").open("ab")
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                            "-w", "2", "-k", "sync", "-b", f"127.0.0.1:{port}",
                            "webhook_server:create_app()"], cwd=ROOT, env=env, stdout=log,
                           stderr=log)
    worker = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env=env, stdout=log,
                              stderr=log)
    try:
        wait_ready(url, tmp_path / "procs.log")

        def unsigned_event(_: int) -> int:  # a new connection each: either worker may take it
            return requests.post(url + "/events", json={}, timeout=10).status_code

        def web_pids() -> set[str]:
            pids = {path.stem.split("_")[-1] for path in prom.glob("counter_*.db")}
            return pids - {str(worker.pid)}

        sent = 0
        with ThreadPoolExecutor(8) as pool:
            for _ in range(20):  # until both workers have counted some (nearly always at once)
                assert set(pool.map(unsigned_event, range(16))) == {401}
                sent += 16
                if len(web_pids()) == 2:
                    break
        assert len(web_pids()) == 2, "one gunicorn worker took every request"
        # The first texts of a case are sent, and counted, by the queue worker process.
        body = json.dumps(failed_event())
        assert requests.post(url + "/events", data=body, headers=signed_headers(SECRET, body),
                             timeout=10).status_code == 202
        twilio_api.wait_for_messages(2, timeout=20)

        def after_two_sends() -> Samples | None:
            got = parse(requests.get(url + "/metrics", timeout=10).text)
            sends = value(got, "doorstep_outbound_messages_total", channel="sms", status="sent")
            return got if sends == 2 else None

        samples = wait_for("the queue worker's two sends in /metrics", after_two_sends)
        assert value(samples, "doorstep_webhook_requests_total", endpoint="events",
                     outcome="unauthorized") == sent
        assert value(samples, "doorstep_webhook_requests_total", endpoint="events",
                     outcome="accepted") == 1
    finally:
        stop_processes(web, worker)

