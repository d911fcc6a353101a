"""Which cases a user may see: the organisation's ``case_scope`` setting, applied in the cases stage.

``case_scope = all`` (the default): every case, for every role that reads cases.
``case_scope = team``: a caseworker sees a case when
  1. it is assigned to them or to a member of one of their teams, or
  2. it is unassigned and one of its records names a province one of their teams covers, or
  3. it is unassigned and one of their teams is an intake team (it takes every new case).
A caseworker in no team sees only the cases assigned to them. Verifiers (who verify for the whole office)
are not limited; admins and auditors read no cases.

The scope is bound to the request's database session (``bind``; the web edge does it for the signed-in user)
and read here: ``get_case`` refuses a case outside it as if it did not exist, so every service that loads a
case by id (the case page, work, reveal, notes, status, tasks, attestations, protection, exports) is limited
in one place; the queue, search, the triage list, the overdue tasks and export selection filter with
``case_condition``.
Sessions with nothing bound (the command line, the worker) are the system's and see every case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from amanat.accounts.teams import membership
from amanat.cases.models import Case
from amanat.core.permissions import Role
from amanat.records.models import Record

SCOPES = ("all", "team")
TEAM_SCOPED_ROLES = frozenset({Role.CASEWORKER.value})
_KEY = "amanat.case_scope"


@dataclass(frozen=True)
class CaseScope:
    """``limited`` False: every case. Else the members whose cases count, the provinces and intake flag."""

    limited: bool = False
    user_id: str | None = None
    members: frozenset[str] = frozenset()
    provinces: frozenset[str] = frozenset()
    intake: bool = False


EVERY_CASE = CaseScope()


def scope_for(db: Session, *, case_scope: str, user_id: str, role: str) -> CaseScope:
    """The scope of one user under the organisation's setting."""
    if case_scope not in SCOPES:
        raise ValueError(f"case_scope: {case_scope!r} is not one of {SCOPES}")
    if case_scope == "all" or role not in TEAM_SCOPED_ROLES:
        return EVERY_CASE
    m = membership(db, user_id)
    return CaseScope(True, user_id, m.members, m.provinces, m.intake)


def bind(db: Session, scope: CaseScope | Callable[[], CaseScope]) -> None:
    """Limit what this session's case services show: a scope, or a function that works it out when first
    needed (the web edge binds one per request, so pages that load no case pay nothing)."""
    db.info[_KEY] = scope


def current(db: Session) -> CaseScope:
    bound = db.info.get(_KEY)
    if bound is None:
        return EVERY_CASE
    if callable(bound):
        bound = bound()
        db.info[_KEY] = bound
    return bound


def case_condition(scope: CaseScope) -> ColumnElement[bool]:
    """A WHERE clause on ``Case`` for the scope (always true when it is not limited)."""
    if not scope.limited:
        return true()
    assigned = Case.assigned_to.in_(sorted(scope.members)) if scope.members else false()
    if scope.intake:
        unassigned: ColumnElement[bool] = Case.assigned_to.is_(None)
    elif scope.provinces:
        in_provinces = exists(select(Record.id).where(Record.person_id == Case.person_id,
                                                      Record.province_pcode.in_(sorted(scope.provinces))))
        unassigned = and_(Case.assigned_to.is_(None), in_provinces)
    else:
        unassigned = false()
    return or_(assigned, unassigned)


def allows(db: Session, case: Case, scope: CaseScope | None = None) -> bool:
    scope = scope if scope is not None else current(db)
    if not scope.limited:
        return True
    return bool(db.scalar(select(Case.id).where(Case.id == case.id, case_condition(scope))))
