"""Who is this? Link a Telegram chat to its customer's case before saying anything about it.

Three proofs: a signed deep link (``/start <token>``), the customer's own phone contact
(Telegram's ``request_contact`` button; someone else's contact is refused), or the
tracking number together with the delivery postal code. Until one succeeds, replies
reveal nothing about any shipment, not even whether a tracking number exists, and
five failed attempts lock the chat out for an hour.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.links import case_from_token, link_key
from bot.models import CLOSED_STATUSES, Case, Conversation, Inbound, Reply
from bot.phones import normalise_phone
from flows.messages import language_of, parcel_ref, say
from flows.registry import flow_for_case

if TYPE_CHECKING:
    from bot.engine import Engine, Turn

MAX_FAILURES = 5
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")


def _norm(text: str) -> str:
    return re.sub(r"[\s-]", "", text).upper()


def _tracking_candidates(tokens: list[str]) -> list[str]:
    """Words that could be a tracking number: long, with digits."""
    return [t for t in tokens if len(t) >= 8 and any(c.isdigit() for c in t)]


def _postal_matches(case: Case, tokens: list[str]) -> bool:
    code = _norm(str((case.shipment.get("address") or {}).get("postal_code") or ""))
    if not code:
        return False
    joined = [a + b for a, b in zip(tokens, tokens[1:], strict=False)]  # "SW1A 1AA"
    given = {_norm(t) for t in [*tokens, *joined]}
    return code in given or (len(code) == 9 and code.isdigit() and code[:5] in given)


class Linker:
    """The linking step of a Telegram turn."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store
        self.key = link_key(engine.settings.events_webhook_secret)

    def handle(self, turn: Turn, inbound: Inbound) -> bool:
        """Handle identity messages; True when this turn needs nothing more."""
        conv, case = turn.conv, turn.case
        linked = case is not None and case.status not in CLOSED_STATUSES
        if case is None and inbound.locale:
            conv.language = language_of(inbound.locale)
        if inbound.start_token:
            case_id = case_from_token(inbound.start_token, self.key)
            found = self.store.get_case(case_id) if case_id else None
            if found is not None and found.status not in CLOSED_STATUSES:
                self.link(turn, found, "deep_link")
            else:
                self.fail(turn, "link_invalid")
            return True
        if inbound.contact is not None:
            self._contact(turn, inbound)
            return True
        if inbound.start_token is not None:  # a bare /start
            if linked:
                self.engine.reprompt(turn, say(conv.language, "greet"))
            else:
                self.ask(turn)
            return True
        if linked or (case is not None and conv.state.get("step") == "done"):
            return False
        if self.store.cases_for_recipient(conv.channel, conv.address) \
                and not _tracking_candidates(_TOKEN.findall(inbound.text)):
            return False  # known here, nothing open: the engine says so
        self._typed(turn, inbound.text)
        return True

    # -- the three proofs --------------------------------------------------
    def _contact(self, turn: Turn, inbound: Inbound) -> None:
        if self._locked(turn):
            return
        if not inbound.contact.own:
            self.fail(turn, "contact_not_own")
            return
        phone = normalise_phone(inbound.contact.phone, None) or \
            normalise_phone(inbound.contact.phone)
        cases = [c for c in self.store.cases_for_recipient("sms", phone or "")
                 if c.status not in CLOSED_STATUSES] if phone else []
        if cases:
            self.link(turn, cases[0], "contact")
        else:
            self.fail(turn, "contact_unknown")

    def _typed(self, turn: Turn, text: str) -> None:
        conv = turn.conv
        if self._locked(turn):
            return
        tokens = _TOKEN.findall(text)
        candidates = _tracking_candidates(tokens)
        pending = conv.pending if conv.pending and conv.pending.get("kind") == "link" else None
        if not candidates and pending and tokens:
            candidates = [pending["tracking"]]
        if not candidates:
            self.ask(turn)
            return
        for tracking in candidates:
            rest = [t for t in tokens if t != tracking and any(c.isdigit() for c in t)]
            if not rest:
                conv.pending = {"kind": "link", "tracking": tracking}
                turn.replies.append(Reply(say(conv.language, "link.ask_postal")))
                return
            for case in self.store.cases_for_tracking(tracking):
                if case.status not in CLOSED_STATUSES and _postal_matches(case, rest):
                    self.link(turn, case, "tracking_and_postal_code")
                    return
        self.fail(turn, "no_match")

    # -- outcomes ------------------------------------------------------------
    def ask(self, turn: Turn) -> None:
        lang = turn.conv.language
        turn.replies.append(Reply(say(lang, "link.ask"), ask_contact=True))

    def _locked(self, turn: Turn) -> bool:
        if self.store.link_failures(turn.conv.address) < MAX_FAILURES:
            return False
        turn.replies.append(Reply(say(turn.conv.language, "link.locked")))
        return True

    def fail(self, turn: Turn, why: str) -> None:
        """Count a failed attempt; say only that it did not work, never which part."""
        conv = turn.conv
        conv.pending = None
        count = self.store.add_link_failure(conv.address)
        if count >= MAX_FAILURES:
            turn.replies.append(Reply(say(conv.language, "link.locked")))
            return
        key = "link.not_own" if why == "contact_not_own" else "link.no_match"
        turn.replies.append(Reply(say(conv.language, key, left=MAX_FAILURES - count),
                                  ask_contact=why != "link_invalid"))

    def link(self, turn: Turn, case: Case, method: str) -> None:
        """Attach this chat to ``case`` and carry on its dialogue here."""
        conv, engine = turn.conv, self.engine
        continuing = conv.case_id == case.id and bool(conv.flow)
        self.store.clear_link_failures(conv.address)
        source = engine.case_conversation(case)
        moved = source is not None and source.case_id == case.id and source.flow \
            and (source.channel, source.address) != (conv.channel, conv.address)
        conv.case_id, conv.language, conv.pending = case.id, case.language, None
        turn.case = Case.from_dict({**case.to_dict(), "telegram_chat_id": int(conv.address)})
        turn.case_index.append(("telegram", conv.address))
        turn.timeline.append(("telegram.linked", {"method": method}))
        turn.replies.append(Reply(say(conv.language, "link.done",
                                      parcel=parcel_ref(case, conv.language))))
        if moved:  # the dialogue leaves SMS where it stood and carries on here
            conv.flow, conv.state = source.flow, source.state
            turn.detached.append(Conversation(source.channel, source.address,
                                              language=source.language, turns=source.turns))
        if moved or continuing:
            engine.reprompt(turn)
        else:
            engine.start_flow(turn, flow_for_case(turn.case),
                              engine.context(turn.case, conv.language))
