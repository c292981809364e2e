"""Option-number entities: which of the listed choices (1-9) the customer picked.

Understands "2", "#2", "2.", "option 3", "number 1", "opción 2", "la opción 2", "the
second one", "second", "la segunda", "el 3", "2nd one" and a lone number word ("two",
"dos"). A bare digit counts only in a short message ("2 please", "yes 2") or after a
choosing verb or before an approval ("I'll take 2", "2 works", "quiero la 2"),
not after an address word ("apt #2"), and never when it reads as a quantity
("2 days") or sits inside a date or time the caller already found (pass them as ``taken``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from nlu.base import Entity
from nlu.entities import Folded, alternation, as_folded, make_entity, select
from nlu.entities.dates import MONTH_ALT

CARDINALS: dict[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9,
}
ORDINALS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
    "eighth": 8, "ninth": 9, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "6th": 6,
    "7th": 7, "8th": 8, "9th": 9,
    "primer": 1, "primero": 1, "primera": 1, "segundo": 2, "segunda": 2, "tercer": 3,
    "tercero": 3, "tercera": 3, "cuarto": 4, "cuarta": 4, "quinto": 5, "quinta": 5,
    "sexto": 6, "sexta": 6, "septimo": 7, "septima": 7, "octavo": 8, "octava": 8,
    "noveno": 9, "novena": 9, "1ro": 1, "1ra": 1, "1er": 1, "1era": 1, "1o": 1, "1a": 1,
    "2do": 2, "2da": 2, "2o": 2, "2a": 2, "3ro": 3, "3ra": 3, "3er": 3, "3era": 3, "3o": 3,
    "3a": 3, "4to": 4, "4ta": 4, "5to": 5, "5ta": 5,
}
FILLER = frozenset(
    "ok okay k yes yeah yep si please pls plz thanks thx gracias por favor porfa one option "
    "opcion the la el lo then entonces".split())


_CARD = alternation(CARDINALS)
_ORD = alternation(ORDINALS)
_NUMBERED = re.compile(
    r"#\s*(?P<n>[1-9])(?!\d)"
    r"|\b(?:option|opt|choice|number|num|nr|opcion|numero|no\.|n[o\u00ba\u00b0]\.)\s*#?\s*"
    rf"(?P<k>[1-9]|{_CARD})\b(?![\d/:.]\d)")
_ORDINAL = re.compile(
    rf"\b(?:(?P<art>the|la|el|lo)\s+)?(?P<o>{_ORD})(?:[\u00ba\u00aa])?"
    r"(?:\s+(?P<suf>one|option|choice|slot|date|opcion|uno|una|fecha))?\b"
    rf"(?!\s+(?:of\s+|de\s+)?(?:{MONTH_ALT})\b)")
_ARTICLE = re.compile(
    r"\b(?:la|el)\s+(?P<n>[1-9])\b(?!\s*(?:[:/.]\d|a\.?m\b|p\.?m\b|h\b|de\b|st|nd|rd|th))")
_BARE = re.compile(
    r"(?<![\w#/:.,$-])(?P<n>[1-9])(?:[.)](?!\d))?(?![\w/:%$-])"
    r"(?!\s*(?:days?|dias?|weeks?|semanas?|hours?|horas?|hrs?|mins?|minutes?|minutos?|packages?"
    r"|paquetes?|boxes|cajas|items?|a\.?m\b|p\.?m\b|de\b|o'?clock))")
_CHOOSE = re.compile(r"\b(?:take|choose|pick|want|prefer|go\s+with|select|book|quiero|elijo"
                     r"|prefiero|escojo|tomo|reserva)\s+$")
_APPROVE = re.compile(r"\W*(?:works|is\s+(?:fine|good|best|better|perfect|ok)|sounds\s+good"
                      r"|me\s+sirve|esta\s+bien|me\s+va\s+bien|por\s+favor|please|pls|plz)\b")
_ADDRESS = re.compile(r"\b(?:apt|apartment|unit|suite|ste|room|floor|bldg|building|house|depto"
                      r"|dpto|departamento|piso|casa|interior|int)\.?(?:\s+(?:is|es))?\s*(?:#|no\.?|number|numero)?\s*$")
_WORD = re.compile(r"[a-z0-9]+")


def _only_filler(text: str) -> bool:
    return all(w in FILLER for w in _WORD.findall(text))


def extract_options(text: str | Folded, *, taken: Iterable[Entity] = ()) -> list[Entity]:
    """All ``option_number`` entities (1-based int) not overlapping ``taken`` spans."""
    f = as_folded(text)
    t = f.text
    out: list[Entity] = []

    def add(m: re.Match[str], value: int, group: int | str = 0) -> None:
        out.append(make_entity(f, "option_number", value, m.start(group), m.end(group)))

    def rest(m: re.Match[str]) -> str:
        return t[:m.start()] + " " + t[m.end():]

    for m in _NUMBERED.finditer(t):
        n = m.group("n") or m.group("k")
        add(m, int(n) if n.isdigit() else CARDINALS[n])
    for m in _ORDINAL.finditer(t):
        if m.group("art") or m.group("suf") or _only_filler(rest(m)):
            add(m, ORDINALS[m.group("o")])
    for m in _ARTICLE.finditer(t):
        add(m, int(m.group("n")))
    short = len(_WORD.findall(t)) <= 3
    for m in _BARE.finditer(t):
        if short or _CHOOSE.search(t[:m.start()]) or _APPROVE.match(t, m.end()):
            add(m, int(m.group("n")))
    whole = re.fullmatch(rf"\W*(?P<w>{_CARD})\W*", t)
    if whole:
        add(whole, CARDINALS[whole.group("w")], "w")
    spans = list(taken)
    free = [e for e in out if all(e.end <= x.start or e.start >= x.end for x in spans)
            and not _ADDRESS.search(f.original[:e.start].lower())]
    return select(free)
