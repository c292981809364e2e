"""Report a damaged parcel: a description, photos, the preferred remedy, a claim reference.

States: ``describe`` → ``photos`` (→ ``skip_reason``) → ``remedy`` → ``done``. A parcel
the customer says is dangerous (leaking, broken glass, smoke...) or one worth more than
``FlowConfig.damage_value_limit`` goes to ``escalated`` instead of ``remedy``: the bot
collects the evidence, a person decides. Photos arrive as ``ctx.media``, with or without
text; a photo with a caption while the flow asks for a description is both.
"""

from __future__ import annotations

from typing import Any

from bot.models import Case, Reply, Window
from flows.base import Callback, Escalate, FlowContext, Resolve, Step
from flows.damage_words import DONE, SKIP, is_dangerous, mentions, remedy_of, skip_with_reason
from flows.messages import add_texts, greeting_name, parcel_ref, say
from nlu.base import ParseResult

REMEDIES = ("replacement", "refund", "keep_with_discount")
MAX_MISSES = 3  # answers in a row the flow could not use before a person takes over
SOCIAL = frozenset({"greet", "thanks", "goodbye", "help", "affirm", "deny"})

QUICK = {"en": {"done": ("Done", "done"), "skip": ("No photos", "skip")},
         "es": {"done": ("Listo", "listo"), "skip": ("Sin fotos", "sin fotos")}}

add_texts({
    "en": {
        "damage.notify": "Hi{name}, {carrier} reports that {parcel} was damaged in transit. "
                         "We're sorry! Please describe the damage in a few words "
                         "(e.g. box crushed, item cracked).",
        "damage.ask_description": "Sorry to hear that. Please describe the damage in a few "
                                  "words (e.g. box crushed, item cracked).",
        "damage.description_hint": "Please tell us in a few words what is damaged, e.g. "
                                   "'box crushed, screen cracked'.",
        "damage.photos_then_description": "Thanks, we have {n} of {max} photos. Now please "
                                          "describe the damage in a few words.",
        "damage.safety": "For your safety, please don't open or handle it, and keep people "
                         "and pets away from it.",
        "damage.ask_photos": "Thanks. Please send 1 to {max} photos of the damage and the "
                             "packaging. Can't send photos? Reply NO PHOTOS.",
        "damage.ask_photos_optional": "If you can do it safely, send up to {max} photos of "
                                      "it. Otherwise reply NO PHOTOS.",
        "damage.photo_count": "Got it: {n} of {max} photos. Send more, or reply DONE.",
        "damage.photos_full": "Got {max} photos, the most we can take.",
        "damage.photos_hint_none": "Please attach photos of the damage to a message, or reply "
                                   "NO PHOTOS if you can't.",
        "damage.photos_hint_some": "Please attach more photos, or reply DONE if that's all "
                                   "({n} of {max} so far).",
        "damage.ask_skip_reason": "OK. Why can't you send photos?",
        "damage.photo_added": "Photo kept ({n} of {max}).",
        "damage.ask_remedy": "Thanks. What would you prefer?",
        "damage.remedy_hint": "Please reply 1, 2 or 3:",
        "damage.remedy.replacement": "Replacement",
        "damage.remedy.refund": "Refund",
        "damage.remedy.keep_with_discount": "Keep it with a discount",
        "damage.done": "Thank you. Your claim reference is {ref}. Our team will review it and "
                       "reply here with the next steps.",
        "damage.escalated": "Thank you. Your claim reference is {ref}. A person from our team "
                            "will follow up with you here.",
        "damage.not_understood": "Sorry, I couldn't follow. A person from our team will "
                                 "reply here.",
        "damage.done_prompt": "Your claim {ref} is with our team. They will reply here.",
    },
    "es": {
        "damage.notify": "Hola{name}, {carrier} nos informa que {parcel} se dañó en el "
                         "transporte. ¡Lo sentimos! Describa el daño en pocas palabras "
                         "(p. ej. caja aplastada, artículo roto).",
        "damage.ask_description": "Lamentamos lo ocurrido. Describa el daño en pocas palabras "
                                  "(p. ej. caja aplastada, artículo roto).",
        "damage.description_hint": "Díganos en pocas palabras qué está dañado, p. ej. "
                                   "'caja aplastada, pantalla rota'.",
        "damage.photos_then_description": "Gracias, tenemos {n} de {max} fotos. Ahora "
                                          "describa el daño en pocas palabras.",
        "damage.safety": "Por su seguridad, no lo abra ni lo manipule, y mantenga alejadas a "
                         "personas y mascotas.",
        "damage.ask_photos": "Gracias. Envíe de 1 a {max} fotos del daño y del embalaje. "
                             "¿No puede enviar fotos? Responda SIN FOTOS.",
        "damage.ask_photos_optional": "Si puede hacerlo sin riesgo, envíe hasta {max} fotos. "
                                      "Si no, responda SIN FOTOS.",
        "damage.photo_count": "Recibido: {n} de {max} fotos. Envíe más, o responda LISTO.",
        "damage.photos_full": "Recibimos {max} fotos, el máximo que aceptamos.",
        "damage.photos_hint_none": "Adjunte fotos del daño a un mensaje, o responda SIN FOTOS "
                                   "si no puede.",
        "damage.photos_hint_some": "Adjunte más fotos, o responda LISTO si es todo ({n} de "
                                   "{max} hasta ahora).",
        "damage.ask_skip_reason": "De acuerdo. ¿Por qué no puede enviar fotos?",
        "damage.photo_added": "Foto guardada ({n} de {max}).",
        "damage.ask_remedy": "Gracias. ¿Qué prefiere?",
        "damage.remedy_hint": "Responda 1, 2 o 3:",
        "damage.remedy.replacement": "Reemplazo",
        "damage.remedy.refund": "Reembolso",
        "damage.remedy.keep_with_discount": "Quedármelo con descuento",
        "damage.done": "Gracias. Su número de reclamación es {ref}. Nuestro equipo lo revisará "
                       "y le responderá aquí con los próximos pasos.",
        "damage.escalated": "Gracias. Su número de reclamación es {ref}. Una persona de "
                            "nuestro equipo le contactará por aquí.",
        "damage.not_understood": "Perdón, no le entendí. Una persona de nuestro equipo le "
                                 "responderá aquí.",
        "damage.done_prompt": "Su reclamación {ref} está con nuestro equipo. Le responderán "
                              "aquí.",
    },
})


