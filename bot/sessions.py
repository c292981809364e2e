"""Console sessions kept server-side in Redis, and login throttling.

A session id lives only in an HttpOnly cookie; Redis keeps its SHA-256 digest, the
staff email and the session's CSRF token, and forgets it after ``idle_s`` of inactivity.

Redis keys: ``ds:session:<sha256(sid)>`` (hash: email, csrf, created_at, seen_at; expires
after ``idle_s`` untouched), ``ds:staffsessions:<email>`` (set of that member's session
digests, so all of them can be revoked), ``ds:loginfail:email:<email>`` and
``ds:loginfail:ip:<address>`` (failure counters living ``lock_s``).
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass

import redis

from bot.store import key_for, now_iso

# A client address may fail this many times more than one email may: an office behind
# one NAT address should not be locked out by one person's typos.
IP_FAILURE_FACTOR = 4


@dataclass(frozen=True)
class Session:
    sid: str
    email: str
    csrf: str
    created_at: str
    seen_at: float = 0.0  # when presence was last noted (``mark_seen``), Unix seconds


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def _session_key(digest: str) -> str:
    return key_for("session", digest)


def _member_key(email: str) -> str:
    return key_for("staffsessions", email)


class SessionStore:
    def __init__(self, client: redis.Redis, idle_s: float) -> None:
        self.redis = client
        self.idle_s = idle_s

    @property
    def _idle_ms(self) -> int:
        return max(1, int(self.idle_s * 1000))

    def create(self, email: str) -> Session:
        """A fresh session (a new id every login: rotation)."""
        sid = secrets.token_urlsafe(32)
        session = Session(sid, email, secrets.token_urlsafe(32), now_iso())
        digest = _digest(sid)
        self._forget_expired(email)
        with self.redis.pipeline() as pipe:
            pipe.hset(_session_key(digest), mapping={
                "email": email, "csrf": session.csrf, "created_at": session.created_at,
                "seen_at": "0"})
            pipe.pexpire(_session_key(digest), self._idle_ms)
            pipe.sadd(_member_key(email), digest)
            pipe.execute()
        return session

    def get(self, sid: str, touch: bool = True) -> Session | None:
        """The live session for ``sid``, its inactivity timer restarted (unless ``touch``
        is False: a check that is not the person's own activity); None if unknown, expired
        or revoked."""
        if not sid or len(sid) > 200:
            return None
        key = _session_key(_digest(sid))
        with self.redis.pipeline() as pipe:
            pipe.hgetall(key)
            if touch:
                pipe.pexpire(key, self._idle_ms)  # no-op when the key is gone
            row = pipe.execute()[0]
        if not row or b"email" not in row:
            return None
        text = {k.decode(): v.decode() for k, v in row.items()}
        return Session(sid, text["email"], text["csrf"], text["created_at"],
                       float(text.get("seen_at") or 0))

    def mark_seen(self, sid: str, at: float) -> None:
        """Remember when presence was last noted for this session (to note it sparingly)."""
        key = _session_key(_digest(sid))
        # If the session was revoked meanwhile this leaves a stub without an email, which
        # get() refuses and which expires like any idle session.
        with self.redis.pipeline() as pipe:
            pipe.hset(key, "seen_at", repr(at))
            pipe.pexpire(key, self._idle_ms)
            pipe.execute()

    def _forget_expired(self, email: str) -> None:
        """Drop digests of sessions that expired from the member's set (it never expires)."""
        digests = list(self.redis.smembers(_member_key(email)))
        if not digests:
            return
        with self.redis.pipeline(transaction=False) as pipe:
            for digest in digests:
                pipe.exists(_session_key(digest.decode()))
            alive = pipe.execute()
        gone = [d for d, live in zip(digests, alive, strict=True) if not live]
        if gone:
            self.redis.srem(_member_key(email), *gone)

    def revoke(self, sid: str) -> None:
        if not sid or len(sid) > 200:
            return
        digest = _digest(sid)
        email = self.redis.hget(_session_key(digest), "email")
        with self.redis.pipeline() as pipe:
            pipe.delete(_session_key(digest))
            if email:
                pipe.srem(_member_key(email.decode()), digest)
            pipe.execute()

    def revoke_all(self, email: str) -> int:
        """End every session of this staff member; returns how many."""
        digests = [d.decode() for d in self.redis.smembers(_member_key(email))]
        with self.redis.pipeline() as pipe:
            for digest in digests:
                pipe.delete(_session_key(digest))
            pipe.delete(_member_key(email))
            ended = pipe.execute()[:len(digests)]
        return sum(int(n) for n in ended)


class LoginThrottle:
    """Refuse logins for an email (and a client address) after repeated failures."""

    def __init__(self, client: redis.Redis, max_failures: int, lock_s: float) -> None:
        self.redis = client
        self.max_failures = max_failures
        self.lock_s = lock_s

    def retry_after(self, email: str, client_ip: str) -> int | None:
        """Seconds until a login may be tried again, or None if it may be tried now."""
        by_email, by_ip = _email_key(email), _ip_key(client_ip)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.get(by_email)
            pipe.pttl(by_email)
            pipe.get(by_ip)
            pipe.pttl(by_ip)
            email_n, email_ttl, ip_n, ip_ttl = pipe.execute()
        waits = []
        if int(email_n or 0) >= self.max_failures:
            waits.append(email_ttl)
        if int(ip_n or 0) >= IP_FAILURE_FACTOR * self.max_failures:
            waits.append(ip_ttl)
        if not waits:
            return None
        # PTTL is -1 for a key without expiry (should not happen) and -2 when it just went.
        longest = max(waits)
        if longest == -2:
            return None
        return max(1, math.ceil((longest if longest > 0 else self.lock_s * 1000) / 1000))

    def failed(self, email: str, client_ip: str) -> None:
        """Count one failure for the email and the address, each window ``lock_s`` long."""
        lock_ms = max(1, int(self.lock_s * 1000))
        # Redis 6 has no EXPIRE NX: create each counter with its expiry, then count.
        with self.redis.pipeline() as pipe:
            for key in (_email_key(email), _ip_key(client_ip)):
                pipe.set(key, 0, px=lock_ms, nx=True)
                pipe.incr(key)
            pipe.execute()

    def succeeded(self, email: str) -> None:
        self.redis.delete(_email_key(email))


def _email_key(email: str) -> str:
    return key_for("loginfail", "email", (email or "").strip().lower()[:254])


def _ip_key(client_ip: str) -> str:
    return key_for("loginfail", "ip", client_ip or "unknown")
