"""Which flow handles which exception type, and which requests switch flows."""

from __future__ import annotations

from bot.models import Case
from flows.address import AddressFlow
from flows.base import Flow
from flows.damage import DamageFlow
from flows.delay import DelayFlow
from flows.missing import MissingFlow
from flows.reschedule import RescheduleFlow

FLOWS: dict[str, Flow] = {flow.name: flow for flow in (
    RescheduleFlow(), AddressFlow(), DamageFlow(), DelayFlow(), MissingFlow())}
FLOW_FOR_EVENT = {
    "delivery.failed": "reschedule",
    "delivery.damaged": "damage",
    "delivery.delayed": "delay",
    "delivery.misrouted": "missing",
    "delivery.address_invalid": "address",
}
# A customer asking for one of these mid-conversation is taken to that flow.
SWITCH_INTENTS = {
    "reschedule": "reschedule",
    "change_address": "address",
    "report_damage": "damage",
    "not_received": "missing",
}
ADDRESS_REASONS = frozenset({"address_not_found", "address_invalid", "bad_address"})


def flow_for_case(case: Case) -> str:
    """The flow that opens the dialogue for this case's exception."""
    if case.type == "delivery.failed" and case.reason in ADDRESS_REASONS:
        return "address"
    return FLOW_FOR_EVENT[case.type]
