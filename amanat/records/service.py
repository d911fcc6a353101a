"""Turn an opened submission into a stored, encrypted Record of a Person, and read records back with
masking. Exact matches on tazkira or passport (through blind indexes) attach the record to the person
already known; everything fuzzier is the linkage stage's job."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanat.core.audit import Actor, record_event
from amanat.core.crypto import KeyHolder
from amanat.core.db import new_id, utcnow
from amanat.errors import InvalidInput, NotFound, PermissionDenied
from amanat.intake.service import OpenedSubmission
from amanat.normalize.record import NormalizedRecord, normalize_record
from amanat.records.data_keys import create_record_keys
from amanat.records.exact_id import UNCONFIRMED, exact_match_confirmed, trusted_channel
from amanat.records.household import ensure_members
from amanat.records.models import Document, Person, PersonMerge, Record, RecordLookup
from amanat.records.search_index import index_names

# Fields shown in clear to anyone who may read the record; everything else is masked until revealed.
CLEAR_FIELDS = frozenset({"gender", "service_branch", "country_of_refuge", "province", "consent"})
# Special-category data: visible only with record:reveal_special, and only for protection claims.
SPECIAL_FIELDS = frozenset({"religion", "ethnicity"})
EXACT_MATCH_KINDS = ("tazkira", "passport")
LOOKUP_KINDS = ("tazkira", "passport", "phone")


@dataclass(frozen=True)
class StoreResult:
    record_id: str
    person_id: str
    new_person: bool
    link_reason: str | None
    matched_kinds: tuple[str, ...] = ()
    conflict_person_ids: tuple[str, ...] = ()
    norm: NormalizedRecord | None = None


def _person_root(db: Session, person_id: str) -> str:
    seen: set[str] = set()
    while person_id not in seen:
        seen.add(person_id)
        p = db.get(Person, person_id)
        if p is None or p.merged_into is None:
            return person_id
        person_id = p.merged_into
    return person_id


def find_exact_matches(db: Session, keys: KeyHolder, exact: dict[str, list[str]]) -> dict[str, set[str]]:
    """Person ids sharing a tazkira or passport number, by kind."""
    found: dict[str, set[str]] = {}
    for kind in EXACT_MATCH_KINDS:
        digests = keys.blind_indexes(kind, exact.get(kind, []))
        if not digests:
            continue
        rows = db.execute(select(Record.person_id).join(RecordLookup, RecordLookup.record_id == Record.id)
                          .where(RecordLookup.kind == kind, RecordLookup.digest.in_(digests))).all()
        persons = {_person_root(db, r[0]) for r in rows}
        if persons:
            found[kind] = persons
    return found


def _display_name(fields: dict[str, Any]) -> str | None:
    for key in ("full_name", "full_name_latin"):
        value = fields.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return None


def store_submission(db: Session, keys: KeyHolder, opened: OpenedSubmission) -> StoreResult:
    """Normalise and store one opened submission in the caller's transaction."""
    parsed = opened.parsed
    norm = normalize_record({k: v for k, v in parsed.fields.items() if isinstance(v, str)})
    exact = norm.exact_keys()
    matches = find_exact_matches(db, keys, exact)
    candidates = set().union(*matches.values()) if matches else set()
    conflict: tuple[str, ...] = ()
    unconfirmed = False
    if len(candidates) == 1 and not trusted_channel(opened.channel, opened.submitted_by):
        # A known ID number from a channel anyone can use attaches only when name and birth date agree too.
        known = db.scalars(select(Record.normalized).where(Record.person_id.in_(
            select(Person.id).where((Person.id == next(iter(candidates))) |
                                    (Person.merged_into == next(iter(candidates))))))).all()
        unconfirmed = not exact_match_confirmed(norm, [k for k in known if isinstance(k, dict)])
    if len(candidates) == 1 and not unconfirmed:
        person_id, new_person = next(iter(candidates)), False
        link_reason = "+".join(f"{k}_exact" for k in EXACT_MATCH_KINDS if k in matches)
    else:
        person = Person()
        db.add(person)
        db.flush()
        person_id, new_person, link_reason = person.id, True, UNCONFIRMED if unconfirmed else None
        if len(candidates) > 1:  # the IDs point at different people: a human must look
            conflict = tuple(sorted(candidates))
            link_reason = "conflicting_exact_matches"
    norm_dict = norm.to_dict()
    record_id = new_id()
    create_record_keys(db, keys, [record_id])  # its values go under a key of its own (records/data_keys.py)
    record = Record(id=record_id, person_id=person_id, submission_id=opened.submission_id, channel=opened.channel,
                    form_version=opened.form_version, language=opened.language,
                    province_pcode=norm.province_pcode, country_iso2=norm.country_iso2, link_reason=link_reason,
                    display_name=_display_name(parsed.fields), data=dict(parsed.fields), normalized=norm_dict,
                    provenance={"provenance": parsed.provenance, "field_sources": parsed.field_sources,
                                "context": parsed.context, "receipt": opened.receipt},
                    issue_count=len(norm.issues))
    db.add(record)
    db.flush()
    for kind in LOOKUP_KINDS:
        for digest in keys.blind_indexes(kind, exact.get(kind, [])):
            db.add(RecordLookup(record_id=record.id, kind=kind, digest=digest))
    index_names(db, keys, record.id, parsed.fields)
    ensure_members(db, keys, record)
    fields_of_parts = list(parsed.provenance.get("attachment_fields", []) or [])
    for i, att in enumerate(parsed.attachments):
        field_name = str(fields_of_parts[i]) if i < len(fields_of_parts) else "attachment"
        db.add(Document(record_id=record.id, field=field_name[:60], content_type=att.content_type,
                        size=len(att.data), filename=att.name, content=att.data))
    actor = Actor("system:worker")
    if new_person:
        record_event(db, actor, "person:create", "person", person_id, record=record.id)
    record_event(db, actor, "record:create", "record", record.id, person=person_id,
                 submission=opened.submission_id, documents=len(parsed.attachments),
                 link=link_reason or "new", issues=len(norm.issues))
    if conflict:
        record_event(db, actor, "record:conflict", "record", record.id, persons=list(conflict))
    db.flush()
    return StoreResult(record.id, person_id, new_person, link_reason, tuple(sorted(matches)), conflict, norm)


