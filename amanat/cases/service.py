"""Case workflow: every new person gets an open case; queues, assignment and notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from amanat.accounts.models import User
from amanat.cases.models import Case, CaseNote
from amanat.core.audit import Actor, record_event
from amanat.core.db import utcnow
from amanat.errors import InvalidInput, NotFound
from amanat.records.models import Record

STATUSES = ("new", "in_review", "verification", "pathway", "on_hold", "closed")
# Which status may follow which: a case never jumps from new straight to closed without review.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("in_review", "on_hold"),
    "in_review": ("verification", "pathway", "on_hold", "closed"),
    "verification": ("in_review", "pathway", "on_hold", "closed"),
    "pathway": ("verification", "on_hold", "closed"),
    "on_hold": ("in_review", "closed"),
    "closed": ("in_review",),
}
OPEN_STATUSES = tuple(s for s in STATUSES if s != "closed")


def case_label(number: int) -> str:
    return f"C-{number:06d}"


def open_case(db: Session, actor: Actor, person_id: str) -> Case:
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(7263002)"))  # case numbers are handed out in order
    number = (db.scalar(select(func.max(Case.number))) or 0) + 1
    case = Case(number=number, person_id=person_id)
    db.add(case)
    db.flush()
    record_event(db, actor, "case:open", "case", case.id, person=person_id, number=number)
    return case


def open_case_of_person(db: Session, person_id: str) -> Case | None:
    return db.scalars(select(Case).where(Case.person_id == person_id, Case.status.in_(OPEN_STATUSES))
                      .order_by(Case.opened_at)).first()


def ensure_case(db: Session, actor: Actor, person_id: str, *, record_id: str, reason: str | None) -> Case:
    """The person's open case, with a system note that a record joined it; a new case if none is open."""
    case = open_case_of_person(db, person_id)
    if case is None:
        return open_case(db, actor, person_id)
    note = f"A new record joined this case ({reason or 'linked'})."
    db.add(CaseNote(case_id=case.id, author_id=None, kind="system", body=note))
    case.updated_at = utcnow()
    record_event(db, actor, "case:record_attached", "case", case.id, record=record_id, reason=reason or "linked")
    return case


@dataclass(frozen=True)
class QueueRow:
    case_id: str
    label: str
    status: str
    opened_at: datetime
    updated_at: datetime
    record_count: int
    province_pcode: str | None
    assigned_to: str | None
    link_reason: str | None
    channel: str | None


def list_queue(db: Session, *, status: str | None = None, limit: int = 50, offset: int = 0) -> list[QueueRow]:
    counts = (select(Record.person_id, func.count(Record.id).label("n"), func.max(Record.province_pcode).label("prov"),
                     func.max(Record.link_reason).label("link"), func.max(Record.channel).label("channel"))
              .group_by(Record.person_id).subquery())
    q = (select(Case, counts.c.n, counts.c.prov, counts.c.link, counts.c.channel, User.username)
         .outerjoin(counts, counts.c.person_id == Case.person_id)
         .outerjoin(User, User.id == Case.assigned_to)
         .order_by(Case.updated_at.desc()).limit(limit).offset(offset))
    if status:
        q = q.where(Case.status == status)
    return [QueueRow(c.id, case_label(c.number), c.status, c.opened_at, c.updated_at, n or 0, prov, user, link, ch)
            for c, n, prov, link, ch, user in db.execute(q).all()]


def count_cases(db: Session) -> dict[str, int]:
    return {s: n for s, n in db.execute(select(Case.status, func.count()).group_by(Case.status)).all()}


def get_case(db: Session, case_id: str) -> Case:
    case = db.get(Case, case_id)
    if case is None:
        raise NotFound("No such case.")
    return case


def case_records(db: Session, case: Case) -> list[Record]:
    return list(db.scalars(select(Record).where(Record.person_id == case.person_id).order_by(Record.created_at)))


def case_notes(db: Session, case: Case) -> list[CaseNote]:
    return list(db.scalars(select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.created_at)))


def change_status(db: Session, actor: Actor, case_id: str, new_status: str) -> Case:
    case = get_case(db, case_id)
    if new_status not in TRANSITIONS.get(case.status, ()):
        raise InvalidInput(f"status: a case in '{case.status}' cannot move to that status.", field="status")
    old, case.status, case.updated_at = case.status, new_status, utcnow()
    case.closed_at = utcnow() if new_status == "closed" else None
    record_event(db, actor, "case:status", "case", case.id, old=old, new=new_status)
    return case


def add_note(db: Session, actor: Actor, case_id: str, body: str) -> CaseNote:
    body = body.strip()
    if not body:
        raise InvalidInput("note: empty.", field="note")
    if len(body) > 5000:
        raise InvalidInput("note: at most 5000 characters.", field="note")
    case = get_case(db, case_id)
    note = CaseNote(case_id=case.id, author_id=actor.user_id, body=body)
    db.add(note)
    case.updated_at = utcnow()
    db.flush()
    record_event(db, actor, "case:note", "case", case.id, note=note.id)
    return note


def assign(db: Session, actor: Actor, case_id: str, user_id: str | None) -> Case:
    case = get_case(db, case_id)
    if user_id is not None and db.get(User, user_id) is None:
        raise InvalidInput("assignee: no such user.", field="assignee")
    case.assigned_to, case.updated_at = user_id, utcnow()
    record_event(db, actor, "case:assign", "case", case.id, assignee=user_id)
    return case


def reconcile_merge(db: Session, actor: Actor, from_person: str, into_person: str) -> None:
    """After two people were found to be one: one open case remains, the other is closed with a note."""
    src, dst = open_case_of_person(db, from_person), open_case_of_person(db, into_person)
    if src is None:
        return
    if dst is None:
        src.person_id, src.updated_at = into_person, utcnow()
        record_event(db, actor, "case:moved", "case", src.id, person=into_person)
        return
    src.status, src.closed_at, src.updated_at = "closed", utcnow(), utcnow()
    db.add(CaseNote(case_id=src.id, kind="system", body=f"Merged into {case_label(dst.number)}."))
    db.add(CaseNote(case_id=dst.id, kind="system", body=f"{case_label(src.number)} was merged into this case."))
    dst.updated_at = utcnow()
    record_event(db, actor, "case:merge", "case", dst.id, source=src.id)


def reconcile_unmerge(db: Session, actor: Actor, restored_person: str) -> Case:
    """After an unmerge the restored person has an open case again: their old one reopened, or a new one."""
    case = open_case_of_person(db, restored_person)
    if case is not None:
        return case
    last = db.scalars(select(Case).where(Case.person_id == restored_person).order_by(Case.opened_at.desc())).first()
    if last is None:
        return open_case(db, actor, restored_person)
    last.status, last.closed_at, last.updated_at = "in_review", None, utcnow()
    db.add(CaseNote(case_id=last.id, kind="system", body="Reopened: the merge that closed this case was undone."))
    record_event(db, actor, "case:reopen", "case", last.id, reason="unmerge")
    return last
