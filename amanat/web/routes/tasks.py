"""Tasks and follow-ups: add one to a case, mark it done or reopen it, and the "my tasks" page with the
overdue list."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from amanat.accounts.service import CurrentUser
from amanat.cases import tasks as case_tasks
from amanat.core.permissions import Permission
from amanat.web.deps import DB, Lang, require
from amanat.web.render import render

router = APIRouter()
CaseReader = Annotated[CurrentUser, Depends(require(Permission.CASE_READ))]
CaseWriter = Annotated[CurrentUser, Depends(require(Permission.CASE_WRITE))]


@router.get("/tasks", response_class=HTMLResponse)
def my_tasks(request: Request, db: DB, lang: Lang, user: CaseReader) -> HTMLResponse:
    return render(request, "tasks/mine.html", {"mine": case_tasks.list_user_tasks(db, user.id),
                                               "overdue": case_tasks.list_overdue(db), "me": user.id,
                                               "can_write": user.can(Permission.CASE_WRITE)})


@router.post("/cases/{case_id}/tasks")
def add_task(request: Request, db: DB, lang: Lang, user: CaseWriter, case_id: str,
             title: Annotated[str, Form(max_length=1000)] = "", assignee: Annotated[str, Form(max_length=40)] = "",
             due: Annotated[str, Form(max_length=20)] = "") -> Response:
    case_tasks.add_task(db, user.actor, case_id, title=title, assignee_id=assignee or None, due=due)
    db.commit()
    return RedirectResponse(f"/cases/{quote(case_id)}#tasks", status_code=303)


def _set_done(request: Request, db: DB, user: CurrentUser, task_id: str, done: bool, back: str) -> Response:
    task = case_tasks.set_task_done(db, user.actor, task_id, done=done, may_write=user.can(Permission.CASE_WRITE))
    case_id = task.case_id
    db.commit()
    target = "/tasks" if back == "tasks" else f"/cases/{quote(case_id)}#tasks"
    return RedirectResponse(target, status_code=303)


@router.post("/tasks/{task_id}/done")
def task_done(request: Request, db: DB, lang: Lang, user: CaseReader, task_id: str,
              back: Annotated[str, Form(max_length=10)] = "") -> Response:
    return _set_done(request, db, user, task_id, True, back)


@router.post("/tasks/{task_id}/reopen")
def task_reopen(request: Request, db: DB, lang: Lang, user: CaseReader, task_id: str,
                back: Annotated[str, Form(max_length=10)] = "") -> Response:
    return _set_done(request, db, user, task_id, False, back)
