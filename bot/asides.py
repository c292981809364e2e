"""Questions a customer may ask in the middle of any flow, answered without leaving it.

Shared intents (a person, help, never mind, hi, thanks) mean the same in every flow.
"Where is my package?" is answered from the latest event of the customer's open
case(s) (asking which one when there are several); delivery instructions are stored
on the case and sent to the shipper as ``case.instructions_added``. Afterwards the
current flow's question is repeated, so the dialogue carries on where it was.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bot.models import CLOSED_STATUSES, Case, Reply
from flows.base import Escalate, FlowContext, Step
from flows.messages import parcel_ref, say
from flows.registry import FLOWS
from flows.status import MAX_INSTRUCTIONS, instructions_in, status_text
from nlu.base import ParseResult

if TYPE_CHECKING:
    from bot.engine import Engine, Turn

SHARED_INTENTS = frozenset({"human", "cancel", "help", "greet", "thanks", "goodbye"})
# A message carrying one of these is a slot answer for the flow, whatever its intent.
SLOT_ENTITIES = frozenset({"date", "time_window", "option_number", "tracking_number", "address"})
WISMO = "where_is_my_package"
INSTRUCTIONS = "delivery_instructions"


class Asides:
    """Side questions, for :class:`~bot.engine.Engine`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store

    def handle(self, turn: Turn, parse: ParseResult, ctx: FlowContext) -> bool:
        """Answer a side question; True when this message was one."""
        if parse.intent.name == WISMO:
            self._where(turn, ctx)
            return True
        if parse.intent.name == INSTRUCTIONS:
            text = instructions_in(parse.text)
            if text is None:
                turn.conv.pending = {"kind": "instructions"}
                turn.replies.append(Reply(say(ctx.language, "instructions.ask")))
            else:
                self._save_instructions(turn, text, ctx)
            return True
        return False

    def shared_intent(self, turn: Turn, parse: ParseResult, ctx: FlowContext) -> bool:
        """Intents every flow shares (a person, help, never mind, hi, thanks); True when
        handled here."""
        name = parse.intent.name
        if name not in SHARED_INTENTS or any(e.entity in SLOT_ENTITIES for e in parse.entities):
            return False
        conv, lang = turn.conv, ctx.language
        flow = FLOWS[conv.flow] if conv.flow else None
        if flow and flow.claims(conv.state, parse):
            return False
        if name == "human":
            self.engine.apply(turn, Step(conv.state, (Reply(say(lang, "human")),),
                                  (Escalate("customer asked for a person"),)), ctx)
        elif name == "help" and flow:
            turn.replies += [Reply(say(lang, "help", carrier=carrier_name(ctx.case))),
                             flow.prompt(conv.state, ctx)]
        elif name == "cancel":
            turn.replies.append(Reply(say(lang, "cancel")))
        elif name == "greet" and flow:
            prompt = flow.prompt(conv.state, ctx)
            turn.replies.append(Reply(say(lang, "greet") + " " + prompt.text, prompt.choices))
        elif name in ("thanks", "goodbye"):
            turn.replies.append(Reply(say(lang, "thanks")))
        else:
            return False
        return True

    def answer_pending(self, turn: Turn, parse: ParseResult, ctx: FlowContext) -> bool:
        """Read the answer to a question asked by :meth:`handle`; True when it was one."""
        pending, conv = turn.conv.pending, turn.conv
        if not pending:
            return False
        conv.pending = None
        if pending["kind"] == "instructions":
            if parse.intent.name in ("cancel", "deny", "human") or not parse.text.strip():
                return False
            self._save_instructions(turn, " ".join(parse.text.split())[:MAX_INSTRUCTIONS], ctx)
            return True
        if pending["kind"] == "which_parcel":
            choice = parse.first("option_number")
            ids = pending["cases"]
            if choice is not None and 1 <= int(choice) <= len(ids):
                case = self.store.get_case(ids[int(choice) - 1])
                if case is not None:
                    turn.replies.append(Reply(self.status(case, ctx.language)))
                    self.engine.reprompt(turn)
                    return True
        return False

    # -- where is my package ---------------------------------------------------
    def _where(self, turn: Turn, ctx: FlowContext) -> None:
        conv = turn.conv
        open_cases = [c for c in self.store.cases_for_recipient(conv.channel, conv.address)
                      if c.status not in CLOSED_STATUSES]
        if turn.case is not None and all(c.id != turn.case.id for c in open_cases):
            open_cases.insert(0, turn.case)
        if len(open_cases) > 1:
            conv.pending = {"kind": "which_parcel", "cases": [c.id for c in open_cases[:5]]}
            turn.replies.append(Reply(say(ctx.language, "status.which"),
                                      tuple(parcel_ref(c, ctx.language)
                                            for c in open_cases[:5])))
            return
        turn.replies.append(Reply(self.status(open_cases[0], ctx.language)))
        self.engine.reprompt(turn)

    def status(self, case: Case, lang: str) -> str:
        latest = datetime.fromisoformat(case.created_at)
        entry = self.store.last_timeline_entry(case.id, "event.received")
        if entry is not None and entry.get("occurred_at"):
            latest = datetime.fromisoformat(entry["occurred_at"])
        return status_text(case, lang, latest, parcel_ref(case, lang))

    # -- delivery instructions ---------------------------------------------------
    def _save_instructions(self, turn: Turn, text: str, ctx: FlowContext) -> None:
        case = turn.case
        turn.case = Case.from_dict({**case.to_dict(),
                                    "details": {**case.details, "instructions": text}})
        turn.timeline.append(("case.instructions_added", {"instructions": text}))
        turn.callbacks.append(("case.instructions_added", {"instructions": text}))
        turn.replies.append(Reply(say(ctx.language, "instructions.saved", text=text)))
        self.engine.reprompt(turn)


def carrier_name(case: Case | None) -> str:
    return case.carrier.title() if case else "your carrier"
