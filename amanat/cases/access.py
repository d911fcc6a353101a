"""Seeing a case's values: "work on this case" (everything the role may see, for a limited time, with a
stated reason, audited once) and the quick reveal of one field. Both are grants kept as rows (which
fields, until when: never the values), so the case page is a plain GET that shows every granted field
together, survives a reload or a language switch, and stops showing them when the grant ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from amanat.cases import scope
from amanat.cases.models import Case, CaseAccess
from amanat.cases.service import case_records, get_case
from amanat.core.audit import Actor, record_event
from amanat.core.db import utcnow
from amanat.errors import InvalidInput, NotFound
from amanat.records import household
from amanat.records import service as records
from amanat.records.models import Document, Record

# Why someone opens a case's values: a code (audited), and free text for "other" (kept encrypted).
WORK_REASONS = ("applicant_contact", "verification", "pathway", "correction", "safeguarding", "other")
MAX_REASON = 500
QUICK_REVEAL_MINUTES = 5  # one revealed field stays shown this long (a reload keeps it)


def _reason(code: str, text: str | None) -> tuple[str, str | None]:
    if code not in WORK_REASONS:
        raise InvalidInput("reason: choose why you need to see this case.", field="reason")
    text = (text or "").strip() or None
    if text is not None and len(text) > MAX_REASON:
        raise InvalidInput(f"reason: at most {MAX_REASON} characters.", field="reason_text")
    if code == "other" and text is None:
        raise InvalidInput("reason: say why, in a few words.", field="reason_text")
    return code, text


def start_work(db: Session, actor: Actor, case_id: str, *, reason_code: str, reason_text: str | None,
               minutes: int) -> CaseAccess:
    """Open every value of the case the role may see until ``minutes`` from now; one audit event."""
    assert actor.user_id is not None
    code, text = _reason(reason_code, reason_text)
    case = get_case(db, case_id)
    grant = CaseAccess(case_id=case.id, user_id=actor.user_id, record_id=None, field=None, reason_code=code,
                       reason=text, expires_at=utcnow() + timedelta(minutes=minutes))
    db.add(grant)
    db.flush()
    record_event(db, actor, "case:work", "case", case.id, reason=code, minutes=minutes, access=grant.id,
                 records=len(case_records(db, case)), reason_text=text is not None)
    return grant


def end_work(db: Session, actor: Actor, case_id: str) -> int:
    """Hide the case's values again now (every grant of this user on this case)."""
    assert actor.user_id is not None
    now = utcnow()
    ended = db.execute(update(CaseAccess).where(CaseAccess.case_id == case_id, CaseAccess.user_id == actor.user_id,
                                                CaseAccess.expires_at > now).values(expires_at=now)).rowcount
    record_event(db, actor, "case:work_end", "case", case_id, grants=int(ended or 0))
    return int(ended or 0)


def reveal_record_field(db: Session, actor: Actor, case_id: str, record_id: str, field_name: str, *,
                        can_special: bool) -> CaseAccess:
    """One field of one of the case's records, shown for a few minutes; audited as ``record:reveal``."""
    assert actor.user_id is not None
    case = get_case(db, case_id)
    if record_id not in {r.id for r in case_records(db, case)}:
        raise NotFound("No such record in this case.")
    records.reveal_field(db, actor, record_id, field_name, can_special=can_special)
    grant = CaseAccess(case_id=case.id, user_id=actor.user_id, record_id=record_id, field=field_name[:80],
                       reason_code="quick_reveal", expires_at=utcnow() + timedelta(minutes=QUICK_REVEAL_MINUTES))
    db.add(grant)
    db.flush()
    return grant


def reveal_member_field(db: Session, actor: Actor, case_id: str, member_id: str, field_name: str) -> CaseAccess:
    """One field of a family member listed in one of the case's records."""
    assert actor.user_id is not None
    case = get_case(db, case_id)
    member = household.get_member(db, member_id)
    if member.record_id not in {r.id for r in case_records(db, case)}:
        raise NotFound("No such family member in this case.")
    household.reveal_member_field(db, actor, member_id, field_name)
    grant = CaseAccess(case_id=case.id, user_id=actor.user_id, record_id=f"m:{member.id}",
                       field=field_name[:80], reason_code="quick_reveal",
                       expires_at=utcnow() + timedelta(minutes=QUICK_REVEAL_MINUTES))
    db.add(grant)
    db.flush()
    return grant


def read_document(db: Session, actor: Actor, document_id: str) -> tuple[str, str, bytes]:
    """A document of a record, if one of its person's cases is within the reader's case scope (scope.py);
    audited as ``document:read``."""
    person_id = db.scalar(select(Record.person_id).join(Document, Document.record_id == Record.id)
                          .where(Document.id == document_id))
    if person_id is None:
        raise NotFound("No such document.")
    current = scope.current(db)
    if current.limited and db.scalar(select(Case.id).where(Case.person_id == person_id,
                                                          scope.case_condition(current))) is None:
        raise NotFound("No such document.")
    return records.read_document(db, actor, document_id)


@dataclass
class Access:
    """What this user may see of this case now."""

    working_until: datetime | None = None
    reason_code: str | None = None
    fields: dict[str, set[str]] = field(default_factory=dict)  # record id (or "m:<member id>") → fields

    def shows(self, record_id: str, field_name: str) -> bool:
        return self.working_until is not None or field_name in self.fields.get(record_id, set())

    @property
    def any(self) -> bool:
        return self.working_until is not None or bool(self.fields)


def current_access(db: Session, user_id: str, case_id: str, now: datetime | None = None) -> Access:
    now = now or utcnow()
    out = Access()
    for g in db.scalars(select(CaseAccess).where(CaseAccess.case_id == case_id, CaseAccess.user_id == user_id,
                                                 CaseAccess.expires_at > now).order_by(CaseAccess.expires_at)):
        if g.record_id is None and g.field is None:
            out.working_until, out.reason_code = g.expires_at, g.reason_code
        elif g.record_id is not None and g.field is not None:
            out.fields.setdefault(g.record_id, set()).add(g.field)
    return out
