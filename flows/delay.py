"""Tell the customer a parcel is late and when it should now arrive; let them react.

States: ``ask`` (new estimate shown, three numbered choices) → ``done`` (accepted),
``switched`` (the customer wants another time: the engine starts the reschedule flow)
or ``escalated`` (a person takes over). The estimate comes from ``case.details["new_eta"]``
(ISO datetime with offset) and is shown in the case's timezone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.models import Reply, Window
from flows.base import Callback, Escalate, FlowContext, Resolve, Step, SwitchFlow
from flows.messages import add_texts, greeting_name, moment_label, parcel_ref, say
from nlu.base import ParseResult
from nlu.text import canonicalize

CHOICES = ("fine", "reschedule", "human")  # in the order they are numbered
MAX_MISSES = 3
ACCEPTING = frozenset({"affirm", "thanks"})  # at the question, "ok thanks" means "that's fine"
# Whole answers that mean "that's fine" even when the NLU is unsure (canonical form).
FINE = frozenset({"ok", "fine", "thats fine", "its fine", "good", "great", "perfect", "sure",
                  "works", "that works", "ok fine", "vale", "bien", "esta bien", "perfecto",
                  "de acuerdo", "sirve", "me sirve", "genial", "ok gracias", "ok thanks"})

add_texts({
    "en": {
        "delay.notify": "Hi{name}, {carrier} says {parcel} is running late. New estimated "
                        "delivery: {eta}. Does that work for you?",
        "delay.ask": "The new estimated delivery for {parcel} is {eta}. Does that work for "
                     "you?",
        "delay.choice.fine": "That's fine",
        "delay.choice.reschedule": "Choose another time",
        "delay.choice.human": "Talk to a person",
        "delay.accepted": "Thanks, we'll deliver it as estimated: {eta}. Reply here if you "
                          "need anything.",
        "delay.hint": "Sorry, I didn't get that. Please reply 1, 2 or 3:",
        "delay.deny": "Sorry about that. Reply 2 to choose another time, or 3 to talk to a "
                      "person:",
        "delay.not_understood": "Sorry, I couldn't follow. A person from our team will reply "
                                "here.",
        "delay.done_prompt": "We expect to deliver {parcel} {eta}. Reply here if you need "
                             "anything.",
        "delay.eta_unknown": "as soon as possible",
    },
    "es": {
        "delay.notify": "Hola{name}, {carrier} nos informa que {parcel} viene con retraso. "
                        "Nueva entrega estimada: {eta}. ¿Le viene bien?",
        "delay.ask": "La nueva entrega estimada de {parcel} es {eta}. ¿Le viene bien?",
        "delay.choice.fine": "Está bien",
        "delay.choice.reschedule": "Elegir otro horario",
        "delay.choice.human": "Hablar con una persona",
        "delay.accepted": "Gracias, lo entregaremos según lo estimado: {eta}. Responda aquí si "
                          "necesita algo.",
        "delay.hint": "Perdón, no le entendí. Responda 1, 2 o 3:",
        "delay.deny": "Lo sentimos. Responda 2 para elegir otro horario, o 3 para hablar con "
                      "una persona:",
        "delay.not_understood": "Perdón, no le entendí. Una persona de nuestro equipo le "
                                "responderá aquí.",
        "delay.done_prompt": "Esperamos entregar {parcel}: {eta}. Responda aquí si necesita "
                             "algo.",
        "delay.eta_unknown": "lo antes posible",
    },
})


class DelayFlow:
    """The dialogue for ``delivery.delayed`` cases."""

    name = "delay"
    accepts_media = False
    own_alarms: frozenset[str] = frozenset()

    # -- protocol ----------------------------------------------------------
    def start(self, ctx: FlowContext, offers: list[Window],
              parse: ParseResult | None = None) -> Step:
        lang, case = ctx.language, ctx.case
        state: dict[str, Any] = {"step": "ask", "new_eta": case.details.get("new_eta"),
                                 "misses": 0}
        if ctx.trigger == "customer":
            if parse is not None and self._wants_other_time(parse):
                return Step({**state, "step": "switched"}, (), (SwitchFlow("reschedule"),))
            return Step(state, (self.prompt(state, ctx),))
        name = greeting_name(case)
        text = say(lang, "delay.notify", name=name, carrier=case.carrier.title(),
                   parcel=parcel_ref(case, lang), eta=self._eta(state, ctx))
        return Step(state, (Reply(text, self._labels(lang)),))

    def step(self, state: dict[str, Any], parse: ParseResult, ctx: FlowContext) -> Step:
        if state["step"] != "ask":
            return Step(state, (self.prompt(state, ctx),))
        lang, intent = ctx.language, parse.intent.name
        option = parse.first("option_number")
        if option is not None:
            number = int(str(option))
            if not 1 <= number <= len(CHOICES):
                return self._miss(state, ctx)
            choice = CHOICES[number - 1]
        elif self._wants_other_time(parse):
            choice = "reschedule"
        elif intent == "human":
            choice = "human"
        elif intent in ACCEPTING or canonicalize(parse.text) in FINE:
            choice = "fine"
        elif intent == "deny":
            return Step(state, (Reply(say(lang, "delay.deny"), self._labels(lang)),))
        else:
            return self._miss(state, ctx)
        if choice == "reschedule":
            return Step({**state, "step": "switched"}, (), (SwitchFlow("reschedule"),))
        if choice == "human":
            return Step({**state, "step": "escalated"}, (Reply(say(lang, "human")),),
                        (Escalate("customer asked for a person",
                                  {"new_eta": state["new_eta"]}),))
        data = {"new_eta": state["new_eta"]}
        text = say(lang, "delay.accepted", eta=self._eta(state, ctx))
        return Step({**state, "step": "done", "misses": 0}, (Reply(text),),
                    (Callback("case.delay_acknowledged", data), Resolve("delay_accepted", data)))

    def prompt(self, state: dict[str, Any], ctx: FlowContext) -> Reply:
        lang, parcel = ctx.language, parcel_ref(ctx.case, ctx.language)
        if state["step"] == "ask":
            return Reply(say(lang, "delay.ask", parcel=parcel, eta=self._eta(state, ctx)),
                         self._labels(lang))
        if state["step"] == "escalated":
            return Reply(say(lang, "escalated_hold"))
        return Reply(say(lang, "delay.done_prompt", parcel=parcel, eta=self._eta(state, ctx)))

    def claims(self, state: dict[str, Any], parse: ParseResult) -> bool:
        return state["step"] == "ask" and parse.intent.name in ACCEPTING

    def reserved(self, state: dict[str, Any], ok: bool, ctx: FlowContext) -> Step:
        return Step(state)

    # -- helpers -----------------------------------------------------------
    def _wants_other_time(self, parse: ParseResult) -> bool:
        return (parse.intent.name == "reschedule" or parse.first("date") is not None
                or parse.first("time_window") is not None)

    def _miss(self, state: dict[str, Any], ctx: FlowContext) -> Step:
        misses = state.get("misses", 0) + 1
        lang = ctx.language
        if misses >= MAX_MISSES:
            return Step({**state, "step": "escalated", "misses": misses},
                        (Reply(say(lang, "delay.not_understood")),),
                        (Escalate("customer not understood", {"new_eta": state["new_eta"]}),))
        return Step({**state, "misses": misses},
                    (Reply(say(lang, "delay.hint"), self._labels(lang)),))

    def _eta(self, state: dict[str, Any], ctx: FlowContext) -> str:
        if not state.get("new_eta"):
            return say(ctx.language, "delay.eta_unknown")
        when = datetime.fromisoformat(state["new_eta"])
        return moment_label(ctx.language, when, ctx.case.timezone)

    def _labels(self, lang: str) -> tuple[str, ...]:
        return tuple(say(lang, f"delay.choice.{c}") for c in CHOICES)
