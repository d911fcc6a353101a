"""The case page's verification and tasks sections (cases/_verification.html, cases/_tasks.html): what
they show to one reader, gathered from the verification and tasks services. Reading only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from amanat.accounts.service import CurrentUser
from amanat.cases import tasks as case_tasks
from amanat.cases import verification
from amanat.cases.models import Case
from amanat.core.permissions import Permission


def casework_sections(db: Session, case: Case, user: CurrentUser) -> dict[str, Any]:
    return {**verification.verification_context(db, case, can_attest=user.can(Permission.ATTESTATION_WRITE),
                                                can_read=user.can(Permission.CASE_READ)),
            **case_tasks.tasks_context(db, case.id, can_write=user.can(Permission.CASE_WRITE), user_id=user.id)}
