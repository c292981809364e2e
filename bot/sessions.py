"""Console sessions kept server-side in Redis, and login throttling.

A session id lives only in an HttpOnly cookie; Redis keeps its SHA-256 digest, the
staff email and the session's CSRF token, and forgets it after ``idle_s`` of inactivity.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis


@dataclass(frozen=True)
class Session:
    sid: str
    email: str
    csrf: str
    created_at: str


class SessionStore:
    def __init__(self, client: redis.Redis, idle_s: float) -> None:
        self.redis = client
        self.idle_s = idle_s

    def create(self, email: str) -> Session:
        """A fresh session (a new id every login: rotation)."""
        raise NotImplementedError

    def get(self, sid: str) -> Session | None:
        """The live session for ``sid``, its inactivity timer restarted; None if unknown,
        expired or revoked."""
        raise NotImplementedError

    def revoke(self, sid: str) -> None:
        raise NotImplementedError

    def revoke_all(self, email: str) -> int:
        """End every session of this staff member; returns how many."""
        raise NotImplementedError


class LoginThrottle:
    """Refuse logins for an email (and a client address) after repeated failures."""

    def __init__(self, client: redis.Redis, max_failures: int, lock_s: float) -> None:
        self.redis = client
        self.max_failures = max_failures
        self.lock_s = lock_s

    def retry_after(self, email: str, client_ip: str) -> int | None:
        """Seconds until a login may be tried again, or None if it may be tried now."""
        raise NotImplementedError

    def failed(self, email: str, client_ip: str) -> None:
        raise NotImplementedError

    def succeeded(self, email: str) -> None:
        raise NotImplementedError
