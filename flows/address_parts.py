"""Reading and normalising what a customer writes in the address correction flow.

Pure functions over text and plain dicts: find an address in a message, normalise it
into the six keys the ``case.address_changed`` callback carries, read a lone ZIP code or
unit number, recognise "none", test a postal code against the service area.
"""

from __future__ import annotations

import re
import string
from typing import Any

from nlu.base import ParseResult
from nlu.entities import fold
from nlu.entities.addresses import STATES, UNIT_WORDS, extract_addresses

ADDRESS_KEYS = ("line1", "line2", "city", "region", "postal_code", "country")
_STATE_CODES = frozenset(STATES.values())
_ZIP = re.compile(r"(?<![\d-])(\d{5})(?:-(\d{4}))?(?![\d-])")
# "Boston MA 02110", "MA 02110", "02110", "zip is 02110": a reply to "what's the ZIP?"
_LOCALITY = re.compile(r"(?:(?P<city>[a-z][a-z .'-]*?)\s*,?\s+)?(?:(?P<state>[a-z]{2})\s*,?\s*)?"
                       r"(?P<zip>\d{5}(?:-\d{4})?)")
_UNIT_WORD = "|".join(sorted(UNIT_WORDS, key=len, reverse=True))
_UNIT = re.compile(rf"\b(?P<word>{_UNIT_WORD})\b\.?\s*(?:#|no\.?|number|numero)?\s*"
                   r"(?P<id>[a-z0-9][a-z0-9-]{0,5})\b|#\s*(?P<hash>[a-z0-9][a-z0-9-]{0,5})\b")
_BARE_UNIT = re.compile(r"(?:[a-z]?\d[a-z0-9-]{0,5}|[a-z])")
_FILLER = frozenset("its it's it is es el la number numero my mine the".split())
_NOT_CITY = _FILLER | {"zip", "code", "postal", "codigo", "cp"}
NONE_ANSWERS = frozenset({
    "no", "nope", "none", "no unit", "no apt", "no apartment", "no suite", "n/a", "na", "nothing",
    "no thanks", "no thank you", "skip", "there isn't one", "there is none", "not applicable",
    "ninguno", "ninguna", "no tengo", "no hay", "nada", "sin", "sin apartamento", "no gracias",
    "no, gracias", "no, thanks", "omitir"})
# Words that make a "no ..." answer an instruction rather than a refusal: "no, ring twice".
_INSTRUCTION_CUES = re.compile(
    r"\b(?:leave|gate|code|concierge|door|porch|ring|call|knock|buzz|back|front|side|garage"
    r"|lobby|doorman|neighbou?r|deja|dejar|dejarlo|puerta|porton|codigo|conserje|portero"
    r"|timbre|llamar|llame|toque|garaje|vecin[oa])\b")


def _plain(text: str) -> str:
    """Folded text without edge punctuation or repeated spaces, for matching short replies."""
    return " ".join(fold(text).text.split()).strip(" .!?¡¿")


def _clean(value: Any) -> str | None:
    text = " ".join(str(value).split()).strip(" ,") if value else ""
    return text or None


def _capitalise(text: str | None) -> str | None:
    """Capitalise words written all in lower case ("12 oak st" → "12 Oak St")."""
    return string.capwords(text) if text and text == text.lower() else text


def _unit(word: str | None, ident: str) -> str:
    """``Apt 5B`` / ``#12``: the unit word capitalised, the identifier upper-cased."""
    return f"{word.capitalize()} {ident.upper()}" if word else f"#{ident.upper()}"


def _line2(text: str | None) -> str | None:
    if not text:
        return None
    m = _UNIT.fullmatch(text.lower())
    if m is None:
        return text
    return _unit(m.group("word"), m.group("id")) if m.group("word") else _unit(None,
                                                                             m.group("hash"))


def _region(text: str | None) -> str | None:
    if not text:
        return None
    return STATES.get(" ".join(fold(text).text.rstrip(".").split()), text.upper())


def _postal(text: str | None) -> str | None:
    """``02110`` or ``02110-1234``: ZIP+4 is kept as given, it only adds precision."""
    m = _ZIP.search(text or "")
    if m is None:
        return _clean(text)
    return f"{m.group(1)}-{m.group(2)}" if m.group(2) else m.group(1)


def old_address(case_shipment: dict[str, Any]) -> dict[str, Any]:
    return case_shipment.get("address") or {}


def same_zip(a: str | None, b: str | None) -> bool:
    return bool(a and b) and str(a)[:5] == str(b)[:5]


