"""Postal-address entities: a US street address written inside a customer's message.

Understands "wrong address, its 118 Oak St Apt 4B, Springfield IL 62704", "deliver to 22
elm street instead", "mi dirección es 118 Oak St apto 4", "new address: 4500 W Sunset
Blvd #210 Los Angeles CA 90027". The value is a dict::

    {"text": "118 Oak St Apt 4B, Springfield IL 62704", "line1": "118 Oak St",
     "line2": "Apt 4B", "city": "Springfield", "region": "IL", "postal_code": "62704"}

``text``, ``line1``, ``line2`` and ``city`` are the customer's own words (trailing commas
dropped); ``region`` is the two-letter state code (full state names are mapped);
missing parts are None.

How: a regular expression on the folded text finds the span — a house number, an optional
direction, one to three street-name words and a street suffix (St, Ave, Blvd, Rd, Dr,
Ln, Ct, Way, Pl…), then optionally a direction, up to two units (Apt, Suite, Unit, #,
apto, depto, departamento, unidad, casa, piso, interior), and a locality (city + state
[+ ZIP], state + ZIP, ZIP, or ", City" alone when capitalised). The search for the span
ends at the first clause word ("instead", "please", "pls", "por favor", "thanks",
"gracias", "but", "pero", "and", "after", "tomorrow", "call", "gate"…) or sentence
punctuation (a period ends it unless it closes an abbreviation: "St.", "Ave.", "N.").
Then ``usaddress.parse`` labels the span's tokens and the components are read from
those labels; the labels must run in address order (number, street, unit, city, state,
ZIP) and the span is cut where they stop doing so, so a wrong guess by the regex is
trimmed rather than returned. The CRF is called only when the regex found a span: a
message with no digit costs one scan.

Precision first: there must be a street suffix, unless the number follows an address cue
("address is", "deliver to", "dirección", "ship to"…) and the street name is capitalised
("my address is 118 Broadway"). A number after "code", "gate", "box", "apt", "#",
"option", "tracking"… is not a house number; the street-name words may not be function
words ("2 packages on the way" is not an address). A two-letter state that is also a word
(in, me, or, ok, hi, la, de, mi…) counts only upper-case or before a ZIP. A bare
house-number correction ("wrong house number its 118", "es el 118 no el 181") is not an
address: the flow asks for the whole address.

Limits: US formats only — no PO boxes, "Highway 101", rural routes or Spanish-order
addresses ("Calle 5 #23", "Av. Reforma 222"); a street suffix used as the only street
name word is missed ("118 Court St" works, "118 St" does not); cities are at most three
words.

Latency (Python 3.11 in the dev container, 900 calls over four spans such as "118 Oak St
Apt 4B, Springfield IL 62704"): ``usaddress.parse`` takes min 0.05 ms, median 0.15 ms,
p99 0.3–0.4 ms per call. A whole :func:`extract_addresses` call on a ~55-character SMS
holding an address: median 0.21–0.24 ms, p99 0.5 ms; on one without a candidate span
(no CRF call): median 0.02 ms; 10 000 characters of mixed text: ~30 ms.
"""

from __future__ import annotations

import re
from typing import Any

import usaddress

from nlu.base import Entity
from nlu.entities import Folded, alternation, as_folded

__all__ = ["extract_addresses", "STATES"]

STATES: dict[str, str] = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL",
    "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI",
    "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ",
    "new mexico": "NM", "new york": "NY", "north carolina": "NC", "north dakota": "ND",
    "ohio": "OH", "oklahoma": "OK", "oregon": "OR", "pennsylvania": "PA",
    "puerto rico": "PR", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
    "washington": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
}
_STATE_CODES = frozenset(STATES.values())
_WORDLIKE_STATES = frozenset("al co de hi id in la me ma mi mo ne oh ok or pa wa ga".split())
SUFFIXES = ("st str street ave av avenue blvd boulevard rd road dr drive ln lane ct court way "
            "pl place ter terr terrace pkwy parkway hwy highway cir circle trl trail sq square "
            "loop aly alley cres crescent plz plaza pike path cv cove xing crossing").split()
UNIT_WORDS = ("apt apartment unit suite ste apto depto dpto departamento unidad casa piso "
              "interior int bldg building fl floor rm room lot").split()
_DIRECTIONS = "n s e w ne nw se sw north south east west".split()
_FUNCTION_WORDS = frozenset(
    "the a an of my at in on to for is it its and or me i im you u your we our this that "
    "these those pm am mins minutes hours hrs days weeks items boxes packages package more "
    "other times el los las en mi su un una es y o no al por para con".split())


