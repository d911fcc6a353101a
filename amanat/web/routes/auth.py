"""Sign in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from amanat.errors import NotAuthenticated
from amanat.web.deps import CSRF_COOKIE, DB, SESSION_COOKIE, Lang, MaybeUser
from amanat.web.render import render

router = APIRouter()


def _safe_next(value: str | None) -> str:
    # Only local paths: an open redirect would let a phishing link borrow our login page.
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/cases"


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, lang: Lang, user: MaybeUser, next: str = "/cases") -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "auth/login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, db: DB, lang: Lang, username: Annotated[str, Form(max_length=200)] = "",
          password: Annotated[str, Form(max_length=1000)] = "", otp: Annotated[str, Form(max_length=12)] = "",
          next: Annotated[str, Form(max_length=500)] = "/cases") -> Response:
    accounts = request.app.state.accounts
    client = request.client.host if request.client else "unknown"
    try:
        user = accounts.authenticate(db, username, password, otp, client=client)
    except NotAuthenticated as exc:
        db.commit()  # the failure counts toward throttling and is audited
        return render(request, "auth/login.html", {"next": _safe_next(next), "error": exc.public_message},
                      status=401)
    token = accounts.start_session(db, user)
    db.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    settings = request.app.state.settings
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", secure=settings.https, path="/",
                        max_age=settings.session_hours * 3600)
    response.delete_cookie(CSRF_COOKIE, path="/")  # a fresh CSRF token for the new session
    return response


@router.post("/logout")
def logout(request: Request, db: DB, user: MaybeUser) -> Response:
    request.app.state.accounts.end_session(db, request.cookies.get(SESSION_COOKIE), user)
    db.commit()
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response
