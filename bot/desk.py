"""Support staff at work: claim an escalated conversation, talk, hand back or resolve.

Every action takes the conversation's turn lock, like a customer's turn, so a staff
action and a customer's message never interleave, and two agents racing to claim one
conversation get one winner and one :class:`~bot.errors.Conflict`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.engine import Turn
from bot.errors import Conflict, Invalid, NotFound
from bot.models import (
    AWAITING_CUSTOMER,
    CLOSED_STATUSES,
    ESCALATED,
    RESOLVED,
    Case,
    Conversation,
    Reply,
)
from bot.store import now_iso
from flows.messages import say
from flows.registry import flow_for_case

if TYPE_CHECKING:
    from bot.engine import Engine
    from bot.inbox import Inbox
    from bot.playbook import Playbook

SUPERVISOR = "supervisor"
AGENT = "agent"
ROLES = (AGENT, SUPERVISOR)


@dataclass(frozen=True)
class Actor:
    """The staff member doing something (``name`` is what customers see: "Sam")."""

    email: str
    name: str
    role: str

    @property
    def is_supervisor(self) -> bool:
        return self.role == SUPERVISOR


class SupportDesk:
    """Staff actions on conversations. Each returns the conversation's summary
    (:meth:`bot.inbox.Inbox.summary`) as it stands afterwards; ``send_message`` and
    ``add_note`` wrap it with the message key or the note.

    Errors (``bot.errors``): ``NotFound`` (no such case), ``Conflict`` (held by someone
    else, not escalated, already closed), ``Invalid`` (empty or too long text, unknown
    resolution code).
    """

    def __init__(self, engine: Engine, inbox: Inbox, playbook: Playbook) -> None:
        self.engine = engine
        self.store = engine.store
        self.inbox = inbox
        self.playbook = playbook

    # -- actions -------------------------------------------------------------
    def claim(self, case_id: str, actor: Actor) -> dict[str, Any]:
        """Take an escalated conversation; the customer is told who joined. Claiming one
        you already hold is a no-op; one someone else holds is a Conflict."""
        with self._locked(case_id) as (case, conv):
            if case.status != ESCALATED:
                raise Conflict("this conversation is not waiting for a person"
                               + (" (it is closed)" if case.status in CLOSED_STATUSES else ""))
            if case.held_by == actor.email:
                return self.inbox.summary(case)
            if case.held_by:
                raise Conflict(f"{case.handoff.get('assignee_name')} already holds this "
                               "conversation")
            now = now_iso()
            handoff = {**case.handoff, "assignee": actor.email, "assignee_name": actor.name,
                       "claimed_at": now}
            turn = Turn(case=_with(case, handoff=handoff), conv=conv, author="system")
            turn.timeline.append(("staff.claimed", {"by": actor.email, "name": actor.name}))
            if conv is not None:
                turn.replies.append(Reply(say(conv.language, "staff.joined", name=actor.name)))
            waited = _seconds_between(case.handoff.get("waiting_since"), now)
            self.engine.commit(turn, key_base=f"claim:{case_id}:{uuid.uuid4().hex[:12]}",
                               proactive=False)
            if waited is not None:
                self.store.record_claim_wait(waited)
            return self.inbox.summary(turn.case)

    def release(self, case_id: str, actor: Actor) -> dict[str, Any]:
        """Put a held conversation back in the unassigned queue (holder or supervisor)."""
        with self._locked(case_id) as (case, conv):
            self._check_holder(case, actor, "release")
            if not case.held_by:
                return self.inbox.summary(case)
            now = now_iso()
            handoff = {**case.handoff, "assignee": None, "assignee_name": None,
                       "claimed_at": None, "waiting_since": now, "overdue": False}
            turn = Turn(case=_with(case, handoff=handoff), conv=conv)
            turn.timeline.append(("staff.released", {"by": actor.email, "name": actor.name}))
            self.engine.commit(turn, key_base=f"release:{case_id}:{uuid.uuid4().hex[:12]}",
                               proactive=False)
            self.engine.dispatcher.check_overdue(case_id, now,
                                                 self.engine.settings.escalation_overdue_s)
            return self.inbox.summary(turn.case)

    def send_message(self, case_id: str, actor: Actor, text: str) -> dict[str, Any]:
        """Send ``text`` to the customer on their channel through the outbound queue.
        The sender must hold the conversation. Returns ``{"key": ..., "conversation": ...}``."""
        text = _text(text, MAX_MESSAGE_CHARS, "message")
        with self._locked(case_id) as (case, conv):
            if case.held_by != actor.email:
                raise Conflict("claim this conversation before replying"
                               if not case.held_by else
                               f"{case.handoff.get('assignee_name')} holds this conversation")
            if conv is None:
                raise Conflict("this customer cannot be reached: no phone number or chat")
            turn = Turn(case=case, conv=conv, replies=[Reply(text)], author="staff",
                        staff=(actor.email, actor.name))
            handoff = case.handoff or {}
            if not handoff.get("first_response_at"):
                turn.case = _with(case, handoff={**handoff, "first_response_at": now_iso()})
            outs = self.engine.commit(turn, key_base=f"staff:{case_id}:{uuid.uuid4().hex[:12]}",
                                      proactive=False)
            return {"key": outs[0].key, "conversation": self.inbox.summary(turn.case)}

    def add_note(self, case_id: str, actor: Actor, text: str) -> dict[str, Any]:
        """An internal note on the case's timeline; the customer never sees it."""
        text = _text(text, MAX_NOTE_CHARS, "note")
        with self._locked(case_id) as (case, _conv):
            note = {"author": actor.email, "author_name": actor.name, "text": text}
            turn = Turn(case=case, conv=None, timeline=[("note.added", note)])
            self.engine.commit(turn, key_base=f"note:{case_id}", proactive=False)
            return {"note": {**note, "at": now_iso()}, "conversation": self.inbox.summary(case)}

    def hand_back(self, case_id: str, actor: Actor, restart: bool = False) -> dict[str, Any]:
        """Give the conversation back to the bot: it asks its open question again
        (or starts the flow over with ``restart``)."""
        with self._locked(case_id) as (case, conv):
            if case.status != ESCALATED:
                raise Conflict("only a conversation with support staff can be handed back")
            self._check_holder(case, actor, "hand back")
            turn = Turn(case=_with(case, status=AWAITING_CUSTOMER, handoff=None,
                                   updated_at=now_iso()), conv=conv)
            turn.timeline.append(("staff.handed_back", {"by": actor.email, "name": actor.name,
                                                        "restart": restart}))
            if conv is not None and conv.case_id == case.id:
                self._resume(turn, restart)
            self.engine.commit(turn, key_base=f"handback:{case_id}:{uuid.uuid4().hex[:12]}",
                               proactive=False)
            return self.inbox.summary(turn.case)

    def resolve(self, case_id: str, actor: Actor, code: str, note: str) -> dict[str, Any]:
        """Close the case with a resolution code and a note; posts ``case.resolved``."""
        if not isinstance(code, str) or not self.playbook.is_resolution_code(code):
            raise Invalid("resolution_code must be one of the configured resolution codes "
                          "(GET /api/resolution-codes)")
        note = _text(note, MAX_NOTE_CHARS, "note")
        with self._locked(case_id) as (case, conv):
            if case.status in CLOSED_STATUSES:
                raise Conflict("this case is already closed")
            self._check_holder(case, actor, "resolve")
            turn = Turn(case=case, conv=conv)
            data = {"outcome": code, "resolution_code": code, "note": note,
                    "resolved_by": actor.email, "resolved_by_name": actor.name}
            self.engine.set_status(turn, RESOLVED, data)
            turn.callbacks.append(("case.resolved", {"resolution": code, "resolution_code": code,
                                                     "note": note, "resolved_by": actor.email}))
            if conv is not None and conv.case_id == case.id:
                conv.flow, conv.state, conv.case_id, conv.pending = None, {}, None, None
            self.engine.commit(turn, key_base=f"resolve:{case_id}", proactive=False)
            return self.inbox.summary(turn.case)

    # -- the clock -------------------------------------------------------------
    def check_overdue(self, case_id: str, since: str) -> str:
        """The queue's timer: flag an escalation nobody claimed since ``since`` as overdue
        and tell the customer honestly that it is taking longer. Returns what happened."""
        with self._locked(case_id) as (case, conv):
            handoff = case.handoff or {}
            if case.status != ESCALATED or case.held_by or handoff.get("overdue") \
                    or handoff.get("waiting_since") != since:
                return "stale"
            turn = Turn(case=_with(case, handoff={**handoff, "overdue": True,
                                                  "overdue_at": now_iso()}),
                        conv=conv, author="system")
            turn.timeline.append(("escalation.overdue", {"waiting_since": since}))
            if conv is not None:
                turn.replies.append(Reply(say(conv.language, "escalation.overdue")))
            self.engine.commit(turn, key_base=f"overdue:{case_id}:{since}", proactive=True)
            return "overdue"

    # -- helpers -----------------------------------------------------------------
    @contextmanager
    def _locked(self, case_id: str) -> Iterator[tuple[Case, Conversation | None]]:
        """The case and its conversation, read under the conversation's turn lock."""
        case = self.store.get_case(case_id)
        if case is None:
            raise NotFound(f"no conversation {case_id}")
        channel = self.engine.case_channel(case)
        lock = self.store.conversation_lock(*channel) if channel else \
            self.store.case_lock(case_id)
        with lock:
            case = self.store.get_case(case_id)
            conv = self.store.get_conversation(*channel) if channel else None
            if conv is not None and conv.case_id not in (None, case.id):
                conv = None  # the customer is busy with another case: don't cross wires
            yield case, conv

    def _check_holder(self, case: Case, actor: Actor, action: str) -> None:
        holder = case.held_by
        if holder and holder != actor.email and not actor.is_supervisor:
            raise Conflict(f"{case.handoff.get('assignee_name')} holds this conversation; "
                           f"only they or a supervisor can {action} it")

    def _resume(self, turn: Turn, restart: bool) -> None:
        conv, case = turn.conv, turn.case
        lang = conv.language
        conv.fallbacks = 0
        state = {k: v for k, v in conv.state.items() if k != "hold_sent"}
        if restart or not conv.flow or state.get("step") in ("escalated", "done", None):
            conv.state = {}
            turn.replies.append(Reply(say(lang, "staff.handed_back")))
            self.engine.start_flow(turn, flow_for_case(case), self.engine.context(case, lang))
            return
        conv.state = {**state, "misses": 0}
        self.engine.reprompt(turn, prefix=say(lang, "staff.handed_back"))


MAX_MESSAGE_CHARS = 1600  # Twilio's limit for one message body
MAX_NOTE_CHARS = 4000


def _text(value: object, limit: int, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"the {what} text is empty")
    if len(value) > limit:
        raise Invalid(f"the {what} is {len(value)} characters; at most {limit}")
    return value.strip()


def _with(case: Case, **changes: Any) -> Case:
    return Case.from_dict({**case.to_dict(), **changes})


def _seconds_between(start: str | None, end: str) -> float | None:
    if not start:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
