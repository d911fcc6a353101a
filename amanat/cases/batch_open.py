"""``service.ensure_case`` for a whole batch of new records (the batch worker): one query finds the open
cases of every person the batch's records joined, numbers for new cases are handed out in order from one
look at the highest, and notes, cases and events are written in one flush."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from amanat.cases.models import Case, CaseNote
from amanat.cases.service import OPEN_STATUSES
from amanat.core.db import new_id, utcnow

_CHUNK = 5000
Event = tuple[str, str, str | None, dict[str, object]]


def _open_cases(db: Session, persons: Sequence[str]) -> dict[str, Case]:
    """Each person's oldest open case (as ``open_case_of_person``), for many persons at once."""
    found: dict[str, Case] = {}
    for at in range(0, len(persons), _CHUNK):
        rows = db.scalars(select(Case).where(Case.person_id.in_(persons[at:at + _CHUNK]),
                                             Case.status.in_(OPEN_STATUSES)).order_by(Case.opened_at))
        for case in rows:
            found.setdefault(case.person_id, case)
    return found


def ensure_cases(db: Session, arrivals: Sequence[tuple[str, str, str | None]]) -> list[Event]:
    """For each (record id, person id, reason) in arrival order: the person's open case gets a system
    note that the record joined it, or the person gets a new case. Returns the audit events to write
    (``case:open``, ``case:record_attached``), in order."""
    persons = sorted({person for _, person, _ in arrivals})
    cases = _open_cases(db, persons)
    next_number: int | None = None
    events: list[Event] = []
    now = utcnow()
    for record_id, person, reason in arrivals:
        case = cases.get(person)
        if case is None:
            if next_number is None:
                if db.get_bind().dialect.name == "postgresql":
                    db.execute(text("SELECT pg_advisory_xact_lock(7263002)"))  # as service.open_case
                next_number = (db.scalar(select(func.max(Case.number))) or 0) + 1
            case = cases[person] = Case(id=new_id(), number=next_number, person_id=person)
            db.add(case)
            events.append(("case:open", "case", case.id, {"person": person, "number": next_number}))
            next_number += 1
            continue
        # as service.add_system_note writes "record_joined"
        db.add(CaseNote(case_id=case.id, author_id=None, kind="system", code="record_joined", body="",
                        params=json.dumps({"reason": reason or "linked"}, sort_keys=True)))
        case.updated_at = now
        events.append(("case:record_attached", "case", case.id, {"record": record_id, "reason": reason or "linked"}))
    return events
