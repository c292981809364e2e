"""The domain's data: frozen dataclasses that cross module boundaries."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

# Case lifecycle: open → awaiting_customer → resolved | escalated | expired
OPEN = "open"
AWAITING_CUSTOMER = "awaiting_customer"
RESOLVED = "resolved"
ESCALATED = "escalated"
EXPIRED = "expired"
CLOSED_STATUSES = frozenset({RESOLVED, EXPIRED})


@dataclass(frozen=True)
class Window:
    """A delivery window: timezone-aware start and end."""

    start: datetime
    end: datetime

    def to_dict(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Window:
        return cls(datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"]))


@dataclass(frozen=True)
class Inbound:
    """One message from a customer, as a channel adapter parsed it (cf. Rasa's UserMessage)."""

    channel: str
    sender: str
    text: str
    message_id: str
    received_at: datetime


@dataclass(frozen=True)
class Reply:
    """What a flow wants to say: text plus the choices to render (numbers in SMS)."""

    text: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outbound:
    """A message queued for a channel sender. ``key`` makes the send idempotent."""

    key: str
    channel: str
    to: str
    text: str
    choices: tuple[str, ...] = ()
    case_id: str | None = None
    proactive: bool = False
    timezone: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outbound:
        return cls(**{**data, "choices": tuple(data.get("choices") or ())})


@dataclass(frozen=True)
class Case:
    """An exception case: what happened to a shipment, and where its resolution stands."""

    id: str
    type: str
    status: str
    tracking_number: str
    carrier: str
    order_ref: str | None
    recipient_name: str | None
    phone: str | None
    telegram_chat_id: int | None
    language: str
    timezone: str
    reason: str | None
    details: dict[str, Any]
    shipment: dict[str, Any]
    created_at: str
    updated_at: str
    resolution: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Case:
        return cls(**data)


@dataclass
class Conversation:
    """One customer on one channel: which case, which flow, and the flow's state."""

    channel: str
    address: str
    case_id: str | None = None
    flow: str | None = None
    state: dict[str, Any] = field(default_factory=dict)
    language: str = "en"
    turns: int = 0
    last_inbound_at: str | None = None
    reminded: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conversation:
        return cls(**data)
