"""The exception-event contract: validate a shipper's ``POST /events`` body.

A malformed body raises :class:`~bot.errors.EventError` naming the first bad field
(dotted path, e.g. ``shipment.recipient.phone``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.errors import EventError
from bot.phones import normalise_phone

EVENT_TYPES = ("delivery.failed", "delivery.damaged", "delivery.delayed", "delivery.misrouted",
               "delivery.address_invalid", "delivery.delivered", "delivery.returned")
CLOSING_TYPES = frozenset({"delivery.delivered", "delivery.returned"})


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a UTC offset, e.g. 2026-11-24T17:00:00-05:00")
    return value


class TimeWindow(BaseModel):
    model_config = ConfigDict(extra="allow")
    start: datetime
    end: datetime

    _aware_start = field_validator("start", "end")(_aware)

    @model_validator(mode="after")
    def _ordered(self) -> TimeWindow:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Recipient(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)
    language: str | None = Field(default=None, max_length=16)
    telegram_chat_id: int | None = None


class Address(BaseModel):
    model_config = ConfigDict(extra="allow")
    line1: str | None = Field(default=None, max_length=300)
    line2: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=120)
    region: str | None = Field(default=None, max_length=120)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, min_length=2, max_length=2)


class Money(BaseModel):
    amount: float = Field(ge=0)
    currency: str = Field(min_length=3, max_length=3)


class Shipment(BaseModel):
    model_config = ConfigDict(extra="allow")
    tracking_number: str = Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9\-]+$")
    order_ref: str | None = Field(default=None, max_length=64)
    carrier: str = Field(min_length=1, max_length=64)
    recipient: Recipient
    address: Address | None = None
    timezone: str | None = None
    value: Money | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long
            raise ValueError("must be an IANA timezone such as America/New_York") from None
        return value


class Details(BaseModel):
    model_config = ConfigDict(extra="allow")
    reason: str | None = Field(default=None, max_length=64)
    driver_note: str | None = Field(default=None, max_length=1000)
    available_windows: list[TimeWindow] | None = Field(default=None, max_length=50)
    new_eta: datetime | None = None
    telegram_invite: bool | None = None  # add a Telegram deep link to the first SMS

    _aware_eta = field_validator("new_eta")(lambda v: v if v is None else _aware(v))


class ExceptionEvent(BaseModel):
    """A delivery-exception event as a shipper posts it."""

    model_config = ConfigDict(extra="allow")
    type: Literal[EVENT_TYPES]  # type: ignore[valid-type]
    occurred_at: datetime
    shipment: Shipment
    details: Details = Field(default_factory=Details)

    _aware_occurred = field_validator("occurred_at")(_aware)


def parse_event(body: Any) -> tuple[ExceptionEvent, str | None]:
    """Validate ``body``; return the event and the recipient's E.164 phone (or None)."""
    if not isinstance(body, dict):
        raise EventError("body", "must be a JSON object")
    try:
        event = ExceptionEvent.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "body"
        raise EventError(field, first["msg"]) from None
    recipient = event.shipment.recipient
    phone = None
    if recipient.phone:
        country = (event.shipment.address.country if event.shipment.address else None) or "US"
        phone = normalise_phone(recipient.phone, country.upper())
        if phone is None:
            raise EventError("shipment.recipient.phone", "is not a valid phone number")
    if phone is None and recipient.telegram_chat_id is None \
            and event.type not in CLOSING_TYPES:
        raise EventError("shipment.recipient", "needs a phone or a telegram_chat_id")
    if event.type == "delivery.delayed" and event.details.new_eta is None:
        raise EventError("details.new_eta", "is required for delivery.delayed")
    return event, phone
