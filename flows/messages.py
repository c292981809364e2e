"""What the bot says, in English and Spanish. Pure text; channels render it."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.models import Case, Window

LANGUAGES = ("en", "es")
# Names and addresses come from shippers and customers and may be of any length (up to 200
# and 300 characters in an event). Quoted in a text they are cut to these many characters,
# so the text stays within two SMS segments (channels/render.py) with its question intact,
# in any script. A first name over 20 characters or an address over 100 is rare; the cut
# one still reads as the one meant.
NAME_CHARS = 20
QUOTED_CHARS = {"address": 100, "line1": 60, "postal_code": 12}

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "notify_failed": "Hi{name}, {carrier} couldn't deliver {parcel} today: {reason}. "
                         "Pick a new time by number, or tell us a day and time:",
        "stop_hint": "Reply STOP to opt out.",
        "confirm": "{label}: is that right? Reply YES to book it or NO to choose again.",
        "booked": "Booked: {parcel} will arrive {label}. Thank you!",
        "pick_range": "Please reply with a number from 1 to {n}, or a day and time.",
        "past": "{day} has already passed.",
        "sunday": "We don't deliver on Sundays.",
        "holiday": "We don't deliver on {day} (holiday).",
        "beyond": "We can't book {day} yet.",
        "nearest": "Nearest times:",
        "no_time": "There is no window at that time on {day}. Options:",
        "which": "Which of these works?",
        "full": "Sorry, that window just filled up. Other times:",
        "choose_again": "No problem. Pick another time:",
        "fallback": "Sorry, I didn't get that. Reply with a number, or a day and time "
                    "like 'tomorrow after 5'.",
        "help": "Doorstep, delivery help for {carrier}. Reply here to sort out your delivery. "
                "Reply STOP to opt out.",
        "cancel": "OK, we'll leave it there. Text us any time to pick a new delivery time.",
        "human": "OK, a person from our team will reply here soon.",
        "escalated_hold": "A person from our team has your message and will reply here.",
        "reminder": "Reminder:",
        "choose_prompt": "{parcel} needs a new delivery time. Reply with a number, or a day "
                         "and time:",
        "welcome_back": "You're subscribed again.",
        "greet": "Hi!",
        "thanks": "You're welcome!",
        "already_booked": "{parcel} is booked for {label}. Reply HELP if you need anything.",
        "no_case": "Hi! We have no open delivery issue for you right now. Reply HELP for help.",
        "choose_new": "Sure. Pick a new delivery time for {parcel}, or tell us a day and time:",
        "no_windows": "Sorry, there are no delivery times to book right now. A person from our "
                      "team will contact you.",
        "media.attached": "Thanks, we've added your photo to your case.",
        "media.unsupported": "Sorry, we can only use photos (JPEG, PNG, HEIC or WebP). Please "
                             "send a picture instead.",
        "media.too_large": "Sorry, that file is too big (the limit is {mb} MB). Please send a "
                           "smaller photo.",
        "media.unavailable": "Sorry, we couldn't receive your photo. Please try sending it "
                             "again.",
        "link.ask": "Hi! To find your delivery, tap the link in our text message, share your "
                    "phone number with the button below, or send your tracking number and "
                    "delivery ZIP code.",
        "link.ask_postal": "Thanks. What is the delivery ZIP code?",
        "link.no_match": "Sorry, we couldn't match that. Check the tracking number and ZIP code "
                         "and try again ({left} attempts left), or share your phone number.",
        "link.not_own": "Please share your own phone number with the button below ({left} "
                        "attempts left).",
        "link.locked": "Too many attempts. Please try again in an hour.",
        "link.done": "Thanks, we found {parcel}.",
        "closed.delivered": "Update: {parcel} has been delivered. Nothing more to do, thank you!",
        "closed.returned": "Update: {parcel} is being returned to the sender. They will be in "
                           "touch about what happens next.",
        "telegram_invite": "Prefer Telegram? Continue here: {link}",
        "parcel": "your parcel {ref}",
        "reason.recipient_absent": "nobody was home",
        "reason.access_denied": "we couldn't get access",
        "reason.business_closed": "the business was closed",
        "reason.refused": "it was refused",
        "reason.other": "there was a delivery problem",
    },
    "es": {
        "notify_failed": "Hola{name}, {carrier} no pudo entregar {parcel} hoy: {reason}. "
                         "Elija otro horario con un número, o díganos día y hora:",
        "stop_hint": "Responda STOP para no recibir más.",
        "confirm": "{label}: ¿correcto? Responda SI para reservar o NO para elegir otro.",
        "booked": "Reservado: {parcel} llegará el {label}. ¡Gracias!",
        "pick_range": "Responda con un número del 1 al {n}, o con un día y hora.",
        "past": "El {day} ya pasó.",
        "sunday": "No entregamos los domingos.",
        "holiday": "No entregamos el {day} (festivo).",
        "beyond": "Aún no podemos reservar el {day}.",
        "nearest": "Horarios más cercanos:",
        "no_time": "No hay horario a esa hora el {day}. Opciones:",
        "which": "¿Cuál le viene bien?",
        "full": "Lo sentimos, ese horario se acaba de llenar. Otros horarios:",
        "choose_again": "De acuerdo. Elija otro horario:",
        "fallback": "Perdón, no le entendí. Responda con un número, o un día y hora como "
                    "'mañana después de las 5'.",
        "help": "Doorstep, ayuda con entregas de {carrier}. Responda aquí para resolver su "
                "entrega. Responda STOP para no recibir más.",
        "cancel": "De acuerdo, lo dejamos así. Escríbanos cuando quiera elegir otro horario.",
        "human": "De acuerdo, una persona de nuestro equipo le responderá aquí pronto.",
        "escalated_hold": "Una persona de nuestro equipo tiene su mensaje y le responderá aquí.",
        "reminder": "Recordatorio:",
        "choose_prompt": "{parcel} necesita un nuevo horario de entrega. Responda con un "
                         "número, o un día y hora:",
        "welcome_back": "Se ha suscrito de nuevo.",
        "greet": "¡Hola!",
        "thanks": "¡De nada!",
        "already_booked": "{parcel} está reservado para el {label}. Responda HELP si necesita "
                          "algo.",
        "no_case": "¡Hola! Ahora no tenemos ninguna entrega pendiente para usted. "
                   "Responda HELP para ayuda.",
        "choose_new": "Claro. Elija un nuevo horario para {parcel}, o díganos día y hora:",
        "no_windows": "Lo sentimos, ahora no hay horarios disponibles. Una persona de nuestro "
                      "equipo le contactará.",
        "media.attached": "Gracias, añadimos su foto a su caso.",
        "media.unsupported": "Lo sentimos, solo podemos usar fotos (JPEG, PNG, HEIC o WebP). "
                             "Envíe una imagen, por favor.",
        "media.too_large": "Lo sentimos, ese archivo es demasiado grande (límite {mb} MB). "
                           "Envíe una foto más pequeña.",
        "media.unavailable": "Lo sentimos, no pudimos recibir su foto. Intente enviarla de "
                             "nuevo.",
        "link.ask": "¡Hola! Para encontrar su entrega, toque el enlace de nuestro SMS, comparta "
                    "su número con el botón de abajo, o envíe su número de seguimiento y el "
                    "código postal de entrega.",
        "link.ask_postal": "Gracias. ¿Cuál es el código postal de entrega?",
        "link.no_match": "Lo sentimos, no encontramos coincidencia. Revise el número de "
                         "seguimiento y el código postal e inténtelo de nuevo (le quedan {left} "
                         "intentos), o comparta su número.",
        "link.not_own": "Comparta su propio número con el botón de abajo (le quedan {left} "
                        "intentos).",
        "link.locked": "Demasiados intentos. Inténtelo de nuevo dentro de una hora.",
        "link.done": "Gracias, encontramos {parcel}.",
        "closed.delivered": "Aviso: {parcel} ya fue entregado. No hace falta nada más, ¡gracias!",
        "closed.returned": "Aviso: {parcel} se está devolviendo al remitente. Ellos le "
                           "contactarán sobre los próximos pasos.",
        "telegram_invite": "¿Prefiere Telegram? Continúe aquí: {link}",
        "parcel": "su paquete {ref}",
        "reason.recipient_absent": "no había nadie en casa",
        "reason.access_denied": "no pudimos acceder",
        "reason.business_closed": "el negocio estaba cerrado",
        "reason.refused": "fue rechazado",
        "reason.other": "hubo un problema con la entrega",
    },
}

DAYS = {"en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
        "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")}
MONTHS = {"en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                 "Dec"),
          "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov",
                 "dic")}


def parcel_ref(case: Case, lang: str) -> str:
    """How we name the parcel: ``your parcel A-1001`` (order ref, else tracking tail)."""
    ref = case.order_ref or ("…" + case.tracking_number[-6:])
    return say(lang, "parcel", ref=ref)


def greeting_name(case: Case) -> str:
    """`` Ana`` for ``Hi{name}``, or nothing when the shipper gave no name (or only spaces)."""
    words = (case.recipient_name or "").split()
    return f" {clip(words[0], NAME_CHARS)}" if words else ""


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, the last one an ellipsis when cut."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def add_texts(texts: dict[str, dict[str, str]]) -> None:
    """Register a flow's own texts; each key must be new and given in every language."""
    keys = {lang: set(texts.get(lang, {})) for lang in LANGUAGES}
    if len({frozenset(k) for k in keys.values()}) != 1:
        raise ValueError("every text must be given in English and Spanish")
    clash = keys["en"] & set(TEXTS["en"])
    if clash:
        raise ValueError(f"texts already defined: {sorted(clash)}")
    for lang in LANGUAGES:
        TEXTS[lang].update(texts[lang])


