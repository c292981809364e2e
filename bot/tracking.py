"""The customer tracking page's content: which case a link opens, and what it shows.

``PUBLIC_URL/t/<token>`` (token: :mod:`bot.links`, tracking key) opens its case while it
is open, and shows the outcome, read-only, for ``TRACKING_LINK_DAYS`` after it closed.
Anything else — a tampered or malformed token, a Telegram deep-link token, an unknown or
erased case, a link past its grace — is :data:`None` here and one friendly 404 for the
page, so the page never tells whether a case exists.

What the page shows is what the recipient already knows: carrier, tracking number, the
exception and the case's history in plain words ("Address updated", never the address).
The bot's replies on the page (its current question) are shown only to the browser that
took that turn: the page's message ids carry a tag of that browser's cookie
(:func:`message_id`). A confirmation that quotes the address the customer just typed is
so seen by that customer alone.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.links import case_from_token, tracking_key
from bot.models import CLOSED_STATUSES, ESCALATED, EXPIRED, WEB, Case, Window
from bot.privacy import is_erased
from bot.settings import Settings
from bot.store import Store
from bot.web_turns import HUMAN, is_open, where
from flows import tracking_texts  # noqa: F401  (registers the tracking texts)
from flows.messages import TEXTS, moment_label, reason_text, say, window_label
from flows.registry import FLOWS, flow_for_case

SELF_SERVICE = ("reschedule", "address", "damage")
_CALLBACK_LINES = {"case.damage_reported": "page.tl.damage",
                   "case.missing_reported": "page.tl.missing",
                   "case.delay_acknowledged": "page.tl.delay_accepted"}


def session_tag(cookie: str) -> str:
    """A short tag of the page's session cookie (the cookie itself is never stored)."""
    return hashlib.sha256(cookie.encode()).hexdigest()[:16]


def message_id(nonce: str, cookie: str) -> str:
    """The id of a page turn: the form's nonce (a double submit repeats it) and the tag
    of the browser that sent it."""
    return f"{nonce}.{session_tag(cookie)}"


@dataclass(frozen=True)
class Question:
    """The bot's latest replies on the page, for the browser that prompted them."""

    texts: tuple[str, ...]
    choices: tuple[str, ...] = ()
    quick_replies: tuple[tuple[str, str], ...] = ()
    photos: bool = False  # the current flow takes photos


@dataclass(frozen=True)
class TrackingView:
    """Everything the page renders for one case."""

    case_id: str
    language: str
    carrier: str
    tracking_number: str
    exception: str
    state: str  # open | with_team | held | resolved | expired
    state_text: str
    note: str | None
    timeline: tuple[tuple[str, str], ...]  # (when, what), oldest first
    actions: tuple[tuple[str, str], ...] = ()  # (action, label)
    question: Question | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def can_act(self) -> bool:
        return bool(self.actions)


