"""Changing accounts: one's own password, an admin's reset, re-enabling, roles, and the two-admin rule.

Admins run the system and do not read applicants' data. So that one admin alone cannot make themselves a
reader (create a caseworker, or reset a caseworker's password, and sign in as it), every change that would
let an admin know the credentials of an account whose role reads identities, or of another admin (who
could then approve the first admin's own requests), waits for a second admin:
- granting such a role (on a new account or an existing one);
- resetting the password of an account that has such a role.
The first admins come from the command line (`amanat init --admin`, `amanat users add`), run by whoever
holds the server and its passphrase.
On approval the account gets a fresh one-time password shown only to the approving admin (to hand to the
person), its authenticator and sessions are cleared, and it must choose its own password at next sign-in:
whatever the requesting admin knew no longer opens it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from amanat.accounts import sessions, throttle, totp
from amanat.accounts.models import AccessRequest, User
from amanat.accounts.service import USERNAME, Accounts, validate_password
from amanat.core.audit import Actor, record_event
from amanat.core.db import utcnow
from amanat.core.permissions import Permission, Role, has_permission
from amanat.errors import Conflict, InvalidInput, NotFound, PermissionDenied

READING = (Permission.RECORD_READ, Permission.RECORD_REVEAL, Permission.DOCUMENT_READ, Permission.SUBMISSION_READ)
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def reads_identities(role: str) -> bool:
    return any(has_permission(role, p) for p in READING)


def needs_second_admin(role: str) -> bool:
    """Roles whose grant (or whose holder's password reset) a second admin approves."""
    return reads_identities(role) or has_permission(role, Permission.USER_MANAGE)


def one_time_password() -> str:
    """Random, 20 characters in groups (about 99 bits): shown once, changed at first sign-in."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(20))
    return "-".join(raw[i:i + 5] for i in range(0, 20, 5))


@dataclass(frozen=True)
class PendingRequest:
    id: str
    username: str
    kind: str
    role: str | None
    requested_by: str
    requested_by_id: str
    requested_at: datetime


@dataclass(frozen=True)
class Outcome:
    """What an admin action did: applied now (maybe with a one-time password to hand over) or requested."""

    applied: bool
    one_time_password: str | None = None
    request_id: str | None = None


def _user(db: Session, username: str) -> User:
    user = db.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound("No user with that username.")
    return user


def _check_role(role: str) -> None:
    if role not in {r.value for r in Role}:
        raise InvalidInput(f"role: must be one of {', '.join(r.value for r in Role)}.", field="role")


def change_own_password(db: Session, hasher: PasswordHasher, actor: Actor, user_id: str, current: str,
                        new: str, *, keep_token: str | None = None, policy: throttle.Policy | None = None,
                        client: str = "unknown") -> None:
    """The user's own change: the current password is checked, the new one must pass the rules and differ;
    their other sessions end. Wrong current passwords count in the sign-in throttle (a borrowed session is
    no guessing oracle): on InvalidInput for ``current_password`` the caller commits, to keep the count."""
    user = db.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    keys = throttle.Keys.of(user.username, client)
    if policy is not None:
        throttle.check(db, policy, keys)
    try:
        ok = hasher.verify(user.password_hash, current)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if not ok:
        if policy is not None:
            throttle.record_failure(db, policy, keys)
        raise InvalidInput("current password: not right.", field="current_password")
    if new == current:
        raise InvalidInput("password: choose a new password, not the current one.", field="password")
    validate_password(new, user.username)
    user.password_hash = hasher.hash(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    record_event(db, actor, "user:password_change", "user", user.id)
    sessions.revoke_all(db, actor, user.id, keep_token=keep_token)


def _fresh_credentials(db: Session, hasher: PasswordHasher, actor: Actor, user: User) -> str:
    password = one_time_password()
    user.password_hash = hasher.hash(password)
    user.must_change_password = True
    user.password_changed_at = utcnow()
    totp.remove_totp(db, actor, user.id)
    sessions.revoke_all(db, actor, user.id)
    return password


def _request(db: Session, actor: Actor, admin_id: str, user: User, kind: str, role: str | None) -> Outcome:
    existing = db.scalar(select(AccessRequest.id).where(AccessRequest.user_id == user.id,
                                                        AccessRequest.kind == kind, AccessRequest.outcome.is_(None)))
    if existing:
        raise Conflict("A request for this account is already waiting for a second admin.")
    req = AccessRequest(user_id=user.id, kind=kind, role=role, requested_by=admin_id)
    db.add(req)
    db.flush()
    record_event(db, actor, f"user:{kind}_requested", "user", user.id, request=req.id, role=role)
    return Outcome(applied=False, request_id=req.id)


def create_account(db: Session, accounts: Accounts, actor: Actor, admin_id: str, *, username: str, password: str,
                   role: str, display_name: str = "") -> Outcome:
    """An admin creates an account. It must choose its own password at first sign-in; a role that reads
    identities is only requested (the account has no role until a second admin approves)."""
    _check_role(role)
    reading = needs_second_admin(role)
    created, _ = accounts.create_user(db, actor, username=username, password=password,
                                      role="" if reading else role, display_name=display_name,
                                      must_change_password=True)
    if not reading:
        return Outcome(applied=True)
    return _request(db, actor, admin_id, _user(db, created.username), "role", role)


def request_role(db: Session, actor: Actor, admin_id: str, username: str, role: str) -> Outcome:
    _check_role(role)
    user = _user(db, username)
    if user.id == admin_id:
        raise PermissionDenied("You cannot change your own role.")
    if user.role == role:
        raise InvalidInput("role: the account already has this role.", field="role")
    if needs_second_admin(role):
        return _request(db, actor, admin_id, user, "role", role)
    old = user.role
    user.role = role
    sessions.revoke_all(db, actor, user.id)
    record_event(db, actor, "user:role_change", "user", user.id, role=role, previous=old or None)
    return Outcome(applied=True)


def reset_password(db: Session, hasher: PasswordHasher, actor: Actor, admin_id: str, username: str) -> Outcome:
    """A reset: a one-time password now for an account that reads no identities, a request otherwise."""
    user = _user(db, username)
    if user.id == admin_id:
        raise PermissionDenied("Change your own password on your account page.")
    if needs_second_admin(user.role):
        return _request(db, actor, admin_id, user, "reset", None)
    password = _fresh_credentials(db, hasher, actor, user)
    record_event(db, actor, "user:password_reset", "user", user.id)
    return Outcome(applied=True, one_time_password=password)


def list_pending(db: Session) -> list[PendingRequest]:
    rows = db.execute(select(AccessRequest, User.username).join(User, User.id == AccessRequest.user_id)
                      .where(AccessRequest.outcome.is_(None)).order_by(AccessRequest.requested_at)).all()
    names = dict(db.execute(select(User.id, User.username)
                            .where(User.id.in_({r[0].requested_by for r in rows}))).all()) if rows else {}
    return [PendingRequest(r.id, name, r.kind, r.role, names.get(r.requested_by, "?"), r.requested_by,
                           r.requested_at) for r, name in rows]


def _pending(db: Session, request_id: str) -> AccessRequest:
    req = db.get(AccessRequest, request_id)
    if req is None or req.outcome is not None:
        raise NotFound("No such request waiting.")
    return req


def approve(db: Session, hasher: PasswordHasher, actor: Actor, approver_id: str, request_id: str) -> Outcome:
    """A second admin approves: the change is made and fresh credentials go to the approver only."""
    req = _pending(db, request_id)
    if approver_id in (req.requested_by, req.user_id):
        raise PermissionDenied("A second admin must approve this: not the one who asked, nor the account itself.")
    user = db.get(User, req.user_id)
    if user is None:
        raise NotFound("No such user.")
    if req.kind == "role" and req.role:
        user.role = req.role
    password = _fresh_credentials(db, hasher, actor, user)
    req.decided_by, req.decided_at, req.outcome = approver_id, utcnow(), "approved"
    record_event(db, actor, f"user:{req.kind}_approved", "user", user.id, request=req.id, role=req.role,
                 requested_by=req.requested_by)
    return Outcome(applied=True, one_time_password=password, request_id=req.id)


def refuse(db: Session, actor: Actor, approver_id: str, request_id: str) -> None:
    """Refused by another admin, or withdrawn by the one who asked."""
    req = _pending(db, request_id)
    if approver_id == req.user_id:
        raise PermissionDenied("An account cannot decide a request about itself.")
    req.decided_by, req.decided_at = approver_id, utcnow()
    req.outcome = "cancelled" if approver_id == req.requested_by else "refused"
    record_event(db, actor, f"user:{req.kind}_{req.outcome}", "user", req.user_id, request=req.id)


def enable(db: Session, actor: Actor, username: str) -> None:
    user = _user(db, username)
    if not user.disabled:
        raise InvalidInput("That account is not disabled.", field="username")
    user.disabled = False
    record_event(db, actor, "user:enable", "user", user.id)


def revoke_sessions(db: Session, actor: Actor, username: str) -> int:
    return sessions.revoke_all(db, actor, _user(db, username).id)


__all__ = ["USERNAME", "Outcome", "PendingRequest", "approve", "change_own_password", "create_account", "enable",
           "list_pending", "needs_second_admin", "one_time_password", "reads_identities", "refuse", "request_role",
           "reset_password", "revoke_sessions"]
