"""Render a reply for its channel: SMS numbers choices, Telegram shows buttons.

SMS bodies are kept within a two-segment budget.

A segment holds 153 GSM-7 characters (in a multi-part message) but only 67 UCS-2
ones, so one accented letter outside GSM-7 (á, í, ó, ú) halves the budget. When
a message would exceed two segments as UCS-2, accents are folded to their GSM-7
base letters, which Spanish readers understand without trouble. A message still too
long once folded (only text quoted from elsewhere can make it so: names and addresses
are cut before they are quoted) loses the end of its text, marked "...", never its
numbered choices.
"""

from __future__ import annotations

import unicodedata

from bot.models import Outbound

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = set("^{}\\[~]|€\f")
MAX_SEGMENTS = 2
MAX_UNITS = MAX_SEGMENTS * 153  # GSM-7 septets in two segments
REPLACEMENTS = {"…": "...", "‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-",
                "\u00a0": " "}


def is_gsm7(text: str) -> bool:
    return all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text)


def _units(text: str) -> int:
    """GSM-7 septets of ``text`` (extension characters take two)."""
    return sum(2 if c in GSM7_EXTENDED else 1 for c in text)


def segments(text: str) -> int:
    """How many SMS segments ``text`` takes."""
    if is_gsm7(text):
        units = _units(text)
        return 1 if units <= 160 else -(-units // 153)
    units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)  # UTF-16 code units
    return 1 if units <= 70 else -(-units // 67)


def fold_to_gsm7(text: str) -> str:
    """Replace characters outside GSM-7 with their closest GSM-7 spelling."""
    out = []
    for c in text:
        c = REPLACEMENTS.get(c, c)
        if len(c) == 1 and c not in GSM7_BASIC and c not in GSM7_EXTENDED:
            base = "".join(ch for ch in unicodedata.normalize("NFD", c)
                           if not unicodedata.combining(ch))
            c = base if base and is_gsm7(base) else "?"
        out.append(c)
    return "".join(out)


def cut_gsm7(text: str, units: int) -> str:
    """The GSM-7 ``text`` within ``units`` septets, ending in "..." when it had to be cut."""
    if _units(text) <= units:
        return text
    kept, used = [], 3  # the "..."
    for c in text:
        used += 2 if c in GSM7_EXTENDED else 1
        if used > units:
            break
        kept.append(c)
    return "".join(kept).rstrip() + "..."


def render_sms(text: str, choices: tuple[str, ...] = ()) -> str:
    """The SMS body: text, then ``1) choice`` lines; folded to GSM-7 if it saves segments,
    and cut to two segments (the text first, the choices last) if folding is not enough."""
    lines = [f"{i}) {c}" for i, c in enumerate(choices, 1)]
    body = "\n".join([text, *lines])
    if segments(body) <= MAX_SEGMENTS:
        return body
    folded = fold_to_gsm7(body)
    if segments(folded) <= MAX_SEGMENTS:
        return folded
    tail = fold_to_gsm7("".join("\n" + line for line in lines))
    head = cut_gsm7(fold_to_gsm7(text), max(MAX_UNITS - _units(tail), 3))
    return cut_gsm7(head + tail, MAX_UNITS)


CONTACT_LABEL = {"en": "Share my phone number", "es": "Compartir mi número"}
TELEGRAM_MAX_TEXT = 4096


def render_telegram(outbound: Outbound) -> tuple[str, list[list[tuple[str, str]]], str | None]:
    """``(text, button rows, contact button label)`` for Telegram.

    Each numbered choice is a button of its own row that answers with its number, as
    if typed; quick replies share one row. A contact request replaces the buttons
    (Telegram shows it as a keyboard under the input field).
    """
    text = outbound.text[:TELEGRAM_MAX_TEXT]
    if outbound.ask_contact:
        return text, [], CONTACT_LABEL.get(outbound.language, CONTACT_LABEL["en"])
    rows = [[(label[:64], str(n))] for n, label in enumerate(outbound.choices, 1)]
    if outbound.quick_replies:
        rows.append([(label[:64], answer[:64]) for label, answer in outbound.quick_replies])
    return text, rows, None
