"""Family members as people of the household: each listed member becomes a HouseholdMember with their own
encrypted fields and blind indexes (name by sound, tazkira), so they can be revealed one field at a time,
found, and linked to the person (and case) of their own when they have one."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from amanat.core.audit import Actor, record_event
from amanat.core.crypto import KeyHolder
from amanat.core.db import utcnow
from amanat.errors import AmanatError, InvalidInput, NotFound
from amanat.normalize.ids import normalize_tazkira
from amanat.records.models import HouseholdMember, Person, Record, RecordLookup
from amanat.records.search_index import NAME_KIND, name_keys

MEMBER_FIELDS = ("member_name", "member_date_of_birth", "member_tazkira")
MEMBER_NAME_KIND = "m_name"  # a member's whole name (sound key), on the applicant's record
MEMBER_TAZKIRA_KIND = "m_tazkira"
MEMBER_KINDS = (MEMBER_NAME_KIND, MEMBER_TAZKIRA_KIND)


def _member_tazkira(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        norm = normalize_tazkira(value)
    except AmanatError:
        return None
    return norm.value if norm.valid else None


def ensure_members(db: Session, keys: KeyHolder, record: Record) -> list[HouseholdMember]:
    """The record's household members, created from its ``family`` answers on first use (idempotent)."""
    existing = members_of(db, record.id)
    if existing:
        return existing
    family = record.data.get("family")
    if not isinstance(family, list):
        return []
    out: list[HouseholdMember] = []
    for i, row in enumerate(r for r in family if isinstance(r, Mapping)):
        fields = {k: str(row[k]) for k in MEMBER_FIELDS if isinstance(row.get(k), str) and str(row[k]).strip()}
        relationship = row.get("member_relationship")
        member = HouseholdMember(record_id=record.id, position=i, data=fields,
                                 relationship=str(relationship)[:30] if isinstance(relationship, str) else None)
        db.add(member)
        out.append(member)
    db.flush()
    index_members(db, keys, record.id, out)
    return out


def index_members(db: Session, keys: KeyHolder, record_id: str, members: list[HouseholdMember]) -> None:
    """Blind indexes of the members' names and tazkiras, on the applicant's record: a search for a
    member finds the household they were listed in."""
    db.execute(delete(RecordLookup).where(RecordLookup.record_id == record_id, RecordLookup.kind.in_(MEMBER_KINDS)))
    for m in members:
        for digest in keys.blind_indexes(MEMBER_NAME_KIND, name_keys([m.data.get("member_name", "")]).whole):
            db.add(RecordLookup(record_id=record_id, kind=MEMBER_NAME_KIND, digest=digest))
        tazkira = _member_tazkira(m.data.get("member_tazkira"))
        if tazkira:
            for digest in keys.blind_indexes(MEMBER_TAZKIRA_KIND, [tazkira]):
                db.add(RecordLookup(record_id=record_id, kind=MEMBER_TAZKIRA_KIND, digest=digest))


@dataclass(frozen=True)
class MemberView:
    id: str
    record_id: str
    position: int
    relationship: str | None
    present: tuple[str, ...]  # which fields the member has (values masked until revealed)
    person_id: str | None  # the member's own person, once linked
    candidates: tuple[str, ...]  # persons that share the member's tazkira or whole name (ids only)


def member_candidates(db: Session, keys: KeyHolder, member: HouseholdMember, *, exclude: str) -> list[str]:
    """Persons whose own records share this member's tazkira, else their whole name by sound."""
    from amanat.records.service import get_person_root

    tazkira = _member_tazkira(member.data.get("member_tazkira"))
    found: list[str] = []
    for kind, values in (("tazkira", [tazkira] if tazkira else []),
                         (NAME_KIND, list(name_keys([member.data.get("member_name", "")]).whole))):
        digests = keys.blind_indexes(kind, values)
        if not digests:
            continue
        rows = db.scalars(select(Record.person_id).join(RecordLookup, RecordLookup.record_id == Record.id)
                          .where(RecordLookup.kind == kind, RecordLookup.digest.in_(digests)).limit(20))
        for pid in rows:
            root = get_person_root(db, pid)
            if root != exclude and root not in found:
                found.append(root)
        if found:
            break  # a shared tazkira is the stronger evidence: names only when no tazkira matched
    return found


def members_of(db: Session, record_id: str) -> list[HouseholdMember]:
    return list(db.scalars(select(HouseholdMember).where(HouseholdMember.record_id == record_id)
                           .order_by(HouseholdMember.position)))


def household_of(db: Session, keys: KeyHolder, record: Record, *, person_id: str) -> list[MemberView]:
    """The record's members as stored (reading only: records stored before members existed get theirs
    from ``amanat cases reindex``)."""
    members = members_of(db, record.id)
    return [MemberView(m.id, m.record_id, m.position, m.relationship,
                       tuple(f for f in MEMBER_FIELDS if m.data.get(f)), m.person_id,
                       () if m.person_id else tuple(member_candidates(db, keys, m, exclude=person_id)))
            for m in members]


def get_member(db: Session, member_id: str) -> HouseholdMember:
    member = db.get(HouseholdMember, member_id)
    if member is None:
        raise NotFound("No such family member.")
    return member


def reveal_member_field(db: Session, actor: Actor, member_id: str, field_name: str) -> str:
    """A member's field in clear, audited as a reveal of the applicant's record."""
    member = get_member(db, member_id)
    if field_name not in MEMBER_FIELDS or not member.data.get(field_name):
        raise InvalidInput("field: this family member has no such field.", field="field")
    record_event(db, actor, "record:reveal", "record", member.record_id, field=f"family.{field_name}",
                 member=member.id)
    return str(member.data[field_name])


def link_member(db: Session, actor: Actor, member_id: str, person_id: str | None) -> HouseholdMember:
    """Say that this member is ``person_id`` (the person of another record), or clear the link."""
    from amanat.records.service import get_person_root

    member = get_member(db, member_id)
    if person_id is not None:
        if db.get(Person, person_id) is None:
            raise InvalidInput("person: no such person.", field="person")
        person_id = get_person_root(db, person_id)
    member.person_id, member.linked_by, member.linked_at = person_id, actor.user_id, utcnow()
    record_event(db, actor, "household:link" if person_id else "household:unlink", "record", member.record_id,
                 member=member.id, person=person_id)
    return member
