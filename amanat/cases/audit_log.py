"""The auditor's view of the log: filter by user, date range, case number and action.

A case number (``C-000042``) stands for everything that belongs to the case: the case itself (status,
notes, attestations, tasks), its person and the people merged into it, its records (creation, reveals),
their documents and the submissions they came from. Events are read as written; nothing here writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from amanat.accounts.models import User
from amanat.cases.models import Case
from amanat.core.audit import AuditEvent
from amanat.errors import InvalidInput
from amanat.records.models import Document, PersonMerge, Record

__all__ = ["AuditFilter", "case_subjects", "parse_case_number", "parse_day", "search_events"]


def N_(message: str) -> str:
    return message


_CASE = re.compile(r"^\s*(?:c\s*-?\s*)?0*(\d{1,9})\s*$", re.IGNORECASE)
_ACTION = re.compile(r"^[a-z_]{1,30}(?::[a-z_]{0,30})?$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


@dataclass(frozen=True)
class AuditFilter:
    username: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive
    case_number: int | None = None
    action: str | None = None  # "record:reveal", or a subject prefix such as "record:" / "record"


def parse_case_number(value: str | None) -> int | None:
    if not value or not value.strip():
        return None
    m = _CASE.match(value)
    if not m or int(m.group(1)) == 0:
        raise InvalidInput(N_("case: write a case number such as C-000042."), field="case")
    return int(m.group(1))


def parse_day(value: str | None, name: str) -> date | None:
    if not value or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        message = N_("from: write the date as YYYY-MM-DD.")
        if name == "to":
            message = N_("to: write the date as YYYY-MM-DD.")
        raise InvalidInput(message, field=name) from None


def make_filter(*, user: str | None, since: str | None, until: str | None, case: str | None,
                action: str | None) -> AuditFilter:
    """Check the filter form's fields; each bad one gets a message that names it."""
    username = (user or "").strip().lower() or None
    if username and not _USERNAME.match(username):
        raise InvalidInput(N_("user: not a username."), field="user")
    act = (action or "").strip().lower() or None
    if act and not _ACTION.match(act):
        raise InvalidInput(N_("action: choose an action from the list."), field="action")
    start, end = parse_day(since, "from"), parse_day(until, "to")
    if start and end and end < start:
        raise InvalidInput(N_("to: the end date is before the start date."), field="to")
    return AuditFilter(username, start, end, parse_case_number(case), act)


def case_subjects(db: Session, number: int) -> tuple[str | None, set[str]]:
    """The case's id and every subject id that belongs to it (empty if there is no such case)."""
    case = db.scalar(select(Case).where(Case.number == number))
    if case is None:
        return None, set()
    persons = {case.person_id}
    persons |= set(db.scalars(select(PersonMerge.from_person).where(PersonMerge.into_person == case.person_id)))
    ids: set[str] = {case.id, *persons}
    records = db.execute(select(Record.id, Record.submission_id).where(Record.person_id.in_(persons))).all()
    ids |= {r for r, _ in records} | {s for _, s in records if s}
    if records:
        ids |= set(db.scalars(select(Document.id).where(Document.record_id.in_([r for r, _ in records]))))
    return case.id, ids


def _conditions(db: Session, flt: AuditFilter) -> list[ColumnElement[bool]] | None:
    """SQL conditions for the filter; None when it can match nothing (an unknown case)."""
    where: list[ColumnElement[bool]] = []
    if flt.username:
        uid = db.scalar(select(User.id).where(User.username == flt.username))
        by_user = [AuditEvent.actor == f"user:{flt.username}"]
        if uid:
            by_user.append(AuditEvent.actor_id == uid)
        # Failed sign-ins carry the username that was tried.
        by_user.append(and_(AuditEvent.action == "session:login_failed",
                            AuditEvent.details.contains(f'"username":"{flt.username}"', autoescape=True)))
        where.append(or_(*by_user))
    if flt.since:
        where.append(AuditEvent.at >= datetime.combine(flt.since, time.min))
    if flt.until:
        where.append(AuditEvent.at < datetime.combine(flt.until + timedelta(days=1), time.min))
    if flt.action:
        if flt.action.endswith(":") or ":" not in flt.action:
            where.append(AuditEvent.action.startswith(flt.action.rstrip(":") + ":", autoescape=True))
        else:
            where.append(AuditEvent.action == flt.action)
    if flt.case_number is not None:
        case_id, ids = case_subjects(db, flt.case_number)
        if case_id is None:
            return None
        # Events about another subject that name the case (a merge names the case merged away).
        where.append(or_(AuditEvent.subject_id.in_(sorted(ids)), AuditEvent.details.contains(case_id)))
    return where


def search_events(db: Session, flt: AuditFilter, *, before: int | None = None,
                  limit: int = 100) -> tuple[list[AuditEvent], int]:
    """The newest matching events (older than ``before``) and how many match in all."""
    where = _conditions(db, flt)
    if where is None:
        return [], 0
    total = db.scalar(select(func.count()).select_from(AuditEvent).where(*where)) or 0
    q = select(AuditEvent).where(*where).order_by(AuditEvent.seq.desc()).limit(limit)
    if before is not None:
        q = q.where(AuditEvent.seq < before)
    return list(db.scalars(q)), total


def known_actions(db: Session) -> list[str]:
    """The action codes the log holds, for the filter's list."""
    return sorted(db.scalars(select(AuditEvent.action).distinct()))


def case_labels(db: Session, ids: Iterable[str | None]) -> dict[str, str]:
    """Case numbers (C-000042) for the case ids among ``ids``: the page names cases as people know them."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    return {cid: f"C-{number:06d}" for cid, number in db.execute(select(Case.id, Case.number)
                                                                  .where(Case.id.in_(wanted))).all()}


def usernames(db: Session, ids: Iterable[str]) -> dict[str, str]:
    """Usernames for the user ids among ``ids`` (an assignee named in an event's details)."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    return dict(db.execute(select(User.id, User.username).where(User.id.in_(wanted))).all())
