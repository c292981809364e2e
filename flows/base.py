"""What a flow is to the engine: a pure step function over plain-data state.

A flow never does I/O. It returns a :class:`Step`: its new state, the replies to
send (channel-neutral :class:`~bot.models.Reply`), and effects the engine carries out
(reserve a window, post a callback, update, resolve or escalate the case, switch flow).
"""

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
    """Effect: hand the case to support staff; ``summary`` is what the bot collected."""

    reason: str
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class UpdateCase:
    """Effect: merge these keys into the case's ``shipment`` and ``details``."""

    shipment: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SwitchFlow:
    """Effect: leave this flow and start ``flow`` as if the customer had asked for it."""

    flow: str


Effect = Reserve | Callback | Resolve | Escalate | UpdateCase | SwitchFlow


@dataclass(frozen=True)
class Step:
    """A flow's answer to one input: new state, what to say, what to do."""

    state: dict[str, Any]
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()


@dataclass(frozen=True)
class MediaItem:
    """A file the customer sent, already checked and stored (see ``bot/media.py``)."""

    id: str
    content_type: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "content_type": self.content_type, "size": self.size}


@dataclass(frozen=True)
class PickupPoint:
    """A place customers outside the service area can collect a parcel from."""

    name: str
    address: str


@dataclass(frozen=True)
class FlowConfig:
    """Operator settings flows read (from ``bot.settings``; defaults for tests)."""

    service_area: tuple[str, ...] = ()  # postal codes or prefixes; empty: deliver anywhere
    pickup_points: tuple[PickupPoint, ...] = ()
    damage_value_limit: float | None = None  # claims on shipments worth more go to staff
    max_photos: int = 5


@dataclass(frozen=True)
class FlowContext:
    """What a flow may know besides its state.

    ``trigger`` is ``"event"`` when a shipper's event started the flow and
    ``"customer"`` when the customer asked for it mid-conversation. ``media`` holds the
    photos that came with this message, already stored and type-checked.
    """

    case: Case
    now: datetime
    language: str
    holidays: frozenset = frozenset()
    config: FlowConfig = FlowConfig()
    media: tuple[MediaItem, ...] = ()
    trigger: str = "event"


class Flow(Protocol):
    name: str
    accepts_media: bool  # whether a message of photos alone goes to ``step``
    own_alarms: frozenset[str]  # alarm kinds (bot.escalation) the flow handles itself

    def start(self, ctx: FlowContext, offers: list[Window],
              parse: ParseResult | None = None) -> Step:
        """Open the dialogue. ``parse`` is the customer's message when they asked for
        this flow themselves ("my address is wrong, it's 12 Elm St"): use what it holds."""
        ...

    def step(self, state: dict[str, Any], parse: ParseResult, ctx: FlowContext) -> Step:
        """Handle one customer message (``parse.text`` may be empty when only photos came)."""
        ...

    def prompt(self, state: dict[str, Any], ctx: FlowContext) -> Reply:
        """Repeat the current question (after HELP, START, a reminder, a side question)."""
        ...

    def claims(self, state: dict[str, Any], parse: ParseResult) -> bool:
        """True when this flow reads a message whose intent the engine would otherwise
        answer itself or route to another flow ("ok thanks" is a yes to a yes/no
        question; a free-text description is the flow's, whatever its intent)."""
        ...

    def reserved(self, state: dict[str, Any], ok: bool, ctx: FlowContext) -> Step:
        """Continue after a :class:`Reserve` effect succeeded or failed."""
        ...