def yes_no(lang: str) -> tuple[tuple[str, str], ...]:
    """Telegram buttons for a yes/no question; each answers as the typed word would."""
    return (("Sí", "si"), ("No", "no")) if lang == "es" else (("Yes", "yes"), ("No", "no"))


def language_of(code: str | None) -> str:
    """Map a recipient language (``es``, ``es-MX``, ``EN``) to a supported one."""
    base = (code or "en").split("-")[0].lower()
    return base if base in LANGUAGES else "en"


def say(lang: str, key: str, **values: object) -> str:
    """Return the ``key`` text in ``lang`` (English when missing) with ``values`` filled in.

    An address, its first line or a postal code (``QUOTED_CHARS``) longer than its limit
    is cut with an ellipsis; :func:`greeting_name` cuts first names.
    """
    template = TEXTS.get(lang, {}).get(key) or TEXTS["en"][key]
    return template.format(**{k: clip(v, QUOTED_CHARS[k]) if k in QUOTED_CHARS
                              and isinstance(v, str) else v for k, v in values.items()})


def reason_text(lang: str, reason: str | None) -> str:
    key = f"reason.{reason}"
    return say(lang, key if key in TEXTS["en"] else "reason.other")


def day_label(lang: str, day: date) -> str:
    if lang == "es":
        return f"{DAYS['es'][day.weekday()]} {day.day} {MONTHS['es'][day.month - 1]}"
    return f"{DAYS['en'][day.weekday()]} {MONTHS['en'][day.month - 1]} {day.day}"


