"""Tasks and follow-ups on a case (no web)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from amanat.cases import tasks as t
from amanat.cases.verification_models import CaseTask
from amanat.core.audit import AuditEvent
from amanat.core.db import utcnow
from amanat.errors import InvalidInput, NotFound, PermissionDenied
from tests.cases.factories import make_case


def _day(n: int) -> str:
    return (utcnow().date() + timedelta(days=n)).isoformat()


def test_add_complete_reopen_and_list(database, users):
    cw, verifier = users["caseworker"], users["verifier"]
    with database.transaction() as db:
        case = make_case(db)
        later = t.add_task(db, cw.actor, case.id, title="Call the referrer back", assignee_id=verifier.id, due=_day(5))
        soon = t.add_task(db, cw.actor, case.id, title="Ask for the tazkira scan", assignee_id=cw.id, due=_day(1))
        rows = t.list_case_tasks(db, case.id)
        assert [r.id for r in rows] == [soon.id, later.id]
        assert rows[0].assignee == "caseworker" and rows[0].created_by == "caseworker" and not rows[0].overdue
        assert [r.id for r in t.list_user_tasks(db, verifier.id)] == [later.id]
        t.set_task_done(db, verifier.actor, later.id, done=True, may_write=False)  # the assignee may
        assert t.list_user_tasks(db, verifier.id) == []
        assert [r.id for r in t.list_case_tasks(db, case.id)] == [soon.id, later.id]  # done ones last
        with pytest.raises(PermissionDenied):  # not the assignee, may not write cases
            t.set_task_done(db, verifier.actor, soon.id, done=True, may_write=False)
        with pytest.raises(InvalidInput):
            t.set_task_done(db, cw.actor, later.id, done=True, may_write=True)
        t.set_task_done(db, cw.actor, later.id, done=False, may_write=True)
        actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
        assert actions[-4:] == ["task:create", "task:create", "task:done", "task:reopen"]
        raw = db.execute(text("SELECT title FROM case_tasks WHERE id = :id"), {"id": soon.id}).scalar_one()
        assert b"tazkira" not in bytes(raw)


def test_overdue_lists_open_tasks_past_their_date(database, users):
    cw = users["caseworker"]
    with database.transaction() as db:
        case = make_case(db)
        late = t.add_task(db, cw.actor, case.id, title="Follow up", assignee_id=cw.id, due=_day(1))
        done = t.add_task(db, cw.actor, case.id, title="Done already", assignee_id=cw.id, due=_day(1))
        t.add_task(db, cw.actor, case.id, title="Not yet", assignee_id=None, due=_day(3))
        for task in (late, done):
            db.get(CaseTask, task.id).due_on = utcnow().date() - timedelta(days=2)
        t.set_task_done(db, cw.actor, done.id, done=True, may_write=True)
        overdue = t.list_overdue(db)
        assert [r.id for r in overdue] == [late.id] and overdue[0].overdue


@pytest.mark.parametrize("kwargs,field", [
    ({"title": "  "}, "title"), ({"title": "x" * 301}, "title"), ({"due": "next week"}, "due"),
    ({"due": "2001-01-01"}, "due"), ({"due": "2099-01-01"}, "due"), ({"assignee_id": "nobody"}, "assignee"),
])
def test_bad_task_input_names_the_field(database, users, kwargs, field):
    with database.transaction() as db:
        case = make_case(db)
        args = {"title": "Call back", "assignee_id": None, "due": None, **kwargs}
        with pytest.raises(InvalidInput) as err:
            t.add_task(db, users["caseworker"].actor, case.id, **args)
        assert err.value.field == field


def test_tasks_go_only_to_people_who_work_on_cases(database, users):
    with database.transaction() as db:
        case = make_case(db)
        names = [name for _, name in t.assignable_users(db)]
        assert names == ["caseworker", "verifier"]
        with pytest.raises(InvalidInput):
            t.add_task(db, users["caseworker"].actor, case.id, title="x", assignee_id=users["auditor"].id, due=None)
        with pytest.raises(NotFound):
            t.set_task_done(db, users["caseworker"].actor, "missing", done=True, may_write=True)
