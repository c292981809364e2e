"""When the bot hands a conversation to a person, and what it tells everyone when it does.

Rules (the engine applies them in this order on each message):

* the customer asks for a person (the ``human`` intent, in ``Engine._global``);
* words of anger, legal threat, danger or urgency (:func:`alarm_in`), unless the
  current flow deals with that kind itself (the damage flow asks about hazards);
* the NLU falls back twice in a row on messages the flow cannot use;
* a flow's answers fail validation three times (its ``misses`` count);
* the flows' own reasons: a claim above the value limit, a missing parcel, no window.

Escalating records a hand-off on the case (reason, summary, ETA), posts
``case.escalated`` and tells the customer roughly when a person will reply, from the
live queue: people waiting, staff at the console, how long recent claims took.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

from bot.links import tracking_url
from bot.models import ESCALATED, WEB, Case, Reply
from bot.store import now_iso
from flows import tracking_texts  # noqa: F401  (registers the tracking texts)
from flows.damage_words import NEGATORS, _find
from flows.messages import add_texts, say
from flows.registry import FLOWS
from nlu.base import ParseResult
from nlu.text import canonicalize

if TYPE_CHECKING:
    from bot.engine import Engine, Turn

FALLBACKS_BEFORE_ESCALATION = 2
MISSES_BEFORE_ESCALATION = 3
ONLINE_WITHIN_S = 15 * 60  # staff seen at the console this recently count as online
TYPICAL_CLAIM_S = 5 * 60  # assumed time to pick up one conversation before we have figures
LAST_MESSAGES = 6

# Whole words or phrases in canonical form (lower case, no accents or punctuation).
ALARMS: dict[str, tuple[str, ...]] = {
    # Not "sue", "court" or "fire": a neighbour called Sue, "12 Oak Court", "Fire Lane".
    "legal": ("lawyer", "attorney", "suing", "lawsuit", "legal action", "small claims",
              "abogado", "demanda", "demandar", "denuncia", "denunciar"),
    "danger": ("dangerous", "danger", "hazard", "hazardous", "on fire", "explosive", "toxic",
               "poison", "peligro", "peligroso", "peligrosa", "incendio", "fuego", "explosivo",
               "veneno", "toxico"),
    "urgent": ("urgent", "urgently", "emergency", "asap", "immediately", "medication",
               "medicine", "insulin", "urgente", "emergencia", "inmediatamente", "medicamento",
               "medicina", "insulina"),
    "anger": ("fuck", "fucking", "fucked", "shit", "bullshit", "wtf", "asshole", "bastard",
              "ridiculous", "unacceptable", "furious", "scam", "scammers",
              "pathetic", "useless", "worst service", "mierda", "carajo", "joder", "puta",
              "pendejo", "pendejos", "cabron", "chingada", "estafa", "estafadores",
              "inaceptable", "ridiculo", "indignante", "inutiles"),
}
# Anger and legal threats are never denied by a "not" before them ("not a scam" is rare;
# "not dangerous" and "no es urgente" are common).
DENIABLE = frozenset({"danger", "urgent"})

add_texts({
    "en": {
        "escalation.anger": "I'm sorry about this. I'm passing you to a person from our team, "
                            "who will reply here.",
        "escalation.legal": "I understand. I'm passing this to a person from our team, who "
                            "will reply here.",
        "escalation.danger": "Please keep away from the parcel if it may be dangerous. A person "
                             "from our team will reply here.",
        "escalation.urgent": "I understand it's urgent. A person from our team will take this "
                             "over and reply here.",
        "escalation.not_understood": "Sorry, I'm not getting it. A person from our team will "
                                     "reply here.",
        "escalation.eta": "Someone usually replies within about {eta}.",
        "escalation.eta_busy": "Our team is busy right now; someone should reply within "
                               "about {eta}.",
        "escalation.overdue": "Sorry for the wait: our team is taking longer than usual. "
                              "Your message is still in the queue and a person will reply "
                              "here as soon as they can.",
        "staff.joined": "You're chatting with {name} from support.",
        "staff.handed_back": "Thanks for your patience. I'm the automated assistant again.",
        "eta.minutes": "{n} minutes",
        "eta.hour": "an hour",
        "eta.hours": "{n} hours",
    },
    "es": {
        "escalation.anger": "Lamento lo ocurrido. Le paso con una persona de nuestro equipo, "
                            "que le responderá aquí.",
        "escalation.legal": "Entendido. Le paso con una persona de nuestro equipo, que le "
                            "responderá aquí.",
        "escalation.danger": "Si el paquete puede ser peligroso, manténgase alejado. Una "
                             "persona de nuestro equipo le responderá aquí.",
        "escalation.urgent": "Entiendo que es urgente. Una persona de nuestro equipo se "
                             "encargará y le responderá aquí.",
        "escalation.not_understood": "Perdón, no logro entenderle. Una persona de nuestro "
                                     "equipo le responderá aquí.",
        "escalation.eta": "Normalmente alguien responde en unos {eta}.",
        "escalation.eta_busy": "Nuestro equipo está ocupado ahora; alguien debería responder "
                               "en unos {eta}.",
        "escalation.overdue": "Perdone la espera: nuestro equipo está tardando más de lo "
                              "habitual. Su mensaje sigue en la cola y una persona le "
                              "responderá aquí lo antes posible.",
        "staff.joined": "Está hablando con {name}, del equipo de soporte.",
        "staff.handed_back": "Gracias por su paciencia. Vuelve a atenderle el asistente "
                             "automático.",
        "eta.minutes": "{n} minutos",
        "eta.hour": "una hora",
        "eta.hours": "{n} horas",
    },
})

REASONS = {
    "anger": "angry customer",
    "legal": "legal threat",
    "danger": "danger reported",
    "urgent": "urgent request",
}


def alarm_in(text: str) -> str | None:
    """The kind of alarm ``text`` raises (anger, legal, danger, urgent), or None."""
    words = canonicalize(text).split()
    for kind, phrases in ALARMS.items():
        for phrase in phrases:
            for i in _find(words, phrase):
                if kind in DENIABLE and NEGATORS & set(words[max(0, i - 2):i]):
                    continue
                return kind
    return None


def is_fallback(parse: ParseResult) -> bool:
    """The NLU could not tell what the message means (Rasa's ``nlu_fallback``)."""
    return parse.intent.name == "out_of_scope" and not parse.entities


def eta_minutes(waiting_ahead: int, agents_online: int, claim_waits: list[float],
                overdue_s: float) -> int:
    """Roughly how long until a person replies, in minutes.

    With nobody at the console, the honest figure is the overdue limit; otherwise the
    median of recent claim waits (or five minutes) for each round of people ahead.
    """
    limit = max(1, round(overdue_s / 60))
    if agents_online <= 0:
        return limit
    typical = statistics.median(claim_waits) if claim_waits else TYPICAL_CLAIM_S
    rounds = 1 + waiting_ahead // agents_online
    minutes = max(1, round(typical * rounds / 60))
    if minutes > 10:
        minutes = 5 * round(minutes / 5)
    return min(minutes, limit)


def eta_text(lang: str, minutes: int) -> str:
    if minutes < 60:
        return say(lang, "eta.minutes", n=max(minutes, 2))
    hours = round(minutes / 60)
    return say(lang, "eta.hour") if hours == 1 else say(lang, "eta.hours", n=hours)


class Escalations:
    """Escalate a turn's case: the hand-off record, the callback, the customer's ETA."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store
        self.settings = engine.settings

    def queue_state(self) -> tuple[int, int, int, list[float]]:
        """(waiting, held, overdue, claim waits) over the escalated cases now."""
        cases = self.store.get_cases(self.store.escalated_case_ids())
        held = sum(1 for c in cases if c.held_by)
        overdue = sum(1 for c in cases if not c.held_by and (c.handoff or {}).get("overdue"))
        return len(cases) - held, held, overdue, self.store.claim_waits()

    def eta(self) -> tuple[int, int]:
        """(minutes until a person should reply, staff online now)."""
        waiting, _, _, waits = self.queue_state()
        online = self.store.staff_online(ONLINE_WITHIN_S)
        return eta_minutes(waiting, online, waits, self.settings.escalation_overdue_s), online

    def escalate(self, turn: Turn, reason: str, summary: dict[str, Any]) -> None:
        """Hand the turn's case to a person (once: an escalated case stays as it is)."""
        case = turn.case
        if case is None or case.status == ESCALATED:
            return
        lang = turn.conv.language if turn.conv else case.language
        minutes, online = self.eta()
        at = now_iso()
        handoff = {"reason": reason, "summary": self.summary(turn, case, summary),
                   "escalated_at": at, "waiting_since": at, "eta_minutes": minutes,
                   "overdue": False, "assignee": None, "assignee_name": None,
                   "claimed_at": None}
        self.engine.set_status(turn, ESCALATED, {"reason": reason, "eta_minutes": minutes})
        turn.case = Case.from_dict({**turn.case.to_dict(), "handoff": handoff})
        turn.callbacks.append(("case.escalated", {"reason": reason, "summary": summary}))
        turn.escalated = True
        busy = online == 0 or minutes > 15
        text = say(lang, "escalation.eta_busy" if busy else "escalation.eta",
                   eta=eta_text(lang, minutes))
        link = tracking_url(self.settings, case.id) \
            if turn.conv is not None and turn.conv.channel != WEB else None
        if link:  # where the customer can see the case while they wait
            text += " " + say(lang, "tracking.follow", link=link)
        turn.replies.append(Reply(text))

    def summary(self, turn: Turn, case: Case, collected: dict[str, Any]) -> dict[str, Any]:
        """What a person needs first: the exception, what the bot collected, the last
        messages."""
        conv = turn.conv
        messages = []
        for entry in self.store.recent_timeline(case.id, 40) + [
                {"kind": k, **d} for k, d in turn.timeline]:
            if entry["kind"] == "message.in":
                messages.append({"direction": "in", "text": entry.get("text", ""),
                                 "at": entry.get("at")})
            elif entry["kind"] == "message.queued":
                messages.append({"direction": "out", "text": entry.get("text", ""),
                                 "at": entry.get("at")})
        messages += [{"direction": "out", "text": r.text, "at": None} for r in turn.replies]
        return {
            "exception": {"type": case.type, "reason": case.reason,
                          "tracking_number": case.tracking_number, "carrier": case.carrier},
            "flow": conv.flow if conv else None,
            "step": conv.state.get("step") if conv else None,
            "collected": collected,
            "last_messages": messages[-LAST_MESSAGES:],
        }

    def alarm(self, turn: Turn, parse: ParseResult) -> bool:
        """Escalate on anger, legal threats, danger or urgency; True when it did."""
        kind = alarm_in(parse.text)
        conv = turn.conv
        if kind is None or kind in FLOWS[conv.flow].own_alarms:
            return False
        turn.replies.append(Reply(say(conv.language, f"escalation.{kind}")))
        self.escalate(turn, REASONS[kind], {"message": parse.text})
        return True

    def fell_back(self, turn: Turn, parse: ParseResult, claimed: bool) -> bool:
        """Count NLU fallbacks in a row; escalate (True) at the second."""
        conv = turn.conv
        if claimed or not is_fallback(parse) or conv.state.get("step") == "done":
            conv.fallbacks = 0
            return False
        conv.fallbacks += 1
        if conv.fallbacks < FALLBACKS_BEFORE_ESCALATION:
            return False
        conv.fallbacks = 0
        turn.replies.append(Reply(say(conv.language, "escalation.not_understood")))
        self.escalate(turn, "bot did not understand twice", {"message": parse.text})
        return True

    def too_many_misses(self, turn: Turn, flow_replies_from: int) -> bool:
        """After a flow step: three answers it could not use hand the case to a person, in
        place of the flow's "try again" (its replies from ``flow_replies_from`` on)."""
        conv = turn.conv
        if turn.case is None or turn.case.status == ESCALATED \
                or conv.state.get("misses", 0) < MISSES_BEFORE_ESCALATION:
            return False
        del turn.replies[flow_replies_from:]
        turn.replies.append(Reply(say(conv.language, "escalation.not_understood")))
        self.escalate(turn, "answers not understood three times",
                      {"step": conv.state.get("step")})
        return True
