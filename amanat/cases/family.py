"""A case's household: the family members its records list (each a person with a record of their own,
masked until revealed), the persons they may be (same tazkira or same name by sound), and linking them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanat.cases.models import Case
from amanat.cases.service import OPEN_STATUSES, add_system_note, case_label, case_records, get_case
from amanat.core.audit import Actor
from amanat.core.crypto import KeyHolder
from amanat.errors import NotFound
from amanat.records import household


@dataclass(frozen=True)
class CaseRef:
    case_id: str
    label: str
    person_id: str


@dataclass(frozen=True)
class FamilyMember:
    id: str
    record_id: str
    record_index: int
    relationship: str | None
    present: tuple[str, ...]
    linked: CaseRef | None
    candidates: tuple[CaseRef, ...]


def _case_of_person(db: Session, person_id: str) -> CaseRef | None:
    rows = db.scalars(select(Case).where(Case.person_id == person_id).order_by(Case.opened_at.desc())).all()
    chosen = next((c for c in rows if c.status in OPEN_STATUSES), rows[0] if rows else None)
    return CaseRef(chosen.id, case_label(chosen.number), person_id) if chosen else None


def family_of_case(db: Session, keys: KeyHolder, case: Case) -> list[FamilyMember]:
    out: list[FamilyMember] = []
    for i, rec in enumerate(case_records(db, case), start=1):
        for m in household.household_of(db, keys, rec, person_id=case.person_id):
            linked = _case_of_person(db, m.person_id) if m.person_id else None
            cands = tuple(c for c in (_case_of_person(db, p) for p in m.candidates) if c and c.case_id != case.id)
            out.append(FamilyMember(m.id, m.record_id, i, m.relationship, m.present, linked, cands))
    return out


def link_member(db: Session, actor: Actor, case_id: str, member_id: str, person_id: str | None) -> None:
    """Say that a listed family member is the person of another case (or clear it)."""
    case = get_case(db, case_id)
    member = household.get_member(db, member_id)
    if member.record_id not in {r.id for r in case_records(db, case)}:
        raise NotFound("No such family member in this case.")
    household.link_member(db, actor, member_id, person_id)
    other = _case_of_person(db, person_id) if person_id else None
    add_system_note(db, case.id, "member_linked" if person_id else "member_unlinked", author_id=actor.user_id,
                    case=other.label if other else None)
