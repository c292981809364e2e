"""Channel keywords: SMS carrier words (STOP, START, HELP and synonyms), Telegram commands."""

from __future__ import annotations

STOP_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout",
                        "revoke", "parar", "alto", "baja"})
START_WORDS = frozenset({"start", "unstop", "yes", "iniciar"})
HELP_WORDS = frozenset({"help", "info", "ayuda"})
TELEGRAM_COMMANDS = {"/stop": "stop", "/help": "help"}


def keyword_of(channel: str, text: str) -> str | None:
    """STOP/START/HELP on SMS (carrier keywords); ``/stop`` and ``/help`` on Telegram."""
    if channel == "sms":
        return sms_keyword(text)
    if channel != "telegram":
        return None  # the tracking page: no opt-out there, and HELP is on the page
    word = text.strip().split("@")[0].lower()
    return TELEGRAM_COMMANDS.get(word)


def sms_keyword(text: str) -> str | None:
    """Carrier keywords: a message that is exactly STOP, START or HELP (or a synonym)."""
    word = text.strip().strip(".!").lower()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in HELP_WORDS:
        return "help"
    return None
