"""Users, passwords (argon2id), and the front door to sign-in, sessions and authenticator codes.

Sign-in itself lives in ``login`` (three steps, so argon2 runs outside any transaction), throttling in
``throttle``, sessions in ``sessions``, authenticator codes in ``totp`` and the changes that need a second
admin in ``user_admin``; ``Accounts`` holds the hasher and the policies that settings give them.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from amanat.accounts import login, sessions, throttle
from amanat.accounts.models import User, WebSession
from amanat.core.audit import Actor, record_event
from amanat.core.db import Database, utcnow
from amanat.core.passwords import WeakPassword, check_password
from amanat.core.permissions import Permission, Role, permissions_for
from amanat.errors import Conflict, InvalidInput, NotAuthenticated, NotFound

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")


@dataclass(frozen=True)
class CurrentUser:
    """What the web and CLI layers know about a signed-in user (never the ORM object)."""

    id: str
    username: str
    display_name: str
    role: str
    must_change_password: bool = False  # an admin set the password: the user chooses their own first
    needs_totp: bool = False  # authenticator codes are required and this user has none yet: enrol first

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_for(self.role)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def actor(self) -> Actor:
        return Actor(f"user:{self.username}", self.id)

    @property
    def restricted(self) -> bool:
        """Signed in, but only to change the password or enrol an authenticator."""
        return self.must_change_password or self.needs_totp


def attempt_details(username: str, client: str) -> dict[str, str | None]:
    """What a failed sign-in's audit event keeps: the username tried, only when it has a username's shape
    (text that cannot be one, such as a password with spaces or symbols typed into the wrong box, is
    dropped), and the client's address."""
    try:
        address = str(ipaddress.ip_address(client.split("%", 1)[0]))
    except ValueError:
        address = "unknown"
    return {"username": username if USERNAME.match(username) else None, "client": address}


def _current(user: User) -> CurrentUser:
    return CurrentUser(user.id, user.username, user.display_name, user.role)


def validate_password(password: str, username: str) -> None:
    try:
        check_password(password, username=username)
    except WeakPassword as exc:
        raise InvalidInput(str(exc), field="password") from None


class Accounts:
    """Holds the password hasher (its parameters come from settings) and the sign-in policies."""

    def __init__(self, *, time_cost: int = 3, memory_kib: int = 65536, max_failures: int = 5,
                 window_seconds: int = 900, session_hours: int = 8, idle_minutes: int = 30,
                 address_max_failures: int = 100, account_free_failures: int = 10,
                 totp_required: bool = False) -> None:
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        # Verifying against this for unknown users makes a miss cost as much as a hit.
        self._dummy_hash = self.hasher.hash("amanat-dummy-password")
        self.policy = throttle.Policy(pair_failures=max_failures, address_failures=address_max_failures,
                                      account_free_failures=account_free_failures,
                                      window=timedelta(seconds=window_seconds))
        self.session_life = timedelta(hours=session_hours)
        self.idle = timedelta(minutes=idle_minutes)
        self.totp_required = totp_required

    # --- users ---
    def create_user(self, db: Session, actor: Actor, *, username: str, password: str, role: str,
                    display_name: str = "", totp: bool = False,
                    must_change_password: bool = False) -> tuple[CurrentUser, str | None]:
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise InvalidInput("username: use 2–63 lowercase letters, digits, '.', '_' or '-'.", field="username")
        if role and role not in {r.value for r in Role}:
            raise InvalidInput(f"role: must be one of {', '.join(r.value for r in Role)}.", field="role")
        validate_password(password, username)
        if db.scalar(select(User.id).where(User.username == username)):
            raise Conflict("username: already taken.", field="username")
        secret = pyotp.random_base32() if totp else None
        user = User(username=username, display_name=display_name[:120], role=role,
                    password_hash=self.hasher.hash(password), totp_secret=secret,
                    must_change_password=must_change_password, password_changed_at=utcnow())
        db.add(user)
        db.flush()
        record_event(db, actor, "user:create", "user", user.id, role=role or None, totp=bool(secret))
        uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="Amanat") if secret else None
        return _current(user), uri

    def list_users(self, db: Session) -> list[tuple[CurrentUser, bool, bool]]:
        rows = db.execute(select(User.id, User.username, User.display_name, User.role, User.disabled,
                                 User.totp_secret.is_not(None)).order_by(User.username)).all()
        return [(CurrentUser(r[0], r[1], r[2], r[3]), bool(r[4]), bool(r[5])) for r in rows]

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

    # --- sign-in (see login.py: the caller runs the three steps in their own transactions) ---
    def prepare_login(self, db: Session, username: str, client: str, otp: str = "") -> login.Attempt:
        return login.prepare(db, self.policy, username, client, otp)

    def verify_login(self, attempt: login.Attempt, password: str) -> login.Checked:
        return login.verify(self.hasher, self._dummy_hash, attempt, password)

    def finish_login(self, db: Session, checked: login.Checked, otp: str = "") -> CurrentUser | None:
        """The signed-in user, or None after counting and auditing the failure (commit, then answer 401)."""
        attempt = checked.attempt
        user = login.finish(db, self.policy, checked, otp, attempt_details(attempt.username, attempt.client))
        if user is None:
            return None
        return self._with_flags(_current(user), user.must_change_password, user.totp_secret is not None)

    def authenticate(self, database: Database, username: str, password: str, otp: str = "",
                     client: str = "unknown") -> CurrentUser:
        """All three steps (for callers without a web request): raises NotAuthenticated or TooManyRequests."""
        with database.reading() as db:
            attempt = self.prepare_login(db, username, client, otp)
        checked = self.verify_login(attempt, password)
        with database.transaction() as db:
            user = self.finish_login(db, checked, otp)
        if user is None:
            raise NotAuthenticated(login.WRONG)
        return user

    def _with_flags(self, user: CurrentUser, must_change: bool, has_totp: bool) -> CurrentUser:
        return CurrentUser(user.id, user.username, user.display_name, user.role, must_change_password=must_change,
                           needs_totp=self.totp_required and not has_totp)

    # --- sessions ---
    def start_session(self, db: Session, user: CurrentUser, *, client: str = "", user_agent: str = "") -> str:
        return sessions.start(db, user.id, life=self.session_life, client=client, user_agent=user_agent)

    def session_user(self, db: Session, token: str | None) -> CurrentUser | None:
        found = self.session_lookup(db, token)
        return found[0] if found else None

    def session_lookup(self, db: Session, token: str | None) -> tuple[CurrentUser, bool] | None:
        """(the user, whether last_seen_at wants refreshing) for a live session, or None."""
        row = sessions.lookup(db, token, idle=self.idle)
        if row is None:
            return None
        user = self._with_flags(CurrentUser(row.user_id, row.username, row.display_name, row.role),
                                row.must_change_password, row.has_totp)
        return user, row.stale_touch

    def end_session(self, db: Session, token: str | None, user: CurrentUser | None) -> None:
        if token:
            sessions.end(db, token)
        if user:
            record_event(db, user.actor, "session:logout", "user", user.id)


def get_user_by_username(db: Session, username: str) -> CurrentUser | None:
    user = db.scalar(select(User).where(User.username == username.strip().lower()))
    return _current(user) if user else None
