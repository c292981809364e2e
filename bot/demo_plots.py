"""How a synthetic case unfolds: the opening event, the customer's answers, a person's
replies after an escalation, a reminder and expiry, the shipper closing it.

:func:`play` picks one of the flow's plots (weights in :data:`bot.demo_stories.PLOTS`)
and writes its turns into a :class:`~bot.demo_stories.Story`, with the texts and entry
fields the engine, the flows and the support desk use.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.demo_stories import ESCALATION_REASONS, FIRST_TEXT, PLOTS, STAFF_CODES, WHY, Story

REMINDER_AFTER_S = 4 * 3600  # the settings' defaults: a reminder, then expiry a day later
EXPIRE_AFTER_S = 24 * 3600
OVERDUE_S = 30 * 60
STOP_HINT = "Reply STOP to opt out."
CONFIRM = "{label}: is that right? Reply YES to book it or NO to choose again."
PICKUP_POINTS = ("Corner Market, 410 Main St", "Lockers at Union Station")
STAFF_LINES = (
    "Hi, I've checked with the depot: we can bring it tomorrow morning. Does that work?",
    "Sorry about this. I've asked the driver to call ahead next time.",
    "Thanks for the photos. I've opened a claim for you and will confirm by email.",
    "I've found your parcel at the local depot; it goes out again today.",
    "I've corrected the address on the shipment. It will go out on the next run.",
)


def play(s: Story, event_type: str, dims: dict[str, Any]) -> None:
    """Write one whole case into ``s``, opened by ``event_type``, closed in the end."""
    names, weights = zip(*PLOTS[s.flow], strict=True)
    plot = s.rng.choices(names, weights)[0]
    if s.channel == "telegram" and plot in ("opt_out", "unreachable"):
        plot = "expire"  # STOP is an SMS keyword; a Telegram chat we reached is reachable
    offered = _open(s, event_type, dims, failing=plot == "unreachable")
    PLAYS[plot](s, offered)


def _open(s: Story, event_type: str, dims: dict[str, Any],
          failing: bool) -> list[dict[str, str]]:
    occurred = s.opened - timedelta(seconds=s.rng.uniform(20, 900))
    entries: list[tuple[str, dict[str, Any]]] = [
        ("case.opened", dims),
        ("event.received", {"type": event_type, "webhook_id": s.webhook_id,
                            "occurred_at": occurred.isoformat(timespec="seconds")})]
    offered: list[dict[str, str]] = []
    choices: list[str] = []
    if s.flow == "reschedule":
        count = s.rng.randint(4, 9)
        offered = s.windows(count)
        entries.append(("windows.offered", {"windows": [w["start"] for w in offered[:3]],
                                            "count": count}))
        choices = [_label(w) for w in offered[:3]]
    text = FIRST_TEXT[s.flow].format(**s.texts, why=WHY.get(dims.get("reason") or "",
                                                            "there was a delivery problem"))
    replies = [(text, choices)] + ([(STOP_HINT, [])] if s.channel == "sms" else [])
    s.turn(f"event:{s.webhook_id}", entries, replies, fail=failing)
    return offered


def _label(window: dict[str, str]) -> str:
    start, end = (datetime.fromisoformat(window[k]) for k in ("start", "end"))
    return f"{start:%a %b} {start.day}, {start.hour}:00-{end.hour}:00"


def _think(s: Story, median_s: float = 240.0, cap_s: float = REMINDER_AFTER_S - 600) -> None:
    """The customer takes a while to answer: minutes, sometimes hours."""
    s.t += min(cap_s, max(8.0, s.rng.lognormvariate(math.log(median_s), 1.1)))


# -- the customer books a window ------------------------------------------------------
def _book(s: Story, offered: list[dict[str, str]], pick: int, full_first: bool = False) -> None:
    if pick < 3:
        key, msg = s.customer(str(pick + 1), "choose_option",
                              [{"entity": "option", "value": pick + 1}])
    else:
        key, msg = s.customer("can you come " + _label(offered[pick]).split(",")[0] + "?",
                              "reschedule", [{"entity": "date", "value": offered[pick]["start"]}])
    s.turn(key, msg, [(CONFIRM.format(label=_label(offered[pick])), [])])
    s.wait(8, 90)
    key, msg = s.customer("yes", "affirm")
    if full_first:
        s.turn(key, msg + [("window.full", {"window": offered[pick]})],
               [("Sorry, that window just filled up. Other times:",
                 [_label(w) for w in offered[pick + 1:pick + 4]])])
        _think(s, 60)
        pick += 1
        key, msg = s.customer("1", "choose_option", [{"entity": "option", "value": 1}])
        s.turn(key, msg, [(CONFIRM.format(label=_label(offered[pick])), [])])
        s.wait(8, 60)
        key, msg = s.customer("yes", "affirm")
    window = offered[pick]
    s.turn(key, msg + [("window.reserved", {"window": window}),
                       s.close("case.resolved", {"outcome": "rescheduled", "window": window})],
           [(f"Booked: {s.texts['parcel']} will arrive {_label(window)}. Thank you!", [])],
           callbacks=("case.rescheduled",))


def book_first(s: Story, offered: list[dict[str, str]]) -> None:
    _think(s)
    _book(s, offered, s.rng.choice((0, 0, 1, 1, 1, 2)))


def book_other(s: Story, offered: list[dict[str, str]]) -> None:
    _think(s)
    _book(s, offered, s.rng.randrange(3, len(offered)))


def book_after_full(s: Story, offered: list[dict[str, str]]) -> None:
    _think(s)
    _book(s, offered, s.rng.choice((0, 1)), full_first=True)


# -- nobody answers, or the customer says STOP --------------------------------------------
def expire(s: Story, _offered: list[dict[str, str]], opted_out: bool = False) -> None:
    start = s.t
    if opted_out:
        _think(s, 120)
        key, msg = s.customer("STOP", "")
        s.turn(key, msg[:1] + [("customer.opted_out", {"channel": s.channel})])
    s.t = start + REMINDER_AFTER_S
    if opted_out:
        s.turn(f"remind:{s.case_id}:1", [("reminder.suppressed", {"reason": "opted_out"})])
    else:
        s.turn(f"remind:{s.case_id}:0", [("reminder.sent", {})],
               [(f"Reminder: we still need your answer about {s.texts['parcel']}.", [])])
    s.t += EXPIRE_AFTER_S
    s.turn(f"expire:{s.case_id}", [s.close("case.expired", {"outcome": "no_reply"})],
           callbacks=("case.expired",))


def opt_out(s: Story, offered: list[dict[str, str]]) -> None:
    expire(s, offered, opted_out=True)


# -- a person takes over -------------------------------------------------------------
def escalate(s: Story, _offered: list[dict[str, str]], reason: str | None = None,
             said: tuple[str, list[tuple[str, dict[str, Any]]]] | None = None,
             callbacks: tuple[str, ...] = (), code: str | None = None,
             hand_back: list[dict[str, str]] | None = None) -> None:
    """Escalate (after the customer's message ``said``, else one asking for it), then a
    person claims, answers and resolves, or hands back to the bot."""
    reason = reason or s.rng.choice(ESCALATION_REASONS[s.flow])
    reachable = reason != "customer unreachable"
    if not reachable:
        key, entries = f"unreachable:event:{s.webhook_id}:0", []
    elif said is None:
        _think(s, 180)
        text, intent = ("I want to talk to a person", "human") \
            if reason == "customer asked for a person" else \
            ("this is the third time, it's ridiculous", "out_of_scope")
        key, entries = s.customer(text, intent)
    else:
        key, entries = said
    eta = s.rng.choice((5, 10, 15, 20, 30))
    escalated_at = s.opened + timedelta(seconds=s.t)
    replies = [] if not reachable else [
        (f"OK, a person from our team will reply here soon. Someone usually replies within "
         f"about {eta} minutes.", [])]
    s.turn(key, entries + [("case.escalated", {"reason": reason, "eta_minutes": eta})],
           replies, callbacks=callbacks + ("case.escalated",))
    start = s.t
    wait = min(8 * 3600, max(40.0, s.rng.lognormvariate(math.log(540), 1.0)))
    local = escalated_at.hour
    if local >= 20 or local < 8:  # nobody at the console at night: the morning shift
        morning = (escalated_at + timedelta(hours=12 if local >= 20 else 0)).replace(
            hour=8, minute=0, second=0)
        wait += max(0.0, (morning - escalated_at).total_seconds())
    since = escalated_at.isoformat(timespec="milliseconds")
    if wait > OVERDUE_S:
        s.t = start + OVERDUE_S
        s.turn(f"overdue:{s.case_id}:{since}", [("escalation.overdue", {"waiting_since": since})],
               [("Sorry for the wait: our team is taking longer than usual.", [])],
               author="system")
    s.t = start + wait
    email, name = s.staff
    s.turn(f"claim:{s.case_id}:{s.rng.getrandbits(48):012x}",
           [("staff.claimed", {"by": email, "name": name})],
           [(f"You're chatting with {name} from support.", [])] if reachable else [],
           author="system")
    s.handoff = {"reason": reason, "escalated_at": since, "waiting_since": since,
                 "eta_minutes": eta, "overdue": wait > OVERDUE_S, "assignee": email,
                 "assignee_name": name,
                 "claimed_at": (s.opened + timedelta(seconds=s.t)).isoformat()}
    if reachable:
        s.wait(20, 240)
        s.turn(f"staff:{s.case_id}:{s.rng.getrandbits(48):012x}", [],
               [(s.rng.choice(STAFF_LINES), [])], author="staff", staff=True)
        _think(s, 150)
        key, msg = s.customer("ok thank you", "thanks")
        s.turn(key, msg + [("bot.silenced", {"replies": 1})])
    if hand_back is not None:
        s.wait(30, 300)
        s.handoff = None
        s.turn(f"handback:{s.case_id}:{s.rng.getrandbits(48):012x}",
               [("staff.handed_back", {"by": email, "name": name, "restart": False})],
               [("Thanks for your patience. I'm the automated assistant again. Pick a new "
                 "delivery time:", [_label(w) for w in hand_back[:3]])])
        _think(s, 120)
        _book(s, hand_back, s.rng.choice((0, 1, 2)))
        return
    s.wait(60, 2400)
    code = code or s.rng.choice(STAFF_CODES[s.flow])
    s.turn(f"resolve:{s.case_id}", [s.close("case.resolved", {
        "outcome": code, "resolution_code": code, "note": "Sorted out with the customer.",
        "resolved_by": email, "resolved_by_name": name})], callbacks=("case.resolved",))


def unreachable(s: Story, offered: list[dict[str, str]]) -> None:
    s.wait(1, 30)
    escalate(s, offered, "customer unreachable", code="customer_unreachable")


def handed_back(s: Story, offered: list[dict[str, str]]) -> None:
    escalate(s, offered, "customer asked for a person", hand_back=offered)


def missing_escalated(s: Story, offered: list[dict[str, str]]) -> None:
    _think(s)
    said = s.customer("yes I checked everywhere, it's not here", "deny")
    escalate(s, offered, "parcel missing", said=said, callbacks=("case.missing_reported",))


# -- the shipper closes it -------------------------------------------------------------
def _shipper(s: Story, outcome: str) -> None:
    s.t += s.rng.uniform(1800, REMINDER_AFTER_S - 300)
    webhook_id = f"msg_{s.rng.getrandbits(96):024x}"
    occurred = (s.opened + timedelta(seconds=s.t - 60)).isoformat(timespec="seconds")
    text = (f"Update: {s.texts['parcel']} has been delivered. Nothing more to do, thank you!"
            if outcome == "delivered" else
            f"Update: {s.texts['parcel']} is being returned to the sender.")
    s.turn(f"event:{webhook_id}", [
        ("event.received", {"type": f"delivery.{outcome}", "webhook_id": webhook_id,
                            "occurred_at": occurred}),
        s.close("case.resolved", {"outcome": outcome})], [(text, [])],
        callbacks=("case.resolved",))


def shipper_delivered(s: Story, _offered: list[dict[str, str]]) -> None:
    _shipper(s, "delivered")


def shipper_returned(s: Story, _offered: list[dict[str, str]]) -> None:
    _shipper(s, "returned")


# -- the other flows' own endings ------------------------------------------------------
def address_changed(s: Story, _offered: list[dict[str, str]], pickup: bool = False) -> None:
    _think(s)
    address = s.texts["new_address"]
    key, msg = s.customer(address, "inform", [{"entity": "address", "value": address}])
    if pickup:
        s.turn(key, msg, [("That address is outside our delivery area. You can collect it at:",
                           list(PICKUP_POINTS))])
        _think(s, 90)
        point = s.rng.choice(PICKUP_POINTS)
        key, msg = s.customer("1" if point == PICKUP_POINTS[0] else "2", "choose_option")
        s.turn(key, msg + [s.close("case.resolved", {"outcome": "pickup_selected",
                                                     "pickup_point": point})],
               [(f"Done: {s.texts['parcel']} will wait for you at {point}.", [])],
               callbacks=("case.pickup_selected",))
        return
    s.turn(key, msg, [(f"Is this the right address: {address}? Reply YES or NO.", [])])
    s.wait(8, 90)
    key, msg = s.customer("yes", "affirm")
    fixed = {"line1": address}
    s.turn(key, msg + [("case.updated", {"shipment": {"address": fixed}, "details": {}}),
                       s.close("case.resolved", {"outcome": "address_changed",
                                                 "address": fixed})],
           [("Thanks, the address is updated and the driver will try again.", [])],
           callbacks=("case.address_changed",))


def pickup(s: Story, offered: list[dict[str, str]]) -> None:
    address_changed(s, offered, pickup=True)


def damage_reported(s: Story, _offered: list[dict[str, str]]) -> None:
    _think(s, 300)
    photos = s.rng.choice((1, 1, 2, 3))
    key, msg = s.customer("", "", attachments=photos)
    media = [("media.received", {"media_id": f"md_{s.rng.getrandbits(64):016x}",
                                 "content_type": "image/jpeg",
                                 "size": s.rng.randrange(180_000, 3_500_000)})
             for _ in range(photos)]
    s.turn(key, msg[:1] + media, [("Thanks. Would you prefer a replacement or a refund?",
                                   ["Replacement", "Refund"])])
    _think(s, 60)
    remedy = s.rng.choice(("replacement", "replacement", "refund"))
    key, msg = s.customer("1" if remedy == "replacement" else "2", "choose_option")
    ref = f"DMG-{s.rng.randrange(100000, 999999)}"
    s.turn(key, msg + [s.close("case.resolved", {"outcome": "damage_reported",
                                                 "claim_reference": ref, "photos": photos,
                                                 "preferred_remedy": remedy})],
           [(f"Thank you. Your report {ref} is with the shipper, who will be in touch.", [])],
           callbacks=("case.damage_reported",))


def delay_accepted(s: Story, _offered: list[dict[str, str]]) -> None:
    _think(s)
    key, msg = s.customer("ok", "affirm")
    s.turn(key, msg + [s.close("case.resolved", {"outcome": "delay_accepted",
                                                 "new_eta": s.texts["eta_iso"]})],
           [("Thanks for your patience. We'll text you if anything changes.", [])],
           callbacks=("case.delay_acknowledged",))


def switch_reschedule(s: Story, _offered: list[dict[str, str]]) -> None:
    _think(s)
    key, msg = s.customer("can I pick another day instead?", "reschedule")
    count = s.rng.randint(4, 9)
    offered = s.windows(count)
    s.turn(key, msg + [("flow.switched", {"from": "delay", "to": "reschedule"}),
                       ("windows.offered", {"windows": [w["start"] for w in offered[:3]],
                                            "count": count})],
           [(f"Sure. Pick a new delivery time for {s.texts['parcel']}:",
             [_label(w) for w in offered[:3]])])
    _think(s, 90)
    _book(s, offered, s.rng.choice((0, 1, 2, 3)))


PLAYS: dict[str, Callable[[Story, list[dict[str, str]]], None]] = {
    f.__name__: f for f in (book_first, book_other, book_after_full, expire, opt_out,
                            escalate, unreachable, handed_back, missing_escalated,
                            shipper_delivered, shipper_returned, address_changed, pickup,
                            damage_reported, delay_accepted, switch_reschedule)}
