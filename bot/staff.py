"""Staff accounts: who may use the console, with which role (agent or supervisor).

Passwords are hashed with Argon2id (argon2-cffi). API tokens are random, shown once,
and kept only as a SHA-256 digest.

Redis keys: ``ds:staff:<email>`` (hash: name, role, disabled, created_at, password_hash,
token_digest), ``ds:staff:all`` (set of emails) and ``ds:stafftoken:<sha256>`` → email.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

import redis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.desk import ROLES
from bot.errors import StaffError
from bot.store import key_for, now_iso

MIN_PASSWORD = 10
TOKEN_PREFIX = "dst_"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ALL = key_for("staff", "all")
_hasher = PasswordHasher()  # Argon2id with argon2-cffi's recommended parameters
# Verified against when the email is unknown, so a wrong email costs as long as a wrong
# password and response times do not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class StaffMember:
    email: str
    name: str  # shown to customers: "You're chatting with Sam from support"
    role: str  # "agent" | "supervisor"
    disabled: bool
    created_at: str


def normalise_email(email: str) -> str:
    """Lower-case and trimmed; StaffError if it does not look like an email address."""
    cleaned = (email or "").strip().lower()
    if len(cleaned) > 254 or not _EMAIL.match(cleaned):
        raise StaffError(f"{email!r} is not an email address (like sam@example.com)")
    return cleaned


def default_name(email: str) -> str:
    """The first word of the email's local part, capitalised: sam.lee@x → Sam."""
    first = re.split(r"[^a-z0-9]+", email.split("@", 1)[0])
    word = next((w for w in first if w), email.split("@", 1)[0])
    return word.capitalize()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _key(email: str) -> str:
    return key_for("staff", email)


class StaffDirectory:
    """Staff accounts in Redis (keys via ``bot.store.key_for``)."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client

    def add(self, email: str, role: str, password: str, name: str | None = None) -> StaffMember:
        """Create an account; StaffError if it exists, the email or role is invalid, or the
        password is too short."""
        email = normalise_email(email)
        if role not in ROLES:
            raise StaffError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if len(password or "") < MIN_PASSWORD:
            raise StaffError(f"the password must be at least {MIN_PASSWORD} characters long")
        name = (name or "").strip() or default_name(email)
        if len(name) > 60:
            raise StaffError("the name must be at most 60 characters (customers see it)")
        created = now_iso()
        fields = {"email": email, "name": name, "role": role, "disabled": "0",
                  "created_at": created, "password_hash": _hasher.hash(password)}
        # HSETNX on the email claims the account atomically: two adds of one email, one wins.
        if not self.redis.hsetnx(_key(email), "email", email):
            raise StaffError(f"{email} already has an account")
        with self.redis.pipeline() as pipe:
            pipe.hset(_key(email), mapping=fields)
            pipe.sadd(_ALL, email)
            pipe.execute()
        return StaffMember(email, name, role, False, created)

    def get(self, email: str) -> StaffMember | None:
        try:
            email = normalise_email(email)
        except StaffError:
            return None
        return self._member(self.redis.hgetall(_key(email)))

    def all(self) -> list[StaffMember]:
        emails = sorted(e.decode() for e in self.redis.smembers(_ALL))
        with self.redis.pipeline(transaction=False) as pipe:
            for email in emails:
                pipe.hgetall(_key(email))
            rows = pipe.execute()
        return [m for m in (self._member(r) for r in rows) if m is not None]

    def disable(self, email: str) -> StaffMember:
        """Disable the account and revoke its API token; StaffError if unknown."""
        member = self.get(email)
        if member is None:
            raise StaffError(f"no staff account {email!r}")
        digest = self.redis.hget(_key(member.email), "token_digest")
        with self.redis.pipeline() as pipe:
            pipe.hset(_key(member.email), "disabled", "1")
            pipe.hdel(_key(member.email), "token_digest")
            if digest:
                pipe.delete(key_for("stafftoken", digest.decode()))
            pipe.execute()
        return StaffMember(member.email, member.name, member.role, True, member.created_at)

    def verify(self, email: str, password: str) -> StaffMember | None:
        """The member if the password is right and the account enabled, else None."""
        try:
            email = normalise_email(email)
        except StaffError:
            email = ""
        row = self.redis.hgetall(_key(email)) if email else {}
        stored = row.get(b"password_hash", b"").decode() or _DUMMY_HASH
        try:
            _hasher.verify(stored, password or "")
        except (VerificationError, InvalidHashError):
            return None
        member = self._member(row)
        if member is None or member.disabled:
            return None
        if _hasher.check_needs_rehash(stored):
            self.redis.hset(_key(email), "password_hash", _hasher.hash(password))
        return member

    def issue_token(self, email: str) -> str:
        """A new API token (replacing any earlier one); StaffError if unknown/disabled."""
        member = self.get(email)
        if member is None:
            raise StaffError(f"no staff account {email!r}")
        if member.disabled:
            raise StaffError(f"{member.email} is disabled")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        digest = token_digest(token)
        old = self.redis.hget(_key(member.email), "token_digest")
        with self.redis.pipeline() as pipe:
            if old:
                pipe.delete(key_for("stafftoken", old.decode()))
            pipe.set(key_for("stafftoken", digest), member.email)
            pipe.hset(_key(member.email), "token_digest", digest)
            pipe.execute()
        return token

    def member_for_token(self, token: str) -> StaffMember | None:
        """The enabled member this API token belongs to, or None."""
        if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        email = self.redis.get(key_for("stafftoken", token_digest(token)))
        if email is None:
            return None
        member = self.get(email.decode())
        return member if member is not None and not member.disabled else None

    @staticmethod
    def _member(row: dict[bytes, bytes]) -> StaffMember | None:
        if not row or b"role" not in row:
            return None
        text = {k.decode(): v.decode() for k, v in row.items()}
        return StaffMember(text["email"], text["name"], text["role"], text["disabled"] == "1",
                           text["created_at"])
