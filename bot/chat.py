"""``doorstep chat``: be an SMS customer in the terminal, through the real engine and store."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import click

from bot.engine import Engine
from bot.models import Inbound, Outbound
from bot.phones import normalise_phone
from bot.queue import OutboundQueue
from bot.settings import Settings
from bot.store import now_iso


class TerminalDispatcher:
    """Print replies to this customer; everything else goes to the real queue."""

    def __init__(self, queue: OutboundQueue, phone: str) -> None:
        self.queue = queue
        self.phone = phone

    def send(self, outbounds: list[Outbound]) -> float | None:
        if outbounds[0].to != self.phone or outbounds[0].channel != "sms":
            return self.queue.send(outbounds)
        from channels.render import render_sms

        for outbound in outbounds:
            self.queue.store.update_outbound(outbound.key, status="delivered",
                                             channel="terminal", provider_id="chat",
                                             sent_at=now_iso())
            click.secho(render_sms(outbound.text, outbound.choices), fg="green")
        return None

    def callback(self, key: str, case_id: str, type: str, data: dict[str, Any]) -> None:
        self.queue.callback(key, case_id, type, data)
        click.secho(f"[callback {type} queued: a running `doorstep serve` or `doorstep worker` "
                    "delivers it]", fg="yellow")

    def check_idle(self, channel: str, address: str, case_id: str, turns: int, stage: str,
                   delay_s: float) -> None:
        self.queue.check_idle(channel, address, case_id, turns, stage, delay_s)

    def check_overdue(self, case_id: str, since: str, delay_s: float) -> None:
        self.queue.check_overdue(case_id, since, delay_s)


def run_chat(settings: Settings, phone: str) -> None:
    """Read lines from the terminal and answer as the bot would over SMS."""
    from webhook_server import build

    number = normalise_phone(phone)
    if number is None:
        raise click.ClickException(f"{phone!r} is not a phone number; use E.164, "
                                   "e.g. +15551230001")
    runtime = build(settings)
    engine = Engine(runtime.store, runtime.nlu, TerminalDispatcher(runtime.queue, number),
                    settings)
    try:
        for message in runtime.store.outbox(number)[-3:]:
            click.secho(f"[earlier, {message['at']}]\n{message['body']}", fg="cyan")
        click.echo(f"Chatting as {number}. Type a message; Ctrl-D to quit.")
        while True:
            try:
                text = input("> ")
            except (EOFError, KeyboardInterrupt):
                click.echo()
                break
            if not text.strip():
                continue
            engine.handle(Inbound(channel="sms", sender=number, text=text,
                                  message_id="CH" + secrets.token_hex(16),
                                  received_at=datetime.now(UTC)))
    finally:
        runtime.close()
