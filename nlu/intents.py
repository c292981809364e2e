"""Rule-based intent classification for English and Spanish SMS.

:data:`INTENT_PATTERNS` is the whole model: for each intent and language (``"en"``,
``"es"`` or ``"*"`` for both) a tuple of rules ``(kind, regex, confidence)``:

* ``"="`` — the regex must match the whole *core* of the message (the canonical text
  with trailing politeness such as "please"/"gracias" and a leading greeting removed),
  so "yes please" and "ok gracias" are affirm, "no gracias" is deny;
* ``"~"`` — the regex may match anywhere in the canonical text.

Patterns are written against :func:`canonicalize` output: lower case, no accents, no
punctuation or apostrophes ("can't" -> "cant"), SMS shorthand expanded ("u" -> "you",
"pls" -> "please", "tmrw" -> "tomorrow", "thx" -> "thanks") and stretched letters
collapsed ("yesss" -> "yes"). An intent's score is its best matching rule; a rule of the
other language than the message's is discounted slightly. :func:`classify` then weighs
in the slot entities found (date, time window, option number).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from nlu.base import Intent
from nlu.entities import fold

Rule = tuple[str, str, float]

INTENT_PATTERNS: dict[str, dict[str, tuple[Rule, ...]]] = {
    "opt_out": {
        "*": (("=", r"stop|stopall|stop all|unsubscribe|unsub|end|quit|opt out|optout", 0.99),),
        "en": (("~", r"\b(?:stop|quit) (?:texting|messaging|sending|contacting|txting)\b"
                     r"|\bunsubscribe\b|\bopt (?:me )?out\b|\bdo not (?:text|contact|message)\b"
                     r"|\bdont (?:text|contact|message) me\b|\bremove me from\b", 0.95),),
        "es": (("=", r"baja|alto|darme de baja|dar de baja|parar", 0.97),
               ("~", r"\bdarme de baja\b|\bdejen de (?:enviar|mandar|escribir)"
                     r"|\bno (?:me )?(?:envien|manden|escriban) mas\b"
                     r"|\bcancelar (?:la )?suscripcion\b", 0.95)),
    },
    "human": {
        "en": (("=", r"agent|human|person|operator|representative|rep|live agent|real person"
                     r"|someone|customer service|support", 0.97),
               ("~", r"\b(?:talk|speak|chat)(?: to| with)(?: a| an| the| some| your)?"
                     r"(?: real| live| actual)? (?:person|human|agent|someone|somebody"
                     r"|representative|rep|operator|manager|people|customer service)\b"
                     r"|\bconnect me\b", 0.95),
               ("~", r"\b(?:real|live|actual) (?:person|human|agent)\b|\bhuman\b|\bagent\b"
                     r"|\brepresentative\b|\boperator\b|\bcustomer (?:service|support)\b", 0.85),
               ("~", r"\bcall me\b", 0.8)),
        "es": (("=", r"(?:un |una )?(?:agente|persona|humano|operador|asesor|representante)", 0.97),
               ("~", r"\bhablar con\b", 0.9),
               ("~", r"\b(?:agente|humano|operador|asesor|representante|persona real"
                     r"|servicio al cliente|atencion al cliente)\b", 0.85),
               ("~", r"\bllam(?:ar)?me\b|\bllamenme\b", 0.85)),
    },
    "cancel": {
        "en": (("=", r"cancel|cancel it|cancel that|never mind|forget it|forget about it|abort"
                     r"|nothing", 0.97),
               ("~", r"\bcancel\b|\bnever mind\b|\bforget (?:it|about it)\b", 0.85)),
        "es": (("=", r"cancelar|cancela|cancelalo|olvidalo|olvida|dejalo|no importa|nada", 0.97),
               ("~", r"\bcancela(?:r|lo)?\b|\bolvida(?:lo)?\b|\bdejalo\b|\bno importa\b", 0.85)),
    },
    "reschedule": {
        "en": (("=", r"reschedule|resched|rescheduling|redeliver|redelivery|change|change it"
                     r"|change date|another day|different day|other day|another time"
                     r"|new date|new time|try again|deliver again|come back", 0.95),
               ("~", r"\bre ?sched(?:ule|uling|uled)?\b|\bre ?deliver(?:y)?\b", 0.9),
               ("~", r"\b(?:change|move|switch|modify|update|push|postpone)\b.{0,20}"
                     r"\b(?:delivery|date|day|time|it|drop ?off|appointment)\b", 0.85),
               ("~", r"\b(?:another|different|other|new|later|diff)\s+(?:day|date|time|slot)\b",
                0.85),
               ("~", r"\b(?:can|could|would|will)\s+(?:you|they|the driver|driver|someone|he|she)"
                     r"\s+(?:please\s+)?(?:come|deliver|bring|drop|try|stop by|swing by|return)\b",
                0.85),
               ("~", r"\b(?:come|deliver|bring it|drop it off|try)\s+(?:back|again)\b", 0.8),
               ("~", r"\b(?:not|wont|cant|cannot|wasnt|not going to)\b.{0,15}\bhome\b", 0.82),
               ("~", r"\b(?:how|what) about\b|\binstead\b|\brather\b|\bprefer\b", 0.75)),
        "es": (("=", r"reprogramar|cambiar|otro dia|otra fecha|otra hora|otro horario"
                     r"|cambiar (?:la )?(?:fecha|entrega|hora)", 0.95),
               ("~", r"\breprogram\w*|\bcambi\w*\b.{0,25}\b(?:entrega|fecha|dia|hora|horario"
                     r"|cita)\b", 0.9),
               ("~", r"\bcambiar\b", 0.8),
               ("~", r"\botr[oa] (?:dia|fecha|hora|horario|momento)\b", 0.85),
               ("~", r"\b(?:pueden|puede|podrian|podria|vengan|venga|vuelvan|vuelva|regresen"
                     r"|traigan|traiga|entreguen|entregue|venir|volver)\b", 0.8),
               ("~", r"\bno (?:voy a |vamos a )?(?:estoy|estare|estaremos|estar|estamos"
                     r"|hay nadie)\b", 0.82),
               ("~", r"\bmejor\b|\ben (?:vez|lugar)\b|\bprefiero\b|\bque tal\b", 0.75),
               ("~", r"\bde nuevo\b|\bnuevamente\b|\botra vez\b", 0.7)),
    },
    "where_is_my_package": {
        "en": (("=", r"where is it|wheres it|status|tracking|eta|track|track it", 0.95),
               ("~", r"\bwhere(?:s| is| s| are)?\b.{0,15}\b(?:package|parcel|order|delivery"
                     r"|stuff|box|shipment|item|driver|it)\b", 0.9),
               ("~", r"\bwhen (?:will|is|does|do|are)\b.{0,25}\b(?:arrive|arriving|come|coming"
                     r"|get here|be here|delivered|show up)\b", 0.85),
               ("~", r"\b(?:track|tracking|status)\b|\beta\b", 0.8),
               ("~", r"\bnever (?:got|received|arrived|came)\b|\bdidnt (?:get|receive|arrive)\b"
                     r"|\bhavent (?:got|received)\b", 0.75)),
        "es": (("~", r"\bdonde\b.{0,10}\b(?:esta|estan|queda|anda|viene)\b", 0.9),
               ("~", r"\bcuando (?:llega|llegara|llegan|viene|vienen|van a (?:llegar|venir"
                     r"|entregar)|lo entregan|me lo entregan)\b", 0.85),
               ("~", r"\brastre\w*|\bseguimiento\b|\bestado de mi\b|\bestatus\b", 0.8),
               ("~", r"\bno (?:me )?(?:ha llegado|llego|lo he recibido|recibi)\b", 0.75)),
    },
    "help": {
        "en": (("=", r"help|help me|what is this|whats this|what is this about|who is this"
                     r"|who are you|what|huh|info|menu|what do i do|how does this work"
                     r"|i dont understand|confused", 0.95),
               ("~", r"\bwhat (?:is|s) this\b|\bwho (?:is|s) this\b|\bhow does this work\b"
                     r"|\bi dont understand\b", 0.85),
               ("~", r"\bhelp\b", 0.8)),
        "es": (("=", r"ayuda|ayudame|que es esto|quien es|quien eres|quienes son|no entiendo"
                     r"|info|menu|como funciona|que", 0.95),
               ("~", r"\bque es esto\b|\bno entiendo\b|\bquien (?:es|eres|habla)\b", 0.85),
               ("~", r"\bayud\w*", 0.8)),
    },
    "deny": {
        "*": (("=", r"no|nop|nope|nah|no no|ningun[oa]s?", 0.97),
              ("~", r"^(?:no|nope|nah)\b|\bno$", 0.8)),
        "en": (("=", r"no way|not that one|not that|none|none of them|none of those|none of these"
                     r"|neither|neither of them|wrong|incorrect|not really|thats wrong|not good"
                     r"|no good|negative|not those|i cant|cant|no i cant|no sorry|sorry no"
                     r"|(?:that )?(?:doesnt|does not|wont) work(?: for me)?", 0.97),
               ("~", r"\b(?:none|neither) of (?:them|those|these|the options)\b"
                     r"|\bnot that (?:one|day|time|date)\b|\b(?:doesnt|dont|does not|wont"
                     r"|will not) work\b|\bthats wrong\b|\bnot correct\b|\bincorrect\b", 0.85),
               ("~", r"^not\b|\b(?:cant|cannot|can not) (?:do|make)\b", 0.8)),
        "es": (("=", r"nel|ninguna de esas|ninguno de esos|ninguna de ellas|tampoco|no puedo"
                     r"|no me sirve|no me sirven|esa no|ese no|no esa|no ese|incorrecto"
                     r"|para nada|no me queda|no me conviene", 0.97),
               ("~", r"\bningun[oa]s?\b|\bno me (?:sirve|sirven|funciona|conviene|queda"
                     r"|viene bien)\b|\bno estoy de acuerdo\b|\besa no\b|\bese no\b", 0.85),
               ("~", r"\bno puedo\b", 0.8)),
    },
    "affirm": {
        "*": (("=", r"ok|ok ok|yes ok|ok yes|si ok|ok si|y|dale|perfect|perfecto", 0.97),
              ("~", r"^ok\b", 0.75)),
        "en": (("=", r"yes|yeah|yep|yup|yea|ya|yas|sure|correct|right|thats right|that is right"
                     r"|sounds good|sounds great|good|great|fine|thats fine|works|that works"
                     r"|works for me|confirm|confirmed|absolutely|of course|definitely|alright"
                     r"|all right|cool|no problem|np|sure thing|exactly|affirmative"
                     r"|yes (?:that|this) (?:works|is fine|one)|(?:yes|ok) (?:sounds good|perfect)"
                     r"|that is correct|thats correct|go ahead|do it|book it", 0.97),
               ("~", r"^(?:yes|yeah|yep|yup|yea|sure|correct|right|alright)\b", 0.75),
               ("~", r"\b(?:sounds good|that works|works for me|thats fine|thats right"
                     r"|that is correct|confirm|go ahead)\b", 0.8)),
        "es": (("=", r"si|sip|claro|vale|de acuerdo|correcto|esta bien|bien|bueno|listo|sale"
                     r"|asi es|exacto|por supuesto|claro que si|si claro|me parece bien"
                     r"|me sirve|sirve|genial|excelente|simon|aja|confirmo|si por favor"
                     r"|si perfecto|si esta bien|si correcto|esta perfecto|de una", 0.97),
               ("~", r"^(?:si|claro|vale|bueno|listo|correcto)\b", 0.75),
               ("~", r"\b(?:de acuerdo|esta bien|me parece bien|me sirve|confirmo)\b", 0.8)),
    },
    "greet": {
        "en": (("=", r"hi|hello|hey|hiya|heya|yo|good morning|good afternoon|good evening"
                     r"|(?:hi|hello|hey) there|howdy|greetings|sup|whats up", 0.97),
               ("~", r"^(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening))\b", 0.5)),
        "es": (("=", r"hola|buenas|buenos dias|buen dia|buenas tardes|buenas noches|que tal"
                     r"|hola buenas|hola buenos dias|hola buenas tardes|saludos|ola", 0.97),
               ("~", r"^(?:hola|buenas|buenos dias|buen dia)\b", 0.5)),
    },
    "thanks": {
        "en": (("=", r"thanks|thank you|thanks a lot|thank you very much|thanks so much"
                     r"|thank you so much|many thanks|much appreciated|appreciate it"
                     r"|thanks again|cheers", 0.97),
               ("~", r"\b(?:thanks|thank you|appreciate)\b", 0.7)),
        "es": (("=", r"gracias|muchas gracias|mil gracias|muchisimas gracias|gracias de nuevo"
                     r"|te agradezco|se agradece|muy amable", 0.97),
               ("~", r"\bgracias\b|\bagradezco\b", 0.7)),
    },
    "goodbye": {
        "en": (("=", r"bye|goodbye|good bye|bye bye|see you|see ya|see you later|later|cya"
                     r"|take care|have a (?:good|nice|great) day|good night|gnight|ttyl"
                     r"|thats all|that is all|thats it|nothing else", 0.97),
               ("~", r"\b(?:bye|goodbye|see you|see ya|cya|take care)\b"
                     r"|\bhave a (?:good|nice|great) (?:day|one|night)\b", 0.8)),
        "es": (("=", r"adios|chao|chau|hasta luego|hasta pronto|nos vemos|hasta manana"
                     r"|cuidate|que te vaya bien|eso es todo|es todo|nada mas", 0.97),
               ("~", r"\b(?:adios|chao|chau|hasta luego|hasta pronto|nos vemos|hasta manana)\b",
                0.8)),
    },
}

# Ties go to the intent listed first.
PRIORITY = ("opt_out", "human", "cancel", "reschedule", "inform", "where_is_my_package", "help",
            "deny", "affirm", "goodbye", "thanks", "greet", "out_of_scope")
# Small-talk intents that yield to a slot answer ("yes, friday" is an answer).
SOFT = frozenset({"affirm", "deny", "thanks", "greet"})
OUT_OF_SCOPE = 0.3

SHORTHAND: dict[str, str] = {
    "u": "you", "ya'll": "you", "ur": "your", "r": "are", "pls": "please", "plz": "please",
    "plse": "please", "pleas": "please", "thx": "thanks", "thnx": "thanks", "thanx": "thanks",
    "thks": "thanks", "tks": "thanks", "tnx": "thanks", "ty": "thank you", "tysm": "thank you",
    "tmrw": "tomorrow", "tmr": "tomorrow", "tmw": "tomorrow", "tmrow": "tomorrow",
    "2moro": "tomorrow", "2morrow": "tomorrow", "2day": "today", "2nite": "tonight",
    "k": "ok", "kk": "ok", "okay": "ok", "okey": "ok", "oki": "ok", "okie": "ok",
    "wanna": "want to", "gonna": "going to", "cud": "could", "pkg": "package",
    "pckg": "package", "parcel": "package", "nvm": "never mind", "nevermind": "never mind",
    "b4": "before", "q": "que", "xq": "porque", "pq": "porque", "xfa": "por favor",
    "porfa": "por favor", "porfavor": "por favor", "pf": "por favor", "grax": "gracias",
    "gcs": "gracias", "msj": "mensaje", "tb": "tambien", "ps": "pues", "sii": "si",
}
_EMOJI = {"\U0001f44d": " ok ", "\U0001f44c": " ok ", "\u2705": " ok ", "\U0001f197": " ok ",
          "\U0001f64f": " thanks ", "\u274c": " no ", "\U0001f44e": " no "}
_LEAD = re.compile(r"^(?:(?:hi|hello|hey|hola|buenas|please|por favor)\s+)+")
_TRAIL = re.compile(r"(?:\s+(?:please|por favor|thanks|thank you|thanks a lot|thank you very much"
                    r"|gracias|muchas gracias|again|then|entonces|lol))+$")
_ES_WORDS = frozenset(
    "hola gracias si el la los las de del que por para con mi un una es esta estoy quiero "
    "puedo pueden puede manana hoy tarde noche dia dias lunes martes miercoles jueves viernes "
    "sabado domingo entrega paquete pedido ayuda cancelar vale claro bueno favor despues antes "
    "entre ninguna ninguno otro otra adios buenas buenos olvidalo donde cuando persona agente "
    "hablar venir cambiar opcion primera segunda perfecto acuerdo semana proximo pasado "
    "tambien pero mejor nada porque pues y".split())
_EN_WORDS = frozenset(
    "the you your can please yes yeah tomorrow today morning afternoon evening tonight after "
    "before between and is my where what package delivery help thanks thank hi hello come want "
    "need home not cant option one second first next this monday tuesday wednesday thursday "
    "friday saturday sunday it be at in on of to for i me are will would could sure nope bye "
    "talk person human agent".split())

_COMPILED: dict[str, tuple[tuple[str, str, re.Pattern[str], float], ...]] = {
    intent: tuple((lang, kind, re.compile(f"^(?:{rx})$" if kind == "=" else rx), conf)
                  for lang, rules in by_lang.items() for kind, rx, conf in rules)
    for intent, by_lang in INTENT_PATTERNS.items()
}


def canonicalize(text: str) -> str:
    """Canonical text the intent patterns are written against."""
    for emoji, word in _EMOJI.items():
        text = text.replace(emoji, word)
    t = re.sub(r"'", "", fold(text).text)
    t = re.sub(r"(\w)\1{2,}", r"\1", t)
    t = re.sub(r"[^\w#]+|_", " ", t)
    return " ".join(SHORTHAND.get(w, w) for w in t.split())


def cores(canonical: str) -> tuple[str, ...]:
    """Readings of the whole message for ``"="`` rules: as is, without trailing politeness,
    and also without a leading greeting ("hi, help please" -> "help")."""
    trail = _TRAIL.sub("", canonical).strip()
    both = _LEAD.sub("", trail).strip()
    return tuple(dict.fromkeys(c for c in (canonical, trail, both) if c))


def detect_language(text: str) -> str:
    """``"es"`` when the message reads as Spanish, else ``"en"``."""
    words = canonicalize(text).split()
    es = sum(w in _ES_WORDS for w in words) + 2 * bool(re.search("[\u00f1\u00bf\u00a1]", text))
    en = sum(w in _EN_WORDS for w in words)
    es += sum(1 for ch in text if ch in "\u00e1\u00e9\u00ed\u00f3\u00fa")
    return "es" if es > en else "en"


def is_bare(residual: str) -> bool:
    """True when the text left after removing entities is only filler ("on", "el", "ok")."""
    return not [w for w in canonicalize(residual).split() if w not in _BARE_FILLER]


_BARE_FILLER = frozenset(
    "on the at in for by el la los las por para de del a en y and or o ok yes yeah si please "
    "por favor thanks gracias then entonces maybe quizas mejor instead".split())


def score(text: str, language: str) -> dict[str, float]:
    """Best rule confidence per matching intent (other-language rules discounted)."""
    canonical = canonicalize(text)
    centers = cores(canonical)
    scores: dict[str, float] = {}
    for intent, rules in _COMPILED.items():
        best = 0.0
        for lang, kind, rx, conf in rules:
            if conf <= best:
                continue
            if (any(rx.match(c) for c in centers) if kind == "=" else rx.search(canonical)):
                best = max(best, conf * (0.95 if lang not in ("*", language) else 1.0))
        if best:
            scores[intent] = best
    return scores


def classify(text: str, *, language: str = "en", slots: Collection[str] = (),
             bare: bool = False) -> list[Intent]:
    """Intent ranking, best first, for ``text`` given the slot entity types found in it.

    ``bare`` says the message is nothing but those slots (e.g. "tomorrow", "#2").
    """
    scores = score(text, language)
    if slots:
        for soft in SOFT & scores.keys():
            scores[soft] = min(scores[soft], 0.6)
        scores["inform"] = max(scores.get("inform", 0.0), 0.95 if bare else 0.75)
        if "reschedule" in scores:
            scores["reschedule"] = max(scores["reschedule"], 0.9)
    top = max(scores.values(), default=0.0)
    scores["out_of_scope"] = OUT_OF_SCOPE if not top else max(0.05, min(OUT_OF_SCOPE, 1 - top))
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], PRIORITY.index(kv[0])))
    return [Intent(name, round(conf, 3)) for name, conf in ranked]
