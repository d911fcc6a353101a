"""The caseworker's queue: filters (scope, status, pathway, province, assignee, risk), sorting, and a display
name for roles allowed to list names (``case:list_names``), whose every listing is audited by count."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from amanat.accounts.models import User
from amanat.accounts.teams import membership
from amanat.cases import scope as case_scope
from amanat.cases.models import Case, CaseApproval
from amanat.cases.service import OPEN_STATUSES, STATUSES, case_label
from amanat.core.audit import Actor, record_event
from amanat.normalize.places import provinces
from amanat.records.models import Record

SCOPES = ("all", "mine", "team", "unassigned", "approvals")
# sort name → (column, descending) pairs
SORTS: dict[str, tuple[tuple[str, bool], ...]] = {
    "updated": (("updated_at", True),), "opened": (("opened_at", False),), "number": (("number", False),),
    "risk": (("risk_level", True), ("updated_at", True))}
RISKS = ("high", "medium", "low")
PAGE_SIZE = 50


@dataclass(frozen=True)
class QueueFilter:
    scope: str = "all"
    status: str | None = None
    pathway: str | None = None
    province: str | None = None  # a P-code (AF01): chosen from the list of names
    assignee: str | None = None  # a user id
    risk: str | None = None
    sort: str = "updated"
    page: int = 1

    @classmethod
    def clean(cls, *, scope: str | None, status: str | None, pathway: str | None, province: str | None,
              assignee: str | None, risk: str | None, sort: str | None, page: int) -> QueueFilter:
        """Unknown values are dropped (a bookmarked link from an older version still opens the queue)."""
        pcodes = {p.pcode for p in provinces()}
        return cls(scope=scope if scope in SCOPES else "all",
                   status=status if status in STATUSES else None,
                   pathway=(pathway or "")[:30] or None,
                   province=province.upper() if province and province.upper() in pcodes else None,
                   assignee=(assignee or "")[:36] or None,
                   risk=risk if risk in RISKS else None,
                   sort=sort if sort in SORTS else "updated",
                   page=max(1, min(page, 10_000)))

    def query_args(self, **override: object) -> dict[str, object]:
        """The filter as query parameters (for links that change one of them)."""
        values: dict[str, object] = {"scope": self.scope, "status": self.status, "pathway": self.pathway,
                                     "province": self.province, "assignee": self.assignee, "risk": self.risk,
                                     "sort": self.sort}
        values.update(override)
        return {k: v for k, v in values.items() if v not in (None, "", "all", "updated")}


@dataclass
class QueueRow:
    case_id: str
    label: str
    status: str
    opened_at: datetime
    updated_at: datetime
    record_count: int
    province_pcode: str | None
    assigned_to: str | None  # username
    link_reason: str | None
    channel: str | None
    pathway: str | None = None
    risk_level: str | None = None
    display_name: str | None = None  # only for roles with case:list_names
    close_requested: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def _base(db: Session, user_id: str, f: QueueFilter, case_ids: tuple[str, ...] | None):  # type: ignore[no-untyped-def]
    q = select(Case).where(case_scope.case_condition(case_scope.current(db)))
    if case_ids is not None:
        q = q.where(Case.id.in_(case_ids or ("",)))
    if f.scope == "mine":
        q = q.where(Case.assigned_to == user_id, Case.status.in_(OPEN_STATUSES))
    elif f.scope == "team":  # assigned to me or to a member of one of my teams
        members = sorted(membership(db, user_id).members)
        q = q.where(Case.assigned_to.in_(members), Case.status.in_(OPEN_STATUSES))
    elif f.scope == "unassigned":
        q = q.where(Case.assigned_to.is_(None), Case.status.in_(OPEN_STATUSES))
    elif f.scope == "approvals":
        pending = select(CaseApproval.case_id).where(CaseApproval.outcome.is_(None))
        q = q.where(Case.id.in_(pending))
    if f.status:
        q = q.where(Case.status == f.status)
    if f.pathway:
        q = q.where(Case.pathway == f.pathway)
    if f.risk:
        q = q.where(Case.risk_level == f.risk)
    if f.assignee:
        q = q.where(Case.assigned_to == f.assignee)
    if f.province:
        q = q.where(Case.person_id.in_(select(Record.person_id).where(Record.province_pcode == f.province)))
    return q


def list_queue(db: Session, user_id: str, f: QueueFilter, *, with_names: bool = False,
               case_ids: tuple[str, ...] | None = None) -> list[QueueRow]:
    """One page of the queue under ``f`` (within ``case_ids`` when given: a search's answer)."""
    base = _base(db, user_id, f, case_ids).subquery()
    counts = (select(Record.person_id, func.count(Record.id).label("n"), func.max(Record.province_pcode).label("prov"),
                     func.max(Record.link_reason).label("link"), func.max(Record.channel).label("channel"))
              .group_by(Record.person_id).subquery())
    case = base.c
    order: list[Any] = [case[col].desc() if desc else case[col].asc() for col, desc in SORTS[f.sort]]
    if f.sort == "risk":  # high first, then medium, low, none
        order = [sql_case({r: i for i, r in enumerate(RISKS)}, value=case.risk_level, else_=len(RISKS)),
                 case.updated_at.desc()]
    q = (select(case.id, case.number, case.status, case.opened_at, case.updated_at, case.pathway, case.risk_level,
                counts.c.n, counts.c.prov, counts.c.link, counts.c.channel, User.username)
         .outerjoin(counts, counts.c.person_id == case.person_id)
         .outerjoin(User, User.id == case.assigned_to)
         .order_by(*order).limit(PAGE_SIZE).offset((f.page - 1) * PAGE_SIZE))
    rows = [QueueRow(r.id, case_label(r.number), r.status, r.opened_at, r.updated_at, r.n or 0, r.prov, r.username,
                     r.link, r.channel, r.pathway, r.risk_level) for r in db.execute(q).all()]
    if rows:
        pending = set(db.scalars(select(CaseApproval.case_id).where(
            and_(CaseApproval.case_id.in_([r.case_id for r in rows]), CaseApproval.outcome.is_(None)))))
        for r in rows:
            r.close_requested = r.case_id in pending
    if with_names and rows:
        _attach_names(db, rows)
    return rows


def _attach_names(db: Session, rows: list[QueueRow]) -> None:
    """The display name of each case: its person's first record that has one (decrypted here, in memory)."""
    persons = dict(db.execute(select(Case.id, Case.person_id).where(Case.id.in_([r.case_id for r in rows]))).all())
    names: dict[str, str] = {}
    recs = db.execute(select(Record.person_id, Record.display_name).where(Record.person_id.in_(set(persons.values())))
                      .order_by(Record.created_at)).all()
    for person_id, name in recs:
        if name and person_id not in names:
            names[person_id] = name
    for r in rows:
        r.display_name = names.get(persons.get(r.case_id, ""))


def audit_name_listing(db: Session, actor: Actor, *, view: str, shown: int) -> None:
    """A list that showed names is a read of those names: audited by view and count (as Primero's)."""
    record_event(db, actor, "case:list_names", "case", None, view=view, shown=shown)


def count_cases(db: Session) -> dict[str, int]:
    within = case_scope.case_condition(case_scope.current(db))
    return {s: n for s, n in db.execute(select(Case.status, func.count()).where(within).group_by(Case.status)).all()}


def assignees(db: Session) -> list[tuple[str, str]]:
    """(id, username) of users who hold cases now, for the assignee filter."""
    return [(u, n) for u, n in db.execute(select(User.id, User.username).where(
        User.id.in_(select(Case.assigned_to).where(Case.assigned_to.is_not(None)))).order_by(User.username)).all()]


def pathways_in_use(db: Session) -> list[str]:
    return [p for p in db.scalars(select(Case.pathway).where(Case.pathway.is_not(None)).distinct()) if p]


def province_names(lang: str) -> dict[str, str]:
    """P-code → the province's name in the reader's script (Dari names for Dari and Pashto readers)."""
    return {p.pcode: (p.name_en if lang == "en" else p.name_prs) for p in provinces()}
