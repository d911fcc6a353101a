"""Administration: users, roles, resets, sessions, and the requests that wait for a second admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from amanat.accounts import user_admin
from amanat.accounts.service import CurrentUser
from amanat.core.permissions import Permission, Role
from amanat.errors import AmanatError
from amanat.web.deps import DB, Lang, require
from amanat.web.render import render

router = APIRouter()
Admin = Annotated[CurrentUser, Depends(require(Permission.USER_MANAGE))]


def _page(request: Request, db: DB, error: str | None = None, created: str | None = None,
          notice: str | None = None, one_time: tuple[str, str] | None = None, status: int = 200) -> HTMLResponse:
    return render(request, "admin/users.html", {
        "users": request.app.state.accounts.list_users(db), "roles": [r.value for r in Role],
        "guarded_roles": [r.value for r in Role if user_admin.needs_second_admin(r.value)],
        "pending": user_admin.list_pending(db), "error": error, "created": created, "notice": notice,
        "one_time": one_time}, status=status)


def _act(request: Request, db: DB, action, *, notice: str, username: str = "") -> HTMLResponse:  # type: ignore[no-untyped-def]
    """Run one service call; commit and show what happened, or roll back and show why not."""
    try:
        outcome = action()
    except AmanatError as exc:
        db.rollback()
        return _page(request, db, error=exc.public_message, status=exc.status)
    db.commit()
    if isinstance(outcome, user_admin.Outcome):
        if not outcome.applied:
            return _page(request, db, notice="Requested: a second admin must approve this.", status=202)
        if outcome.one_time_password:
            return _page(request, db, notice=notice, one_time=(username, outcome.one_time_password))
    return _page(request, db, notice=notice)


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, db: DB, lang: Lang, user: Admin) -> HTMLResponse:
    return _page(request, db)


@router.post("/admin/users", response_class=HTMLResponse)
def add_user(request: Request, db: DB, lang: Lang, user: Admin, username: Annotated[str, Form(max_length=80)],
             password: Annotated[str, Form(max_length=1000)], role: Annotated[str, Form(max_length=20)],
             display_name: Annotated[str, Form(max_length=120)] = "") -> Response:
    try:
        outcome = user_admin.create_account(db, request.app.state.accounts, user.actor, user.id, username=username,
                                            password=password, role=role, display_name=display_name)
    except AmanatError as exc:
        db.rollback()
        return _page(request, db, error=exc.public_message, status=exc.status)
    db.commit()
    if not outcome.applied:
        return _page(request, db, created=username.strip().lower(),
                     notice="Requested: a second admin must approve this.", status=201)
    return _page(request, db, created=username.strip().lower(), status=201)


@router.post("/admin/users/{username}/disable", response_class=HTMLResponse)
def disable_user(request: Request, db: DB, lang: Lang, user: Admin, username: str) -> Response:
    if username.strip().lower() == user.username:
        return _page(request, db, error="You cannot disable your own account.", status=403)
    request.app.state.accounts.set_disabled(db, user.actor, username, True)
    db.commit()
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}/enable", response_class=HTMLResponse)
def enable_user(request: Request, db: DB, lang: Lang, user: Admin, username: str) -> HTMLResponse:
    return _act(request, db, lambda: user_admin.enable(db, user.actor, username), notice="Account enabled.")


@router.post("/admin/users/{username}/role", response_class=HTMLResponse)
def change_role(request: Request, db: DB, lang: Lang, user: Admin, username: str,
                role: Annotated[str, Form(max_length=20)] = "") -> HTMLResponse:
    return _act(request, db, lambda: user_admin.request_role(db, user.actor, user.id, username, role),
                notice="Role changed.")


@router.post("/admin/users/{username}/reset", response_class=HTMLResponse)
def reset_password(request: Request, db: DB, lang: Lang, user: Admin, username: str) -> HTMLResponse:
    hasher = request.app.state.accounts.hasher
    return _act(request, db, lambda: user_admin.reset_password(db, hasher, user.actor, user.id, username),
                notice="Password reset.", username=username)


@router.post("/admin/users/{username}/sessions/revoke", response_class=HTMLResponse)
def revoke_sessions(request: Request, db: DB, lang: Lang, user: Admin, username: str) -> HTMLResponse:
    return _act(request, db, lambda: user_admin.revoke_sessions(db, user.actor, username),
                notice="The account's sessions were ended.")


@router.post("/admin/requests/{request_id}/approve", response_class=HTMLResponse)
def approve_request(request: Request, db: DB, lang: Lang, user: Admin, request_id: str) -> HTMLResponse:
    hasher = request.app.state.accounts.hasher
    pending = {p.id: p.username for p in user_admin.list_pending(db)}
    return _act(request, db, lambda: user_admin.approve(db, hasher, user.actor, user.id, request_id),
                notice="Approved.", username=pending.get(request_id, ""))


@router.post("/admin/requests/{request_id}/refuse", response_class=HTMLResponse)
def refuse_request(request: Request, db: DB, lang: Lang, user: Admin, request_id: str) -> HTMLResponse:
    return _act(request, db, lambda: user_admin.refuse(db, user.actor, user.id, request_id), notice="Refused.")