class TrackingPages:
    """Find the case a tracking token opens; build what its page shows."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.key = tracking_key(settings.events_webhook_secret)

    def case_for(self, token: str, now: datetime) -> Case | None:
        """The case ``token`` opens now, or None (bad token, unknown, erased, expired)."""
        case_id = case_from_token(token, self.key)
        case = self.store.get_case(case_id) if case_id else None
        if case is None or is_erased(case):
            return None
        if case.status in CLOSED_STATUSES:
            closed = datetime.fromisoformat((case.resolution or {}).get("at")
                                            or case.updated_at)
            if now > closed + timedelta(days=self.settings.tracking_link_days):
                return None
        return case

    def view(self, case: Case, cookie: str | None) -> TrackingView:
        """The page for ``case``, as the browser with session ``cookie`` sees it."""
        conv = self.store.get_conversation(WEB, case.id)
        lang = conv.language if conv.case_id == case.id else self._language(case)
        timeline = self.store.timeline(case.id)
        state, state_text, note = self._state(case, lang)
        actions: tuple[tuple[str, str], ...] = ()
        if is_open(case):
            own = flow_for_case(case)
            names = (own, *(n for n in SELF_SERVICE if n != own), HUMAN)
            actions = tuple((n, say(lang, f"page.action.{n}")) for n in names)
        question = self._question(timeline, cookie, case, conv.flow) if cookie else None
        return TrackingView(
            case_id=case.id, language=lang, carrier=case.carrier.title(),
            tracking_number=case.tracking_number, exception=self._exception(case, lang),
            state=state, state_text=state_text, note=note,
            timeline=tuple(self._history(case, timeline, lang)), actions=actions,
            question=question)

    def _language(self, case: Case) -> str:
        """The language of the customer's chat about this case, else the case's."""
        channel = ("telegram", str(case.telegram_chat_id)) \
            if case.telegram_chat_id is not None and self.settings.telegram_enabled \
            else ("sms", case.phone) if case.phone else None
        if channel is None:
            return case.language
        chat = self.store.get_conversation(*channel)
        return chat.language if chat.case_id == case.id else case.language

    # -- the parts ---------------------------------------------------------
    def _exception(self, case: Case, lang: str) -> str:
        key = f"page.exception.{case.type}"
        text = say(lang, key) if key in TEXTS["en"] else say(lang, "page.exception."
                                                             "delivery.failed")
        if case.type == "delivery.failed" and case.reason:
            text += ": " + reason_text(lang, case.reason)
        return text

    def _state(self, case: Case, lang: str) -> tuple[str, str, str | None]:
        reach = say(lang, f"page.where.{where(case, self.settings.telegram_enabled)}")
        if case.status in CLOSED_STATUSES:
            state = "expired" if case.status == EXPIRED else "resolved"
            return state, say(lang, f"page.state.{state}"), say(lang, "page.closed_note")
        if case.status == ESCALATED:
            holder = (case.handoff or {}).get("assignee_name") if case.held_by else None
            if case.held_by:
                first = (holder or "").split()
                note = say(lang, "page.held", name=first[0], where=reach) if first \
                    else say(lang, "page.held_anonymous", where=reach)
                return "held", say(lang, "page.state.with_team"), note
            return "with_team", say(lang, "page.state.with_team"), \
                say(lang, "page.with_team", where=reach)
        return "open", say(lang, "page.state.open"), None

    def _history(self, case: Case, timeline: list[dict[str, Any]],
                 lang: str) -> list[tuple[str, str]]:
        """The case's timeline in the customer's words; internal entries left out."""
        lines: list[tuple[str, str]] = []
        for entry in timeline:
            text = self._line(entry, case, lang)
            if text and (not lines or lines[-1][1] != text):
                at = entry.get("at")
                when = moment_label(lang, datetime.fromisoformat(at), case.timezone) \
                    if at else ""
                lines.append((when, text))
        return lines

    @staticmethod
    def _line(entry: dict[str, Any], case: Case, lang: str) -> str | None:
        kind = entry.get("kind")
        if kind == "event.received":
            key = f"page.exception.{entry.get('type')}"
            return say(lang, key) if key in TEXTS["en"] else None
        if kind == "window.reserved" and isinstance(entry.get("window"), dict):
            window = Window.from_dict(entry["window"])
            return say(lang, "page.tl.window", label=window_label(lang, window, case.timezone))
        if kind == "case.updated":
            if "address" in (entry.get("shipment") or {}):
                return say(lang, "page.tl.address")
            if "instructions" in (entry.get("details") or {}):
                return say(lang, "page.tl.instructions")
            return None
        if kind == "case.instructions_added":
            return say(lang, "page.tl.instructions")
        if kind == "media.received":
            return say(lang, "page.tl.photo")
        if kind == "callback.queued":
            if entry.get("type") == "case.pickup_selected":
                point = ((case.resolution or {}).get("pickup_point") or {}).get("name")
                return say(lang, "page.tl.pickup", name=point) if point else None
            line = _CALLBACK_LINES.get(entry.get("type", ""))
            return say(lang, line) if line else None
        if kind == "case.escalated":
            return say(lang, "page.tl.escalated")
        if kind == "staff.claimed":
            first = (entry.get("name") or "").split()
            return say(lang, "page.tl.claimed", name=first[0]) if first \
                else say(lang, "page.tl.claimed_anonymous")
        if kind == "staff.handed_back":
            return say(lang, "page.tl.handed_back")
        if kind == "case.resolved":
            return say(lang, "page.tl.resolved")
        if kind == "case.expired":
            return say(lang, "page.tl.expired")
        return None

    def _question(self, timeline: list[dict[str, Any]], cookie: str, case: Case,
                  flow: str | None) -> Question | None:
        """The replies to this browser's latest page turn, if that was the page's latest."""
        base = None
        for entry in reversed(timeline):
            if entry.get("channel") != WEB:
                continue
            if entry.get("kind") == "message.in":
                return None  # answered since (or silenced): nothing current to show
            if entry.get("kind") == "message.queued" and entry.get("key"):
                base = entry["key"].rsplit(":", 1)[0]
                break
        if base is None or base.rsplit(".", 1)[-1] != session_tag(cookie):
            return None
        keys = [e["key"] for e in timeline if e.get("kind") == "message.queued"
                and e.get("channel") == WEB and str(e.get("key", "")).startswith(base + ":")]
        replies = []
        for record in self.store.outbound_records(keys):
            if "payload" in record:
                replies.append(json.loads(record["payload"]))
        if not replies:
            return None
        last = next((r for r in reversed(replies) if r.get("choices") or r.get("quick_replies")),
                    None) if is_open(case) else None
        return Question(
            texts=tuple(r["text"] for r in replies),
            choices=tuple(last.get("choices") or ()) if last else (),
            quick_replies=tuple(tuple(q) for q in last.get("quick_replies") or ())
            if last else (),
            photos=bool(is_open(case) and flow and FLOWS[flow].accepts_media))
