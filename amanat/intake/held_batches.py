"""Held import batches: a web upload is sealed at once with ``status="held"``; its uploader previews it, then
confirms (held → sealed: the worker takes them) or discards (deleted). Held batches older than ``HOLD_HOURS``
are deleted on the next web upload. Only the uploader may see, confirm or discard a batch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from amanat.core.audit import Actor, record_event
from amanat.core.db import utcnow
from amanat.errors import Conflict, NotFound
from amanat.intake.models import Submission, SubmissionPart

HOLD_HOURS = 24  # a held (previewed, unconfirmed) web import is deleted after this


@dataclass(frozen=True)
class HeldBatch:
    batch_id: str
    channel: str
    submissions: int
    received_at: datetime


def _held(db: Session, batch_id: str, user_id: str) -> HeldBatch:
    """The user's own held batch; anyone else's, or none, is NotFound (no hint that it exists)."""
    row = db.execute(
        select(func.min(Submission.channel), func.count(), func.min(Submission.received_at))
        .where(Submission.batch_id == batch_id, Submission.status == "held", Submission.submitted_by == user_id)
    ).one()
    channel, count, received = row
    if not count:
        raise NotFound("No import with this id is waiting for your confirmation.", code="import_not_found")
    return HeldBatch(batch_id, str(channel), int(count), received)


def get_held_batch(db: Session, batch_id: str, *, user_id: str) -> HeldBatch:
    return _held(db, batch_id, user_id)


def list_held_batches(db: Session, *, user_id: str) -> list[HeldBatch]:
    rows = db.execute(
        select(Submission.batch_id, func.min(Submission.channel), func.count(), func.min(Submission.received_at))
        .where(Submission.status == "held", Submission.submitted_by == user_id)
        .group_by(Submission.batch_id).order_by(func.min(Submission.received_at).desc()).limit(50)
    ).all()
    return [HeldBatch(str(b), str(c), int(n), at) for b, c, n, at in rows if b is not None]


def _expired(batch: HeldBatch, now: datetime | None = None) -> bool:
    return batch.received_at < (now or utcnow()) - timedelta(hours=HOLD_HOURS)


def confirm_batch(db: Session, actor: Actor, batch_id: str, *, user_id: str) -> int:
    """Release the user's held batch to the worker (held → sealed), audited as ``import:confirm``."""
    batch = _held(db, batch_id, user_id)
    if _expired(batch):
        raise Conflict(f"This import waited more than {HOLD_HOURS} hours and has expired; upload the file again.",
                       code="import_expired")
    db.execute(update(Submission)
               .where(Submission.batch_id == batch_id, Submission.status == "held",
                      Submission.submitted_by == user_id)
               .values(status="sealed"), execution_options={"synchronize_session": False})
    record_event(db, actor, "import:confirm", "import", batch_id, channel=batch.channel,
                 submissions=batch.submissions)
    db.flush()
    return batch.submissions


def _delete_held(db: Session, *where: ColumnElement[bool]) -> None:
    ids = select(Submission.id).where(Submission.status == "held", *where)
    db.execute(delete(SubmissionPart).where(SubmissionPart.submission_id.in_(ids)),
               execution_options={"synchronize_session": False})
    db.execute(delete(Submission).where(Submission.status == "held", *where),
               execution_options={"synchronize_session": False})


def delete_batch_rows(db: Session, batch_id: str) -> None:
    """Delete a batch's held rows (an import that failed part-way); the caller audits, if anyone acted."""
    _delete_held(db, Submission.batch_id == batch_id)
    db.flush()


def discard_batch(db: Session, actor: Actor, batch_id: str, *, user_id: str) -> int:
    """Delete the user's held batch (its sealed parts with it), audited as ``import:discard``."""
    batch = _held(db, batch_id, user_id)
    _delete_held(db, Submission.batch_id == batch_id, Submission.submitted_by == user_id)
    record_event(db, actor, "import:discard", "import", batch_id, channel=batch.channel,
                 submissions=batch.submissions)
    db.flush()
    return batch.submissions


def purge_stale_batches(db: Session, actor: Actor, *, now: datetime | None = None) -> int:
    """Delete held batches older than HOLD_HOURS, each audited as ``import:expire``; called on each web upload."""
    cutoff = (now or utcnow()) - timedelta(hours=HOLD_HOURS)
    stale = db.execute(
        select(Submission.batch_id, func.count()).where(Submission.status == "held")
        .group_by(Submission.batch_id).having(func.min(Submission.received_at) < cutoff)
    ).all()
    for batch_id, count in stale:
        if batch_id is None:
            continue
        _delete_held(db, Submission.batch_id == batch_id)
        record_event(db, actor, "import:expire", "import", batch_id, submissions=int(count))
    db.flush()
    return sum(int(n) for b, n in stale if b is not None)