_STATE = rf"(?:{alternation([*STATES, *(c.lower() for c in STATES.values())])})"
_ZIP = r"\d{5}(?:-\d{4})?"
_WORD = r"[a-z0-9][a-z0-9'-]*"
_CITY = r"[a-z][a-z'.-]*(?:\s+[a-z][a-z'.-]*){0,2}?"
_UNIT_ALT = alternation(UNIT_WORDS)
_UNIT = (rf"(?:\s*,?\s*(?:(?:{_UNIT_ALT})(?:\.|\b|(?=\d))\s*(?:#|number|numero)?\s*|#\s*)"
         r"(?!\d{5}\b)[a-z0-9][a-z0-9-]{0,5}\b)")
_TAIL = (
    rf"(?:\s+(?:{alternation(_DIRECTIONS)})\b\.?)?"
    rf"{_UNIT}{{0,2}}"
    rf"(?:\s*,?\s*(?P<city>{_CITY})\s*,?\s+(?P<state>{_STATE})\b\.?(?:\s*,?\s*(?P<zip>{_ZIP}))?"
    rf"|\s*,?\s*(?P<state2>{_STATE})\s*,?\s*(?P<zip2>{_ZIP})"
    rf"|\s*,?\s*(?P<zip3>{_ZIP})"
    rf"|\s*,\s*(?P<city2>{_CITY}))?(?![\w-])")
_HEAD = (rf"(?P<num>\d{{1,6}}[a-z]?)\s+(?:(?:{alternation(_DIRECTIONS)})\.?\s+)?")
_STREET = re.compile(
    rf"{_HEAD}(?P<name>(?:{_WORD}\s+){{0,2}}?{_WORD})\s+(?:{alternation(SUFFIXES)})\b\.?{_TAIL}")
_BARE_STREET = re.compile(rf"{_HEAD}(?P<name>{_WORD}(?:\s+{_WORD})?){_TAIL}")
_NUMBER = re.compile(r"(?<![\w#$/.:+-])(?<!\d,)\d{1,6}[a-z]?\b")
_NOT_HOUSE = re.compile(
    r"\b(?:code|codigo|gate|box|caja|apt|apto|unit|suite|ste|option|opcion|tracking|rastreo"
    r"|guia|order|pedido|room|floor|piso|depto|casa|interior)\s*[#:.]?\s*$|#\s*$")
_ADDRESS_CUE = re.compile(
    r"\b(?:address|addy|addr|direccion|domicilio|(?:deliver|send|ship|bring|take|mail)"
    r"(?:\s+(?:it|them|the\s+package|my\s+package))?\s+to|live\s+(?:at|on)|vivo\s+en"
    r"|(?:entrega|entregar|entregalo|lleva|llevar|llevalo|manda|mandalo|envia|envialo)"
    r"\s+(?:a|en|al))(?:\s*(?:is|es|:|-|now|ahora))*\s*$")
_STOP = re.compile(
    r"[!?;:\n()]|\.(?=\s|$)|\b(?:instead|please|pls|plz|por\s+favor|porfa|thanks|thank"
    r"|thx|ty|gracias|but|pero|and|y|or|o|so|because|cause|since|if|when|tomorrow|tmrw|today"
    r"|tonight|hoy|manana|after|before|antes|despues|between|by|at|not|no|i|im|i'm|i'll"
    r"|we|you|u|can|could|would|will|call|text|leave|deliver|ring|knock|door|gate|code"
    r"|the\s+(?:package|box|driver))\b")
_ABBREVIATION = re.compile(rf"\b(?:{alternation([*SUFFIXES, *_DIRECTIONS, *UNIT_WORDS])})$")

# usaddress labels in address order; a label of lower rank after a higher one ends the span.
_RANK: dict[str, int] = {
    "AddressNumberPrefix": 0, "AddressNumber": 0, "AddressNumberSuffix": 0,
    "StreetNamePreModifier": 1, "StreetNamePreDirectional": 1, "StreetNamePreType": 1,
    "StreetName": 2, "StreetNamePostType": 3, "StreetNamePostDirectional": 4,
    "OccupancyType": 5, "OccupancyIdentifier": 5, "SubaddressType": 5,
    "SubaddressIdentifier": 5, "PlaceName": 6, "StateName": 7, "ZipCode": 8,
}
_PART = {0: "line1", 1: "line1", 2: "line1", 3: "line1", 4: "line1", 5: "line2", 6: "city",
         7: "region", 8: "postal_code"}
