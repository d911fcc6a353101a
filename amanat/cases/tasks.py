"""Tasks and follow-ups on a case: what needs doing, by whom, by when.

A task's title can name a person or a place, so it is encrypted; its due date, assignee and state are
not. A task is done or reopened by its assignee or by anyone who may change cases. "Overdue" means open
with a due date before today (UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from amanat.accounts.models import User
from amanat.cases.models import Case
from amanat.cases.scope import case_condition, current
from amanat.cases.service import case_label, get_case
from amanat.cases.verification_models import CaseTask
from amanat.core.audit import Actor, record_event
from amanat.core.db import utcnow
from amanat.core.permissions import Permission, has_permission
from amanat.errors import InvalidInput, NotFound, PermissionDenied

__all__ = ["TaskRow", "add_task", "assignable_users", "list_case_tasks", "list_overdue", "list_user_tasks",
           "parse_due", "set_task_done"]
MAX_TITLE = 300
MAX_DAYS_AHEAD = 3 * 366


def N_(message: str) -> str:
    """Marks an error message for the catalogs; the error page translates it."""
    return message


@dataclass(frozen=True)
class TaskRow:
    id: str
    case_id: str
    case_label: str
    title: str
    assignee_id: str | None
    assignee: str | None
    due_on: date | None
    done_at: datetime | None
    created_by: str | None
    overdue: bool


def _today() -> date:
    return utcnow().date()


def parse_due(value: str | None) -> date | None:
    """A due date as the date picker sends it (YYYY-MM-DD); empty means none."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        due = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(N_("due: write the date as YYYY-MM-DD."), field="due") from None
    if due < _today():
        raise InvalidInput(N_("due: the date is in the past."), field="due")
    if (due - _today()).days > MAX_DAYS_AHEAD:
        raise InvalidInput(N_("due: at most three years ahead."), field="due")
    return due


def assignable_users(db: Session) -> list[tuple[str, str]]:
    """(id, username) of enabled users who can read cases: the people a task can be given to."""
    rows = db.execute(select(User.id, User.username, User.role).where(User.disabled.is_(False))
                      .order_by(User.username)).all()
    return [(uid, name) for uid, name, role in rows if has_permission(role, Permission.CASE_READ)]


def add_task(db: Session, actor: Actor, case_id: str, *, title: str, assignee_id: str | None,
             due: str | None) -> CaseTask:
    title = " ".join(title.split())
    if not title:
        raise InvalidInput(N_("task: say what needs doing."), field="title")
    if len(title) > MAX_TITLE:
        raise InvalidInput(N_("task: at most 300 characters."), field="title")
    due_on = parse_due(due)
    if assignee_id:
        user = db.get(User, assignee_id)
        if user is None or user.disabled or not has_permission(user.role, Permission.CASE_READ):
            raise InvalidInput(N_("assignee: choose a colleague who works on cases."), field="assignee")
    case = get_case(db, case_id)
    task = CaseTask(case_id=case.id, title=title, assignee_id=assignee_id or None, due_on=due_on,
                    created_by=actor.user_id)
    db.add(task)
    case.updated_at = utcnow()
    db.flush()
    record_event(db, actor, "task:create", "case", case.id, task=task.id, assignee=assignee_id or None,
                 due=due_on.isoformat() if due_on else None)
    return task


def set_task_done(db: Session, actor: Actor, task_id: str, *, done: bool, may_write: bool) -> CaseTask:
    """Mark a task done (or reopen it). Its assignee may; so may anyone who may change cases."""
    task = db.get(CaseTask, task_id)
    if task is None:
        raise NotFound(N_("No such task."))
    if not may_write and (actor.user_id is None or actor.user_id != task.assignee_id):
        raise PermissionDenied(N_("Only the task's assignee or a caseworker can change it."))
    if actor.user_id != task.assignee_id:
        get_case(db, task.case_id)  # anyone else: only on a case within their case scope (scope.py)
    if done == (task.done_at is not None):
        raise InvalidInput(N_("task: already done.") if done else N_("task: already open."), field="task")
    task.done_at, task.done_by = (utcnow(), actor.user_id) if done else (None, None)
    record_event(db, actor, "task:done" if done else "task:reopen", "case", task.case_id, task=task.id)
    return task


def _rows(db: Session, q: Select[tuple[CaseTask, int, str | None, str | None]]) -> list[TaskRow]:
    today = _today()
    return [TaskRow(t.id, t.case_id, case_label(number), t.title, t.assignee_id, assignee, t.due_on, t.done_at, creator,
                    t.done_at is None and t.due_on is not None and t.due_on < today)
            for t, number, assignee, creator in db.execute(q).all()]


def _query() -> Select[tuple[CaseTask, int, str | None, str | None]]:
    assignee, creator = aliased(User), aliased(User)
    return (select(CaseTask, Case.number, assignee.username, creator.username)
            .join(Case, Case.id == CaseTask.case_id)
            .outerjoin(assignee, assignee.id == CaseTask.assignee_id)
            .outerjoin(creator, creator.id == CaseTask.created_by))


def list_case_tasks(db: Session, case_id: str) -> list[TaskRow]:
    """Open tasks first (soonest due first), then done ones (latest first)."""
    rows = _rows(db, _query().where(CaseTask.case_id == case_id))
    return sorted(rows, key=lambda r: (r.done_at is not None, r.due_on or date.max,
                                       -(r.done_at.timestamp() if r.done_at else 0)))


def list_user_tasks(db: Session, user_id: str, *, limit: int = 200) -> list[TaskRow]:
    q = _query().where(CaseTask.assignee_id == user_id, CaseTask.done_at.is_(None))
    q = q.order_by(CaseTask.due_on.is_(None), CaseTask.due_on, CaseTask.created_at).limit(limit)
    return _rows(db, q)


def list_overdue(db: Session, *, limit: int = 200) -> list[TaskRow]:
    q = _query().where(CaseTask.done_at.is_(None), CaseTask.due_on < _today(), case_condition(current(db)))
    return _rows(db, q.order_by(CaseTask.due_on, CaseTask.created_at).limit(limit))


def tasks_context(db: Session, case_id: str, *, can_write: bool, user_id: str | None) -> dict[str, object]:
    """What the case page's tasks section shows."""
    return {"tasks": list_case_tasks(db, case_id), "can_add_task": can_write,
            "task_assignees": assignable_users(db) if can_write else [], "task_user_id": user_id,
            "min_due": _today().isoformat()}
