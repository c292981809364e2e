"""Doorstep's exceptions.

DoorstepError
├── ConfigError        a setting is missing or invalid (names the variable)
├── EventError         an exception event is malformed (names the field)
├── BusyConversation   another turn holds the conversation lock for too long
└── SendError          a channel could not send (Transient… retry, Permanent… do not)
"""

from __future__ import annotations


class DoorstepError(Exception):
    """Base of every error Doorstep raises on purpose."""


class ConfigError(DoorstepError):
    """A setting is missing or invalid."""


class EventError(DoorstepError):
    """An exception event's body is malformed."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class BusyConversation(DoorstepError):
    """The conversation stayed locked longer than we are willing to wait."""


class SendError(DoorstepError):
    """A channel could not send a message."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientSendError(SendError):
    """Worth retrying: network trouble, 5xx, rate limits."""

    def __init__(self, message: str, code: str | None = None,
                 retry_after_s: float | None = None) -> None:
        super().__init__(message, code)
        self.retry_after_s = retry_after_s


class PermanentSendError(SendError):
    """Retrying will not help: opted out, unknown or landline number, bad request."""


class RecipientOptedOut(PermanentSendError):
    """The provider says this recipient unsubscribed (e.g. replied STOP to the carrier)."""
