"""Small interfaces the engine depends on; the app factory supplies the real ones."""

from __future__ import annotations

from typing import Any, Protocol

from bot.models import Outbound


class Dispatcher(Protocol):
    """Where the engine's outputs go: the durable outbound queue (or a terminal in `chat`)."""

    def send(self, outbounds: list[Outbound]) -> float | None:
        """Deliver one turn's messages to a customer, in order.

        Quiet hours hold proactive ones: returns the POSIX time they wait for, or None.
        """
        ...

    def callback(self, key: str, case_id: str, type: str, data: dict[str, Any]) -> None:
        """Post a signed callback to the shipper; ``key`` is its idempotency key."""
        ...

    def check_idle(self, channel: str, address: str, case_id: str, turns: int, stage: str,
                   delay_s: float) -> None:
        """Come back after ``delay_s`` to remind (stage ``remind``) or expire the case."""
        ...

    def check_overdue(self, case_id: str, since: str, delay_s: float) -> None:
        """Come back after ``delay_s``: an escalation still unclaimed then is overdue."""
        ...


class Sender(Protocol):
    """A channel's outbound half: send one message, return the provider's message id."""

    def send(self, outbound: Outbound) -> str:
        ...
