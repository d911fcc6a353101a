"""Per-record data keys: each stored record's values under a key of its own (envelope encryption).

The unit is the record (one submission's account of a person): its values, its documents, the family
members it lists and the corrections made to it are encrypted under ``rk:<record id>``, a data key stored
wrapped by the organisation's field key (core/keystore.DataKey; crypto.py does the wrapping). A person is
the records that belong to them, so erasing a person destroys the keys of all their records; merging and
unmerging move records between people without touching a key.

Keys are made for a whole batch at once (``create_record_keys``: one wrap per record, one insert for all).
At flush, the values of every new or changed row of a record that has a key are tagged with it
(``core.types.keyed``), wherever in the program they were set; a record stored before per-record keys, or
erased, keeps the organisation's field key until ``move_records_to_own_keys`` (`amanat keys reencrypt`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, String, bindparam, event, insert, inspect, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import flag_modified

from amanat.core.crypto import DATA_KEY_PREFIX, KeyHolder
from amanat.core.db import Base, utcnow
from amanat.core.keystore import DataKey
from amanat.core.types import key_of, keyed
from amanat.records.models import Document, HouseholdMember, Record, RecordCorrection

RECORD_VALUES = ("display_name", "data", "normalized", "provenance")
# The rows whose encrypted values belong to one record: (attribute naming the record, encrypted attributes).
KEYED_ROWS: dict[type, tuple[str, tuple[str, ...]]] = {
    Record: ("id", RECORD_VALUES),
    Document: ("record_id", ("filename", "content")),
    HouseholdMember: ("record_id", ("data",)),
    RecordCorrection: ("record_id", ("original", "corrected", "reason")),
}
_CHUNK = 5000


class ErasureLedgerEntry(Base):
    """One erased record's data key: its id, the erasure it belongs to, when. No values."""

    __tablename__ = "erasure_ledger"

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    erasure_id: Mapped[str] = mapped_column(String(36), index=True)
    erased_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


def record_key_id(record_id: str) -> str:
    return DATA_KEY_PREFIX + record_id


def record_of_key(key_id: str) -> str:
    return key_id.removeprefix(DATA_KEY_PREFIX)


def create_record_keys(db: Session, keys: KeyHolder, record_ids: Sequence[str]) -> None:
    """A data key for each record (ids given before the records are flushed), stored wrapped, in one insert.
    The records' values are encrypted under them when the session flushes."""
    if not record_ids:
        return
    key_ids = [record_key_id(r) for r in record_ids]
    wrapped = keys.new_data_keys(key_ids)
    now = utcnow()
    db.execute(insert(DataKey.__table__),  # Core: the ORM's bulk path cost more than the insert
               [{"key_id": k, "wrapped": w, "created_at": now} for k, w in zip(key_ids, wrapped, strict=True)])


@event.listens_for(Session, "before_flush")
def _values_under_record_keys(session: Session, _context: Any, _instances: Any) -> None:
    """Tag each new or changed encrypted value of a record's rows with the record's data key."""
    pending: list[tuple[Any, str, tuple[str, ...]]] = []
    for obj in (*session.new, *session.dirty):
        spec = KEYED_ROWS.get(type(obj))
        if spec is None:
            continue
        record_id = getattr(obj, spec[0])
        if record_id is not None:
            pending.append((obj, record_key_id(record_id), spec[1]))
    if not pending:
        return
    keys = getattr(session.get_bind().dialect, "amanat_keys", None)
    if keys is None or not keys.unlocked:
        return
    known = keys.known_data_keys({key_id for _, key_id, _ in pending})
    for obj, key_id, attrs in pending:
        if key_id not in known:
            continue
        state = inspect(obj)
        for attr in attrs:
            value = state.dict.get(attr)
            if value is None or key_of(value) == key_id:
                continue
            if state.key is not None and not state.attrs[attr].history.added:
                continue  # loaded, unchanged: not written by this flush
            setattr(obj, attr, keyed(value, key_id))


def records_without_keys(db: Session) -> list[str]:
    """Ids of records with no data key (stored before per-record keys, and not erased), oldest first."""
    prefix = len(DATA_KEY_PREFIX)
    have = {k[prefix:] for k in db.scalars(select(DataKey.key_id))}
    have.update(k[prefix:] for k in db.scalars(select(ErasureLedgerEntry.key_id)))
    return [r for r in db.scalars(select(Record.id).order_by(Record.created_at)) if r not in have]


def move_records_to_own_keys(db: Session, keys: KeyHolder, record_ids: Sequence[str], *,
                             skip: Iterable[str] = ()) -> int:
    """Records still under the organisation's field key get a data key each and their values (documents,
    family members and corrections included) rewritten under it. Returns how many moved."""
    skipped = set(skip)
    ids = [r for r in record_ids if r not in skipped]
    if not ids:
        return 0
    create_record_keys(db, keys, ids)
    for model, (column, attrs) in KEYED_ROWS.items():
        owner = getattr(model, column)
        for at in range(0, len(ids), _CHUNK):
            for obj in db.scalars(select(model).where(owner.in_(ids[at:at + _CHUNK]))):
                for attr in attrs:
                    value = getattr(obj, attr)
                    if value is not None:
                        setattr(obj, attr, keyed(value, record_key_id(getattr(obj, column))))
                        flag_modified(obj, attr)  # an equal value is otherwise not written again
    db.flush()
    return len(ids)


def rewrap_data_keys(db: Session, keys: KeyHolder, *, progress: Callable[[int, int], None] | None = None) -> int:
    """Data keys wrapped by a field key that is no longer active, wrapped again by the active one (after
    `amanat keys rotate`: the records themselves are not touched). Returns how many."""
    rows = db.execute(select(DataKey.seq, DataKey.key_id, DataKey.wrapped)).all()
    changed = []
    for i, (seq, key_id, wrapped) in enumerate(rows, 1):
        new = keys.rewrap_data_key(key_id, bytes(wrapped))
        if new is not None:
            changed.append({"s": seq, "w": new})
        if progress is not None and i % 1000 == 0:
            progress(i, len(rows))
    if changed:
        table = DataKey.__table__
        db.execute(update(table).where(table.c.seq == bindparam("s")).values(wrapped=bindparam("w")), changed)
    if progress is not None:
        progress(len(rows), len(rows))
    return len(changed)
