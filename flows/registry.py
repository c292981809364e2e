"""Which flow handles which exception type."""

from __future__ import annotations

from flows.base import Flow
from flows.notice import NoticeFlow
from flows.reschedule import RescheduleFlow

FLOWS: dict[str, Flow] = {"reschedule": RescheduleFlow(), "notice": NoticeFlow()}
FLOW_FOR_EVENT = {
    "delivery.failed": "reschedule",
    "delivery.damaged": "notice",
    "delivery.delayed": "notice",
    "delivery.misrouted": "notice",
    "delivery.address_invalid": "notice",
}
