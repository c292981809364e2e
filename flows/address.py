"""Correct a parcel's delivery address: collect, normalise, check, confirm, save.

States (``state["step"]``)::

    collect ──address──▶ [postal_code] ──▶ area check ──▶ [unit] ──▶ confirm
    confirm ──yes──▶ instructions ──text or NO──▶ done   (UpdateCase, callback, resolve)
    confirm ──no──▶ collect;   a new address in any asking step is read afresh
    area check ──outside──▶ outside ──pickup n──▶ done (pickup)   ──person──▶ escalated
                          └─(no pickup points)──▶ escalated
    three unreadable answers in a row ──▶ escalated

The service area is checked as soon as the postal code is known, before asking for a
unit: an apartment number is no use for an address we cannot deliver to. Outside it, up
to three pickup points are listed, those with the ZIP closest to the customer's first
(fewer when long labels would push the SMS past two segments); the listed points are
kept in the state, so a number always means what the customer saw.
"""

from __future__ import annotations

from typing import Any

from bot.models import Reply, Window
from flows.address_parts import (
    ADDRESS_KEYS,
    declines_instructions,
    fill_from_old,
    find_address,
    in_service_area,
    is_none,
    nearest_first,
    normalise,
    old_address,
    one_line,
    read_locality,
    read_unit,
)
from flows.base import Callback, Escalate, FlowContext, Resolve, Step, UpdateCase
from flows.messages import add_texts, greeting_name, parcel_ref, say
from flows.reschedule import CONFIRMING
from nlu.base import ParseResult

MAX_MISSES = 3  # unreadable answers in a row before a person takes over
PICKUP_SHOWN = 3  # pickup points listed at once, nearest first
SMS_BUDGET = 300  # characters: two GSM-7 segments hold 306
MAX_INSTRUCTIONS = 500
UNIT_REASONS = frozenset({"unit_missing", "apartment_missing"})
FREE_TEXT_STEPS = frozenset({"collect", "unit", "postal_code", "instructions"})
ENGINE_INTENTS = frozenset({"human", "cancel"})  # never claimed: the engine handles them
EXAMPLE = "12 Oak St Apt 4, Boston MA 02110"

