"""Find a person: by receipt, case number, tazkira, passport, phone or name in any script.

Every lookup of a value goes through a blind index (HMAC of the normalised key), never plaintext. The term
lives in memory for the length of the call: it is not stored, logged or audited; the audit event names
the kind of search and how many cases it found. The answer is kept as case ids only, so that the results
page is a plain GET that a language switch or a reload can repeat.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from amanat.cases import scope
from amanat.cases.models import Case, CaseSearch
from amanat.cases.service import OPEN_STATUSES
from amanat.core.audit import Actor, record_event
from amanat.core.crypto import KeyHolder
from amanat.core.db import utcnow
from amanat.errors import AmanatError, InvalidInput, NotFound
from amanat.intake.models import Submission
from amanat.normalize.ids import normalize_passport, normalize_tazkira
from amanat.normalize.phones import normalize_phone
from amanat.records.household import MEMBER_NAME_KIND, MEMBER_TAZKIRA_KIND, ensure_members
from amanat.records.models import Record
from amanat.records.search_index import (
    index_names,
    name_keys,
    records_by_lookup,
    records_by_name,
    records_without_names,
)
from amanat.records.service import get_person_root

KINDS = ("auto", "name", "case", "receipt", "tazkira", "passport", "phone")
MAX_TERM = 200
MAX_RESULTS = 200
SEARCH_TTL = timedelta(hours=2)  # how long a results page can be reopened
_CASE_RE = re.compile(r"^\s*C[-\s]?0*(\d{1,9})\s*$", re.IGNORECASE)
_RECEIPT_RE = re.compile(r"^\s*AM[-\s]?([0-9A-Z]{4})[-\s]?([0-9A-Z]{4})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class SearchResult:
    search_id: str
    kind: str  # the kind that found something (auto resolves to one or more kinds, joined by "+")
    case_ids: tuple[str, ...]


def _valid(fn: Callable[[str], object], term: str) -> str | None:
    try:
        norm = fn(term)
    except AmanatError:
        return None
    value = getattr(norm, "value", None) or getattr(norm, "e164", None)
    return str(value) if getattr(norm, "valid", False) and value else None


def _by_case_number(db: Session, term: str) -> list[str]:
    m = _CASE_RE.match(term) or (re.match(r"^\s*(\d{1,9})\s*$", term))
    if not m:
        return []
    return list(db.scalars(select(Case.id).where(Case.number == int(m.group(1)))))


def _by_receipt(db: Session, term: str) -> list[str]:
    m = _RECEIPT_RE.match(term)
    if not m:
        return []
    receipt = f"AM-{m.group(1).upper()}-{m.group(2).upper()}"
    return list(db.scalars(select(Submission.record_id).where(Submission.receipt == receipt,
                                                               Submission.record_id.is_not(None))))


def _record_ids(db: Session, keys: KeyHolder, kind: str, term: str) -> list[str]:
    """Records found by one kind of search (an empty list when the term cannot be that kind)."""
    if kind == "receipt":
        return _by_receipt(db, term)
    if kind == "tazkira":
        value = _valid(normalize_tazkira, term)
        return (records_by_lookup(db, keys, "tazkira", [value]) + records_by_lookup(db, keys, MEMBER_TAZKIRA_KIND,
                                                                                    [value])) if value else []
    if kind == "passport":
        value = _valid(normalize_passport, term)
        return records_by_lookup(db, keys, "passport", [value]) if value else []
    if kind == "phone":
        value = _valid(normalize_phone, term)
        return records_by_lookup(db, keys, "phone", [value]) if value else []
    if kind == "name":
        found = records_by_name(db, keys, term, limit=MAX_RESULTS)
        members = records_by_lookup(db, keys, MEMBER_NAME_KIND, name_keys([term]).whole)
        return list(dict.fromkeys([*found, *members]))
    return []


def _cases_of_records(db: Session, record_ids: list[str]) -> list[str]:
    """The case of each record's person (the open one, else the newest), in the order found."""
    out: list[str] = []
    if not record_ids:
        return out
    persons = [get_person_root(db, p) for p in db.scalars(select(Record.person_id).where(Record.id.in_(record_ids)))]
    for person in dict.fromkeys(persons):
        rows = db.scalars(select(Case).where(Case.person_id == person).order_by(Case.opened_at.desc())).all()
        chosen = next((c for c in rows if c.status in OPEN_STATUSES), rows[0] if rows else None)
        if chosen is not None and chosen.id not in out:
            out.append(chosen.id)
    return out


