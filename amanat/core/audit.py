"""The tamper-evident audit log.

Every change and every reveal appends an event in the same transaction as the change. Each event's hash
covers the previous event's hash, so editing, deleting or reordering any event breaks the chain from
that point on; `amanat audit verify` names the first broken link. Events carry ids and counts, never a
record's values: ``details`` accepts only numbers, booleans and short identifier-like strings.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, DateTime, Index, String, Table, Text, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from amanat.core.db import Base, utcnow
from amanat.errors import PermissionDenied

GENESIS = "0" * 64
_SAFE_STR = re.compile(r"^[A-Za-z0-9_.:@/+\-]{0,80}$")


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_subject", "subject_type", "subject_id"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60), index=True)
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


_EVENTS: Table = AuditEvent.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Actor:
    """Who did it: a user, or a named system component (worker, cli)."""

    label: str
    user_id: str | None = None


SYSTEM = Actor("system")


def _check_details(details: Mapping[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in details.items():
        if not _SAFE_STR.match(key):
            raise ValueError(f"audit detail key {key!r} is not an identifier")
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            if isinstance(v, str) and not _SAFE_STR.match(v):
                raise ValueError(f"audit detail {key!r} must be an id or code, not free text")
            if not isinstance(v, str | int | float | bool | type(None)):
                raise ValueError(f"audit detail {key!r} has an unsupported type")
        out[key] = list(value) if isinstance(value, list | tuple) else value
    return out


def _digest(prev_hash: str, seq: int, at: datetime, actor: str, actor_id: str | None, action: str,
            subject_type: str, subject_id: str | None, details: str) -> str:
    body = json.dumps([seq, at.isoformat(timespec="microseconds"), actor, actor_id, action, subject_type,
                       subject_id, details], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


# Bulk access: actions that show a person's values count against their user's hourly allowance (set per
# database with core.bulk_access.configure). Past it, or while an alarm is open, the action is refused.
BULK_ACTIONS = frozenset({"record:reveal", "document:read", "export:create", "export:packet"})
ALARM, ALARM_CLEAR = "access:alarm", "access:alarm_clear"


def N_(message: str) -> str:  # gettext's name: marks a message for extraction; the error page translates it
    return message


class BulkAccessBlocked(PermissionDenied):
    """A user opened more values in the last hour than allowed, or has an alarm an admin has not cleared."""

    code = "bulk_access_blocked"

    def __init__(self, user_id: str, action: str, count: int, limit: int, *, new_alarm: bool) -> None:
        super().__init__(N_("Opening values is paused for your account: more were opened in the last hour than "
                            "allowed. An administrator has been alerted and can restore it."))
        self.user_id, self.action, self.count, self.limit, self.new_alarm = user_id, action, count, limit, new_alarm


def alarm_open(db: Session, user_id: str) -> bool:
    """Whether the user's newest alarm event is an alarm, not its clearing."""
    last = db.scalar(select(AuditEvent.action).where(
        AuditEvent.subject_type == "user", AuditEvent.subject_id == user_id,
        AuditEvent.action.in_((ALARM, ALARM_CLEAR))).order_by(AuditEvent.seq.desc()).limit(1))
    return last == ALARM


def _check_bulk_access(db: Session, actor: Actor, action: str) -> None:
    limit = getattr(db.get_bind().dialect, "amanat_bulk_access_per_hour", None)
    if limit is None or actor.user_id is None:
        return
    if alarm_open(db, actor.user_id):
        raise BulkAccessBlocked(actor.user_id, action, 0, int(limit), new_alarm=False)
    count = db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.actor_id == actor.user_id, AuditEvent.at >= utcnow() - timedelta(hours=1),
        AuditEvent.action.in_(BULK_ACTIONS))) or 0
    if count >= int(limit):
        raise BulkAccessBlocked(actor.user_id, action, int(count), int(limit), new_alarm=True)