def _hour_en(h: int, m: int) -> str:
    suffix = "am" if h < 12 else "pm"
    h12 = h % 12 or 12
    return f"{h12}:{m:02d}" if m else f"{h12}", suffix


def _hour_es(t: datetime) -> str:
    return f"{t.hour}" if not t.minute else f"{t.hour}:{t.minute:02d}"


def window_label(lang: str, window: Window, tz: str) -> str:
    """``Tue Nov 24, 5-9pm`` / ``mar 24 nov, 17-21 h`` in the shipment's timezone."""
    zone = ZoneInfo(tz)
    start, end = window.start.astimezone(zone), window.end.astimezone(zone)
    day = day_label(lang, start.date())
    if lang == "es":
        return f"{day}, {_hour_es(start)}-{_hour_es(end)} h"
    (s, s_suffix), (e, e_suffix) = _hour_en(start.hour, start.minute), _hour_en(end.hour,
                                                                               end.minute)
    span = f"{s}-{e}{e_suffix}" if s_suffix == e_suffix else f"{s}{s_suffix}-{e}{e_suffix}"
    return f"{day}, {span}"


def moment_label(lang: str, when: datetime, tz: str) -> str:
    """``Thu Nov 26, 5pm`` / ``jue 26 nov, 17 h`` (``5:30pm`` / ``17:30 h``) in ``tz``."""
    local = when.astimezone(ZoneInfo(tz))
    day = day_label(lang, local.date())
    if lang == "es":
        clock = f"{local.hour}:{local.minute:02d}" if local.minute else f"{local.hour}"
        return f"{day}, {clock} h"
    hour = local.hour % 12 or 12
    clock = f"{hour}:{local.minute:02d}" if local.minute else f"{hour}"
    return f"{day}, {clock}{'am' if local.hour < 12 else 'pm'}"
