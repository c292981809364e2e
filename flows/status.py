"""Side questions any flow can be interrupted by: where is my package, delivery instructions.

Pure: the engine supplies the case and when its latest event happened, and carries out
what these functions decide.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.models import ESCALATED, RESOLVED, Case, Window
from flows.messages import TEXTS, add_texts, moment_label, reason_text, say, window_label

MAX_INSTRUCTIONS = 500
# Words that make a message an instruction for the driver rather than a request to give one.
_CUES = re.compile(
    r"\b(leave|left|door|porch|gate|code|concierge|reception|front desk|neighbou?r|garage|"
    r"back ?yard|mailbox|ring|knock|bell|call me|buzz|buzzer|lobby|doorman|side|behind|"
    r"dej(a|e|ar|en)|puerta|port[oó]n|c[oó]digo|conserje|recepci[oó]n|vecin[oa]|timbre|"
    r"ll[aá]m(e|ame|enme)|toque|buz[oó]n|porter[ií]a|portero|garaje|entrada)\b", re.I)

add_texts({
    "en": {
        "status.delivery.failed": "{parcel}: delivery was attempted {when} but failed "
                                  "({reason}).",
        "status.delivery.delayed": "{parcel} is delayed. New estimated delivery: {eta}.",
        "status.delivery.damaged": "{parcel} was reported damaged in transit {when}.",
        "status.delivery.misrouted": "{parcel} went to the wrong depot and is being rerouted "
                                     "(update {when}).",
        "status.delivery.address_invalid": "{parcel} is on hold: the driver couldn't find the "
                                           "address ({when}).",
        "status.booked": "New delivery time: {label}.",
        "status.escalated": "A person from our team is looking into it.",
        "status.resolved": "This has been sorted out.",
        "status.which": "Which parcel do you mean?",
        "instructions.ask": "What should the driver know? For example a gate code or "
                            "'leave it with the concierge'.",
        "instructions.saved": "Thanks, we've passed this on to the driver: \"{text}\"",
    },
    "es": {
        "status.delivery.failed": "{parcel}: se intentó entregar {when} pero no se pudo "
                                  "({reason}).",
        "status.delivery.delayed": "{parcel} viene con retraso. Nueva entrega estimada: {eta}.",
        "status.delivery.damaged": "Se informó que {parcel} se dañó en el transporte {when}.",
        "status.delivery.misrouted": "{parcel} fue a otro depósito y se está redirigiendo "
                                     "(aviso {when}).",
        "status.delivery.address_invalid": "{parcel} está retenido: el repartidor no encontró "
                                           "la dirección ({when}).",
        "status.booked": "Nuevo horario de entrega: {label}.",
        "status.escalated": "Una persona de nuestro equipo se está ocupando.",
        "status.resolved": "Esto ya está resuelto.",
        "status.which": "¿A qué paquete se refiere?",
        "instructions.ask": "¿Qué debe saber el repartidor? Por ejemplo un código de portón o "
                            "'déjelo con el conserje'.",
        "instructions.saved": "Gracias, se lo pasamos al repartidor: \"{text}\"",
    },
})


def status_text(case: Case, lang: str, latest: datetime, parcel: str) -> str:
    """Where the parcel stands, from the case's latest event, in plain words."""
    when = moment_label(lang, latest, case.timezone)
    eta = case.details.get("new_eta")
    eta_label = moment_label(lang, datetime.fromisoformat(eta), case.timezone) if eta else ""
    key = f"status.{case.type}"
    text = say(lang, key if key in TEXTS["en"] else "status.delivery.failed", parcel=parcel,
               when=when, reason=reason_text(lang, case.reason), eta=eta_label)
    text = text[0].upper() + text[1:]
    booked = (case.resolution or {}).get("window")
    if booked:
        window = Window.from_dict(booked)
        text += " " + say(lang, "status.booked", label=window_label(lang, window, case.timezone))
    elif case.status == ESCALATED:
        text += " " + say(lang, "status.escalated")
    elif case.status == RESOLVED:
        text += " " + say(lang, "status.resolved")
    return text


def instructions_in(text: str) -> str | None:
    """The instruction itself when the message gives one ("leave it at the back door"),
    or None when it only asks to give one ("can I add delivery instructions?")."""
    clean = " ".join(text.split())
    if len(clean.split()) < 3 or not _CUES.search(clean):
        return None
    if re.search(r"\b(add|give|leave|dar|dejar|agregar|añadir)\b.{0,20}\b(instructions?|"
                 r"instrucciones|note|nota)\b", clean, re.I) and len(clean.split()) <= 7:
        return None
    return clean[:MAX_INSTRUCTIONS]
