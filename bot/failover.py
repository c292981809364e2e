"""A message that cannot reach the customer: try their other channel, else tell staff.

Called by the queue when a send fails for good (opted out, landline, unknown number,
bot blocked, or retries used up). If the customer has another channel (a linked
Telegram chat, or the phone number from the shipper's event), the message and the
dialogue move there, as a Telegram link moves them from SMS. Otherwise the case is
escalated, silently: a hand-off the console shows, with no "a person will reply"
message to a customer we cannot reach.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING

from bot.models import CLOSED_STATUSES, ESCALATED, Case, Conversation, Outbound, Reply

if TYPE_CHECKING:
    from bot.engine import Engine

FAILOVER = ":failover"


def other_channel(engine: Engine, case: Case, outbound: Outbound) -> tuple[str, str] | None:
    """Where else this customer can be reached, if anywhere we may write to."""
    if FAILOVER in outbound.key:
        return None  # a failover that failed: don't bounce between channels
    target: tuple[str, str] | None = None
    if outbound.channel == "telegram" and case.phone:
        target = ("sms", case.phone)
    elif outbound.channel == "sms" and case.telegram_chat_id is not None \
            and engine.settings.telegram_enabled:
        target = ("telegram", str(case.telegram_chat_id))
    if target is None or engine.store.is_opted_out(*target):
        return None
    return target


def undeliverable(engine: Engine, outbound: Outbound, code: str | None, reason: str,
                  escalate: bool = True) -> str:
    """Handle a message that finally failed; return what was done.

    ``failed_over`` (sent on the other channel), ``escalated``, ``already escalated``,
    ``closed`` (the case is over: the dead-letter list is enough), or ``nothing`` when
    there is no other channel and ``escalate`` is false.
    """
    from bot.engine import Turn

    store = engine.store
    case = store.get_case(outbound.case_id) if outbound.case_id else None
    if case is None:
        return "no case"
    target = other_channel(engine, case, outbound)
    if target is None and not escalate:
        return "nothing"
    source = (outbound.channel, outbound.to)
    locks = sorted({source, target} - {None})  # the same order everywhere: no deadlock
    with ExitStack() as stack:
        for channel, address in locks:
            stack.enter_context(store.conversation_lock(channel, address))
        case = store.get_case(case.id) or case
        conv = store.get_conversation(*source)
        if target is not None:
            return _fail_over(engine, case, conv, outbound, target, code)
        if case.status in CLOSED_STATUSES:
            return "closed"
        if case.status == ESCALATED:
            return "already escalated"
        turn = Turn(case=case, conv=conv if conv.case_id == case.id else None,
                    author="system")
        engine.escalations.escalate(turn, "customer unreachable",
                                    {"channel": outbound.channel, "error_code": code,
                                     "error": reason})
        turn.replies.clear()  # the customer can't be reached: no "a person will reply"
        engine.commit(turn, key_base=f"unreachable:{outbound.key}", proactive=True)
        return "escalated"


def _fail_over(engine: Engine, case: Case, source: Conversation, outbound: Outbound,
               target: tuple[str, str], code: str | None) -> str:
    from bot.engine import Turn

    conv = engine.store.get_conversation(*target)
    turn = Turn(case=case, conv=conv, author=outbound.author)
    if source.case_id == case.id and conv.case_id != case.id:
        # The dialogue moves with the message, so the customer's answer lands in it.
        conv.case_id, conv.flow, conv.state = case.id, source.flow, source.state
        conv.language = source.language
        turn.detached.append(Conversation(source.channel, source.address,
                                          language=source.language, turns=source.turns))
    conv.case_id = case.id
    if outbound.channel == "telegram":
        # Blocked or gone: stop routing this case's messages to the chat.
        turn.case = Case.from_dict({**case.to_dict(), "telegram_chat_id": None})
    if target[0] == "sms":
        turn.case_index.append(("sms", target[1]))
    turn.timeline.append(("message.failover", {"key": outbound.key, "from": outbound.channel,
                                               "to": target[0], "error_code": code}))
    turn.replies.append(Reply(outbound.text, outbound.choices, outbound.quick_replies,
                              outbound.ask_contact))
    engine.commit(turn, key_base=outbound.key + FAILOVER, proactive=outbound.proactive)
    return "failed_over"