add_texts({
    "en": {
        "address.notify": "Hi{name}, {carrier} couldn't find the address for {parcel}. Please "
                          "reply with the full correct address, including any apartment "
                          "number and the ZIP code.",
        "address.ask": "Sure. What's the correct delivery address for {parcel}?",
        "address.prompt": "Please reply with the correct delivery address for {parcel}, "
                          "e.g. {example}",
        "address.ask_again": "No problem. Please send the correct address, e.g. {example}",
        "address.not_understood": "Sorry, I couldn't read that as an address. Please send "
                                  "street, apartment, city and ZIP, e.g. {example}",
        "address.ask_postal_code": "Thanks. What's the ZIP code for {line1}?",
        "address.postal_code_again": "Please reply with the 5-digit ZIP code for {line1}, "
                                     "e.g. 02110.",
        "address.ask_unit": "What's the apartment or unit number at {line1}? Reply NONE if "
                            "there isn't one.",
        "address.unit_again": "Please reply with the apartment or unit, e.g. Apt 5B, or NONE "
                              "if there isn't one.",
        "address.confirm": "New address: {address}. Is that right? Reply YES to save it or NO "
                           "to change it.",
        "address.yes": "Yes",
        "address.no": "No",
        "address.ask_instructions": "Any delivery instructions, like a gate code or 'leave it "
                                    "with the concierge'? Reply with them, or NO if none.",
        "address.no_instructions": "No instructions",
        "address.saved": "Thank you! We'll deliver {parcel} to {address}.",
        "address.saved_already": "Your new address is saved: {address}.",
        "address.outside": "Sorry, we don't deliver to ZIP {postal_code}. You can collect "
                           "{parcel} from a pickup point. Reply with a number:",
        "address.outside_no_pickup": "Sorry, we don't deliver to ZIP {postal_code}. A person "
                                     "from our team will reply here to help with {parcel}.",
        "address.person": "Talk to a person",
        "address.pick_range": "Please reply with a number from 1 to {n}, or send a different "
                              "address.",
        "address.pickup_selected": "Done: {parcel} will go to {point}. Thank you!",
        "address.pickup_already": "{parcel} will go to the pickup point {point}.",
        "address.gave_up": "Sorry, I couldn't get the address. A person from our team will "
                           "reply here to help.",
    },
    "es": {
        "address.notify": "Hola{name}, {carrier} no encontró la dirección de {parcel}. "
                          "Responda con la dirección correcta completa, con el número de "
                          "apartamento y el código postal.",
        "address.ask": "Claro. ¿Cuál es la dirección de entrega correcta para {parcel}?",
        "address.prompt": "Responda con la dirección de entrega correcta para {parcel}, "
                          "p. ej. {example}",
        "address.ask_again": "De acuerdo. Envíe la dirección correcta, p. ej. {example}",
        "address.not_understood": "Perdón, no pude leer la dirección. Envíe calle, "
                                  "apartamento, ciudad y código postal, p. ej. {example}",
        "address.ask_postal_code": "Gracias. ¿Cuál es el código postal (ZIP) de {line1}?",
        "address.postal_code_again": "Responda con el código postal de 5 dígitos de {line1}, "
                                     "p. ej. 02110.",
        "address.ask_unit": "¿Cuál es el número de apartamento o unidad en {line1}? Responda "
                            "NINGUNO si no tiene.",
        "address.unit_again": "Responda con el apartamento o unidad, p. ej. Apt 5B, o NINGUNO "
                              "si no tiene.",
        "address.confirm": "Nueva dirección: {address}. ¿Es correcta? Responda SI para "
                           "guardarla o NO para cambiarla.",
        "address.yes": "Sí",
        "address.no": "No",
        "address.ask_instructions": "¿Alguna instrucción de entrega, como un código de portón "
                                    "o 'dejar con el conserje'? Escríbala, o responda NO si "
                                    "no hay.",
        "address.no_instructions": "Sin instrucciones",
        "address.saved": "¡Gracias! Entregaremos {parcel} en {address}.",
        "address.saved_already": "Su nueva dirección está guardada: {address}.",
        "address.outside": "No entregamos en el código postal {postal_code}. Puede recoger "
                           "{parcel} en un punto de recogida. Responda con un número:",
        "address.outside_no_pickup": "No entregamos en el código postal {postal_code}. Una "
                                     "persona de nuestro equipo le ayudará aquí con {parcel}.",
        "address.person": "Hablar con una persona",
        "address.pick_range": "Responda con un número del 1 al {n}, o envíe otra dirección.",
        "address.pickup_selected": "Listo: {parcel} irá a {point}. ¡Gracias!",
        "address.pickup_already": "{parcel} irá al punto de recogida {point}.",
        "address.gave_up": "Perdón, no pude entender la dirección. Una persona de nuestro "
                           "equipo le ayudará aquí.",
    },
})


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _heard(state: dict[str, Any], text: str) -> list[str]:
    """The last unreadable messages, for the person who takes over."""
    return [*state.get("heard", []), " ".join(text.split())[:160]][-MAX_MISSES:]