# --- reading, with masking ---

MASK = "••••••"


@dataclass
class FieldView:
    name: str
    value: str | None  # None when masked
    masked: bool
    special: bool
    present: bool


@dataclass
class RecordView:
    id: str
    person_id: str
    created_at: Any
    channel: str
    form_version: str
    language: str
    link_reason: str | None
    issue_count: int
    receipt: str | None
    fields: list[FieldView] = field(default_factory=list)
    family_count: int = 0
    documents: list[dict[str, Any]] = field(default_factory=list)
    issues: list[tuple[str, str]] = field(default_factory=list)
    # What intake found wrong with the submission itself (openrosa_payload): a signature that does not
    # match, attachments that never came, an instance that is not its manifest's.
    flags: dict[str, Any] = field(default_factory=dict)


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return f"{len(value)}"
    return str(value)


def field_text(value: Any) -> str:
    """A stored answer as the page shows it (a repeat group as its count)."""
    return _as_text(value)


def record_view(db: Session, record_id: str, *, revealed: Iterable[str] = (), can_special: bool = False,
                field_order: Iterable[str] = ()) -> RecordView:
    """A record for display: clear fields shown, sensitive ones masked unless in ``revealed``."""
    rec = db.get(Record, record_id)
    if rec is None:
        raise NotFound("No such record.")
    revealed_set = set(revealed)
    data = rec.data
    order = [f for f in field_order if f in data] + sorted(k for k in data if k not in set(field_order))
    views: list[FieldView] = []
    for name in order:
        value = data.get(name)
        if name == "family" or isinstance(value, list):
            continue
        special = name in SPECIAL_FIELDS
        if special and not can_special:
            continue
        present = value not in (None, "")
        clear = name in CLEAR_FIELDS or name in revealed_set
        views.append(FieldView(name, _as_text(value) if (clear and present) else None,
                               masked=not clear and present, special=special, present=present))
    docs = db.execute(select(Document.id, Document.field, Document.content_type, Document.size)
                      .where(Document.record_id == rec.id)).all()
    family = data.get("family")
    issues = [tuple(i) for i in rec.normalized.get("issues", [])]
    return RecordView(rec.id, rec.person_id, rec.created_at, rec.channel, rec.form_version, rec.language,
                      rec.link_reason, rec.issue_count, rec.provenance.get("receipt"), views,
                      len(family) if isinstance(family, list) else 0,
                      [{"id": d[0], "field": d[1], "content_type": d[2], "size": d[3]} for d in docs],
                      issues, dict((rec.provenance.get("provenance") or {}).get("flags") or {}))  # type: ignore[arg-type]


