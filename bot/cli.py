"""The ``doorstep`` command: serve, worker, chat, send-event and helpers."""

from __future__ import annotations

import dataclasses
import json
import signal
import sys
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import click

from bot.cli_customer import customer as customer_group
from bot.cli_customer import retention as retention_group
from bot.cli_demo import demo as demo_group
from bot.cli_demo import insights as insights_group
from bot.cli_nlu import nlu as nlu_group
from bot.cli_staff import staff as staff_group
from bot.cli_telegram import telegram as telegram_group
from bot.errors import ConfigError
from bot.settings import generated_secret, load_settings


def _settings():  # noqa: ANN202 - click helper
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None


@click.group()
def cli() -> None:
    """Doorstep: fix last-mile delivery exceptions by talking to the customer."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=16, show_default=True, type=int,
              help="HTTP threads (each open console holds one for its live updates).")
@click.option("--demo", is_flag=True, help="Add a demo login and sample cases (sandbox SMS "
              "only; not for production).")
@click.option("--web-workers", default=1, show_default=True, type=click.IntRange(1, 256),
              help="Web processes. Above 1 (or with --queue-workers other than 1) they run "
              "under gunicorn, each with --threads threads.")
@click.option("--queue-workers", default=1, show_default=True, type=click.IntRange(0, 256),
              help="Queue-worker processes (QUEUE_WORKER_THREADS threads each); 0: none "
              "here (they run elsewhere).")
def serve(host: str, port: int, threads: int, demo: bool, web_workers: int,
          queue_workers: int) -> None:
    """Run the web server and the queue workers: in one process by default, or as
    gunicorn web processes and ``doorstep worker`` processes watched together."""
    if (web_workers, queue_workers) != (1, 1):
        _serve_processes(host, port, threads, demo, web_workers, queue_workers)
        return
    import waitress

    from bot.broker import start_worker
    from bot.demo import DEMO_SHIPPER_PATH, SANDBOX_ONLY, demo_banner, prepare_demo
    from bot.demo_seed import seed_demo_once
    from bot.redis_server import stop_embedded_redis
    from bot.retention import start_sweeper
    from webhook_server import build, create_app

    settings = _settings()
    if demo and settings.twilio_enabled:
        raise click.ClickException(f"--demo {SANDBOX_ONLY}")
    if demo and settings.shipper_webhook_url is None:
        local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        settings = dataclasses.replace(
            settings, shipper_webhook_url=f"http://{local}:{port}{DEMO_SHIPPER_PATH}",
            shipper_webhook_secret=generated_secret())
    runtime = build(settings)
    info = prepare_demo(runtime) if demo else None
    seeded = seed_demo_once(runtime.store, settings) if demo else None
    app = create_app(runtime=runtime)
    runtime.insights.warm_up()  # the first insights page should not wait for the load
    # Listen before the workers start: their first jobs may call this server (--demo's
    # stand-in shipper), and a bound socket queues those requests until it serves.
    server = waitress.create_server(app, host=host, port=port, threads=threads)
    worker = start_worker(runtime.queue.broker, settings.queue_threads)
    sweeper = start_sweeper(runtime.store, settings)
    click.echo(f"Doorstep listening on http://{host}:{server.effective_port} "
               f"(Redis: {'REDIS_URL' if settings.redis_url else runtime.redis_url}; "
               f"SMS: {'Twilio' if settings.twilio_enabled else 'sandbox outbox'})", err=True)
    if info is not None:
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        for line in demo_banner(info, f"http://{shown}:{server.effective_port}"):
            click.echo(line, err=True)
        if seeded is not None:
            click.echo(f"Insights:  {seeded.cases} closed demo cases over the last 90 days "
                       f"(/console/insights; more with `doorstep demo seed`)", err=True)

    def stop(*_: object) -> None:
        server.close()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.run()
    except (OSError, ValueError):
        pass  # the server socket was closed by the signal handler
    finally:
        sweeper.stop()
        worker.stop()
        runtime.close()
        if settings.redis_url is None:
            stopped = stop_embedded_redis(settings.data_dir, only_if_unused=True)
            click.echo("embedded Redis " + ("stopped" if stopped else
                                            "left running: other processes use it"), err=True)


def _serve_processes(host: str, port: int, threads: int, demo: bool, web_workers: int,
                     queue_workers: int) -> None:
    """``serve`` as separate processes: prepare once here, then start and watch them."""
    import os

    from bot.demo import DEMO_SHIPPER_PATH, SANDBOX_ONLY, prepare_demo
    from bot.demo_seed import seed_demo_once
    from bot.redis_server import stop_embedded_redis
    from bot.supervisor import ProcessPlan, Supervisor, child_env, metrics_dir
    from webhook_server import build

    settings = _settings()
    if port == 0:
        raise click.ClickException("--port 0 needs --web-workers 1 --queue-workers 1")
    extra: dict[str, str] = {}
    if demo and settings.twilio_enabled:
        raise click.ClickException(f"--demo {SANDBOX_ONLY}")
    if demo and settings.shipper_webhook_url is None:
        local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        extra = {"SHIPPER_WEBHOOK_URL": f"http://{local}:{port}{DEMO_SHIPPER_PATH}",
                 "SHIPPER_WEBHOOK_SECRET": generated_secret()}
        settings = dataclasses.replace(settings, shipper_webhook_url=extra["SHIPPER_WEBHOOK_URL"],
                                       shipper_webhook_secret=extra["SHIPPER_WEBHOOK_SECRET"])
    # Once, before the children race for them: the embedded Redis, the NLU model, demo data.
    runtime = build(settings)
    if demo:
        prepare_demo(runtime)
        seed_demo_once(runtime.store, settings)
    runtime.close()
    extra.update(metrics_dir(os.environ, settings.data_dir))
    plan = ProcessPlan(host=host, port=port, web_workers=web_workers,
                       queue_workers=queue_workers, http_threads=threads,
                       env=child_env(os.environ, extra))
    supervisor = Supervisor(plan)
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    supervisor.start()
    click.echo(f"Doorstep on http://{host}:{port}: {web_workers} web process(es) under "
               f"gunicorn, {queue_workers} queue worker process(es) (Redis: "
               f"{'REDIS_URL' if settings.redis_url else 'embedded'})", err=True)
    status = supervisor.run()
    if settings.redis_url is None:  # the children just exited: give Redis a moment to see it
        stopped = stop_embedded_redis(settings.data_dir, only_if_unused=True, settle_s=3)
        click.echo("embedded Redis " + ("stopped" if stopped else
                                        "left running: other processes use it"), err=True)
    sys.exit(status)


@cli.command()
@click.option("--threads", default=None, type=int, help="Worker threads (QUEUE_WORKER_THREADS).")
def worker(threads: int | None) -> None:
    """Run queue workers only (beside gunicorn web processes)."""
    from bot.broker import start_worker
    from bot.retention import start_sweeper
    from webhook_server import build

    settings = _settings()
    runtime = build(settings)
    running = start_worker(runtime.queue.broker, threads or settings.queue_threads)
    sweeper = start_sweeper(runtime.store, settings)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    click.echo(f"Doorstep worker running ({threads or settings.queue_threads} threads)", err=True)
    done.wait()
    sweeper.stop()
    running.stop()
    runtime.close()


@cli.command()
@click.option("--phone", required=True, help="Talk as this customer, e.g. +15551230001.")
def chat(phone: str) -> None:
    """Talk to the bot in the terminal as an SMS customer would."""
    from bot.chat import run_chat

    run_chat(_settings(), phone)


@cli.command("send-event")
@click.argument("file", type=click.File("rb"))
@click.option("--url", default=None, help="Events endpoint [default: PUBLIC_URL/events].")
def send_event(file, url: str | None) -> None:  # noqa: ANN001 - click file
    """Sign FILE (a JSON event) with EVENTS_WEBHOOK_SECRET and POST it."""
    import requests
    from standardwebhooks import Webhook

    settings = _settings()
    body = file.read().decode()
    try:
        json.loads(body)
    except ValueError as exc:
        raise click.ClickException(f"{file.name} is not valid JSON: {exc}") from None
    msg_id = "msg_" + uuid.uuid4().hex
    now = datetime.now(UTC)
    headers = {"content-type": "application/json", "webhook-id": msg_id,
               "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Webhook(settings.events_webhook_secret).sign(msg_id, now, body)}
    target = url or settings.public_url + "/events"
    try:
        resp = requests.post(target, data=body.encode(), headers=headers, timeout=15)
    except requests.RequestException as exc:
        raise click.ClickException(f"could not reach {target}: {exc}") from None
    click.echo(f"{resp.status_code} {resp.text.strip()}")
    if resp.status_code >= 300:
        sys.exit(1)


@cli.command()
@click.option("--telegram", is_flag=True, help="A TELEGRAM_WEBHOOK_SECRET instead.")
def secret(telegram: bool) -> None:
    """Print a new whsec_ secret for EVENTS_WEBHOOK_SECRET or SHIPPER_WEBHOOK_SECRET."""
    if telegram:
        import secrets

        click.echo(secrets.token_urlsafe(32))
        return
    click.echo(generated_secret())


@cli.command()
@click.option("--phone", default=None, help="Only messages to this number.")
def outbox(phone: str | None) -> None:
    """List messages kept in the sandbox outbox (no Twilio credentials)."""
    import redis

    from bot.phones import normalise_phone
    from bot.runtime import resolve_redis_url
    from bot.store import Store

    settings = _settings()
    store = Store(redis.Redis.from_url(resolve_redis_url(settings)))
    for message in store.outbox(normalise_phone(phone) if phone else None):
        click.echo(f"--- {message['at']} to {message['to']} (case {message['case_id']})")
        click.echo(message["body"])


@cli.command()
@click.argument("case_id")
def case(case_id: str) -> None:
    """Show a case and its timeline as JSON."""
    import redis

    from bot.runtime import resolve_redis_url
    from bot.store import Store

    store = Store(redis.Redis.from_url(resolve_redis_url(_settings())))
    found = store.get_case(case_id)
    if found is None:
        raise click.ClickException(f"no case {case_id}")
    click.echo(json.dumps({"case": found.to_dict(), "timeline": store.timeline(case_id)},
                          indent=2, ensure_ascii=False))


@cli.command("redis-stop")
def redis_stop() -> None:
    """Stop the embedded Redis server under DOORSTEP_DATA_DIR."""
    from bot.redis_server import stop_embedded_redis

    settings = _settings()
    stopped = stop_embedded_redis(Path(settings.data_dir))
    click.echo("stopped" if stopped else "not running")


cli.add_command(nlu_group, name="nlu")
cli.add_command(telegram_group, name="telegram")
cli.add_command(staff_group, name="staff")
cli.add_command(customer_group, name="customer")
cli.add_command(retention_group, name="retention")
cli.add_command(demo_group, name="demo")
cli.add_command(insights_group, name="insights")


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="doorstep")


if __name__ == "__main__":
    main()