def normalise(value: dict[str, Any], old: dict[str, Any]) -> dict[str, str | None]:
    """The six callback keys for an ``address`` entity value; ``old`` is the address on file.

    City and region missing from the new address are taken from the old one when the
    postal code is the same. The country is the old address's, else ``US``.
    """
    address: dict[str, str | None] = {
        "line1": _capitalise(_clean(value.get("line1"))),
        "line2": _line2(_clean(value.get("line2"))),
        "city": _capitalise(_clean(value.get("city"))),
        "region": _region(_clean(value.get("region"))),
        "postal_code": _postal(_clean(value.get("postal_code"))),
        "country": (_clean(old.get("country")) or "US").upper(),
    }
    return fill_from_old(address, old)


def fill_from_old(address: dict[str, str | None], old: dict[str, Any]) -> dict[str, str | None]:
    if same_zip(address["postal_code"], old.get("postal_code")):
        for key in ("city", "region"):
            if not address[key] and old.get(key):
                address[key] = _clean(old[key])
    return address


def find_address(parse: ParseResult) -> dict[str, Any] | None:
    """The ``address`` entity's value, or one read from the text when the NLU found none."""
    value = parse.first("address")
    if value:
        return value
    found = extract_addresses(parse.text) if parse.text else []
    return found[0].value if found else None


def read_locality(text: str) -> dict[str, str | None] | None:
    """A ZIP code, with city and state when the reply gives them ("Boston MA 02110")."""
    plain = _plain(text).replace(",", " ")
    m = _LOCALITY.fullmatch(" ".join(plain.split()))
    if m is None:
        codes = {z.group(0) for z in _ZIP.finditer(plain)}
        return {"postal_code": _postal(codes.pop()), "city": None, "region": None} \
            if len(codes) == 1 else None
    city, state = m.group("city"), m.group("state")
    if state and state.upper() not in _STATE_CODES:
        return {"postal_code": _postal(m.group("zip")), "city": None, "region": None}
    if city and not state and city.upper() in _STATE_CODES:
        city, state = None, city
    if city and set(city.split()) & _NOT_CITY:
        city = None
    return {"postal_code": _postal(m.group("zip")), "city": _capitalise(city),
            "region": state.upper() if state else None}


def read_unit(text: str) -> str | None:
    """``Apt 5B`` from "apt 5b", "#12", "5B", "it's unit 3"; None when it is not a unit."""
    plain = _plain(text)
    m = _UNIT.search(plain)
    if m is not None:
        return _unit(m.group("word"), m.group("id")) if m.group("word") else _unit(
            None, m.group("hash"))
    words = [w for w in plain.split() if w not in _FILLER]
    if len(words) == 1 and _BARE_UNIT.fullmatch(words[0]) and not _ZIP.fullmatch(words[0]):
        return _unit("apt", words[0])
    return None


def is_none(text: str) -> bool:
    """True for "none", "no", "n/a", "ninguno", "no tengo" and the like."""
    return _plain(text) in NONE_ANSWERS


def declines_instructions(text: str, intent: str) -> bool:
    """True when the answer to "any delivery instructions?" means there are none.

    A deny or thanks intent counts only without a digit or an instruction word, so
    "no, leave it at the back door" is kept as an instruction.
    """
    if is_none(text) or not text.strip():
        return True
    plain = _plain(text)
    return intent in ("deny", "thanks") and not any(c.isdigit() for c in plain) \
        and not _INSTRUCTION_CUES.search(plain)


def in_service_area(postal_code: str | None, area: tuple[str, ...]) -> bool:
    """True when ``postal_code`` starts with one of ``area``'s codes or prefixes.

    An empty ``area`` serves everywhere; a full five-digit entry matches only that ZIP.
    """
    if not area:
        return True
    code = (postal_code or "").upper()
    return any(code.startswith(entry.strip().upper()) for entry in area if entry.strip())


def one_line(address: dict[str, Any]) -> str:
    """``12 Oak St, Apt 4, Boston, MA 02110`` (the country only when not the US)."""
    tail = " ".join(p for p in (address.get("region"), address.get("postal_code")) if p)
    parts = [address.get("line1"), address.get("line2"), address.get("city"), tail]
    if address.get("country") and address["country"] != "US":
        parts.append(address["country"])
    return ", ".join(p for p in parts if p)


def _shared_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def nearest_first(points: list[dict[str, str]], postal_code: str) -> list[dict[str, str]]:
    """Pickup points whose ZIP shares the longest prefix with ``postal_code`` first.

    Points without a ZIP in their address keep their configured order, after the rest.
    """
    def closeness(point: dict[str, str]) -> int:
        codes = _ZIP.findall(point["address"])
        return _shared_prefix(codes[-1][0], postal_code[:5]) if codes else -1
    return sorted(points, key=closeness, reverse=True)
