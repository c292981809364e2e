"""Staff accounts: who may use the console, with which role (agent or supervisor).

Passwords are hashed with Argon2id (argon2-cffi). API tokens are random, shown once,
and kept only as a SHA-256 digest.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis


@dataclass(frozen=True)
class StaffMember:
    email: str
    name: str  # shown to customers: "You're chatting with Sam from support"
    role: str  # "agent" | "supervisor"
    disabled: bool
    created_at: str


class StaffDirectory:
    """Staff accounts in Redis (keys via ``bot.store.key_for``)."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def add(self, email: str, role: str, password: str, name: str | None = None) -> StaffMember:
        """Create an account; StaffError if it exists, the email or role is invalid, or the
        password is too short."""
        raise NotImplementedError

    def get(self, email: str) -> StaffMember | None:
        raise NotImplementedError

    def all(self) -> list[StaffMember]:
        raise NotImplementedError

    def disable(self, email: str) -> StaffMember:
        """Disable the account and revoke its API token; StaffError if unknown."""
        raise NotImplementedError

    def verify(self, email: str, password: str) -> StaffMember | None:
        """The member if the password is right and the account enabled, else None."""
        raise NotImplementedError

    def issue_token(self, email: str) -> str:
        """A new API token (replacing any earlier one); StaffError if unknown/disabled."""
        raise NotImplementedError

    def member_for_token(self, token: str) -> StaffMember | None:
        raise NotImplementedError
