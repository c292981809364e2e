"""What the console shows: conversation lists, one conversation in full, queue figures.

Desk status of a conversation (the ``status`` the API filters on):
``escalated`` waiting for a person; ``held`` a staff member has it; ``bot`` the bot is
handling it; ``closed`` resolved or expired.
"""

from __future__ import annotations

import re
import statistics
from typing import TYPE_CHECKING, Any

from bot.escalation import ONLINE_WITHIN_S, eta_minutes
from bot.models import CLOSED_STATUSES, ESCALATED, Case
from bot.phones import normalise_phone

if TYPE_CHECKING:
    from bot.engine import Engine

DESK_STATUSES = ("escalated", "held", "bot", "closed")
VIEWS = ("mine", "unassigned", "overdue")


class Inbox:
    """Read-only views over cases for the console and the API."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store
        self.settings = engine.settings

    # -- lists -----------------------------------------------------------------
    def conversations(self, *, status: str | None = None, view: str | None = None,
                      q: str | None = None, type_: str | None = None,
                      staff_email: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Conversation summaries, newest first.

        ``status`` one of DESK_STATUSES (default: escalated and held); ``view`` one of
        VIEWS (``mine`` needs ``staff_email``); ``q`` matches phone number (any format),
        tracking number or recipient name; ``type_`` an event type such as
        ``delivery.failed``.

        A summary: ``{"id", "status", "case_status", "type", "reason",
        "tracking_number", "carrier", "order_ref", "recipient_name", "phone",
        "telegram_chat_id", "channel", "language", "created_at", "updated_at",
        "escalation": {"reason", "summary", "escalated_at", "eta_minutes", "overdue",
        "assignee", "assignee_name", "claimed_at"} | None, "last_message": {"at",
        "direction", "text"} | None}``.
        """
        query = (q or "").strip()
        if status in (None, "escalated", "held") and not query:
            ids = self.store.escalated_case_ids()
        else:
            ids = self.store.recent_case_ids(SCAN_LIMIT)
            if query:
                ids = self._search_indexes(query) + ids
        cases = self.store.get_cases(list(dict.fromkeys(ids)))
        wanted = [c for c in cases if self._matches(c, status, view, query, type_, staff_email)]
        wanted.sort(key=_newest, reverse=True)
        wanted = wanted[:limit]
        lasts = self.store.recent_timelines([c.id for c in wanted], LAST_ENTRIES)
        return [self.summary(c, timeline) for c, timeline in zip(wanted, lasts, strict=True)]

    def _search_indexes(self, query: str) -> list[str]:
        """Cases found directly by tracking number or phone number (beyond the recent ones)."""
        found = [c.id for c in self.store.cases_for_tracking(query)]
        phone = normalise_phone(query)
        if phone:
            found += [c.id for c in self.store.cases_for_recipient("sms", phone)]
        return found

    @staticmethod
    def _matches(case: Case, status: str | None, view: str | None, query: str,
                 type_: str | None, staff_email: str | None) -> bool:
        desk = desk_status(case)
        if status is None and desk not in ("escalated", "held"):
            return False
        if status is not None and desk != status:
            return False
        if type_ and case.type != type_:
            return False
        if view == "mine" and case.held_by != (staff_email or "").lower():
            return False
        if view in ("unassigned", "overdue") and desk != "escalated":
            return False
        if view == "overdue" and not (case.handoff or {}).get("overdue"):
            return False
        return not query or _found(case, query)

    # -- one conversation ------------------------------------------------------
    def summary(self, case: Case, timeline: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The row the inbox shows for a case."""
        if timeline is None:
            timeline = self.store.recent_timeline(case.id, LAST_ENTRIES)
        channel = self.engine.case_channel(case)
        handoff = case.handoff if case.status == ESCALATED else None
        last = next((e for e in reversed(timeline)
                     if e["kind"] in ("message.in", "message.queued")), None)
        return {
            "id": case.id, "status": desk_status(case), "case_status": case.status,
            "type": case.type, "reason": case.reason,
            "tracking_number": case.tracking_number, "carrier": case.carrier,
            "order_ref": case.order_ref, "recipient_name": case.recipient_name,
            "phone": case.phone, "telegram_chat_id": case.telegram_chat_id,
            "channel": channel[0] if channel else None, "language": case.language,
            "created_at": case.created_at, "updated_at": case.updated_at,
            "escalation": {k: handoff.get(k) for k in HANDOFF_FIELDS} if handoff else None,
            "last_message": {"at": last.get("at"),
                             "direction": "in" if last["kind"] == "message.in" else "out",
                             "text": last.get("text", "")} if last else None,
        }

    def conversation(self, case_id: str) -> dict[str, Any] | None:
        """One conversation in full: the summary plus ``case`` (the whole case),
        ``transcript`` (``[{"at", "direction": "in"|"out", "author":
        "customer"|"bot"|"system"|"staff", "author_name", "text", "channel", "key",
        "delivery": "queued"|"sent"|"delivered"|"failed"|..., "error_code",
        "media": [media]}]``), ``notes`` (``[{"at", "author", "author_name", "text"}]``),
        ``timeline`` (every entry), ``media`` (``[{"id", "content_type", "size", "at"}]``),
        ``slots`` (what the bot collected), ``flow``, ``handoff_summary``."""
        case = self.store.get_case(case_id)
        if case is None:
            return None
        timeline = self.store.timeline(case_id)
        transcript, notes, media = _transcript(timeline)
        keys = [m["key"] for m in transcript if m.get("key")]
        records = dict(zip(keys, self.store.outbound_records(keys), strict=True))
        for message in transcript:
            record = records.get(message.get("key") or "", {})
            if message["direction"] == "out":
                message["delivery"] = record.get("status", "queued")
                message["error_code"] = record.get("error_code") or None
        channel = self.engine.case_channel(case)
        conv = self.store.get_conversation(*channel) if channel else None
        mine = conv is not None and conv.case_id == case.id
        handoff = case.handoff or {}
        return {
            **self.summary(case, timeline),
            "case": case.to_dict(), "transcript": transcript, "notes": notes,
            "timeline": timeline, "media": media,
            "slots": {k: v for k, v in conv.state.items() if k not in INTERNAL_STATE}
            if mine else {},
            "flow": conv.flow if mine else None,
            "handoff_summary": handoff.get("summary"),
        }

    def queue_figures(self) -> dict[str, Any]:
        """``{"waiting", "held", "overdue", "agents_online", "median_wait_s", "eta_minutes"}``."""
        waiting, held, overdue, waits = self.engine.escalations.queue_state()
        online = self.store.staff_online(ONLINE_WITHIN_S)
        return {"waiting": waiting, "held": held, "overdue": overdue, "agents_online": online,
                "median_wait_s": statistics.median(waits) if waits else None,
                "eta_minutes": eta_minutes(waiting, online, waits,
                                           self.settings.escalation_overdue_s)}


SCAN_LIMIT = 2000  # recent cases searched by name; tracking and phone use indexes
LAST_ENTRIES = 30
HANDOFF_FIELDS = ("reason", "summary", "escalated_at", "eta_minutes", "overdue", "assignee",
                  "assignee_name", "claimed_at", "first_response_at")
INTERNAL_STATE = frozenset({"listed", "candidates", "heard", "hold_sent"})


def desk_status(case: Case) -> str:
    """escalated, held, bot or closed (see the module docstring)."""
    if case.status in CLOSED_STATUSES:
        return "closed"
    if case.status == ESCALATED:
        return "held" if case.held_by else "escalated"
    return "bot"


def _newest(case: Case) -> str:
    if case.status == ESCALATED and case.handoff:
        return case.handoff.get("escalated_at") or case.updated_at
    return case.updated_at


def _found(case: Case, query: str) -> bool:
    q = query.casefold()
    digits = re.sub(r"\D", "", query)
    if len(digits) >= 4 and case.phone and digits[-10:] in re.sub(r"\D", "", case.phone):
        return True
    return any(q in (value or "").casefold()
               for value in (case.tracking_number, case.recipient_name, case.order_ref, case.id))


def _transcript(timeline: list[dict[str, Any]]) -> tuple[list, list, list]:
    """Messages (with the photos that came with each), internal notes, and all media."""
    transcript: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    media: list[dict[str, Any]] = []
    for entry in timeline:
        kind = entry["kind"]
        if kind == "message.in":
            transcript.append({"at": entry.get("at"), "direction": "in", "author": "customer",
                               "author_name": None, "text": entry.get("text", ""),
                               "channel": entry.get("channel"), "key": None,
                               "delivery": None, "error_code": None, "media": []})
        elif kind == "message.queued":
            transcript.append({"at": entry.get("at"), "direction": "out",
                               "author": entry.get("author", "bot"),
                               "author_name": entry.get("staff_name"),
                               "text": entry.get("text", ""), "channel": entry.get("channel"),
                               "key": entry.get("key"), "delivery": "queued",
                               "error_code": None, "media": []})
        elif kind == "media.received":
            item = {"id": entry.get("media_id"), "content_type": entry.get("content_type"),
                    "size": entry.get("size"), "at": entry.get("at")}
            media.append(item)
            inbound = next((m for m in reversed(transcript) if m["direction"] == "in"), None)
            if inbound is not None:
                inbound["media"].append(item)
        elif kind == "note.added":
            notes.append({"at": entry.get("at"), "author": entry.get("author"),
                          "author_name": entry.get("author_name"), "text": entry.get("text")})
    return transcript, notes, media
