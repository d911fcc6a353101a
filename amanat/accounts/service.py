"""Users, passwords (argon2id), TOTP, login with throttling, and sessions."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from amanat.accounts.models import LoginThrottle, User, WebSession
from amanat.core.audit import Actor, record_event
from amanat.core.crypto import new_token, token_digest
from amanat.core.db import utcnow
from amanat.core.permissions import Permission, Role, permissions_for
from amanat.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, TooManyRequests

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
MIN_PASSWORD = 10


@dataclass(frozen=True)
class CurrentUser:
    """What the web and CLI layers know about a signed-in user (never the ORM object)."""

    id: str
    username: str
    display_name: str
    role: str

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_for(self.role)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def actor(self) -> Actor:
        return Actor(f"user:{self.username}", self.id)


def _current(user: User) -> CurrentUser:
    return CurrentUser(user.id, user.username, user.display_name, user.role)


class Accounts:
    """Holds the password hasher (its parameters come from settings) and the throttle policy."""

    def __init__(self, *, time_cost: int = 3, memory_kib: int = 65536, max_failures: int = 5,
                 window_seconds: int = 900, session_hours: int = 8) -> None:
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # Verifying against this for unknown users makes a miss cost as much as a hit.
        self._dummy_hash = self.hasher.hash("amanat-dummy-password")
        self.max_failures = max_failures
        self.window = timedelta(seconds=window_seconds)
        self.session_life = timedelta(hours=session_hours)

    # --- users ---
    def create_user(self, db: Session, actor: Actor, *, username: str, password: str, role: str,
                    display_name: str = "", totp: bool = False) -> tuple[CurrentUser, str | None]:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise InvalidInput("username: use 2–63 lowercase letters, digits, '.', '_' or '-'.", field="username")
        if role not in {r.value for r in Role}:
            raise InvalidInput(f"role: must be one of {', '.join(r.value for r in Role)}.", field="role")
        if len(password) < MIN_PASSWORD:
            raise InvalidInput(f"password: at least {MIN_PASSWORD} characters.", field="password")
        if db.scalar(select(User.id).where(User.username == username)):
            raise Conflict("username: already taken.", field="username")
        secret = pyotp.random_base32() if totp else None
        user = User(username=username, display_name=display_name[:120], role=role,
                    password_hash=self.hasher.hash(password), totp_secret=secret)
        db.add(user)
        db.flush()
        record_event(db, actor, "user:create", "user", user.id, role=role, totp=bool(secret))
        uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="Amanat") if secret else None
        return _current(user), uri

    def list_users(self, db: Session) -> list[tuple[CurrentUser, bool, bool]]:
        rows = db.scalars(select(User).order_by(User.username)).all()
        return [(_current(u), u.disabled, u.totp_secret is not None) for u in rows]

    def set_disabled(self, db: Session, actor: Actor, username: str, disabled: bool = True) -> None:
        user = db.scalar(select(User).where(User.username == username.strip().lower()))
        if user is None:
            raise NotFound("No user with that username.")
        user.disabled = disabled
        if disabled:
            db.execute(delete(WebSession).where(WebSession.user_id == user.id))
        record_event(db, actor, "user:disable" if disabled else "user:enable", "user", user.id)

    def check_password(self, password_hash: str | None, password: str) -> bool:
        """Verify a password against an argon2id hash; None (no such account) costs the same as a miss."""
        try:
            return self.hasher.verify(password_hash or self._dummy_hash, password) and password_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    # --- login ---
    def _throttle_keys(self, username: str, client: str) -> list[str]:
        return [hashlib.sha256(f"user:{username}".encode()).hexdigest(),
                hashlib.sha256(f"ip:{client}".encode()).hexdigest()]

    def _check_throttle(self, db: Session, keys: list[str]) -> None:
        now = utcnow()
        for key in keys:
            row = db.get(LoginThrottle, key)
            if row and row.failures >= self.max_failures and now - row.window_start < self.window:
                retry = int((row.window_start + self.window - now).total_seconds()) + 1
                raise TooManyRequests("Too many failed sign-in attempts. Try again later.", retry_after=retry)

    def _fail(self, db: Session, keys: list[str]) -> None:
        now = utcnow()
        for key in keys:
            row = db.get(LoginThrottle, key)
            if row is None:
                db.add(LoginThrottle(key=key, failures=1, window_start=now))
            elif now - row.window_start >= self.window:
                row.failures, row.window_start = 1, now
            else:
                row.failures += 1
        db.flush()

    def authenticate(self, db: Session, username: str, password: str, otp: str = "",
                     client: str = "unknown") -> CurrentUser:
        """Check a sign-in. Every failure looks the same and costs the same time."""
        username = username.strip().lower()[:80]
        keys = self._throttle_keys(username, client)
        self._check_throttle(db, keys)
        user = db.scalar(select(User).where(User.username == username))
        ok = False
        try:
            ok = self.hasher.verify(user.password_hash if user else self._dummy_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if ok and user is not None and user.totp_secret:
            ok = pyotp.TOTP(user.totp_secret).verify(otp.strip(), valid_window=1)
        if not ok or user is None or user.disabled:
            self._fail(db, keys)
            record_event(db, Actor("anonymous"), "session:login_failed", "user", user.id if user else None)
            raise NotAuthenticated("Wrong username, password or code.")
        for key in keys[:1]:  # success clears the user's counter; the address keeps its record
            row = db.get(LoginThrottle, key)
            if row:
                db.delete(row)
        if self.hasher.check_needs_rehash(user.password_hash):
            user.password_hash = self.hasher.hash(password)
        user.last_login_at = utcnow()
        record_event(db, Actor(f"user:{user.username}", user.id), "session:login", "user", user.id)
        return _current(user)

    # --- sessions ---
    def start_session(self, db: Session, user: CurrentUser) -> str:
        token = new_token()
        db.add(WebSession(token_digest=token_digest(token), user_id=user.id,
                          expires_at=utcnow() + self.session_life))
        db.flush()
        return token

    def session_user(self, db: Session, token: str | None) -> CurrentUser | None:
        if not token or len(token) > 100:
            return None
        row = db.get(WebSession, token_digest(token))
        if row is None or row.expires_at < utcnow():
            return None
        user = db.get(User, row.user_id)
        if user is None or user.disabled:
            return None
        return _current(user)

    def end_session(self, db: Session, token: str | None, user: CurrentUser | None) -> None:
        if token:
            db.execute(delete(WebSession).where(WebSession.token_digest == token_digest(token)))
        if user:
            record_event(db, user.actor, "session:logout", "user", user.id)


def get_user_by_username(db: Session, username: str) -> CurrentUser | None:
    user = db.scalar(select(User).where(User.username == username.strip().lower()))
    return _current(user) if user else None
