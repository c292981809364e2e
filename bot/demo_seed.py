"""Fill a store with realistic synthetic cases, so the insights have something to show.

``doorstep demo seed --cases 5000`` calls :func:`seed_cases`: cases opened over the last
``days`` local days (a weekly rhythm, a slow rise, a three-day storm that brings weather
delays), across a few dozen postal codes and a handful of carriers (both skewed, so the
top lists mean something), every one closed: resolved by the customer, a person or the
shipper, or expired. Each case is a :class:`~bot.models.Case` saved with
``Store.save_case`` and a timeline written entry by entry with
``Store.append_timeline`` (:mod:`bot.demo_plots` plays the turns, with the entry kinds
and fields the live code writes), so the insights fold them like live cases. A case's
appends go through a stand-in pipeline that merges their commands per key (one RPUSH,
one HSET of the folded facts, one change mark), then 500 cases per real pipeline: 100 000
cases in about a minute on two cores, where a command per write took twice as long.

Never texted: the cases are closed, no conversation, outbound record or job is written,
phone numbers are in the 555-01xx range kept for fiction, and seeding refuses when Twilio
is configured. Seeded cases carry ``details.demo = true``. The same ``seed`` and ``now``
give the same cases.
"""

from __future__ import annotations

import math
import multiprocessing
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

from faker import Faker

from bot.demo_plots import play
from bot.demo_stories import Story
from bot.errors import ConfigError
from bot.insights_facts import case_dimensions, closed_by
from bot.models import Case
from bot.settings import Settings
from bot.store import Store, key_for
from flows.registry import flow_for_case

BATCH = 500  # cases per pipeline
CARRIERS = (("ups", 31), ("fedex", 25), ("usps", 22), ("ontrac", 9), ("lasership", 7),
            ("dhl", 6))
TRACKING = {"ups": "1Z???###########", "fedex": "############",
            "usps": "9400##################", "ontrac": "C##############",
            "lasership": "1LS#########", "dhl": "##########"}
# (type, reason, share on a normal day, share during the storm)
EXCEPTIONS = (
    ("delivery.failed", "no_one_home", 40, 16), ("delivery.failed", "access_problem", 9, 4),
    ("delivery.failed", "business_closed", 3, 1), ("delivery.failed", "address_not_found", 6, 2),
    ("delivery.address_invalid", "address_invalid", 5, 2),
    ("delivery.delayed", "weather", 4, 52), ("delivery.delayed", "sorting_error", 6, 6),
    ("delivery.delayed", "high_volume", 4, 5), ("delivery.damaged", "damaged", 8, 7),
    ("delivery.misrouted", "misrouted", 5, 3), ("delivery.misrouted", "sorting_error", 2, 2))
# (state, timezone, area codes, weight)
STATES = (("NY", "America/New_York", ("212", "718", "917"), 16),
          ("NJ", "America/New_York", ("201", "973"), 6), ("MA", "America/New_York", ("617",), 5),
          ("PA", "America/New_York", ("215", "412"), 6), ("GA", "America/New_York", ("404",), 5),
          ("FL", "America/New_York", ("305", "407"), 8), ("IL", "America/Chicago", ("312",), 8),
          ("TX", "America/Chicago", ("214", "713", "512"), 12),
          ("CO", "America/Denver", ("303",), 4), ("AZ", "America/Phoenix", ("602",), 4),
          ("CA", "America/Los_Angeles", ("213", "415", "619"), 16),
          ("WA", "America/Los_Angeles", ("206",), 5))
PLACES = 36
DEMO_COUNT = 2000  # about two seconds at ``serve --demo`` start
MAX_CASES_FOR_DEMO_SEED = 10  # the demo's own sample cases, not a store in use
DEMO_SEEDED_KEY = key_for("demo", "insights_seeded")
WEEKDAY = (1.3, 1.2, 1.1, 1.05, 1.0, 0.55, 0.2)  # Monday first: the weekend's parcels wait
STORM = (2.6, 2.1, 1.4)  # volume on the storm's three days


@dataclass(frozen=True)
class SeedResult:
    """What :func:`seed_cases` wrote."""

    cases: int
    entries: int
    first_day: date
    last_day: date
    seconds: float
    closed_by: dict[str, int] = field(default_factory=dict)  # customer, staff, shipper, expiry
    storm: date | None = None


