"""Sample exception events and a demo login, for trying Doorstep on one machine.

``doorstep serve --demo`` calls :func:`prepare_demo`: a supervisor ``demo@doorstep.local``
with a known password and four sample cases on sandbox phone numbers, one of them
already waiting for a person. The console's simulator (``console/simulator.py``) opens
its cases with :func:`open_sample` and speaks for the customer with :func:`customer_says`.

Only with the sandbox SMS channel: with Twilio configured, real texts would go to the
sample numbers, so both refuse (:class:`~bot.errors.ConfigError`).
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.cases import EventOutcome
from bot.errors import ConfigError, StaffError
from bot.events import CLOSING_TYPES, EVENT_TYPES, parse_event
from bot.models import Inbound
from bot.store import key_for

if TYPE_CHECKING:
    from bot.runtime import Runtime

DEMO_EMAIL = "demo@doorstep.local"
DEMO_PASSWORD = "doorstep-demo"  # printed at start: a local demo only, never production
DEMO_NAME = "Sam"  # customers read "You're chatting with Sam from support"
# Without a shipper of your own, --demo posts callbacks to this stand-in on the same server,
# which checks their signature and answers 204: the timeline shows them delivered.
DEMO_SHIPPER_PATH = "/demo/shipper"
SEEDED_KEY = key_for("demo", "seeded")
# Exception types a sample can be (closing events only close cases).
SAMPLE_TYPES = tuple(t for t in EVENT_TYPES if t not in CLOSING_TYPES)
LANGUAGES = ("en", "es")
# "the simulator ..." / "--demo ...": real texts would go to the sample numbers.
SANDBOX_ONLY = ("only works with the sandbox SMS channel: Twilio is configured, so its texts "
                "would go to real phone numbers. Unset TWILIO_ACCOUNT_SID and "
                "TWILIO_AUTH_TOKEN to try it")
ASK_FOR_A_PERSON = "I want to talk to a person"


@dataclass(frozen=True)
class DemoCase:
    """One sample case the demo opens (fixed ids, so a second start finds it again)."""

    key: str
    type: str
    phone: str
    name: str
    language: str
    customer_says: str | None = None  # a customer turn run after the event


DEMO_CASES = (
    DemoCase("failed", "delivery.failed", "+15550100001", "Ana Diaz", "en"),
    DemoCase("damaged", "delivery.damaged", "+15550100002", "Ben Okafor", "en"),
    DemoCase("delayed", "delivery.delayed", "+15550100003", "Lucía Gómez", "es"),
    DemoCase("missing", "delivery.misrouted", "+15550100004", "Chris Park", "en",
             customer_says=ASK_FOR_A_PERSON),
)


@dataclass(frozen=True)
class DemoInfo:
    """What ``--demo`` prepared: the login and the sample cases."""

    email: str
    password: str
    staff_created: bool  # False: the account existed (its password may have been changed)
    case_ids: tuple[str, ...]
    escalated_case_ids: tuple[str, ...]
    seeded: bool  # False: the cases came from an earlier start


def require_sandbox(runtime: Runtime) -> None:
    """ConfigError when Twilio is configured (texts would reach real phones)."""
    if runtime.settings.twilio_enabled:
        raise ConfigError(f"the demo {SANDBOX_ONLY}")


def random_sandbox_phone() -> str:
    """A sandbox number such as ``+15550100123`` (the 555-01xx range is for fiction)."""
    return f"+15550100{100 + secrets.randbelow(900)}"


def sample_event(type_: str, phone: str, name: str | None = None, language: str = "en",
                 timezone: str = "America/New_York", now: datetime | None = None
                 ) -> dict[str, Any]:
    """A valid exception event of ``type_`` for ``phone``, shaped like ``examples/``."""
    if type_ not in EVENT_TYPES:
        raise ValueError(f"type must be one of {', '.join(EVENT_TYPES)}")
    now = now or datetime.now(UTC)
    zone = ZoneInfo(timezone)
    return {
        "type": type_,
        "occurred_at": now.isoformat(timespec="seconds"),
        "shipment": {
            "tracking_number": "DS" + uuid.uuid4().hex[:12].upper(),
            "order_ref": "SIM-" + secrets.token_hex(3).upper(),
            "carrier": "acme",
            "recipient": {"name": name or None, "phone": phone, "language": language},
            "address": {"line1": "12 Oak St", "line2": "Apt 4", "city": "Boston",
                        "region": "MA", "postal_code": "02110", "country": "US"},
            "timezone": timezone,
            "value": {"amount": 89.5, "currency": "USD"},
        },
        "details": _details(type_, now.astimezone(zone)),
    }


def _details(type_: str, local_now: datetime) -> dict[str, Any]:
    if type_ == "delivery.failed":
        return {"reason": "recipient_absent", "driver_note": "no answer at the door",
                "available_windows": _windows(local_now)}
    if type_ == "delivery.damaged":
        return {"reason": "damaged_in_transit", "driver_note": "box crushed on one corner"}
    if type_ == "delivery.delayed":
        eta = (local_now + timedelta(days=2)).replace(hour=17, minute=0, second=0,
                                                     microsecond=0)
        return {"reason": "weather", "new_eta": eta.isoformat()}
    if type_ == "delivery.address_invalid":
        return {"reason": "address_not_found", "driver_note": "no such number on Oak St"}
    if type_ == "delivery.misrouted":
        return {"reason": "misrouted", "driver_note": "sent to the wrong depot"}
    return {}


def _windows(local_now: datetime) -> list[dict[str, str]]:
    """Tomorrow 12-17 and 17-21, the day after 8-12 (local time)."""
    day = local_now.date() + timedelta(days=1)
    after = day + timedelta(days=1)
    zone = local_now.tzinfo

    def window(d, start: int, end: int) -> dict[str, str]:  # noqa: ANN001 - a date
        return {"start": datetime(d.year, d.month, d.day, start, tzinfo=zone).isoformat(),
                "end": datetime(d.year, d.month, d.day, end, tzinfo=zone).isoformat()}
    return [window(day, 12, 17), window(day, 17, 21), window(after, 8, 12)]


def open_sample(runtime: Runtime, type_: str, phone: str, name: str | None = None,
                language: str = "en", webhook_id: str | None = None) -> EventOutcome:
    """Open a case from a sample event, as if a shipper had posted it.

    EventError if the sample does not validate (e.g. a bad phone number); a repeated
    ``webhook_id`` returns the case it opened before.
    """
    require_sandbox(runtime)
    payload = sample_event(type_, phone, name, language, runtime.settings.default_timezone)
    event, normalised = parse_event(payload)
    return runtime.opener.receive(webhook_id or "sim_" + uuid.uuid4().hex, event, normalised)


def customer_says(runtime: Runtime, phone: str, text: str,
                  message_id: str | None = None) -> bool:
    """Handle ``text`` as an SMS from ``phone`` (False: ``message_id`` was seen before)."""
    require_sandbox(runtime)
    inbound = Inbound(channel="sms", sender=phone, text=text,
                      message_id=message_id or "SMsim" + uuid.uuid4().hex,
                      received_at=datetime.now(UTC))
    return runtime.engine.handle(inbound)


def prepare_demo(runtime: Runtime) -> DemoInfo:
    """Create the demo supervisor and the sample cases, once (later starts reuse them)."""
    require_sandbox(runtime)
    created = _demo_staff(runtime)
    seeded = runtime.redis.get(SEEDED_KEY)
    if seeded:
        ids = [i for i in json.loads(seeded) if runtime.store.get_case(i) is not None]
        if ids:
            return _info(runtime, created, ids, seeded=False)
    ids = []
    for sample in DEMO_CASES:
        # Fixed webhook and message ids: two starts at once still open each case once.
        outcome = open_sample(runtime, sample.type, sample.phone, sample.name,
                              sample.language, webhook_id=f"demo_{sample.key}")
        if outcome.case_id is None:
            continue
        ids.append(outcome.case_id)
        if sample.customer_says:
            customer_says(runtime, sample.phone, sample.customer_says,
                          message_id=f"SMdemo{outcome.case_id}")
    runtime.redis.set(SEEDED_KEY, json.dumps(ids))
    return _info(runtime, created, ids, seeded=True)


def _demo_staff(runtime: Runtime) -> bool:
    if runtime.staff.get(DEMO_EMAIL) is not None:
        return False
    try:
        runtime.staff.add(DEMO_EMAIL, "supervisor", DEMO_PASSWORD, name=DEMO_NAME)
    except StaffError:  # another process created it a moment ago
        return False
    return True


def _info(runtime: Runtime, created: bool, ids: list[str], seeded: bool) -> DemoInfo:
    cases = runtime.store.get_cases(ids)
    return DemoInfo(DEMO_EMAIL, DEMO_PASSWORD, created, tuple(ids),
                    tuple(c.id for c in cases if c.status == "escalated"), seeded)


def demo_banner(info: DemoInfo, base_url: str) -> list[str]:
    """The lines ``doorstep serve --demo`` prints: a warning, the URLs and the login."""
    lines = ["WARNING: --demo is for trying Doorstep on your own machine, not for production: "
             f"it creates a supervisor account with a known password ({info.email}).",
             f"Console:   {base_url}/console",
             f"Login:     {info.email} / {info.password}"
             + ("" if info.staff_created else " (unless you changed it)"),
             f"Simulator: {base_url}/console/simulator (play a customer over the sandbox SMS)",
             f"Sample cases: {len(info.case_ids)}, {len(info.escalated_case_ids)} waiting for "
             "a person" + ("" if info.seeded else " (from an earlier --demo start)")]
    return lines
