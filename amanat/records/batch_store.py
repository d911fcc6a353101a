"""Many opened submissions stored at once: what ``service.store_submission`` does for one, with one query
per kind of exact ID for the whole batch instead of one per record, and each table's rows written with one
Core insert (the values still encrypted by their column types, each record's under its own data key).

The batch worker claims the sealed submissions (``claim_sealed``), opens and normalises them, and calls
``store_batch``; ``mark_stored_many`` drops their sealed copies in the same transaction. The audit events
come back to the caller, which writes them in one go (``core.audit.record_events``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import Session, defer

from amanat.core.crypto import KeyHolder
from amanat.core.db import new_id, utcnow
from amanat.core.types import keyed
from amanat.intake.models import Submission, SubmissionPart
from amanat.intake.service import OpenedSubmission
from amanat.normalize.record import NormalizedRecord
from amanat.records.data_keys import create_record_keys, record_key_id
from amanat.records.exact_id import UNCONFIRMED, exact_match_confirmed, trusted_channel
from amanat.records.household import ensure_members
from amanat.records.models import Document, Person, PersonMerge, Record, RecordLookup
from amanat.records.search_index import NAME_KIND, NAME_TOKEN_KIND, record_name_keys
from amanat.records.service import EXACT_MATCH_KINDS, LOOKUP_KINDS, StoreResult, _display_name

_CHUNK = 5000
Event = tuple[str, str, str | None, dict[str, object]]


def claim_sealed(db: Session, limit: int, ids: Sequence[str] | None = None) -> list[Submission]:
    """The oldest ``limit`` sealed submissions (of ``ids`` only, when given: those read ahead by
    ``peek_sealed`` that are still sealed). On PostgreSQL they stay locked to this transaction and rows
    other workers hold are skipped (FOR UPDATE SKIP LOCKED), so several workers share the queue; on
    SQLite the caller's write transaction is the only writer."""
    q = select(Submission).where(Submission.status == "sealed")
    if ids is not None:  # opened already: the sealed payloads are not read again
        q = q.where(Submission.id.in_(list(ids)[:limit])).options(defer(Submission.sealed))
    q = q.order_by(Submission.received_at).limit(limit)
    if db.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return list(db.scalars(q))


def peek_sealed(db: Session, limit: int, exclude: Iterable[str] = ()) -> list[tuple[str, bytes | None]]:
    """(id, sealed) of the oldest ``limit`` sealed submissions not in ``exclude``, read without claiming
    them: the worker opens the next batch while it stores the one before (``exclude``), then claims
    what is still sealed."""
    skip = list(exclude)
    q = select(Submission.id, Submission.sealed).where(Submission.status == "sealed")
    if skip:
        q = q.where(Submission.id.not_in(skip))
    return [(i, s) for i, s in db.execute(q.order_by(Submission.received_at).limit(limit))]


def person_roots(db: Session, person_ids: Iterable[str]) -> dict[str, str]:
    """Each person's root (following merges): one query per level of merging for all of them."""
    root = {p: p for p in person_ids}
    pending = dict(root)  # person -> the person whose merged_into is asked next
    for _ in range(64):  # merges chain a few levels deep at most
        if not pending:
            break
        into: dict[str, str | None] = {}
        asked = sorted(set(pending.values()))
        for at in range(0, len(asked), _CHUNK):
            part = asked[at:at + _CHUNK]
            into.update(dict(db.execute(select(Person.id, Person.merged_into).where(Person.id.in_(part))).all()))
        nxt: dict[str, str] = {}
        for p, at_person in pending.items():
            up = into.get(at_person)
            root[p] = at_person
            if up is not None and up != at_person:
                nxt[p] = up
        pending = nxt
    return root


def _known_exact(db: Session, digests: dict[str, set[bytes]]) -> dict[tuple[str, bytes], set[str]]:
    """Persons (roots) of the stored records giving each tazkira or passport digest."""
    found: dict[tuple[str, bytes], set[str]] = {}
    for kind, values in digests.items():
        asked = sorted(values)
        for at in range(0, len(asked), _CHUNK):
            rows = db.execute(select(RecordLookup.digest, Record.person_id)
                              .join(Record, RecordLookup.record_id == Record.id)
                              .where(RecordLookup.kind == kind, RecordLookup.digest.in_(asked[at:at + _CHUNK])))
            for digest, person_id in rows:
                found.setdefault((kind, bytes(digest)), set()).add(person_id)
    roots = person_roots(db, {p for ps in found.values() for p in ps})
    return {k: {roots[p] for p in ps} for k, ps in found.items()}


def _values_of_people(db: Session, persons: set[str]) -> dict[str, list[dict[str, Any]]]:
    """The normalised values of every record of each person and of the people merged into them, as
    ``store_submission`` reads them to confirm an exact ID from an untrusted channel."""
    out: dict[str, list[dict[str, Any]]] = {}
    asked = sorted(persons)
    for at in range(0, len(asked), _CHUNK):
        part = asked[at:at + _CHUNK]
        for person, into, normalized in db.execute(
                select(Person.id, Person.merged_into, Record.normalized).join(Record, Record.person_id == Person.id)
                .where(or_(Person.id.in_(part), Person.merged_into.in_(part)))):
            if isinstance(normalized, dict):
                for owner in {person, into} & persons:
                    out.setdefault(owner, []).append(normalized)
    return out


