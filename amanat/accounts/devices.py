"""Device logins for ODK Collect / KoboCollect: one per phone, owned by a staff user (usually a referrer).

The password is generated here, shown once, and never chosen by a person, so it is long and random enough
that guessing it online is hopeless; that is why device logins carry no throttle. Two forms of it are
kept: HA1 (what Digest needs, encrypted with the field key, so only a node with unlocked keys can check
Digest) and an argon2id hash (for Basic over HTTPS, which a sealed-only node can check with no keys).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from amanat.accounts import digest
from amanat.accounts.models import DeviceCredential, User
from amanat.accounts.service import USERNAME, Accounts, CurrentUser
from amanat.core.audit import Actor, record_event
from amanat.core.permissions import Permission, has_permission
from amanat.errors import AmanatError, Conflict, InvalidInput, NotAuthenticated, NotFound

_PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 - an alphabet; no 0/o, 1/l/i  # nosec B105
_PASSWORD_GROUPS, _GROUP_LENGTH = 5, 4  # 20 characters of 31 symbols: about 99 bits


def new_device_password() -> str:
    groups = ("".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(_GROUP_LENGTH))
              for _ in range(_PASSWORD_GROUPS))
    return "-".join(groups)


@dataclass(frozen=True)
class DeviceLogin:
    """Who a request from a device is: the credential and the staff user it belongs to."""

    credential_id: str
    device_username: str
    user: CurrentUser

    @property
    def actor(self) -> Actor:
        return Actor(f"device:{self.device_username}", self.user.id)


@dataclass(frozen=True)
class DeviceInfo:
    id: str
    device_username: str
    username: str
    role: str
    created_at: datetime
    revoked: bool


def _free_name(db: Session, base: str) -> str:
    taken = set(db.scalars(select(DeviceCredential.username)
                           .where(DeviceCredential.username.like(f"{base}%"))).all())
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def create_device_credential(db: Session, accounts: Accounts, actor: Actor, username: str, *,
                             device_username: str | None = None) -> tuple[str, str]:
    """A new device login for ``username``: returns (device username, password). The password is not
    stored anywhere in clear and cannot be shown again. Needs unlocked keys (HA1 is encrypted)."""
    user = db.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound("No user with that username.")
    if user.disabled:
        raise InvalidInput("That user is disabled.", field="username")
    if not has_permission(user.role, Permission.SUBMISSION_CREATE):
        raise InvalidInput("That user's role cannot submit forms, so it gets no device login.", field="username")
    name = (device_username or "").strip().lower() or _free_name(db, user.username)
    if not USERNAME.match(name):
        raise InvalidInput("device username: use 2–63 lowercase letters, digits, '.', '_' or '-'.",
                           field="device_username")
    if db.scalar(select(DeviceCredential.id).where(DeviceCredential.username == name)):
        raise Conflict("device username: already taken.", field="device_username")
    password = new_device_password()
    cred = DeviceCredential(user_id=user.id, username=name, ha1=digest.ha1(name, password),
                            password_hash=accounts.hasher.hash(password))
    db.add(cred)
    db.flush()
    record_event(db, actor, "device:create", "device_credential", cred.id, user=user.id)
    return name, password


def revoke_device_credential(db: Session, actor: Actor, device_username: str) -> None:
    cred_id = db.scalar(select(DeviceCredential.id).where(DeviceCredential.username == device_username.strip().lower(),
                                                          DeviceCredential.revoked.is_(False)))
    if cred_id is None:
        raise NotFound("No active device login with that username.")
    db.execute(update(DeviceCredential).where(DeviceCredential.id == cred_id).values(revoked=True))
    record_event(db, actor, "device:revoke", "device_credential", cred_id)
    db.flush()


def list_device_credentials(db: Session) -> list[DeviceInfo]:
    # Columns, not the entity: loading HA1 would need the field key, and listing must not.
    rows = db.execute(select(DeviceCredential.id, DeviceCredential.username, User.username, User.role,
                             DeviceCredential.created_at, DeviceCredential.revoked)
                      .join(User, User.id == DeviceCredential.user_id).order_by(DeviceCredential.username)).all()
    return [DeviceInfo(*row) for row in rows]


class DeviceAuthRequired(NotAuthenticated):
    """401: the edge answers with WWW-Authenticate challenges (stale=true when only the nonce expired)."""

    code = "device_auth_required"

    def __init__(self, public_message: str, *, stale: bool = False) -> None:
        super().__init__(public_message)
        self.stale = stale


class DigestUnavailable(AmanatError):
    code = "digest_unavailable"
    status = 503


def _login_row(db: Session, device_username: str, *, with_ha1: bool
               ) -> tuple[str, str, str | None, CurrentUser] | None:
    """(credential id, argon2 hash, HA1 if asked for, owner) of an active login of an enabled user.

    Columns only: HA1 (and a user's TOTP secret) are encrypted, and Basic on a sealed-only node has no key."""
    cols = (DeviceCredential.id, DeviceCredential.password_hash,
            DeviceCredential.ha1 if with_ha1 else DeviceCredential.username)
    row = db.execute(select(*cols, User.id, User.username, User.display_name, User.role)
                     .join(User, User.id == DeviceCredential.user_id)
                     .where(DeviceCredential.username == device_username[:80],
                            DeviceCredential.revoked.is_(False), User.disabled.is_(False))).first()
    if row is None:
        return None
    return row[0], row[1], row[2] if with_ha1 else None, CurrentUser(row[3], row[4], row[5], row[6])


def authenticate_device(db: Session, accounts: Accounts, *, secret: str, https: bool, keys_unlocked: bool,
                        method: str, path: str, query: str, authorization: str | None) -> DeviceLogin:
    """Check one request's Authorization header (Digest; Basic only over HTTPS). Raises DeviceAuthRequired."""
    header = (authorization or "").strip()
    scheme = header.partition(" ")[0].lower()
    if scheme == "digest":
        if not keys_unlocked:
            raise DigestUnavailable("This server cannot check Digest logins while its keys are locked; "
                                    "connect over HTTPS so the device can use Basic authentication.")
        creds = digest.parse_authorization(header)
        if creds is None:
            raise DeviceAuthRequired("The Digest credentials are incomplete.")
        state = digest.check_nonce(secret, creds.nonce)
        if state is digest.NonceState.INVALID or not digest.uri_matches(creds.uri, path, query):
            raise DeviceAuthRequired("The Digest credentials are not for this server or this request.")
        found = _login_row(db, creds.username, with_ha1=True)
        if found is None or found[2] is None or not digest.response_matches(found[2], method, creds):
            raise DeviceAuthRequired("Wrong device username or password.")
        if state is digest.NonceState.STALE:
            raise DeviceAuthRequired("The login has expired; the device should try again.", stale=True)
        return DeviceLogin(found[0], creds.username, found[3])
    if scheme == "basic":
        if not https:
            raise DeviceAuthRequired("Basic authentication is accepted only over HTTPS.")
        try:
            decoded = base64.b64decode(header.partition(" ")[2].strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise DeviceAuthRequired("The Basic credentials are malformed.") from None
        name, sep, password = decoded.partition(":")
        if not sep:
            raise DeviceAuthRequired("The Basic credentials are malformed.")
        found = _login_row(db, name, with_ha1=False)
        if not accounts.check_password(found[1] if found else None, password) or found is None:
            raise DeviceAuthRequired("Wrong device username or password.")
        return DeviceLogin(found[0], name, found[3])
    raise DeviceAuthRequired("Sign in with this device's login.")