def claim_reference(case: Case) -> str:
    """The claim reference for ``case``: derived from its id, so the same on every replay."""
    return "CL-" + case.id[-8:].upper()


def _described(state: dict[str, Any], text: str) -> dict[str, Any]:
    """``state`` with ``text`` added to the description (said after it, e.g. "it's leaking")."""
    before = state["description"]
    return {**state, "description": f"{before} / {text}" if before else text}


class DamageFlow:
    """The damage-claim dialogue for ``delivery.damaged`` cases and customer reports."""

    name = "damage"
    accepts_media = True  # photos alone are an answer here
    own_alarms: frozenset[str] = frozenset({"danger"})  # its own hazard questions

    # -- protocol ----------------------------------------------------------
    def start(self, ctx: FlowContext, offers: list[Window],
              parse: ParseResult | None = None) -> Step:
        lang, case = ctx.language, ctx.case
        state: dict[str, Any] = {
            "step": "describe", "description": None, "photos": [],
            "photos_skipped_reason": None, "dangerous": False, "remedy": None,
            "claim_reference": claim_reference(case), "misses": 0}
        if ctx.trigger == "customer":
            text = parse.text.strip() if parse is not None else ""
            # "My parcel arrived damaged" is a request, not a description; a report with
            # photos, or one saying it is leaking, is the evidence itself.
            if ctx.media or is_dangerous(text):
                intent = parse.intent.name if parse is not None else "report_damage"
                return self._describe(state, text, intent, ctx)
            return Step(state, (Reply(say(lang, "damage.ask_description")),))
        name = greeting_name(case)
        text = say(lang, "damage.notify", name=name, carrier=case.carrier.title(),
                   parcel=parcel_ref(case, lang))
        return Step(state, (Reply(text),))

    def step(self, state: dict[str, Any], parse: ParseResult, ctx: FlowContext) -> Step:
        if state["step"] in ("done", "escalated"):
            return Step(state, (self.prompt(state, ctx),))
        text, intent = parse.text.strip(), parse.intent.name
        if intent == "human" and not ctx.media:
            return self._escalate(state, ctx, "customer asked for a person", [],
                                  say(ctx.language, "human"), report=False)
        if state["step"] == "describe":
            return self._describe(state, text, intent, ctx)
        if state["step"] == "photos":
            return self._photos(state, text, intent, ctx)
        if state["step"] == "skip_reason":
            return self._skip_reason(state, parse, ctx)
        return self._remedy(state, parse, ctx)

    def prompt(self, state: dict[str, Any], ctx: FlowContext) -> Reply:
        lang, step = ctx.language, state["step"]
        if step == "describe":
            return Reply(say(lang, "damage.description_hint"))
        if step == "photos":
            return self._photos_prompt(state, ctx)
        if step == "skip_reason":
            return Reply(say(lang, "damage.ask_skip_reason"))
        if step == "remedy":
            return Reply(say(lang, "damage.ask_remedy"), self._remedy_labels(lang))
        return Reply(say(lang, "damage.done_prompt", ref=state["claim_reference"]))

    def claims(self, state: dict[str, Any], parse: ParseResult) -> bool:
        intent, text, step = parse.intent.name, parse.text, state["step"]
        if intent == "human":
            return False
        if step in ("describe", "skip_reason"):  # free text, whatever its intent
            return intent != "cancel" and (intent not in SOCIAL or len(text.split()) >= 3)
        if step == "photos":  # "done" reads as goodbye, "skip" as cancel
            return mentions(text, DONE + SKIP) or skip_with_reason(text)
        if step == "remedy":  # "keep it" and "money back" read as cancel
            return remedy_of(text) is not None
        return False

    def reserved(self, state: dict[str, Any], ok: bool, ctx: FlowContext) -> Step:
        return Step(state)

    # -- steps -------------------------------------------------------------
    def _describe(self, state: dict[str, Any], text: str, intent: str,
                  ctx: FlowContext) -> Step:
        lang = ctx.language
        state, added = self._add_photos(state, ctx)
        if not text and added:
            n = len(state["photos"])
            return Step(state, (Reply(say(lang, "damage.photos_then_description", n=n,
                                          max=ctx.config.max_photos)),))
        if not text or (intent in SOCIAL and len(text.split()) < 3):
            return self._miss(state, ctx, Reply(say(lang, "damage.description_hint")))
        state, lead = self._note_danger({**state, "description": text, "misses": 0}, text, lang)
        return self._to_photos(state, ctx, lead)

    def _photos(self, state: dict[str, Any], text: str, intent: str, ctx: FlowContext) -> Step:
        lang, top = ctx.language, ctx.config.max_photos
        lead: list[str] = []
        if text and is_dangerous(text) and not state["dangerous"]:
            state, lead = self._note_danger(_described(state, text), text, lang)
        finished = mentions(text, DONE) or intent == "affirm"
        if ctx.media:
            state, _ = self._add_photos(state, ctx)
            if len(state["photos"]) >= top:
                return self._after_photos(state, ctx, [*lead, say(lang, "damage.photos_full",
                                                                  max=top)])
            if finished:
                return self._after_photos(state, ctx, lead)
            return Step({**state, "misses": 0}, (self._photos_prompt(state, ctx, lead),))
        n = len(state["photos"])
        skipping = mentions(text, SKIP) or skip_with_reason(text) or intent == "deny"
        if n and (finished or skipping):
            return self._after_photos(state, ctx, lead)
        if skipping:
            if skip_with_reason(text) or state["dangerous"]:
                reason = text if skip_with_reason(text) else None
                return self._after_photos({**state, "photos_skipped_reason": reason}, ctx, lead)
            return Step({**state, "step": "skip_reason", "misses": 0},
                        (Reply(say(lang, "damage.ask_skip_reason")),))
        if lead:  # it told us something that matters; not a miss
            return Step(state, (self._photos_prompt(state, ctx, lead),))
        key = "damage.photos_hint_some" if n else "damage.photos_hint_none"
        return self._miss(state, ctx, self._photos_prompt(state, ctx, text=say(lang, key, n=n,
                                                                              max=top)))

    def _skip_reason(self, state: dict[str, Any], parse: ParseResult, ctx: FlowContext) -> Step:
        text = parse.text.strip()
        if ctx.media:  # photos after all
            back = {**state, "step": "photos", "photos_skipped_reason": None}
            return self._photos(back, text, parse.intent.name, ctx)
        if not text:
            return self._miss(state, ctx, Reply(say(ctx.language, "damage.ask_skip_reason")))
        state, lead = self._note_danger(state, text, ctx.language)
        return self._after_photos({**state, "photos_skipped_reason": text}, ctx, lead)

    def _remedy(self, state: dict[str, Any], parse: ParseResult, ctx: FlowContext) -> Step:
        lang, text = ctx.language, parse.text.strip()
        state, lead = self._note_danger(state, text, lang)
        if state["dangerous"]:
            return self._after_photos(_described(state, text), ctx, lead)
        if ctx.media and not text:  # a late photo: keep it, ask again without a miss
            state, _ = self._add_photos(state, ctx)
            added = say(lang, "damage.photo_added", n=len(state["photos"]),
                        max=ctx.config.max_photos)
            return Step(state, (Reply(f"{added} {say(lang, 'damage.ask_remedy')}",
                                      self._remedy_labels(lang)),))
        option = parse.first("option_number")
        if option is not None:
            number = int(str(option))
            remedy = REMEDIES[number - 1] if 1 <= number <= len(REMEDIES) else None
        else:
            remedy = remedy_of(text)
        if remedy is None:
            return self._miss(state, ctx, Reply(say(lang, "damage.remedy_hint"),
                                                self._remedy_labels(lang)))
        done = {**state, "step": "done", "remedy": remedy, "misses": 0}
        data = self._report(done, remedy)
        reply = Reply(say(lang, "damage.done", ref=state["claim_reference"]))
        return Step(done, (reply,), (Callback("case.damage_reported", data),
                                     Resolve("damage_reported", data)))

    # -- helpers -----------------------------------------------------------
    def _add_photos(self, state: dict[str, Any], ctx: FlowContext) -> tuple[dict[str, Any], int]:
        """Keep this message's photos, up to ``max_photos`` in all; return how many were new."""
        photos = list(state["photos"])
        known = {p["media_id"] for p in photos}
        for item in ctx.media:
            if item.id not in known and len(photos) < ctx.config.max_photos:
                photos.append({"media_id": item.id, "content_type": item.content_type})
                known.add(item.id)
        return {**state, "photos": photos}, len(photos) - len(state["photos"])

    def _note_danger(self, state: dict[str, Any], text: str,
                     lang: str) -> tuple[dict[str, Any], list[str]]:
        """Flag a dangerous parcel the first time the customer says so, with a safety line."""
        if state["dangerous"] or not is_dangerous(text):
            return state, []
        return {**state, "dangerous": True}, [say(lang, "damage.safety")]

    def _to_photos(self, state: dict[str, Any], ctx: FlowContext, lead: list[str]) -> Step:
        top = ctx.config.max_photos
        if len(state["photos"]) >= top:
            return self._after_photos(state, ctx, [*lead, say(ctx.language, "damage.photos_full",
                                                              max=top)])
        new = {**state, "step": "photos", "misses": 0}
        return Step(new, (self._photos_prompt(new, ctx, lead),))

    def _photos_prompt(self, state: dict[str, Any], ctx: FlowContext,
                       lead: list[str] | None = None, text: str | None = None) -> Reply:
        lang, n, top = ctx.language, len(state["photos"]), ctx.config.max_photos
        if text is None:
            key = ("damage.photo_count" if n else "damage.ask_photos_optional"
                   if state["dangerous"] else "damage.ask_photos")
            text = say(lang, key, n=n, max=top)
        quick = QUICK.get(lang, QUICK["en"])
        return Reply(" ".join([*(lead or []), text]),
                     quick_replies=(quick["done"],) if n else (quick["skip"],))

    def _after_photos(self, state: dict[str, Any], ctx: FlowContext, lead: list[str]) -> Step:
        """Photos are in (or skipped): ask the remedy, or hand a risky claim to a person."""
        lang = ctx.language
        if state["dangerous"] or self._over_limit(ctx):
            reason = "dangerous damage" if state["dangerous"] else "claim above value limit"
            text = say(lang, "damage.escalated", ref=state["claim_reference"])
            return self._escalate(state, ctx, reason, lead, text, report=True)
        new = {**state, "step": "remedy", "misses": 0}
        text = " ".join([*lead, say(lang, "damage.ask_remedy")])
        return Step(new, (Reply(text, self._remedy_labels(lang)),))

    def _escalate(self, state: dict[str, Any], ctx: FlowContext, reason: str, lead: list[str],
                  text: str, report: bool) -> Step:
        summary = {**self._report(state, None), "value": ctx.case.shipment.get("value")}
        del summary["preferred_remedy"]
        effects: list[Any] = [Callback("case.damage_reported", self._report(state, None))] \
            if report else []
        effects.append(Escalate(reason, summary))
        return Step({**state, "step": "escalated"}, (Reply(" ".join([*lead, text])),),
                    tuple(effects))

    def _miss(self, state: dict[str, Any], ctx: FlowContext, again: Reply) -> Step:
        misses = state.get("misses", 0) + 1
        if misses >= MAX_MISSES:
            return self._escalate({**state, "misses": misses}, ctx, "customer not understood",
                                  [], say(ctx.language, "damage.not_understood"), report=False)
        return Step({**state, "misses": misses}, (again,))

    def _over_limit(self, ctx: FlowContext) -> bool:
        limit = ctx.config.damage_value_limit
        amount = (ctx.case.shipment.get("value") or {}).get("amount")
        return limit is not None and amount is not None and float(amount) > limit

    def _remedy_labels(self, lang: str) -> tuple[str, ...]:
        return tuple(say(lang, f"damage.remedy.{r}") for r in REMEDIES)

    def _report(self, state: dict[str, Any], remedy: str | None) -> dict[str, Any]:
        return {"claim_reference": state["claim_reference"],
                "description": state["description"],
                "photos": [dict(p) for p in state["photos"]],
                "photos_skipped_reason": state["photos_skipped_reason"],
                "preferred_remedy": remedy, "dangerous": state["dangerous"]}
