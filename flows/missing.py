"""A parcel that never arrived: gather what a person needs to search for it, then hand over.

States: ``noticed`` (a ``delivery.misrouted`` notice was sent; waiting for news) →
``last_checked`` (when did you last look?) → ``neighbours`` (neighbours and safe places
checked? YES/NO) → ``escalated``. The bot never offers or promises a refund: what the
shipper owes the customer is for a person to decide.
"""

from __future__ import annotations

from typing import Any

from bot.models import Reply, Window
from flows.base import Callback, Escalate, FlowContext, Step
from flows.messages import add_texts, greeting_name, parcel_ref, say
from nlu.base import ParseResult
from nlu.text import canonicalize

NOT_CLAIMED = frozenset({"human", "cancel"})  # a person or a stop, whatever the flow asked
WELCOMED = frozenset({"thanks", "affirm"})
YES = frozenset({"yes", "yeah", "yep", "yup", "y", "si", "sure", "claro", "correct"})
NO = frozenset({"no", "nope", "nah", "not", "nop"})
# Words saying the customer looked for it ("checked this morning", "revisé ayer").
CHECK_STEMS = ("check", "look", "search", "revis", "mire", "busq", "busc")
QUICK = {"en": (("Yes", "yes"), ("No", "no")), "es": (("Sí", "sí"), ("No", "no"))}

add_texts({
    "en": {
        "missing.notify": "Hi{name}, {parcel} from {carrier} went to the wrong depot and is "
                          "being rerouted to you. If it doesn't arrive, reply here and we'll "
                          "look into it.",
        "missing.noticed_prompt": "{parcel} is being rerouted to you. If it doesn't arrive, "
                                  "reply here and we'll look into it.",
        "missing.welcome": "You're welcome! We'll keep you posted here.",
        "missing.ask_last_checked": "Sorry it hasn't arrived. When did you last check for it "
                                    "(day and time)?",
        "missing.ask_checked": "Did you check with neighbours and around the door or any safe "
                               "place? Reply YES or NO.",
        "missing.escalated": "Thank you. A person from our team will look into it and reply "
                             "here.",
    },
    "es": {
        "missing.notify": "Hola{name}, {parcel} de {carrier} fue a otro depósito y se está "
                          "redirigiendo hacia usted. Si no llega, responda aquí y lo "
                          "revisaremos.",
        "missing.noticed_prompt": "{parcel} se está redirigiendo hacia usted. Si no llega, "
                                  "responda aquí y lo revisaremos.",
        "missing.welcome": "¡De nada! Le mantendremos informado por aquí.",
        "missing.ask_last_checked": "Lamentamos que no haya llegado. ¿Cuándo lo buscó por "
                                    "última vez (día y hora)?",
        "missing.ask_checked": "¿Preguntó a sus vecinos y miró junto a la puerta o en algún "
                               "lugar seguro? Responda SI o NO.",
        "missing.escalated": "Gracias. Una persona de nuestro equipo lo investigará y le "
                             "responderá aquí.",
    },
})


def yes_or_no(parse: ParseResult) -> bool | None:
    """True for a yes, False for a no, None for anything else ("only the porch")."""
    if parse.intent.name in ("affirm", "deny"):
        return parse.intent.name == "affirm"
    words = canonicalize(parse.text).split()
    if words and words[0] in YES:
        return True
    if words and words[0] in NO:
        return False
    return None


def _says_when_checked(parse: ParseResult) -> bool:
    """True for "never came, I checked this morning": a day and a word for looking."""
    return parse.first("date") is not None and any(
        w.startswith(CHECK_STEMS) for w in canonicalize(parse.text).split())


