"""Web sessions: an absolute lifetime and an idle timeout, listed and revocable by their owner or an admin.

The cookie holds a random token; the table holds only its SHA-256, which doubles as the session's handle on
the "your sessions" page (it cannot be turned back into the token).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from amanat.accounts.models import User, WebSession
from amanat.core.audit import Actor, record_event
from amanat.core.crypto import new_token, token_digest
from amanat.core.db import utcnow
from amanat.errors import NotFound

TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often: a GET stays read-mostly


@dataclass(frozen=True)
class SessionRow:
    """What the session lookup gives the web layer (never the ORM object)."""

    user_id: str
    username: str
    display_name: str
    role: str
    must_change_password: bool
    has_totp: bool
    stale_touch: bool  # last_seen_at is older than TOUCH_EVERY: the caller refreshes it


@dataclass(frozen=True)
class SessionInfo:
    handle: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    client_address: str
    user_agent: str
    current: bool


def start(db: Session, user_id: str, *, life: timedelta, client: str = "", user_agent: str = "") -> str:
    token = new_token()
    now = utcnow()
    db.add(WebSession(token_digest=token_digest(token), user_id=user_id, created_at=now, last_seen_at=now,
                      expires_at=now + life, client_address=client[:64] or None, user_agent=user_agent[:200] or None))
    db.flush()
    return token


def lookup(db: Session, token: str | None, *, idle: timedelta) -> SessionRow | None:
    """The signed-in user of ``token``, or None when it is unknown, past its lifetime or idle too long, or
    the user is disabled. Columns only: the user's encrypted TOTP secret is not decrypted here."""
    if not token or len(token) > 100:
        return None
    now = utcnow()
    row = db.execute(select(WebSession.expires_at, WebSession.last_seen_at, WebSession.created_at, User.id,
                            User.username, User.display_name, User.role, User.disabled, User.must_change_password,
                            User.totp_secret.is_not(None))
                     .join(User, User.id == WebSession.user_id)
                     .where(WebSession.token_digest == token_digest(token))).first()
    if row is None:
        return None
    expires_at, last_seen, created, user_id, username, display_name, role, disabled, must_change, has_totp = row
    seen = last_seen or created
    if expires_at < now or now - seen > idle or disabled:
        return None
    return SessionRow(user_id, username, display_name, role, bool(must_change), bool(has_totp),
                      now - seen > TOUCH_EVERY)


def touch(db: Session, token: str) -> None:
    db.execute(update(WebSession).where(WebSession.token_digest == token_digest(token))
               .values(last_seen_at=utcnow()))


def end(db: Session, token: str) -> None:
    db.execute(delete(WebSession).where(WebSession.token_digest == token_digest(token)))


def list_for(db: Session, user_id: str, current_token: str | None = None) -> list[SessionInfo]:
    current = token_digest(current_token) if current_token else None
    now = utcnow()
    rows = db.scalars(select(WebSession).where(WebSession.user_id == user_id, WebSession.expires_at > now)
                      .order_by(WebSession.created_at.desc())).all()
    return [SessionInfo(r.token_digest.hex(), r.created_at, r.last_seen_at or r.created_at, r.expires_at,
                        r.client_address or "", r.user_agent or "", r.token_digest == current) for r in rows]


def revoke(db: Session, actor: Actor, user_id: str, handle: str) -> None:
    """End one of ``user_id``'s sessions by its handle (a session of someone else is not found)."""
    try:
        digest = bytes.fromhex(handle)
    except ValueError:
        raise NotFound("No such session.") from None
    result = db.execute(delete(WebSession).where(WebSession.user_id == user_id, WebSession.token_digest == digest))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise NotFound("No such session.")
    record_event(db, actor, "session:revoke", "user", user_id, sessions=1)


def revoke_all(db: Session, actor: Actor, user_id: str, *, keep_token: str | None = None) -> int:
    """End every session of ``user_id`` (but the one holding ``keep_token``); returns how many ended."""
    query = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_token:
        query = query.where(WebSession.token_digest != token_digest(keep_token))
    count = int(db.execute(query).rowcount or 0)  # type: ignore[attr-defined]
    record_event(db, actor, "session:revoke", "user", user_id, sessions=count)
    return count
