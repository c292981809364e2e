"""Checks shared by the flow tests: what a flow step said, and that SMS can carry it."""

from __future__ import annotations

from channels.render import render_sms, segments
from flows.base import Step


def fits(step: Step, forbidden: tuple[str, ...] = ()) -> Step:
    """Every reply of ``step`` fits two SMS segments once rendered, and says none of
    ``forbidden`` (lower-case words)."""
    for reply in step.replies:
        assert segments(render_sms(reply.text, reply.choices)) <= 2, reply.text
        assert not any(w in reply.text.lower() for w in forbidden), reply.text
    return step


def said(step: Step, forbidden: tuple[str, ...] = ()) -> str:
    return " ".join(r.text for r in fits(step, forbidden).replies)