@dataclass(frozen=True)
class Stored:
    result: StoreResult
    events: list[Event]


DIGEST_KINDS = (*LOOKUP_KINDS, NAME_KIND, NAME_TOKEN_KIND)


def record_digests(keys: KeyHolder, norm: NormalizedRecord, fields: Mapping[str, object]) -> dict[str, list[bytes]]:
    """The blind indexes a stored record gets, by kind: tazkira, passport and phone, and its names whole
    and by token (as ``search_index.index_names`` writes them). No database: the batch worker computes
    them in its helper process."""
    exact = norm.exact_keys()
    out = {kind: keys.blind_indexes(kind, exact.get(kind, [])) for kind in LOOKUP_KINDS}
    names = record_name_keys(fields)
    out[NAME_KIND] = keys.blind_indexes(NAME_KIND, names.whole)
    out[NAME_TOKEN_KIND] = keys.blind_indexes(NAME_TOKEN_KIND, names.tokens)
    return out


def store_batch(db: Session, keys: KeyHolder, opened: Sequence[OpenedSubmission], norms: Sequence[NormalizedRecord],
                extra: Sequence[Mapping[str, Any]] | None = None,
                digests: Sequence[Mapping[str, Sequence[bytes]]] | None = None,
                ) -> tuple[list[StoreResult], list[Event]]:
    """Store each opened submission as ``store_submission`` would, in order: a record that gives a tazkira
    or passport number already known (or given by an earlier record of the batch) joins that person.
    ``extra[i]`` is kept beside the normalised values of record i (the linkage row); ``digests[i]`` are
    its ``record_digests``, when the caller computed them. Returns the results and the audit events to
    write, in order."""
    if digests is None:
        digests = [record_digests(keys, n, o.parsed.fields) for o, n in zip(opened, norms, strict=True)]
    asked: dict[str, set[bytes]] = {kind: set() for kind in EXACT_MATCH_KINDS}
    for ds in digests:
        for kind in EXACT_MATCH_KINDS:
            asked[kind].update(ds[kind])
    known = _known_exact(db, asked)
    # A known ID number from a channel anyone can use attaches only when name and birth date agree too
    # (records.exact_id, as store_submission): the people such IDs point at, with their records' values.
    untrusted = [not trusted_channel(o.channel, o.submitted_by) for o in opened]
    to_confirm = {p for i, ds in enumerate(digests) if untrusted[i]
                  for kind in EXACT_MATCH_KINDS for d in ds[kind] for p in known.get((kind, d), ())}
    values_of = _values_of_people(db, to_confirm)
    in_batch: dict[tuple[str, bytes], set[str]] = {}
    results: list[StoreResult] = []
    events: list[Event] = []
    lookups: list[dict[str, Any]] = []
    # Core inserts of plain rows: the ORM's unit of work cost more than the statements and the encryption
    new_persons: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    documents: list[dict[str, Any]] = []
    with_family: list[str] = []
    for i, (sub, norm) in enumerate(zip(opened, norms, strict=True)):
        matches: dict[str, set[str]] = {}
        for kind in EXACT_MATCH_KINDS:
            persons = set().union(*(known.get((kind, d), set()) | in_batch.get((kind, d), set())
                                    for d in digests[i][kind])) if digests[i][kind] else set()
            if persons:
                matches[kind] = persons
        candidates = set().union(*matches.values()) if matches else set()
        conflict: tuple[str, ...] = ()
        unconfirmed = len(candidates) == 1 and untrusted[i] and not exact_match_confirmed(
            norm, values_of.get(next(iter(candidates)), ()))
        if len(candidates) == 1 and not unconfirmed:
            person_id, new_person = next(iter(candidates)), False
            link_reason: str | None = "+".join(f"{k}_exact" for k in EXACT_MATCH_KINDS if k in matches)
        else:
            person_id, new_person, link_reason = new_id(), True, UNCONFIRMED if unconfirmed else None
            new_persons.append({"id": person_id, "created_at": utcnow(), "merged_into": None})
            if len(candidates) > 1:  # the IDs point at different people: a human must look
                conflict = tuple(sorted(candidates))
                link_reason = "conflicting_exact_matches"
        for kind in EXACT_MATCH_KINDS:
            for d in digests[i][kind]:
                in_batch.setdefault((kind, d), set()).add(person_id)
        parsed = sub.parsed
        normalized = norm.to_dict()
        values_of.setdefault(person_id, []).append(normalized)  # a later record of the batch confirms by it too
        if extra is not None:
            normalized.update(extra[i])
        record_id = new_id()
        key_id = record_key_id(record_id)  # its values go under its own data key (records.data_keys)
        display_name = _display_name(parsed.fields)
        records.append({
            "id": record_id, "person_id": person_id, "submission_id": sub.submission_id, "created_at": utcnow(),
            "channel": sub.channel, "form_version": sub.form_version, "language": sub.language,
            "province_pcode": norm.province_pcode, "country_iso2": norm.country_iso2, "link_reason": link_reason,
            "display_name": None if display_name is None else keyed(display_name, key_id),
            "data": keyed(dict(parsed.fields), key_id), "normalized": keyed(normalized, key_id),
            "provenance": keyed({"provenance": parsed.provenance, "field_sources": parsed.field_sources,
                                 "context": parsed.context, "receipt": sub.receipt}, key_id),
            "issue_count": len(norm.issues)})
        if isinstance(parsed.fields.get("family"), list):
            with_family.append(record_id)
        for kind in DIGEST_KINDS:
            lookups.extend({"record_id": record_id, "kind": kind, "digest": d} for d in digests[i][kind])
        fields_of_parts = list(parsed.provenance.get("attachment_fields", []) or [])
        for k, att in enumerate(parsed.attachments):
            field_name = str(fields_of_parts[k]) if k < len(fields_of_parts) else "attachment"
            documents.append({"id": new_id(), "record_id": record_id, "field": field_name[:60],
                              "content_type": att.content_type, "size": len(att.data), "created_at": utcnow(),
                              "filename": keyed(att.name, key_id), "content": keyed(att.data, key_id)})
        if new_person:
            events.append(("person:create", "person", person_id, {"record": record_id}))
        events.append(("record:create", "record", record_id,
                       {"person": person_id, "submission": sub.submission_id, "documents": len(parsed.attachments),
                        "link": link_reason or "new", "issues": len(norm.issues)}))
        if conflict:
            events.append(("record:conflict", "record", record_id, {"persons": list(conflict)}))
        results.append(StoreResult(record_id, person_id, new_person, link_reason,
                                   tuple(sorted(matches)), conflict, norm))
    create_record_keys(db, keys, [r.record_id for r in results])  # one wrap each, one insert for all
    # persons, then records, then the rows that name them
    for table, rows in ((Person.__table__, new_persons), (Record.__table__, records), (Document.__table__, documents),
                        (RecordLookup.__table__, lookups)):
        if rows:
            db.execute(insert(table), rows)
    for record_id in with_family:  # household members, as store_submission makes them (few records list any)
        record = db.get(Record, record_id)
        assert record is not None
        ensure_members(db, keys, record)
    return results, events


