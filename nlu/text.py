"""Text normalisation shared by the classifier and the lookup features.

:func:`canonicalize` is the classifier's view of words: lower case, no accents, no
punctuation or apostrophes ("can't" -> "cant"), SMS shorthand expanded ("u" -> "you",
"tmrw" -> "tomorrow", "xq" -> "porque"), a few emoji read as words, and stretched letters
collapsed ("yesss" -> "yes").
"""

from __future__ import annotations

import re

from nlu.entities import fold

__all__ = ["canonicalize", "fold_text", "SHORTHAND"]

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


def fold_text(text: str) -> str:
    """``text`` in lower case without accents."""
    return fold(text).text


def canonicalize(text: str) -> str:
    """Canonical text the intent patterns are written against."""
    for emoji, word in _EMOJI.items():
        text = text.replace(emoji, word)
    t = re.sub(r"'", "", fold(text).text)
    t = re.sub(r"(\w)\1{2,}", r"\1", t)
    t = re.sub(r"[^\w#]+|_", " ", t)
    return " ".join(SHORTHAND.get(w, w) for w in t.split())
