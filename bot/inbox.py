"""What the console shows: conversation lists, one conversation in full, queue figures.

Desk status of a conversation (the ``status`` the API filters on):
``escalated`` waiting for a person; ``held`` a staff member has it; ``bot`` the bot is
handling it; ``closed`` resolved or expired.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
        raise NotImplementedError

    def conversation(self, case_id: str) -> dict[str, Any] | None:
        """One conversation in full: the summary plus ``case`` (the whole case),
        ``transcript`` (``[{"at", "direction": "in"|"out", "author":
        "customer"|"bot"|"system"|"staff", "author_name", "text", "channel", "key",
        "delivery": "queued"|"sent"|"delivered"|"failed"|..., "error_code",
        "media": [media]}]``), ``notes`` (``[{"at", "author", "author_name", "text"}]``),
        ``timeline`` (every entry), ``media`` (``[{"id", "content_type", "size", "at"}]``),
        ``slots`` (what the bot collected), ``flow``, ``handoff_summary``."""
        raise NotImplementedError

    def queue_figures(self) -> dict[str, Any]:
        """``{"waiting", "held", "overdue", "agents_online", "median_wait_s"}``."""
        raise NotImplementedError
