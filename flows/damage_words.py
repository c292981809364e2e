"""Reading a damage report's words: danger, skip/done, remedies (English and Spanish).

Phrases are matched as whole words on the canonical form of the text (lower case, no
accents or punctuation), so "it's", "está" and "ESTA" all match their plain spelling.
"""

from __future__ import annotations

from nlu.text import canonicalize

# Phrases in canonical form (lower case, no accents or punctuation: "it's" -> "its").
DANGER = (
    "leak", "leaks", "leaking", "leaked", "leakage", "broken glass", "shattered glass", "glass",
    "sharp", "smoke", "smoking", "smoky", "burning", "burnt", "burned", "chemical", "chemicals",
    "fumes", "toxic", "acid", "corrosive", "spill", "spilled", "spilling", "spilt",
    "battery swollen", "swollen battery", "battery is swollen", "bulging battery",
    "fuga", "gotea", "goteando", "derrame", "derramado", "derramo", "vidrio roto", "vidrio",
    "vidrios", "cristal roto", "cristal", "cristales", "humo", "humea", "quimico", "quimicos",
    "quemado", "quemada", "quemandose", "toxico", "acido", "cortante", "bateria hinchada",
)
# A danger word right after one of these is denied ("not leaking", "no gotea").
NEGATORS = frozenset({"not", "no", "isnt", "wasnt", "arent", "dont", "doesnt", "didnt",
                      "never", "nothing", "without", "nada", "sin", "ni", "nunca"})
DONE = ("done", "thats all", "thats it", "that is all", "finished", "no more", "all done",
        "listo", "ya", "eso es todo", "es todo", "terminado", "termine", "nada mas")
SKIP = ("skip", "no photos", "no photo", "no pictures", "no picture", "no pics", "no pic",
        "without photos", "sin fotos", "sin foto", "no tengo fotos", "omitir", "saltar")
# "I can't take photos, my phone is broken" is a skip that already gives its reason.
CANT = ("cant", "cannot", "unable", "dont have", "no puedo", "no tengo", "broken", "roto",
        "rota")
PHOTO = ("photo", "photos", "picture", "pictures", "pic", "pics", "camera", "foto", "fotos",
         "camara")
REMEDY_WORDS = {
    "replacement": ("replace", "replacement", "new one", "another one", "send another",
                    "reemplazo", "reemplazar", "reposicion", "nuevo", "uno nuevo", "otro igual"),
    "refund": ("refund", "money back", "reimburse", "reimbursement", "reembolso",
               "reembolsar", "devolucion", "devolver", "mi dinero"),
    "keep_with_discount": ("discount", "keep", "keep it", "descuento", "quedarmelo",
                           "me lo quedo", "quedarme"),
}


def _find(words: list[str], phrase: str) -> list[int]:
    parts = phrase.split()
    return [i for i in range(len(words) - len(parts) + 1) if words[i:i + len(parts)] == parts]


def mentions(text: str, phrases: tuple[str, ...]) -> bool:
    """True when ``text`` contains one of ``phrases`` as whole words (accents ignored)."""
    words = canonicalize(text).split()
    return any(_find(words, p) for p in phrases)


def is_dangerous(text: str) -> bool:
    """True when ``text`` says the parcel is a hazard; "not leaking" is not."""
    words = canonicalize(text).split()
    return any(not NEGATORS & set(words[max(0, i - 2):i])
               for phrase in DANGER for i in _find(words, phrase))


def remedy_of(text: str) -> str | None:
    """The one remedy ``text`` names, or None when it names none or several."""
    named = [r for r, phrases in REMEDY_WORDS.items() if mentions(text, phrases)]
    return named[0] if len(named) == 1 else None


def skip_with_reason(text: str) -> bool:
    """A skip that explains itself ("I can't take photos, my phone is broken")."""
    return len(text.split()) >= 4 and mentions(text, CANT) and mentions(text, PHOTO)
