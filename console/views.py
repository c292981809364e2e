"""The console's HTML pages: inbox, one conversation, admin.

The pages are shells: ``console/static/*.js`` fills them from the JSON API (``/api``)
and keeps them current from the Server-Sent Events stream (``/api/stream``). Static
files are served from ``console/static`` at ``/console/static``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template

from bot.events import CLOSING_TYPES, EVENT_TYPES
from console.auth import current_staff, staff_required

bp = Blueprint("console_views", __name__, template_folder="templates",
               static_folder="static", static_url_path="/console/static")

# Exception types a conversation can be about (closing events only close cases).
CONVERSATION_TYPES = tuple(t for t in EVENT_TYPES if t not in CLOSING_TYPES)
TYPE_LABELS = {
    "delivery.failed": "Failed delivery",
    "delivery.damaged": "Damaged",
    "delivery.delayed": "Delayed",
    "delivery.misrouted": "Misrouted / missing",
    "delivery.address_invalid": "Address invalid",
    "delivery.delivered": "Delivered",
    "delivery.returned": "Returned",
}
# Pages load only their own scripts and styles: nothing inline, nothing from elsewhere.
def type_label(event_type: str) -> str:
    """How the console names an exception type: ``delivery.address_invalid`` → Address invalid."""
    return TYPE_LABELS.get(event_type) or \
        event_type.rpartition(".")[2].replace("_", " ").capitalize()


@bp.app_template_global()
def type_options() -> list[tuple[str, str]]:
    """``(event type, label)`` for the inbox's type filter."""
    return [(t, type_label(t)) for t in CONVERSATION_TYPES]


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    staff = current_staff()
    return render_template(template, staff=staff, **context), status


@bp.get("/console")
@staff_required()
def inbox() -> tuple[str, int]:
    """The inbox: escalated conversations first, with tabs, type filter and search."""
    return _page("inbox.html", page="inbox")


@bp.get("/console/c/<case_id>")
@staff_required()
def conversation(case_id: str) -> tuple[str, int]:
    """One conversation: transcript, details, notes, and the staff actions."""
    runtime: Any = current_app.extensions["doorstep"]
    if len(case_id) > 100 or runtime.store.get_case(case_id) is None:
        return _page("not_found.html", 404, page="not-found")
    return _page("conversation.html", page="conversation", case_id=case_id)


@bp.get("/console/admin")
@staff_required("supervisor")
def admin() -> tuple[str, int]:
    """Supervisors: canned responses, resolution codes and staff accounts."""
    return _page("admin.html", page="admin")
