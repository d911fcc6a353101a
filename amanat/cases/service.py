"""Cases: every new person gets an open case; notes (typed, or system notes as codes); what merges and
undone merges do to cases. Queues are in queue.py, assignment and approvals in workflow.py."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from amanat.cases import scope
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
    add_system_note(db, case.id, "record_joined", reason=reason or "linked")
    case.updated_at = utcnow()
    record_event(db, actor, "case:record_attached", "case", case.id, record=record_id, reason=reason or "linked")
    return case


def get_case(db: Session, case_id: str) -> Case:
    """The case, if the session's case scope (scope.py) lets its user see it; else as if it did not exist."""
    case = db.get(Case, case_id)
    if case is None or not scope.allows(db, case):
        raise NotFound("No such case.")
    return case


def case_records(db: Session, case: Case) -> list[Record]:
    return list(db.scalars(select(Record).where(Record.person_id == case.person_id).order_by(Record.created_at)))


def case_notes(db: Session, case: Case) -> list[CaseNote]:
    return list(db.scalars(select(CaseNote).where(CaseNote.case_id == case.id).order_by(CaseNote.created_at)))


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


def add_system_note(db: Session, case_id: str, code: str, *, author_id: str | None = None, reason: str | None = None,
                    body: str = "", **params: str | int | None) -> CaseNote:
    """A note the system writes as a code and parameters (labels, codes, ids), rendered in the reader's
    language; ``body`` is what a person typed as a reason, if anything (encrypted like any note)."""
    values = {k: v for k, v in {**params, "reason": reason}.items() if v is not None}
    note = CaseNote(case_id=case_id, author_id=author_id, kind="system", code=code, body=body,
                    params=json.dumps(values, sort_keys=True))
    db.add(note)
    db.flush()
    return note


def note_params(note: CaseNote) -> dict[str, Any]:
    try:
        value = json.loads(note.params or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def reconcile_merge(db: Session, actor: Actor, from_person: str, into_person: str, *,
                    merge_id: str | None = None) -> None:
    """After two people were found to be one: one open case remains, the other is closed with a note."""
    src, dst = open_case_of_person(db, from_person), open_case_of_person(db, into_person)
    if src is None:
        return
    if dst is None:
        src.person_id, src.updated_at = into_person, utcnow()
        record_event(db, actor, "case:moved", "case", src.id, person=into_person)
        return
    src.status, src.closed_at, src.updated_at = "closed", utcnow(), utcnow()
    add_system_note(db, src.id, "merged_into", case=case_label(dst.number), merge=merge_id)
    add_system_note(db, dst.id, "merged_from", case=case_label(src.number), merge=merge_id)
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
    add_system_note(db, last.id, "reopened_unmerge")
    record_event(db, actor, "case:reopen", "case", last.id, reason="unmerge")
    return last
