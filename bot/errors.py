"""Doorstep's exceptions.

DoorstepError
├── ConfigError        a setting is missing or invalid (names the variable)
├── EventError         an exception event is malformed (names the field)
├── BusyConversation   another turn holds the conversation lock for too long
├── SendError          a channel could not send (Transient… retry, Permanent… do not,
│                      SendDeferred: not yet, the destination's pacing budget is spent)
├── DeskError          a staff action cannot be done (NotFound 404, Conflict 409, Invalid 422)
└── StaffError         a staff account cannot be created or changed as asked
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


class SendDeferred(SendError):
    """Not sent yet: the sender's pacing budget is spent for ``wait_s`` seconds.

    Not a failure: the job comes back later without using up a retry.
    """

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"paced: next slot in {wait_s:.1f}s", "paced")
        self.wait_s = wait_s


class PermanentSendError(SendError):
    """Retrying will not help: opted out, unknown or landline number, bad request."""


class RecipientOptedOut(PermanentSendError):
    """The provider says this recipient unsubscribed (e.g. replied STOP to the carrier)."""


class DeskError(DoorstepError):
    """A staff action on a conversation cannot be done; ``status`` is the HTTP answer."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DeskError):
    status = 404


class Conflict(DeskError):
    """Someone else holds the conversation, or it is not in a state that allows this."""

    status = 409


class Invalid(DeskError):
    """The request's values are wrong (empty text, unknown resolution code...)."""

    status = 422


class StaffError(DoorstepError):
    """A staff account cannot be created or changed as asked (says why)."""
