"""Phone numbers: normalise to E.164 and mask for logs."""

from __future__ import annotations

import phonenumbers


def normalise_phone(raw: str, region: str | None = "US") -> str | None:
    """Return ``raw`` as E.164 (``+15551230001``), or None when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str) -> str:
    """Show at most the last four digits: ``+15551230001`` → ``***0001``."""
    digits = [c for c in phone if c.isdigit()]
    return "***" + "".join(digits[-4:]) if digits else "***"
