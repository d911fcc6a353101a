"""``service.ensure_case`` for a whole batch of new records (the batch worker): one query finds the open
cases of every person the batch's records joined, numbers for new cases are handed out in order from one
look at the highest, and cases, notes and their updates are written with one statement each."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from amanat.cases.models import Case, CaseNote
from amanat.cases.service import OPEN_STATUSES
from amanat.core.db import new_id, utcnow

_CHUNK = 5000
Event = tuple[str, str, str | None, dict[str, object]]


def _open_cases(db: Session, persons: Sequence[str]) -> dict[str, str]:
    """Each person's oldest open case id (as ``open_case_of_person``), for many persons at once."""
    found: dict[str, str] = {}
    for at in range(0, len(persons), _CHUNK):
        rows = db.execute(select(Case.person_id, Case.id).where(Case.person_id.in_(persons[at:at + _CHUNK]),
                                                                 Case.status.in_(OPEN_STATUSES))
                          .order_by(Case.opened_at))
        for person, case_id in rows:
            found.setdefault(person, case_id)
    return found


def ensure_cases(db: Session, arrivals: Sequence[tuple[str, str, str | None]]) -> list[Event]:
    """For each (record id, person id, reason) in arrival order: the person's open case gets a system
    note that the record joined it, or the person gets a new case. Returns the audit events to write
    (``case:open``, ``case:record_attached``), in order. Core inserts of plain rows: the unit of work
    cost more than the statements."""
    persons = sorted({person for _, person, _ in arrivals})
    cases = _open_cases(db, persons)
    next_number: int | None = None
    events: list[Event] = []
    new_cases: list[dict[str, object]] = []
    notes: list[dict[str, object]] = []
    joined: set[str] = set()  # cases that were there before this batch and got a note
    now = utcnow()
    for record_id, person, reason in arrivals:
        case_id = cases.get(person)
        if case_id is None:
            if next_number is None:
                if db.get_bind().dialect.name == "postgresql":
                    db.execute(text("SELECT pg_advisory_xact_lock(7263002)"))  # as service.open_case
                next_number = (db.scalar(select(func.max(Case.number))) or 0) + 1
            case_id = cases[person] = new_id()
            new_cases.append({"id": case_id, "number": next_number, "person_id": person, "status": "new",
                              "opened_at": now, "updated_at": now})
            events.append(("case:open", "case", case_id, {"person": person, "number": next_number}))
            next_number += 1
            continue
        # as service.add_system_note writes "record_joined"
        notes.append({"id": new_id(), "case_id": case_id, "author_id": None, "created_at": now, "kind": "system",
                      "body": "", "code": "record_joined", "params": json.dumps({"reason": reason or "linked"},
                                                                                sort_keys=True)})
        joined.add(case_id)
        events.append(("case:record_attached", "case", case_id, {"record": record_id, "reason": reason or "linked"}))
    if new_cases:
        db.execute(insert(Case.__table__), new_cases)
    if notes:
        db.execute(insert(CaseNote.__table__), notes)
    fresh = {c["id"] for c in new_cases}
    touched = [{"c": c} for c in sorted(joined - fresh)]  # a case opened by this batch is as new as it gets
    if touched:
        table = Case.__table__
        db.execute(update(table).where(table.c.id == bindparam("c")).values(updated_at=now), touched)
    return events