class AddressFlow:
    """The address correction dialogue (``delivery.address_invalid`` and the like)."""

    name = "address"
    accepts_media = False
    own_alarms: frozenset[str] = frozenset()

    # -- protocol ----------------------------------------------------------
    def start(self, ctx: FlowContext, offers: list[Window],
              parse: ParseResult | None = None) -> Step:
        lang, case = ctx.language, ctx.case
        state: dict[str, Any] = {"step": "collect", "address": None, "misses": 0,
                                 "no_unit": False, "heard": []}
        parcel = parcel_ref(case, lang)
        if ctx.trigger == "customer":
            if parse is not None and find_address(parse) is not None:
                return self.step(state, parse, ctx)
            return Step(state, (Reply(say(lang, "address.ask", parcel=parcel)),))
        name = greeting_name(case)
        text = say(lang, "address.notify", name=name, carrier=case.carrier.title(),
                   parcel=parcel)
        return Step(state, (Reply(text),))

    def step(self, state: dict[str, Any], parse: ParseResult, ctx: FlowContext) -> Step:
        current = state["step"]
        if current in ("done", "escalated"):
            return Step(state, (self.prompt(state, ctx),))
        if current == "instructions":
            return self._instructions(state, parse, ctx)
        found = find_address(parse)
        if current == "confirm":
            return self._confirm_answer(state, parse, found, ctx)
        if found is not None:
            return self._read(state, found, ctx)
        if current == "postal_code":
            return self._postal_code(state, parse, ctx)
        if current == "unit":
            return self._unit(state, parse, ctx)
        if current == "outside":
            return self._pickup(state, parse, ctx)
        return self._miss(state, parse, ctx, "address.not_understood")

    def prompt(self, state: dict[str, Any], ctx: FlowContext) -> Reply:
        lang, case = ctx.language, ctx.case
        parcel = parcel_ref(case, lang)
        address = state.get("address") or {}
        current = state["step"]
        if current == "done":
            if state.get("pickup"):
                return Reply(_cap(say(lang, "address.pickup_already", parcel=parcel,
                                      point=self._point_label(state["pickup"]))))
            return Reply(say(lang, "address.saved_already", address=one_line(address)))
        if current == "escalated":
            return Reply(say(lang, "escalated_hold"))
        if current == "postal_code":
            return Reply(say(lang, "address.ask_postal_code", line1=address["line1"]))
        if current == "unit":
            return Reply(say(lang, "address.ask_unit", line1=address["line1"]))
        if current == "confirm":
            return Reply(say(lang, "address.confirm", address=one_line(address)),
                         quick_replies=((say(lang, "address.yes"), "yes"),
                                        (say(lang, "address.no"), "no")))
        if current == "instructions":
            return Reply(say(lang, "address.ask_instructions"),
                         quick_replies=((say(lang, "address.no_instructions"), "no"),))
        if current == "outside":
            return self._outside_reply(state, ctx)
        return Reply(say(lang, "address.prompt", parcel=parcel, example=EXAMPLE))

    def claims(self, state: dict[str, Any], parse: ParseResult) -> bool:
        intent = parse.intent.name
        if intent in ENGINE_INTENTS:
            return False
        if state["step"] in FREE_TEXT_STEPS:
            return True
        return state["step"] == "confirm" and intent in CONFIRMING

    def reserved(self, state: dict[str, Any], ok: bool, ctx: FlowContext) -> Step:
        return Step(state)

    # -- reading an address ------------------------------------------------
    def _read(self, state: dict[str, Any], value: dict[str, Any], ctx: FlowContext) -> Step:
        """A new address: normalise it and ask for whatever it still lacks."""
        address = normalise(value, old_address(ctx.case.shipment))
        return self._advance({**state, "no_unit": False}, address, ctx)

    def _advance(self, state: dict[str, Any], address: dict[str, Any],
                 ctx: FlowContext) -> Step:
        new = {**state, "address": address, "misses": 0, "heard": []}
        if not address["postal_code"]:
            return self._ask({**new, "step": "postal_code"}, ctx)
        if not in_service_area(address["postal_code"], ctx.config.service_area):
            return self._outside(new, ctx)
        if self._needs_unit(new, ctx):
            return self._ask({**new, "step": "unit"}, ctx)
        return self._ask({**new, "step": "confirm"}, ctx)

    def _needs_unit(self, state: dict[str, Any], ctx: FlowContext) -> bool:
        if state["address"]["line2"] or state.get("no_unit"):
            return False
        return bool(old_address(ctx.case.shipment).get("line2")) \
            or ctx.case.reason in UNIT_REASONS

    def _ask(self, state: dict[str, Any], ctx: FlowContext) -> Step:
        return Step(state, (self.prompt(state, ctx),))

    def _miss(self, state: dict[str, Any], parse: ParseResult, ctx: FlowContext,
              key: str, **values: object) -> Step:
        """An answer we could not use: re-ask, or hand over after too many in a row."""
        misses = state.get("misses", 0) + 1
        heard = _heard(state, parse.text)
        lang = ctx.language
        if misses >= MAX_MISSES:
            summary = {"step": state["step"], "messages": heard, "address": state.get("address")}
            return Step({**state, "step": "escalated", "misses": misses, "heard": heard},
                        (Reply(say(lang, "address.gave_up")),),
                        (Escalate("address not understood", summary=summary),))
        new = {**state, "misses": misses, "heard": heard}
        if key == "prompt":
            return Step(new, (self.prompt(new, ctx),))
        return Step(new, (Reply(say(lang, key, example=EXAMPLE, **values),
                                self._choices(state, ctx) if state["step"] == "outside"
                                else ()),))

    # -- answers to a question -----------------------------------------------
    def _postal_code(self, state: dict[str, Any], parse: ParseResult, ctx: FlowContext) -> Step:
        locality = read_locality(parse.text)
        address = state["address"]
        if locality is None:
            return self._miss(state, parse, ctx, "address.postal_code_again",
                              line1=address["line1"])
        merged = {**address, "postal_code": locality["postal_code"],
                  "city": address["city"] or locality["city"],
                  "region": address["region"] or locality["region"]}
        return self._advance(state, fill_from_old(merged, old_address(ctx.case.shipment)), ctx)

    def _unit(self, state: dict[str, Any], parse: ParseResult, ctx: FlowContext) -> Step:
        unit = None if is_none(parse.text) else read_unit(parse.text)
        if unit is not None:
            return self._advance(state, {**state["address"], "line2": unit}, ctx)
        if parse.intent.name == "deny" or is_none(parse.text):
            return self._advance({**state, "no_unit": True}, state["address"], ctx)
        return self._miss(state, parse, ctx, "address.unit_again")

    def _confirm_answer(self, state: dict[str, Any], parse: ParseResult,
                        found: dict[str, Any] | None, ctx: FlowContext) -> Step:
        intent = parse.intent.name
        if found is not None:
            again = normalise(found, old_address(ctx.case.shipment))
            if not (intent in CONFIRMING and again == state["address"]):
                return self._read(state, found, ctx)
        if intent in CONFIRMING:
            return self._ask({**state, "step": "instructions", "misses": 0, "heard": []}, ctx)
        if intent == "deny":
            new = {**state, "step": "collect", "address": None, "misses": 0, "heard": []}
            return Step(new, (Reply(say(ctx.language, "address.ask_again", example=EXAMPLE)),))
        return self._miss(state, parse, ctx, "prompt")

    def _instructions(self, state: dict[str, Any], parse: ParseResult, ctx: FlowContext) -> Step:
        text = " ".join(parse.text.split())[:MAX_INSTRUCTIONS].strip()
        instructions = None if declines_instructions(text, parse.intent.name) else text
        return self._done({**state, "instructions": instructions}, ctx)

    # -- outcomes ----------------------------------------------------------
    def _done(self, state: dict[str, Any], ctx: FlowContext) -> Step:
        lang = ctx.language
        address = {key: state["address"].get(key) for key in ADDRESS_KEYS}
        instructions = state.get("instructions")
        details = {"instructions": instructions} if instructions else {}
        text = say(lang, "address.saved", parcel=parcel_ref(ctx.case, lang),
                   address=one_line(address))
        return Step({**state, "step": "done", "address": address},
                    (Reply(_cap(text)),),
                    (UpdateCase(shipment={"address": address}, details=details),
                     Callback("case.address_changed",
                              {"address": address, "instructions": instructions}),
                     Resolve("address_changed", {"address": address})))

    def _outside(self, state: dict[str, Any], ctx: FlowContext) -> Step:
        lang, address = ctx.language, state["address"]
        points = [{"name": p.name, "address": p.address} for p in ctx.config.pickup_points]
        if points:
            listed = nearest_first(points, address["postal_code"])[:PICKUP_SHOWN]
            new = {**state, "step": "outside", "listed": listed}
            while len(listed) > 1 and self._too_long(self._outside_reply(new, ctx)):
                listed = listed[:-1]  # long operator labels: list fewer, not three segments
                new = {**new, "listed": listed}
            return self._ask(new, ctx)
        text = say(lang, "address.outside_no_pickup", postal_code=address["postal_code"],
                   parcel=parcel_ref(ctx.case, lang))
        return Step({**state, "step": "escalated"}, (Reply(text),),
                    (Escalate("address outside service area", summary={"address": address}),))

    def _outside_reply(self, state: dict[str, Any], ctx: FlowContext) -> Reply:
        lang = ctx.language
        return Reply(say(lang, "address.outside", postal_code=state["address"]["postal_code"],
                         parcel=parcel_ref(ctx.case, lang)), self._choices(state, ctx))

    def _choices(self, state: dict[str, Any], ctx: FlowContext) -> tuple[str, ...]:
        points = tuple(self._point_label(p) for p in state["listed"])
        return (*points, say(ctx.language, "address.person"))

    @staticmethod
    def _too_long(reply: Reply) -> bool:
        """Roughly more than two SMS segments (the renderer folds accents if it helps)."""
        return len(reply.text) + sum(len(c) + 4 for c in reply.choices) > SMS_BUDGET

    @staticmethod
    def _point_label(point: dict[str, str]) -> str:
        return f"{point['name']}, {point['address']}"

    def _pickup(self, state: dict[str, Any], parse: ParseResult, ctx: FlowContext) -> Step:
        points = state["listed"]
        option = parse.first("option_number")
        if option is None and parse.text.strip().isdigit():
            option = parse.text.strip()  # a bare "2" the NLU left unlabelled
        number = int(option) if option is not None else 0
        if not 1 <= number <= len(points) + 1:
            return self._miss(state, parse, ctx, "address.pick_range", n=len(points) + 1)
        lang = ctx.language
        if number == len(points) + 1:
            return Step({**state, "step": "escalated"}, (Reply(say(lang, "human")),),
                        (Escalate("customer asked for a person",
                                  summary={"address": state["address"]}),))
        data = {"pickup_point": dict(points[number - 1])}
        text = say(lang, "address.pickup_selected", parcel=parcel_ref(ctx.case, lang),
                   point=self._point_label(data["pickup_point"]))
        return Step({**state, "step": "done", "pickup": data["pickup_point"]},
                    (Reply(_cap(text)),),
                    (Callback("case.pickup_selected", data), Resolve("pickup_selected", data)))