_TRAILING = ",;. \t"


def _limit(t: str, pos: int) -> int:
    """Where the clause holding an address that starts at ``pos`` ends."""
    for m in _STOP.finditer(t, pos):
        if m.group() == "." and _ABBREVIATION.search(t, max(0, m.start() - 16), m.start()):
            continue
        return m.start()
    return len(t)


def _capitalised(original: str) -> bool:
    return all(w[0].isupper() or w[0].isdigit() for w in original.split())


def _span_end(f: Folded, m: re.Match[str]) -> int:
    """End of the regex span, dropping a lower-case lone city or a word-like state."""
    end = m.end()
    city2 = m.group("city2")
    if city2 and not _capitalised(f.original[slice(*f.span(*m.span("city2")))]):
        end = m.start("city2")
    state = m.group("state")
    if state and state in _WORDLIKE_STATES and not m.group("zip"):
        written = f.original[slice(*f.span(*m.span("state")))]
        if not written.isupper():
            end = m.start("city")
    while end > m.start() and f.text[end - 1] in _TRAILING:
        end -= 1
    return end


def _match_at(f: Folded, start: int) -> re.Match[str] | None:
    """The street-address match for a house number at folded offset ``start``, or None."""
    t = f.text
    if _NOT_HOUSE.search(t, max(0, start - 24), start):
        return None
    end = _limit(t, start)
    m = _STREET.match(t, start, end)
    if m is None and _ADDRESS_CUE.search(t, max(0, start - 40), start):
        m = _BARE_STREET.match(t, start, end)
        if m is not None and (t[m.end():end].strip(_TRAILING) or not _capitalised(
                f.original[slice(*f.span(*m.span("name")))])):
            return None
    if m is None or set(m.group("name").split()) & _FUNCTION_WORDS:
        return None
    return m


def _tokens(span: str) -> list[tuple[int, int, str]]:
    """usaddress tokens of ``span`` with their offsets and labels, cut where order breaks."""
    out: list[tuple[int, int, str]] = []
    pos, rank = 0, 0
    for token, label in usaddress.parse(span):
        begin = span.find(token, pos)
        r = _RANK.get(label, -1)
        if begin < 0 or r < rank or (not out and label != "AddressNumber"):
            break
        pos = begin + len(token)
        rank = r
        out.append((begin, begin + len(token.rstrip(_TRAILING)), label))
    return out


def _components(span: str) -> tuple[int, dict[str, Any]] | None:
    """Length of the address kept in ``span`` and its parts, or None if it is not one."""
    tokens = _tokens(span)
    if not any(label == "StreetName" for _, _, label in tokens):
        return None
    parts: dict[str, tuple[int, int]] = {}
    for begin, end, label in tokens:
        key = _PART[_RANK[label]]
        first = parts.get(key, (begin, end))[0]
        parts[key] = (first, end)
    value: dict[str, Any] = {k: span[a:b] for k, (a, b) in parts.items()}
    region = value.get("region")
    if region:  # a state name or code; anything else usaddress called a state is dropped
        code = STATES.get(" ".join(region.lower().rstrip(".").split()), region.upper())
        value["region"] = code if code in _STATE_CODES else None
    return tokens[-1][1], value


def _address(f: Folded, m: re.Match[str]) -> Entity | None:
    fs, fe = m.start(), _span_end(f, m)
    s, e = f.span(fs, fe)
    found = _components(f.original[s:e])
    if found is None:
        return None
    kept, parts = found
    e = s + kept
    value = {"text": f.original[s:e], "line1": parts["line1"], "line2": parts.get("line2"),
             "city": parts.get("city"), "region": parts.get("region"),
             "postal_code": parts.get("postal_code")}
    return Entity("address", value, s, e, f.original[s:e])


def extract_addresses(text: str | Folded) -> list[Entity]:
    """All ``address`` entities in ``text`` (value: dict of text, line1, line2, city, …)."""
    f = as_folded(text)
    if not any(c.isdigit() for c in f.text):
        return []
    out: list[Entity] = []
    taken = 0
    for num in _NUMBER.finditer(f.text):
        if num.start() < taken:
            continue
        m = _match_at(f, num.start())
        if m is None:
            continue
        taken = m.end()
        entity = _address(f, m)
        if entity is not None:
            out.append(entity)
    return out
