"""Turns taken on the tracking page: the same engine, flows, callbacks and lock as the chat.

The page's conversation is ``("web", case id)``. A typed answer or a pressed choice is an
ordinary :class:`~bot.models.Inbound` for :meth:`Engine.handle`. The page's action
buttons (pick a new window, correct the address, report damage, talk to a person) start
exactly that flow, or escalate, without asking the NLU what a canned phrase means: they
run :meth:`WebTurns.act`, built like ``Engine.handle`` (same lock, replay mark, timeline
and commit). The message id is the form's nonce, so a double submit is a replay.
"""

from __future__ import annotations

from datetime import datetime

from bot.engine import Engine, Turn
from bot.models import CLOSED_STATUSES, ESCALATED, WEB, Case, Conversation, Inbound, Reply
from flows import tracking_texts  # noqa: F401  (registers the tracking texts)
from flows.base import Escalate, Step
from flows.messages import say
from flows.registry import FLOWS, flow_for_case

HUMAN = "human"
ACTIONS = frozenset(FLOWS) | {HUMAN}


def is_open(case: Case) -> bool:
    """Whether the customer can still act on this case from the page."""
    return case.status not in CLOSED_STATUSES and case.status != ESCALATED


def where(case: Case, settings_telegram: bool) -> str:
    """How staff will reach the customer: ``sms`` or ``telegram``."""
    return "telegram" if case.telegram_chat_id is not None and settings_telegram else "sms"


class WebTurns:
    """Customer turns from the tracking page."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store

    def _attach(self, conv: Conversation, case: Case) -> None:
        """Tie the page's conversation to its case, in the language the customer uses."""
        if conv.case_id == case.id:
            return
        chat = self.engine.case_conversation(case)
        conv.case_id = case.id
        conv.language = chat.language if chat is not None and chat.case_id == case.id \
            else case.language

    def conversation(self, case_id: str) -> Conversation:
        return self.store.get_conversation(WEB, case_id)

    def act(self, case_id: str, action: str, message_id: str, received_at: datetime) -> bool:
        """Start ``action``'s flow (or ask for a person); False for a replay, an unknown
        action, or a case the page can no longer act on."""
        if action not in ACTIONS:
            return False
        engine = self.engine
        with self.store.conversation_lock(WEB, case_id):
            seen, conv, _ = self.store.load_turn(WEB, case_id, message_id)
            case = self.store.get_case(case_id)
            if seen or case is None or not is_open(case):
                return False
            self._attach(conv, case)
            lang = conv.language
            turn = Turn(case=case, conv=conv)
            turn.timeline.append(("message.in", {
                "channel": WEB, "message_id": message_id, "action": action,
                "text": say(lang, f"page.action.{action}"), "attachments": 0}))
            ctx = engine.context(case, lang)
            if action == HUMAN:
                reach = where(case, engine.settings.telegram_enabled)
                reply = Reply(say(lang, "tracking.human", where=say(lang, f"page.where.{reach}")))
                engine.apply(turn, Step(conv.state, (reply,),
                                        (Escalate("customer asked for a person"),)), ctx)
            else:
                engine.switch(turn, action, ctx)
            conv.turns += 1
            conv.last_inbound_at = received_at.isoformat()
            engine.commit(turn, key_base=f"{WEB}:{message_id}", proactive=False,
                          mark=(WEB, case_id, message_id))
            return True

    def answer(self, inbound: Inbound) -> bool:
        """Handle a typed answer, a pressed choice or a photo as a chat message would be.

        Before the customer picked anything, the case's own flow starts instead (the page
        shows no question then, so there is nothing yet to answer).
        """
        case = self.store.get_case(inbound.sender)
        if case is None or not is_open(case):
            return False
        if self.conversation(case.id).flow is None:  # act() attaches the conversation
            return self.act(case.id, flow_for_case(case), inbound.message_id,
                            inbound.received_at)
        return self.engine.handle(inbound)
