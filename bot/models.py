"""The domain's data: frozen dataclasses that cross module boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import Any

# Case lifecycle: open → awaiting_customer → resolved | escalated | expired
OPEN = "open"
AWAITING_CUSTOMER = "awaiting_customer"
RESOLVED = "resolved"
ESCALATED = "escalated"
EXPIRED = "expired"
CLOSED_STATUSES = frozenset({RESOLVED, EXPIRED})
# The customer tracking page's channel: its conversation is ("web", case id).
WEB = "web"


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def plain(value: Any) -> Any:
    """A dataclass as dicts, lists and tuples, like ``dataclasses.asdict`` but without its
    deep copy of every value (several times faster; it runs several times in every turn). Leaves are
    shared, which is safe for the str, int, float, bool and None the models hold."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    names = _FIELD_NAMES.get(type(value))
    if names is None and is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in fields(value))
    if names is not None:
        return {name: plain(getattr(value, name)) for name in names}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


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
class MediaRef:
    """A file the customer sent, not fetched yet: a Telegram ``file_id`` or an MMS URL."""

    ref: str
    size: int | None = None  # as the provider declared it, when it did
    declared_type: str | None = None  # as the provider declared it; the content decides

    def to_dict(self) -> dict[str, Any]:
        return plain(self)


@dataclass(frozen=True)
class Contact:
    """A phone contact shared in Telegram, and whether it is the sender's own."""

    phone: str
    own: bool


@dataclass(frozen=True)
class Inbound:
    """One message from a customer, as a channel adapter parsed it (cf. Rasa's UserMessage).

    A button press arrives as the text the button stands for; ``ack_id`` is the
    provider's handle to acknowledge it (Telegram's ``callback_query`` id).
    """

    channel: str
    sender: str
    text: str
    message_id: str
    received_at: datetime
    media: tuple[MediaRef, ...] = ()
    contact: Contact | None = None
    start_token: str | None = None  # Telegram ``/start <token>`` deep-link payload
    ack_id: str | None = None
    unsupported: tuple[str, ...] = ()  # kinds of attachments we cannot take (e.g. "video")
    locale: str | None = None  # the app's language, when the channel says (Telegram does)

    def to_dict(self) -> dict[str, Any]:
        data = plain(self)
        data["received_at"] = self.received_at.isoformat()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Inbound:
        contact = data.get("contact")
        return cls(**{**data, "received_at": datetime.fromisoformat(data["received_at"]),
                      "media": tuple(MediaRef(**m) for m in data.get("media") or ()),
                      "contact": Contact(**contact) if contact else None,
                      "unsupported": tuple(data.get("unsupported") or ())})


@dataclass(frozen=True)
class Reply:
    """What a flow wants to say, channel-neutral.

    ``choices`` are numbered options: SMS lists them as ``1) ...``, Telegram shows one
    button each that answers with the number. ``quick_replies`` are ``(label, answer)``
    buttons for Telegram only (e.g. Yes/No, Skip), so the text must still say what to
    type on SMS. ``ask_contact`` offers Telegram's "share my phone number" button.
    """

    text: str
    choices: tuple[str, ...] = ()
    quick_replies: tuple[tuple[str, str], ...] = ()
    ask_contact: bool = False


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
    quick_replies: tuple[tuple[str, str], ...] = ()
    ask_contact: bool = False
    language: str = "en"
    # "bot" (automatic), "system" (about the hand-off: the ETA, who joined, overdue) or
    # "staff": a proactive "bot" message is never sent while a person handles the case.
    author: str = "bot"

    def to_dict(self) -> dict[str, Any]:
        return plain(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outbound:
        return cls(**{**data, "choices": tuple(data.get("choices") or ()),
                      "quick_replies": tuple(tuple(q) for q in data.get("quick_replies") or ())})


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
    # While escalated: reason, summary, escalated_at, eta_minutes, overdue, and the staff
    # member holding it (assignee, assignee_name, claimed_at); None otherwise.
    handoff: dict[str, Any] | None = None

    @property
    def held_by(self) -> str | None:
        """The email of the staff member holding this case, if one does."""
        return (self.handoff or {}).get("assignee") if self.status == ESCALATED else None

    def to_dict(self) -> dict[str, Any]:
        return plain(self)

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
    fallbacks: int = 0  # messages in a row the NLU could not read (two go to a person)
    # A question the engine itself asked (which parcel? what instructions? who are you?),
    # answered by the next message before the flow sees anything.
    pending: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return plain(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conversation:
        return cls(**data)