def reveal_field(db: Session, actor: Actor, record_id: str, field_name: str, *, can_special: bool) -> str:
    """The clear value of one field, audited as ``record:reveal`` in the caller's transaction."""
    rec = db.get(Record, record_id)
    if rec is None:
        raise NotFound("No such record.")
    if field_name in SPECIAL_FIELDS and not can_special:
        raise PermissionDenied("This field is restricted to protection staff.")
    if field_name not in rec.data or isinstance(rec.data.get(field_name), list):
        raise InvalidInput("field: this record has no such field.", field="field")
    record_event(db, actor, "record:reveal", "record", rec.id, field=field_name)
    return _as_text(rec.data[field_name])


def read_document(db: Session, actor: Actor, document_id: str) -> tuple[str, str, bytes]:
    doc = db.get(Document, document_id)
    if doc is None:
        raise NotFound("No such document.")
    record_event(db, actor, "document:read", "document", doc.id, record=doc.record_id)
    return doc.filename, doc.content_type, doc.content


def records_of_person(db: Session, person_id: str) -> list[Record]:
    return list(db.scalars(select(Record).where(Record.person_id == person_id).order_by(Record.created_at)).all())


def get_person_root(db: Session, person_id: str) -> str:
    return _person_root(db, person_id)


# --- merge and unmerge (review decisions land here) ---


def merge_persons(db: Session, actor: Actor, from_person: str, into_person: str, *, pair_id: str | None = None,
                  reason: str = "review") -> str:
    """Move every record of ``from_person`` to ``into_person`` and remember exactly which, for unmerge."""
    from_person, into_person = _person_root(db, from_person), _person_root(db, into_person)
    if from_person == into_person:
        raise InvalidInput("These records already belong to the same person.", code="already_merged")
    moved = [r.id for r in records_of_person(db, from_person)]
    for rec in records_of_person(db, from_person):
        rec.person_id = into_person
    source = db.get(Person, from_person)
    assert source is not None
    source.merged_into = into_person
    merge = PersonMerge(from_person=from_person, into_person=into_person, record_ids=",".join(moved),
                        pair_id=pair_id, decided_by=actor.user_id)
    db.add(merge)
    db.flush()
    record_event(db, actor, "person:merge", "person", into_person, source=from_person, records=len(moved),
                 merge=merge.id, pair=pair_id, reason=reason)
    return merge.id


def unmerge(db: Session, actor: Actor, merge_id: str) -> tuple[str, str]:
    """Undo one merge: the records it moved go back to the person they came from."""
    merge = db.get(PersonMerge, merge_id)
    if merge is None:
        raise NotFound("No such merge.")
    if merge.undone_at is not None:
        raise InvalidInput("This merge was already undone.", code="already_unmerged")
    ids = [i for i in merge.record_ids.split(",") if i]
    for rec in db.scalars(select(Record).where(Record.id.in_(ids))):
        rec.person_id = merge.from_person
    source = db.get(Person, merge.from_person)
    assert source is not None
    source.merged_into = None
    merge.undone_at, merge.undone_by = utcnow(), actor.user_id
    db.flush()
    record_event(db, actor, "person:unmerge", "person", merge.from_person, target=merge.into_person,
                 records=len(ids), merge=merge.id)
    return merge.from_person, merge.into_person


def merges_of_person(db: Session, person_id: str) -> list[Any]:
    return list(db.scalars(select(PersonMerge).where(PersonMerge.into_person == person_id)
                           .order_by(PersonMerge.created_at.desc())))
