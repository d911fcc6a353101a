"""Blind indexes of a record's names, for finding a person by name in any script.

A name is indexed by its cross-script sound key (normalize.names: "Mohammad Nabi" and "محمد نبی" share
it), as the whole name and token by token, each as an HMAC digest under the organisation's index key.
Neither the name nor its key is ever stored in clear; a search computes the same digests from the term.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from amanat.core.crypto import KeyHolder
from amanat.errors import AmanatError
from amanat.normalize.names import normalize_name
from amanat.records.models import Record, RecordLookup

NAME_KIND = "name"  # the whole name's sound key
NAME_TOKEN_KIND = "name_tok"  # noqa: S105 (a lookup kind, not a secret): one word of the name  # nosec B105
NAME_KINDS = (NAME_KIND, NAME_TOKEN_KIND)
# The applicant's own name, written in their script and in Latin letters.
NAME_FIELDS = ("full_name", "full_name_latin")


@dataclass(frozen=True)
class NameKeys:
    whole: tuple[str, ...]
    tokens: tuple[str, ...]


def name_keys(texts: Iterable[str]) -> NameKeys:
    """The sound keys of one or more spellings of a name (whole and per word), deduplicated."""
    whole: list[str] = []
    tokens: list[str] = []
    for raw in texts:
        if not isinstance(raw, str) or not raw.strip():
            continue
        try:
            norm = normalize_name(raw)
        except AmanatError:
            continue
        parts = [t for t in norm.tokens if t]
        if not parts:
            continue
        key = " ".join(parts)
        if key not in whole:
            whole.append(key)
        tokens.extend(t for t in parts if t not in tokens)
    return NameKeys(tuple(whole), tuple(tokens))


def record_name_keys(data: Mapping[str, object]) -> NameKeys:
    return name_keys(str(data[f]) for f in NAME_FIELDS if isinstance(data.get(f), str))


def index_names(db: Session, keys: KeyHolder, record_id: str, data: Mapping[str, object]) -> int:
    """(Re)write the name digests of one record; returns how many digests it has."""
    db.execute(delete(RecordLookup).where(RecordLookup.record_id == record_id, RecordLookup.kind.in_(NAME_KINDS)))
    found = record_name_keys(data)
    n = 0
    for kind, values in ((NAME_KIND, found.whole), (NAME_TOKEN_KIND, found.tokens)):
        for digest in keys.blind_indexes(kind, values):
            db.add(RecordLookup(record_id=record_id, kind=kind, digest=digest))
            n += 1
    return n


def records_by_name(db: Session, keys: KeyHolder, term: str, *, limit: int = 200) -> list[str]:
    """Ids of records whose name holds every word of ``term`` (by sound), whole-name matches first."""
    found = name_keys([term])
    if not found.tokens:
        return []
    whole = set(db.scalars(select(RecordLookup.record_id).where(
        RecordLookup.kind == NAME_KIND, RecordLookup.digest.in_(keys.blind_indexes(NAME_KIND, found.whole)))))
    digests = keys.blind_indexes(NAME_TOKEN_KIND, found.tokens)
    rows = db.execute(select(RecordLookup.record_id)
                      .where(RecordLookup.kind == NAME_TOKEN_KIND, RecordLookup.digest.in_(digests))
                      .group_by(RecordLookup.record_id)
                      .having(func.count(func.distinct(RecordLookup.digest)) >= len(set(digests)))
                      .limit(limit)).scalars().all()
    ids = list(dict.fromkeys([*sorted(whole), *rows]))
    return ids[:limit]


def records_by_lookup(db: Session, keys: KeyHolder, kind: str, values: Iterable[str]) -> list[str]:
    digests = keys.blind_indexes(kind, list(values))
    if not digests:
        return []
    return list(db.scalars(select(RecordLookup.record_id).distinct()
                           .where(RecordLookup.kind == kind, RecordLookup.digest.in_(digests))))


def records_without_names(db: Session) -> list[str]:
    """Ids of records with no name digest yet (stored before names were indexed), oldest first."""
    indexed = select(RecordLookup.record_id).where(RecordLookup.kind.in_(NAME_KINDS))
    return list(db.scalars(select(Record.id).where(Record.id.not_in(indexed)).order_by(Record.created_at)))
