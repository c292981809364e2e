"""Support staff at work: claim an escalated conversation, talk, hand back or resolve.

Every action takes the conversation's turn lock, like a customer's turn, so a staff
action and a customer's message never interleave, and two agents racing to claim one
conversation get one winner and one :class:`~bot.errors.Conflict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
    (:meth:`bot.inbox.Inbox.summary`) as it stands afterwards.

    Errors (``bot.errors``): ``NotFound`` (no such case), ``Conflict`` (held by someone
    else, not escalated, already closed), ``Invalid`` (empty or too long text, unknown
    resolution code).
    """

    def __init__(self, engine: Engine, inbox: Inbox, playbook: Playbook) -> None:
        self.engine = engine
        self.store = engine.store
        self.inbox = inbox
        self.playbook = playbook

    def claim(self, case_id: str, actor: Actor) -> dict[str, Any]:
        """Take an escalated conversation; the customer is told who joined. Claiming one
        you already hold is a no-op; one someone else holds is a Conflict."""
        raise NotImplementedError

    def release(self, case_id: str, actor: Actor) -> dict[str, Any]:
        """Put a held conversation back in the unassigned queue (holder or supervisor)."""
        raise NotImplementedError

    def send_message(self, case_id: str, actor: Actor, text: str) -> dict[str, Any]:
        """Send ``text`` to the customer on their channel through the outbound queue.
        The sender must hold the conversation. Returns ``{"key": ..., "conversation": ...}``."""
        raise NotImplementedError

    def add_note(self, case_id: str, actor: Actor, text: str) -> dict[str, Any]:
        """An internal note on the case's timeline; the customer never sees it."""
        raise NotImplementedError

    def hand_back(self, case_id: str, actor: Actor, restart: bool = False) -> dict[str, Any]:
        """Give the conversation back to the bot: it asks its open question again
        (or starts the flow over with ``restart``)."""
        raise NotImplementedError

    def resolve(self, case_id: str, actor: Actor, code: str, note: str) -> dict[str, Any]:
        """Close the case with a resolution code and a note; posts ``case.resolved``."""
        raise NotImplementedError