class _SeededCase(Case):
    """A Case whose ``to_dict`` does not deep-copy: the same JSON from ``save_case``, at a
    fifth of the seeding time less (``asdict`` copies every nested dict)."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class _Place:
    city: str
    state: str
    postal_code: str
    timezone: str
    area_code: str


class _Pools:
    """Faker-made names, streets and places, drawn from with one seeded ``Random``."""

    def __init__(self, rng: random.Random, fake: Faker) -> None:
        self.rng, self.fake = rng, fake
        self.first = [fake.first_name() for _ in range(300)]
        self.last = [fake.last_name() for _ in range(300)]
        self.streets = [fake.street_address() for _ in range(500)]
        states = [s for s in STATES for _ in range(s[3])]
        self.places = []
        for _ in range(PLACES):
            state, zone, codes, _w = rng.choice(states)
            self.places.append(_Place(fake.city(), state, fake.zipcode_in_state(state), zone,
                                      rng.choice(codes)))
        self.place_weights = [1 / (rank + 1) ** 0.9 for rank in range(PLACES)]
        self.staff = [(f"{name.lower()}@support.example", name)
                      for name in dict.fromkeys(fake.first_name() for _ in range(8))]


def seed_cases(store: Store, count: int, days: int = 90, seed: int | None = None,
               now: datetime | None = None, timezone: str = "America/New_York",
               settings: Settings | None = None,
               progress: Callable[[int], None] | None = None,
               workers: int = 1) -> SeedResult:
    """Write ``count`` closed synthetic cases opened over the last ``days`` local days
    (in ``timezone``, the service's), with ``workers`` processes (forked: only from a
    process without threads of its own). ConfigError with Twilio configured in
    ``settings``; ValueError when the cases of this ``seed`` are already there."""
    if settings is not None and settings.twilio_enabled:
        from bot.demo import SANDBOX_ONLY

        raise ConfigError(f"seeding demo cases {SANDBOX_ONLY}")
    if count < 0 or days < 1:
        raise ValueError("count must be at least 0 and days at least 1")
    started = time.perf_counter()
    seed = secrets.randbits(32) if seed is None else seed
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    pools = _Pools(rng, fake)
    zone = ZoneInfo(timezone)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    last_day = now.astimezone(zone).date()
    first_day = last_day - timedelta(days=days - 1)
    storm = first_day + timedelta(days=int(days * 0.6)) if days >= 10 else None
    weights = [_volume(first_day + timedelta(days=i), i / days, storm) for i in range(days)]
    ids = [f"cs_{rng.getrandbits(64):016x}" for _ in range(count)]  # the first: by seed only
    offsets = sorted(rng.choices(range(days), weights, k=count))
    if ids and store.redis.exists(key_for("case", tag=ids[0])):
        raise ValueError(f"the demo cases of seed {seed} are already in this store: "
                         "pick another seed")
    global _PLAN
    _PLAN = _Plan(store, seed, fake, pools, ids, offsets, first_day, zone,
                  (datetime.combine(first_day, clock_time(), zone), now), storm)
    tally: Counter[str] = Counter()
    entries = done = 0
    starts = range(0, count, BATCH)
    try:
        if workers > 1 and len(starts) > 1:
            # Forked: each child inherits the plan and opens its own Redis connections.
            with multiprocessing.get_context("fork").Pool(min(workers, len(starts))) as pool:
                results = pool.imap_unordered(_seed_batch, starts)
                for written, by in results:
                    entries, done = entries + written, done + sum(by.values())
                    tally.update(by)
                    if progress is not None:
                        progress(done)
        else:
            for start in starts:
                written, by = _seed_batch(start)
                entries, done = entries + written, done + sum(by.values())
                tally.update(by)
                if progress is not None:
                    progress(done)
    finally:
        _PLAN = None
    return SeedResult(count, entries, first_day, last_day, time.perf_counter() - started,
                      dict(tally), storm)


@dataclass(frozen=True)
class _Plan:
    """What every batch needs (module-level, so forked workers inherit it)."""

    store: Store
    seed: int
    fake: Faker
    pools: _Pools
    ids: list[str]
    offsets: list[int]
    first_day: date
    zone: ZoneInfo
    window: tuple[datetime, datetime]
    storm: date | None


_PLAN: _Plan | None = None


def _seed_batch(start: int) -> tuple[int, Counter[str]]:
    """Write the cases ``start`` to ``start + BATCH`` in one pipeline."""
    plan = _PLAN
    assert plan is not None
    # Each batch draws from its own generator: the same cases however batches are shared.
    rng = random.Random(f"{plan.seed}:{start}")
    plan.fake.seed_instance(f"{plan.seed}:{start}")
    pipe = plan.store.redis.pipeline(transaction=False)
    entries, tally = 0, Counter[str]()
    for case_id, offset in zip(plan.ids[start:start + BATCH], plan.offsets[start:start + BATCH],
                               strict=True):
        day = plan.first_day + timedelta(days=offset)
        case, story = _one(rng, plan.fake, plan.pools, case_id, day, plan.zone, plan.window,
                           plan.storm)
        entries += _write(plan.store, pipe, case, story)
        tally[closed_by(story.resolution) if case.status == "resolved" else "expiry"] += 1
    pipe.execute()
    return entries, tally


def seed_demo_once(store: Store, settings: Settings, count: int = DEMO_COUNT) -> SeedResult | None:
    """For ``doorstep serve --demo``: seed ``count`` cases into a store with (almost) no
    cases yet, once (None when it already has some, or was seeded before)."""
    if store.redis.zcard(key_for("cases")) > MAX_CASES_FOR_DEMO_SEED:
        return None
    if not store.redis.set(DEMO_SEEDED_KEY, "1", nx=True):
        return None
    return seed_cases(store, count, timezone=settings.default_timezone, settings=settings)


class _Merged:
    """A stand-in pipeline for one new case's ``Store.append_timeline`` calls: the same
    commands, merged per key (one RPUSH of every entry, one HSET of the folded facts,
    one insights mark) before they reach Redis. Exact for a case Redis has nothing of."""

    def __init__(self) -> None:
        self.lists: dict[str, list[Any]] = {}
        self.hashes: dict[str, dict[str, Any]] = {}

    def rpush(self, key: str, *values: Any) -> None:
        self.lists.setdefault(key, []).extend(values)

    def hsetnx(self, key: str, name: str, value: Any) -> None:
        self.hashes.setdefault(key, {}).setdefault(name, value)

    def hset(self, key: str, name: str, value: Any) -> None:
        self.hashes.setdefault(key, {})[name] = value

    def hincrby(self, key: str, name: str, amount: int) -> None:
        facts = self.hashes.setdefault(key, {})
        facts[name] = int(facts.get(name, 0)) + amount

    def eval(self, *_args: Any) -> None:
        """The insights mark (``Store.mark_insights_changed``): made once, in ``flush``."""

    def flush(self, store: Store, pipe: Any, case_id: str) -> None:
        for key, values in self.lists.items():
            pipe.rpush(key, *values)
        for key, facts in self.hashes.items():
            pipe.hset(key, mapping=facts)
        store.mark_insights_changed(case_id, pipe)


def _write(store: Store, pipe: Any, case: Case, story: Story) -> int:
    """Save the case, index it, append its timeline entry by entry; return the entries."""
    store.save_case(case, pipe)
    # Found by tracking number and by its (fictional) phone number in the console; not by
    # its made-up Telegram chat, which a real chat could have.
    store.index_case(case, [("sms", case.phone)] if case.phone else [], pipe)
    opened = datetime.fromisoformat(case.created_at)
    merged = _Merged()
    for t, kind, data in story.entries:
        at = (opened + timedelta(seconds=t)).isoformat(timespec="milliseconds")
        store.append_timeline(case.id, kind, merged, at=at, **data)  # type: ignore[arg-type]
    merged.flush(store, pipe, case.id)
    return len(story.entries)


def _volume(day: date, progress: float, storm: date | None) -> float:
    """How many exceptions a day brings, relative to an average weekday."""
    weight = WEEKDAY[day.weekday()] * (0.9 + 0.2 * progress)
    if storm is not None and 0 <= (day - storm).days < len(STORM):
        weight *= STORM[(day - storm).days]
    return weight


def _one(rng: random.Random, fake: Faker, pools: _Pools, case_id: str, day: date,
         zone: ZoneInfo, window: tuple[datetime, datetime],
         storm: date | None) -> tuple[Case, Story]:
    """One case and its story, opened on the local ``day``, over before ``window`` ends."""
    place = rng.choices(pools.places, pools.place_weights)[0]
    stormy = storm is not None and 0 <= (day - storm).days < len(STORM)
    type_, reason, *_ = rng.choices(EXCEPTIONS, [e[3 if stormy else 2] for e in EXCEPTIONS])[0]
    carrier = rng.choices(CARRIERS, [c[1] for c in CARRIERS])[0][0]
    case_zone = ZoneInfo(place.timezone)
    opened = _opening(rng, day, zone, case_zone, window[1])
    telegram = rng.random() < 0.22
    language = "es" if rng.random() < 0.14 else "en"
    first, last = rng.choice(pools.first), rng.choice(pools.last)
    phone = f"+1{place.area_code}55501{rng.randrange(100):02d}" \
        if not telegram or rng.random() < 0.5 else None
    chat = rng.randrange(10**8, 10**10) if telegram else None
    tracking = fake.bothify(TRACKING[carrier], letters="ABCDEFGHJKLMNPRSTUVWXYZ")
    order_ref = fake.bothify("??-#####", letters="ABCDEFGHJKLMNPRSTUVWXYZ")
    eta = (opened + timedelta(days=rng.choice((1, 2, 2, 3)))).replace(hour=17, minute=0,
                                                                       second=0, microsecond=0)
    address = {"line1": rng.choice(pools.streets), "city": place.city, "region": place.state,
               "postal_code": place.postal_code, "country": "US"}
    if rng.random() < 0.3:
        address["line2"] = f"Apt {rng.randrange(1, 40)}{rng.choice('ABCD')}"
    details: dict[str, Any] = {"reason": reason, "demo": True}
    if type_ == "delivery.delayed":
        details["new_eta"] = eta.isoformat()
    case = _SeededCase(
        id=case_id, type=type_, status="open", tracking_number=tracking, carrier=carrier,
        order_ref=order_ref, recipient_name=f"{first} {last}", phone=phone,
        telegram_chat_id=chat, language=language, timezone=place.timezone, reason=reason,
        details=details,
        shipment={"tracking_number": tracking, "order_ref": order_ref, "carrier": carrier,
                  "recipient": {"name": f"{first} {last}", "phone": phone,
                                "language": language, "telegram_chat_id": chat},
                  "address": address, "timezone": place.timezone,
                  "value": {"amount": round(rng.lognormvariate(math.log(60), 0.8), 2),
                            "currency": "USD"}},
        created_at="", updated_at="")
    new_street = f"{rng.choice(pools.streets)}, {place.city}, {place.state} {place.postal_code}"
    story = Story(rng=rng, case_id=case_id, flow=flow_for_case(case),
                  channel="telegram" if telegram else "sms", opened=opened,
                  texts={"name": first, "carrier": carrier.upper(),
                         "parcel": f"your parcel {tracking[-6:]}",
                         "eta": f"{eta:%a %b} {eta.day}", "eta_iso": eta.isoformat(),
                         "new_address": new_street},
                  staff=rng.choice(pools.staff), webhook_id=f"msg_{rng.getrandbits(96):024x}")
    play(story, type_, case_dimensions(case))
    opened = _fit(story, opened, window)
    closed = (opened + timedelta(seconds=max(e[0] for e in story.entries))).astimezone(UTC)
    iso = closed.isoformat(timespec="milliseconds")
    return replace(case, status=story.status,
                   created_at=opened.astimezone(UTC).isoformat(timespec="milliseconds"),
                   updated_at=iso, resolution={**story.resolution, "at": iso},
                   handoff=story.handoff), story


def _opening(rng: random.Random, day: date, zone: ZoneInfo, case_zone: ZoneInfo,
             now: datetime) -> datetime:
    """A daytime moment in the case's timezone, on ``day`` in the service's, before now."""
    hours = rng.triangular(8.5, 20.5, 15.0)
    opened = datetime.combine(day, clock_time(), case_zone) + timedelta(hours=hours)
    if opened.astimezone(zone).date() != day:  # far from the service's timezone
        opened = (datetime.combine(day, clock_time(), zone)
                  + timedelta(hours=hours)).astimezone(case_zone)
    if opened >= now:  # today, later than now: some time since midnight instead
        midnight = datetime.combine(day, clock_time(), zone)
        opened = (midnight + (now - midnight) * rng.random()).astimezone(case_zone)
    return opened


def _fit(story: Story, opened: datetime, window: tuple[datetime, datetime]) -> datetime:
    """Move (or, near the window's start, squeeze) a story that would end after now."""
    start, now = window
    length = max(t for t, _kind, _data in story.entries)
    if opened + timedelta(seconds=length) < now:
        return opened
    moved = now - timedelta(seconds=length + 60)
    if moved >= start:
        return moved.astimezone(opened.tzinfo)
    scale = max(0.0, (now - start).total_seconds() - 120) / max(length, 1.0)
    story.entries[:] = [(t * scale, kind, data) for t, kind, data in story.entries]
    return (start + timedelta(seconds=60)).astimezone(opened.tzinfo)
