"""Customers who go quiet: one reminder, then the case expires."""

from __future__ import annotations

from bot.engine import Engine, Turn
from bot.models import AWAITING_CUSTOMER, EXPIRED, Reply
from flows.messages import say
from flows.registry import FLOWS


def idle_check(engine: Engine, channel: str, address: str, case_id: str, turns: int,
               stage: str) -> str:
    """Remind a quiet customer once, then expire the case. Returns what happened."""
    store = engine.store
    with store.conversation_lock(channel, address):
        conv = store.get_conversation(channel, address)
        case = store.get_case(case_id)
        if case is None or conv.case_id != case_id or conv.turns != turns \
                or case.status != AWAITING_CUSTOMER:
            return "stale"
        turn = Turn(case=case, conv=conv)
        ctx = engine.context(case, conv.language)
        if stage == "remind" and not conv.reminded:
            conv.reminded = True
            if store.is_opted_out(channel, address):
                turn.timeline.append(("reminder.suppressed", {"reason": "opted_out"}))
            else:
                prompt = FLOWS[conv.flow].prompt(conv.state, ctx)
                turn.replies.append(Reply(say(ctx.language, "reminder") + " " + prompt.text,
                                          prompt.choices, prompt.quick_replies))
                turn.timeline.append(("reminder.sent", {}))
            engine.commit(turn, key_base=f"remind:{case_id}:{turns}", proactive=True)
            return "reminded"
        engine.set_status(turn, EXPIRED, {"outcome": "no_reply"})
        turn.callbacks.append(("case.expired", {"reason": "no_reply"}))
        conv.flow, conv.state, conv.case_id = None, {}, None
        engine.commit(turn, key_base=f"expire:{case_id}", proactive=True)
        return "expired"
