"""Erasing records: crypto-shredding and what goes with it.

``erase_records`` destroys each record's data key (so its ciphertext, in this database's free pages, its
WAL or any backup, is readable by no key the organisation holds), drops its blind indexes (tazkira,
passport, phone, names, linkage blocking keys), blanks its documents, family members and corrections, and
overwrites its values with an empty record under the field key, so every page still reads it. The
erased key ids go into the erasure ledger (ids and dates only), which survives in the database and can be
written out, so that a restored older backup has the same records erased again (``reapply_ledger``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from amanat.core.crypto import KeyHolder
from amanat.core.db import utcnow
from amanat.core.keystore import DataKey
from amanat.intake.models import Submission, SubmissionPart
from amanat.records.data_keys import ErasureLedgerEntry, record_key_id, record_of_key
from amanat.records.models import Document, HouseholdMember, Record, RecordCorrection, RecordLookup

ERASED_MARK = "erased"  # what an erased record's ``normalized`` holds: {"erased": "<date>"}
_CHUNK = 5000


@dataclass(frozen=True)
class ErasedCounts:
    records: int
    keys: int
    lookups: int
    documents: int


def _chunks(ids: Sequence[str]) -> list[Sequence[str]]:
    return [ids[at:at + _CHUNK] for at in range(0, len(ids), _CHUNK)]


def erase_records(db: Session, keys: KeyHolder, record_ids: Sequence[str], *, erasure_id: str,
                  at: datetime | None = None) -> ErasedCounts:
    """Crypto-shred these records in the caller's transaction (see the module docstring)."""
    when = at or utcnow()
    ids = list(dict.fromkeys(record_ids))
    key_ids = [record_key_id(r) for r in ids]
    db.flush()
    keys.forget_data_keys(key_ids)  # first: nothing below may be written under them again
    n_keys = n_lookups = n_docs = 0
    already = set()
    for part in _chunks(key_ids):
        n_keys += db.execute(delete(DataKey).where(DataKey.key_id.in_(part))).rowcount or 0
        already.update(db.scalars(select(ErasureLedgerEntry.key_id).where(ErasureLedgerEntry.key_id.in_(part))))
    fresh = [{"key_id": k, "erasure_id": erasure_id, "erased_at": when} for k in key_ids if k not in already]
    if fresh:
        db.execute(insert(ErasureLedgerEntry.__table__), fresh)
    sync = {"synchronize_session": False}
    for part in _chunks(ids):
        n_lookups += db.execute(delete(RecordLookup).where(RecordLookup.record_id.in_(part))).rowcount or 0
        n_docs += db.execute(update(Document).where(Document.record_id.in_(part))
                             .values(filename=ERASED_MARK, content=b"", size=0), execution_options=sync).rowcount or 0
        db.execute(update(HouseholdMember).where(HouseholdMember.record_id.in_(part)).values(data={}),
                   execution_options=sync)
        db.execute(update(RecordCorrection).where(RecordCorrection.record_id.in_(part))
                   .values(original=None, corrected="", reason=None), execution_options=sync)
        db.execute(update(Record).where(Record.id.in_(part))
                   .values(display_name=None, data={}, normalized={ERASED_MARK: when.date().isoformat()},
                           provenance={}, province_pcode=None, country_iso2=None, issue_count=0),
                   execution_options=sync)
        subs = select(Submission.id).where(Submission.record_id.in_(part))
        db.execute(update(Submission).where(Submission.id.in_(subs)).values(sealed=None), execution_options=sync)
        db.execute(update(SubmissionPart).where(SubmissionPart.submission_id.in_(subs)).values(sealed=None),
                   execution_options=sync)
    db.expire_all()  # objects loaded before hold the old values in memory
    return ErasedCounts(len(ids), n_keys, n_lookups, n_docs)


def is_erased(normalized: object) -> bool:
    return isinstance(normalized, dict) and ERASED_MARK in normalized


def ledger_entries(db: Session) -> list[tuple[str, str, datetime]]:
    """(key id, erasure id, erased at) of every erased record, oldest first."""
    return [tuple(r) for r in db.execute(select(ErasureLedgerEntry.key_id, ErasureLedgerEntry.erasure_id,
                                                ErasureLedgerEntry.erased_at)
                                         .order_by(ErasureLedgerEntry.erased_at, ErasureLedgerEntry.key_id))]  # type: ignore[misc]


def reapply_ledger(db: Session, keys: KeyHolder, entries: Sequence[tuple[str, str, datetime]]) -> int:
    """Erase again, in this (restored) database, every record the ledger names and this database's own ledger
    does not (erased after the backup was made). Returns how many records were erased again."""
    done: set[str] = set()
    ids = [k for k, _, _ in entries]
    for part in _chunks(ids):
        done.update(db.scalars(select(ErasureLedgerEntry.key_id).where(ErasureLedgerEntry.key_id.in_(part))))
    by_erasure: dict[tuple[str, datetime], list[str]] = {}
    for key_id, erasure_id, at in entries:
        if key_id not in done:
            by_erasure.setdefault((erasure_id, at), []).append(record_of_key(key_id))
    n = 0
    for (erasure_id, at), record_ids in by_erasure.items():
        present = []
        for part in _chunks(record_ids):
            present.extend(db.scalars(select(Record.id).where(Record.id.in_(part))))
        if present:
            erase_records(db, keys, present, erasure_id=erasure_id, at=at)
            n += len(present)
    return n