def search_cases(db: Session, keys: KeyHolder, actor: Actor, user_id: str, term: str, kind: str = "auto"
                 ) -> SearchResult:
    """Search, keep the answer as case ids for this user, and audit the search by kind and count."""
    if kind not in KINDS:
        raise InvalidInput("kind: not a kind of search.", field="kind")
    term = (term or "").strip()
    if not term:
        raise InvalidInput("search: type a name, a number or a receipt.", field="q")
    if len(term) > MAX_TERM:
        raise InvalidInput(f"search: at most {MAX_TERM} characters.", field="q")
    case_ids: list[str] = []
    used: list[str] = []
    if kind in ("auto", "case"):
        found = _by_case_number(db, term)
        if found:
            case_ids.extend(found)
            used.append("case")
    kinds = ("receipt", "tazkira", "passport", "phone") if kind == "auto" else (kind,) if kind != "case" else ()
    for k in kinds:
        found = _cases_of_records(db, _record_ids(db, keys, k, term))
        if found:
            used.append(k)
            case_ids.extend(c for c in found if c not in case_ids)
    if kind == "auto" and not case_ids and not any(ch.isdigit() for ch in term):
        case_ids = _cases_of_records(db, _record_ids(db, keys, "name", term))
        if case_ids:
            used.append("name")
    if case_ids and scope.current(db).limited:  # only the cases this user may see (scope.py), in the order found
        allowed = set(db.scalars(select(Case.id).where(Case.id.in_(case_ids),
                                                       scope.case_condition(scope.current(db)))))
        case_ids = [c for c in case_ids if c in allowed]
    case_ids = case_ids[:MAX_RESULTS]
    db.execute(delete(CaseSearch).where(CaseSearch.user_id == user_id, CaseSearch.created_at < utcnow() - SEARCH_TTL))
    # What was looked for when nothing was found: a name, or a number of some kind.
    label = "+".join(used) or (kind if kind != "auto" else "id" if any(ch.isdigit() for ch in term) else "name")
    row = CaseSearch(user_id=user_id, kind=label[:20], case_ids=",".join(case_ids))
    db.add(row)
    db.flush()
    record_event(db, actor, "case:search", "case_search", row.id, kind=label[:40], results=len(case_ids))
    return SearchResult(row.id, label, tuple(case_ids))


def get_search(db: Session, user_id: str, search_id: str) -> SearchResult:
    """A stored answer, for the user who searched and only while it is fresh."""
    row = db.get(CaseSearch, search_id)
    if row is None or row.user_id != user_id or row.created_at < utcnow() - SEARCH_TTL:
        raise NotFound("This search has expired: search again.")
    return SearchResult(row.id, row.kind, tuple(i for i in row.case_ids.split(",") if i))


def reindex_records(db: Session, keys: KeyHolder, *, batch: int = 200,
                    progress: Callable[[int, int], None] | None = None) -> int:
    """Records stored before names and family members were indexed get both (idempotent);
    ``progress(done, total)`` after each batch. Run by ``amanat cases reindex``."""
    ids = records_without_names(db)
    total = len(ids)
    for start in range(0, total, batch):
        for rec in db.scalars(select(Record).where(Record.id.in_(ids[start:start + batch]))):
            index_names(db, keys, rec.id, rec.data)
            ensure_members(db, keys, rec)
        db.flush()
        if progress is not None:
            progress(min(start + batch, total), total)
    record_event(db, Actor("system:reindex"), "records:reindex", "record", None, records=total)
    return total
