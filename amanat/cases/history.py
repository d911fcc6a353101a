"""A case's history, from the audit log: status, assignment, notes, approvals, merges and their undoing,
searches that found it aside, and every reveal of its records' values, each with who and when. Entries are
codes and ids; the template renders them in the reader's language."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from amanat.accounts.models import User
from amanat.cases.models import Case, CaseNote
from amanat.cases.service import case_records, note_params
from amanat.core.audit import AuditEvent
from amanat.records.models import PersonMerge

# The audit actions a case's history shows; anything else on its subjects is left to the audit log.
CASE_ACTIONS = ("case:open", "case:record_attached", "case:status", "case:assign", "case:note", "case:merge",
                "case:moved", "case:reopen", "case:unmerge", "case:work", "case:work_end", "case:close_request",
                "case:close_approve", "case:close_reject", "case:close_withdraw", "case:correct",
                "case:document")
RECORD_ACTIONS = ("record:reveal", "record:correct", "document:read", "document:attach", "household:link",
                  "household:unlink")
PERSON_ACTIONS = ("person:merge", "person:unmerge")
HISTORY_LIMIT = 300


@dataclass
class HistoryEntry:
    at: datetime
    action: str
    actor: str  # a username, or a system component's label
    details: dict[str, Any] = field(default_factory=dict)
    record_index: int | None = None  # "record 2" of this case, for reveals


@dataclass(frozen=True)
class NoteView:
    id: str
    at: datetime
    kind: str
    code: str | None
    params: dict[str, Any]
    body: str
    author: str | None
    voided: bool


def case_history(db: Session, case: Case) -> list[HistoryEntry]:
    """Newest first."""
    recs = case_records(db, case)
    index = {r.id: i + 1 for i, r in enumerate(recs)}
    merges = [m.id for m in db.scalars(select(PersonMerge).where(or_(PersonMerge.into_person == case.person_id,
                                                                      PersonMerge.from_person == case.person_id)))]
    cond = [and_(AuditEvent.subject_type == "case", AuditEvent.subject_id == case.id,
                 AuditEvent.action.in_(CASE_ACTIONS))]
    if index:
        cond.append(and_(AuditEvent.subject_type == "record", AuditEvent.subject_id.in_(list(index)),
                         AuditEvent.action.in_(RECORD_ACTIONS)))
    cond.append(and_(AuditEvent.subject_type == "person", AuditEvent.subject_id == case.person_id,
                     AuditEvent.action.in_(PERSON_ACTIONS)))
    rows = db.execute(select(AuditEvent, User.username).outerjoin(User, User.id == AuditEvent.actor_id)
                      .where(or_(*cond)).order_by(AuditEvent.seq.desc()).limit(HISTORY_LIMIT)).all()
    out: list[HistoryEntry] = []
    for ev, username in rows:
        try:
            details = json.loads(ev.details or "{}")
        except ValueError:
            details = {}
        if ev.action in PERSON_ACTIONS and merges and details.get("merge") not in merges:
            continue
        out.append(HistoryEntry(ev.at, ev.action, username or ev.actor, details,
                                index.get(ev.subject_id or "") if ev.subject_type == "record" else None))
    return out


def case_notes(db: Session, case: Case) -> list[NoteView]:
    """Notes with their authors, oldest first; system notes as codes and parameters."""
    rows = db.execute(select(CaseNote, User.username).outerjoin(User, User.id == CaseNote.author_id)
                      .where(CaseNote.case_id == case.id).order_by(CaseNote.created_at)).all()
    return [NoteView(n.id, n.created_at, n.kind, n.code, note_params(n), n.body, username, n.voided_at is not None)
            for n, username in rows]
