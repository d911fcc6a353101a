"""Sign-in in three steps, so argon2 never runs inside a transaction.

1. ``prepare`` (a read transaction): the throttle's verdict and the account's password hash.
2. ``verify`` (no transaction): argon2id, tens of milliseconds of CPU and 64 MiB, while SQLite's write lock
   stays free for intake.
3. ``finish`` (a short write transaction): the authenticator code (single-use, so it must be written),
   the throttle's counters, the audit event and the session.
Every failure looks the same and costs the same time (a dummy hash for unknown users).
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from amanat.accounts import throttle, totp
from amanat.accounts.models import User
from amanat.core.audit import Actor, record_event
from amanat.core.db import utcnow
from amanat.errors import TooManyRequests

WRONG = "Wrong username, password or code."


@dataclass(frozen=True)
class Attempt:
    username: str
    client: str
    keys: throttle.Keys
    user_id: str | None
    password_hash: str | None
    account_slowed: bool  # the account is in its slow-down: only a try with a correct code goes through


@dataclass(frozen=True)
class Checked:
    attempt: Attempt
    password_ok: bool
    new_hash: str | None  # the password re-hashed with today's parameters, when they changed


def prepare(db: Session, policy: throttle.Policy, username: str, client: str, otp: str) -> Attempt:
    username = username.strip().lower()[:80]
    keys = throttle.Keys.of(username, client)
    slowed = throttle.check(db, policy, keys)
    if slowed and not otp.strip():
        raise TooManyRequests(throttle.MESSAGE + " An authenticator code lets you sign in now.",
                              retry_after=throttle.account_retry_after(db, policy, keys))
    row = db.execute(select(User.id, User.password_hash).where(User.username == username)).first()
    return Attempt(username, client, keys, row[0] if row else None, row[1] if row else None, slowed)


def verify(hasher: PasswordHasher, dummy_hash: str, attempt: Attempt, password: str) -> Checked:
    try:
        ok = hasher.verify(attempt.password_hash or dummy_hash, password) and attempt.password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    new_hash = hasher.hash(password) if ok and hasher.check_needs_rehash(attempt.password_hash or "") else None
    return Checked(attempt, ok, new_hash)


def _code_ok(db: Session, user: User, otp: str) -> bool:
    if not user.totp_secret:
        return False
    if totp.looks_like_recovery_code(otp):
        used = totp.use_recovery_code(db, user.id, otp)
        if used:
            record_event(db, Actor(f"user:{user.username}", user.id), "user:recovery_code_used", "user", user.id,
                         left=totp.recovery_codes_left(db, user.id))
        return used
    return totp.use_code(db, user.id, user.totp_secret, otp)


def finish(db: Session, policy: throttle.Policy, checked: Checked, otp: str,
           failure_details: dict[str, str | None]) -> User | None:
    """The signed-in user, or None: the failure is then counted and audited, and the caller commits that
    before it answers 401."""
    attempt = checked.attempt
    user = db.get(User, attempt.user_id) if attempt.user_id else None
    ok = checked.password_ok and user is not None and not user.disabled
    if ok and user is not None and (user.totp_secret or attempt.account_slowed):
        ok = _code_ok(db, user, otp)
    if not ok or user is None:
        throttle.record_failure(db, policy, attempt.keys)
        record_event(db, Actor("anonymous"), "session:login_failed", "user", attempt.user_id, **failure_details)
        return None
    throttle.record_success(db, attempt.keys)
    if checked.new_hash:
        user.password_hash = checked.new_hash
    user.last_login_at = utcnow()
    record_event(db, Actor(f"user:{user.username}", user.id), "session:login", "user", user.id)
    return user