def mark_stored_many(db: Session, stored: Mapping[str, str]) -> None:
    """``intake.service.mark_stored`` for many: submission id -> record id; the sealed copies are dropped."""
    if not stored:
        return
    now = utcnow()
    db.execute(update(Submission), [{"id": sub_id, "status": "stored", "record_id": rec_id, "processed_at": now,
                                     "sealed": None} for sub_id, rec_id in stored.items()])
    ids = list(stored)
    for at in range(0, len(ids), _CHUNK):
        db.execute(update(SubmissionPart).where(SubmissionPart.submission_id.in_(ids[at:at + _CHUNK]))
                   .values(sealed=None))


def merge_new_persons(db: Session, merges: Sequence[tuple[str, str, str]],
                      members: Mapping[str, Sequence[str]], probable: Sequence[str] = ()) -> list[Event]:
    """``service.merge_persons`` for the batch's own probable matches, in order: each (from, into, pair id)
    moves every record of ``from`` — a person this batch created, whose records are ``members[from]`` — to
    ``into`` (a root), and remembers exactly which for unmerge. The records in ``probable`` joined by a
    probable match (their ``link_reason``). Core statements by id: the batch's records need not be loaded
    again. Returns the events."""
    events: list[Event] = []
    person_of: dict[str, str] = {}  # record -> the person it ends with (a later merge may move it again)
    merged_into: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for from_person, into_person, pair_id in merges:
        moved = list(members.get(from_person, ()))
        for rec_id in moved:
            person_of[rec_id] = into_person
        merged_into.append({"p": from_person, "into": into_person})
        merge_id = new_id()
        rows.append({"id": merge_id, "from_person": from_person, "into_person": into_person,
                     "record_ids": ",".join(moved), "pair_id": pair_id, "decided_by": None, "created_at": now})
        events.append(("person:merge", "person", into_person, {"source": from_person, "records": len(moved),
                                                               "merge": merge_id, "pair": pair_id, "reason": "auto"}))
    records, persons = Record.__table__, Person.__table__
    if person_of:
        db.execute(update(records).where(records.c.id == bindparam("r")).values(person_id=bindparam("p")),
                   [{"r": r, "p": p} for r, p in person_of.items()])
    if probable:
        db.execute(update(records).where(records.c.id == bindparam("r")).values(link_reason="probable_match"),
                   [{"r": r} for r in probable])
    if merged_into:
        db.execute(update(persons).where(persons.c.id == bindparam("p")).values(merged_into=bindparam("into")),
                   merged_into)
        db.execute(insert(PersonMerge.__table__), rows)
    return events
