"""What a flow is to the engine: a pure step function over plain-data state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bot.models import Case, Reply, Window
from nlu.base import ParseResult


@dataclass(frozen=True)
class Reserve:
    """Effect: reserve one slot of ``window``; the engine reports back with ``reserved``."""

    window: Window


@dataclass(frozen=True)
class Callback:
    """Effect: tell the shipper (``case.rescheduled`` ...)."""

    type: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Resolve:
    """Effect: the case is resolved with this outcome."""

    outcome: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Escalate:
    """Effect: hand the case to support staff."""

    reason: str


Effect = Reserve | Callback | Resolve | Escalate


@dataclass(frozen=True)
class Step:
    """A flow's answer to one input: new state, what to say, what to do."""

    state: dict[str, Any]
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True)
class FlowContext:
    """What a flow may know besides its state: the case, the time, the calendar rules."""

    case: Case
    now: datetime
    language: str
    holidays: frozenset = frozenset()


class Flow(Protocol):
    name: str

    def start(self, ctx: FlowContext, offers: list[Window]) -> Step:
        """Open the dialogue: the first proactive message."""
        ...

    def step(self, state: dict[str, Any], parse: ParseResult, ctx: FlowContext) -> Step:
        """Handle one customer message."""
        ...

    def prompt(self, state: dict[str, Any], ctx: FlowContext) -> Reply:
        """Repeat the current question (after HELP, START, a reminder)."""
        ...

    def claims(self, state: dict[str, Any], parse: ParseResult) -> bool:
        """True when this flow reads a message whose intent the engine would otherwise
        answer itself ("ok thanks" is a yes to a yes/no question, not small talk)."""
        ...

    def reserved(self, state: dict[str, Any], ok: bool, ctx: FlowContext) -> Step:
        """Continue after a :class:`Reserve` effect succeeded or failed."""
        ...
