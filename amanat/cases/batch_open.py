"""Opening many cases in one transaction (the batch worker): numbers handed out in order from one look at
the highest, as ``service.open_case`` does for one."""

from __future__ import annotations

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from amanat.cases.models import Case
from amanat.core.db import new_id


class CaseNumbers:
    """Hands out the next case numbers within one transaction. Call ``forget`` after anything else may
    have opened a case (``service.ensure_case``), so the next number is looked up again."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self._next: int | None = None

    def forget(self) -> None:
        self._next = None

    def open(self, person_id: str) -> tuple[str, int]:
        """Add an open case for ``person_id`` (not flushed); its id and number. The caller audits."""
        if self._next is None:
            if self.db.get_bind().dialect.name == "postgresql":
                self.db.execute(text("SELECT pg_advisory_xact_lock(7263002)"))  # as service.open_case
            self._next = (self.db.scalar(select(func.max(Case.number))) or 0) + 1
        number, self._next = self._next, self._next + 1
        case = Case(id=new_id(), number=number, person_id=person_id)
        self.db.add(case)
        return case.id, number