def record_event(db: Session, actor: Actor, action: str, subject_type: str, subject_id: str | None = None,
                 **details: object) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction (the caller commits).

    An action that shows values (BULK_ACTIONS) is refused with BulkAccessBlocked past the user's hourly
    allowance or while an alarm is open: the caller's transaction then rolls back, the value unshown."""
    if action in BULK_ACTIONS:
        _check_bulk_access(db, actor, action)
    # Within one transaction the chain's head is remembered: the transaction already holds the lock that
    # serialises appenders (SQLite's write lock, PostgreSQL's advisory lock), so nobody else can move it.
    txn = db.get_nested_transaction() or db.get_transaction()  # a rolled-back savepoint never leaves a stale head
    cached = db.info.get("audit_head")
    if cached is not None and cached[0] is txn:
        seq, prev = cached[1] + 1, cached[2]
    else:
        if db.get_bind().dialect.name == "postgresql":
            # Serialise appenders so two transactions never chain onto the same predecessor.
            db.execute(text("SELECT pg_advisory_xact_lock(7263001)"))
        last = db.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    at = utcnow()
    det = json.dumps(_check_details(details), sort_keys=True, separators=(",", ":"))
    values = {"seq": seq, "at": at, "actor": actor.label, "actor_id": actor.user_id, "action": action,
              "subject_type": subject_type, "subject_id": subject_id, "details": det, "prev_hash": prev,
              "hash": _digest(prev, seq, at, actor.label, actor.user_id, action, subject_type, subject_id, det)}
    db.flush()  # the caller's pending changes are written before their event, as an ORM flush would
    # A Core insert: an ORM unit of work per event cost more than the hashing (intake writes one per post).
    db.connection().execute(_EVENTS.insert(), values)
    db.info["audit_head"] = (txn, seq, values["hash"])
    return AuditEvent(**values)  # not added to the session: the row is already written


def record_events(db: Session, actor: Actor,
                  events: Sequence[tuple[str, str, str | None, Mapping[str, object]]]) -> int:
    """Append many events (action, subject_type, subject_id, details), chained in the order given, with one
    insert inside the caller's transaction: what ``record_event`` does once per call (the batch worker
    writes thousands at a time)."""
    if not events:
        return 0
    txn = db.get_nested_transaction() or db.get_transaction()
    cached = db.info.get("audit_head")
    if cached is not None and cached[0] is txn:
        seq, prev = cached[1], cached[2]
    else:
        if db.get_bind().dialect.name == "postgresql":
            db.execute(text("SELECT pg_advisory_xact_lock(7263001)"))
        last = db.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
        seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    rows: list[dict[str, object]] = []
    for action, subject_type, subject_id, details in events:
        seq += 1
        at = utcnow()
        det = json.dumps(_check_details(details), sort_keys=True, separators=(",", ":"))
        digest = _digest(prev, seq, at, actor.label, actor.user_id, action, subject_type, subject_id, det)
        rows.append({"seq": seq, "at": at, "actor": actor.label, "actor_id": actor.user_id, "action": action,
                     "subject_type": subject_type, "subject_id": subject_id, "details": det, "prev_hash": prev,
                     "hash": digest})
        prev = digest
    db.flush()
    db.connection().execute(_EVENTS.insert(), rows)
    db.info["audit_head"] = (txn, seq, prev)
    return len(rows)


@dataclass(frozen=True)
class ChainVerdict:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    reason: str = ""
    head: str = GENESIS


def iter_events(db: Session, batch: int = 2000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = db.scalars(select(AuditEvent).where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def count_events(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(AuditEvent)) or 0


def verify_chain(db: Session, progress: object | None = None) -> ChainVerdict:
    """Recompute every hash; report the first event whose hash or link does not hold."""
    prev, expected_seq, n = GENESIS, 1, 0
    for ev in iter_events(db):
        if ev.seq != expected_seq:
            return ChainVerdict(False, n, expected_seq, f"event {expected_seq} is missing", prev)
        if ev.prev_hash != prev:
            return ChainVerdict(False, n, ev.seq, "its link to the previous event does not match", prev)
        digest = _digest(ev.prev_hash, ev.seq, ev.at, ev.actor, ev.actor_id, ev.action, ev.subject_type,
                         ev.subject_id, ev.details)
        if digest != ev.hash:
            return ChainVerdict(False, n, ev.seq, "its contents were changed after it was written", prev)
        prev, expected_seq, n = ev.hash, expected_seq + 1, n + 1
        if progress is not None and callable(progress):
            progress()
    return ChainVerdict(True, n, None, "", prev)


def list_events(db: Session, *, limit: int = 100, before: int | None = None, action: str | None = None,
                subject_id: str | None = None) -> list[AuditEvent]:
    q = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if before is not None:
        q = q.where(AuditEvent.seq < before)
    if action:
        q = q.where(AuditEvent.action == action)
    if subject_id:
        q = q.where(AuditEvent.subject_id == subject_id)
    return list(db.scalars(q).all())
