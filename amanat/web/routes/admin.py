"""Administration: users and roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from amanat.accounts.service import CurrentUser
from amanat.core.permissions import Permission, Role
from amanat.errors import AmanatError
from amanat.web.deps import DB, Lang, require
from amanat.web.render import render

router = APIRouter()
Admin = Annotated[CurrentUser, Depends(require(Permission.USER_MANAGE))]


def _page(request: Request, db: DB, error: str | None = None, created: str | None = None,
          status: int = 200) -> HTMLResponse:
    return render(request, "admin/users.html", {"users": request.app.state.accounts.list_users(db),
                                                "roles": [r.value for r in Role], "error": error,
                                                "created": created}, status=status)


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, db: DB, lang: Lang, user: Admin) -> HTMLResponse:
    return _page(request, db)


@router.post("/admin/users", response_class=HTMLResponse)
def add_user(request: Request, db: DB, lang: Lang, user: Admin, username: Annotated[str, Form(max_length=80)],
             password: Annotated[str, Form(max_length=1000)], role: Annotated[str, Form(max_length=20)],
             display_name: Annotated[str, Form(max_length=120)] = "") -> Response:
    try:
        created, _uri = request.app.state.accounts.create_user(db, user.actor, username=username, password=password,
                                                               role=role, display_name=display_name)
    except AmanatError as exc:
        return _page(request, db, error=exc.public_message, status=exc.status)
    db.commit()
    return _page(request, db, created=created.username, status=201)


@router.post("/admin/users/{username}/disable")
def disable_user(request: Request, db: DB, user: Admin, username: str) -> Response:
    request.app.state.accounts.set_disabled(db, user.actor, username, True)
    db.commit()
    return RedirectResponse("/admin/users", status_code=303)