class MissingFlow:
    """The missing-parcel dialogue for ``delivery.misrouted`` cases and "never arrived"."""

    name = "missing"
    accepts_media = False
    own_alarms: frozenset[str] = frozenset()

    # -- protocol ----------------------------------------------------------
    def start(self, ctx: FlowContext, offers: list[Window],
              parse: ParseResult | None = None) -> Step:
        lang, case = ctx.language, ctx.case
        state: dict[str, Any] = {"step": "noticed", "last_checked": None,
                                 "last_checked_date": None, "checked": None,
                                 "checked_answer": None}
        if ctx.trigger == "customer":
            # "Never came, I checked this morning" already answers the first question.
            if parse is not None and _says_when_checked(parse):
                return self._ask_checked(self._with_last_checked(state, parse), ctx)
            return self._ask_last_checked(state, ctx)
        name = greeting_name(case)
        text = say(lang, "missing.notify", name=name, carrier=case.carrier.title(),
                   parcel=parcel_ref(case, lang))
        return Step(state, (Reply(text),))

    def step(self, state: dict[str, Any], parse: ParseResult, ctx: FlowContext) -> Step:
        step, intent, text = state["step"], parse.intent.name, parse.text.strip()
        if step == "escalated":
            return Step(state, (self.prompt(state, ctx),))
        if intent == "human":
            return self._escalate(state, ctx, "customer asked for a person", say(ctx.language,
                                                                                 "human"))
        if step == "noticed":
            if intent in WELCOMED:
                return Step(state, (Reply(say(ctx.language, "missing.welcome")),))
            if _says_when_checked(parse):
                return self._ask_checked(self._with_last_checked(state, parse), ctx)
            return self._ask_last_checked(state, ctx)
        if not text:  # a photo or an empty message answers nothing
            return Step(state, (self.prompt(state, ctx),))
        if step == "last_checked":
            return self._ask_checked(self._with_last_checked(state, parse), ctx)
        answered = {**state, "checked": yes_or_no(parse), "checked_answer": text}
        return self._escalate(answered, ctx, "parcel missing",
                              say(ctx.language, "missing.escalated"), report=True)

    def prompt(self, state: dict[str, Any], ctx: FlowContext) -> Reply:
        lang, step = ctx.language, state["step"]
        if step == "noticed":
            text = say(lang, "missing.noticed_prompt", parcel=parcel_ref(ctx.case, lang))
            return Reply(text[0].upper() + text[1:])
        if step == "last_checked":
            return Reply(say(lang, "missing.ask_last_checked"))
        if step == "neighbours":
            return Reply(say(lang, "missing.ask_checked"),
                         quick_replies=QUICK.get(lang, QUICK["en"]))
        return Reply(say(lang, "escalated_hold"))

    def claims(self, state: dict[str, Any], parse: ParseResult) -> bool:
        intent = parse.intent.name
        if state["step"] == "noticed":  # "thanks" gets this flow's "we'll keep you posted"
            return intent in WELCOMED
        return state["step"] in ("last_checked", "neighbours") and intent not in NOT_CLAIMED

    def reserved(self, state: dict[str, Any], ok: bool, ctx: FlowContext) -> Step:
        return Step(state)

    # -- helpers -----------------------------------------------------------
    def _with_last_checked(self, state: dict[str, Any], parse: ParseResult) -> dict[str, Any]:
        return {**state, "last_checked": parse.text.strip(),
                "last_checked_date": parse.first("date")}

    def _ask_last_checked(self, state: dict[str, Any], ctx: FlowContext) -> Step:
        new = {**state, "step": "last_checked"}
        return Step(new, (self.prompt(new, ctx),))

    def _ask_checked(self, state: dict[str, Any], ctx: FlowContext) -> Step:
        new = {**state, "step": "neighbours"}
        return Step(new, (self.prompt(new, ctx),))

    def _escalate(self, state: dict[str, Any], ctx: FlowContext, reason: str, text: str,
                  report: bool = False) -> Step:
        summary = {"last_checked": state["last_checked"],
                   "last_checked_date": state["last_checked_date"],
                   "checked_neighbours_and_safe_place": state["checked"],
                   "checked_answer": state["checked_answer"]}
        effects = ((Callback("case.missing_reported", dict(summary)),) if report else ()) \
            + (Escalate(reason, summary),)
        return Step({**state, "step": "escalated"}, (Reply(text),), effects)
