"""Sign in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from amanat.accounts.login import WRONG
from amanat.accounts.service import CurrentUser
from amanat.errors import NotAuthenticated
from amanat.web.deps import DB, Lang, MaybeUser, csrf_cookie, session_cookie, session_token
from amanat.web.render import render

router = APIRouter()


def _safe_next(value: str | None) -> str:
    # Only local paths: an open redirect would let a phishing link borrow our login page.
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/home"  # each role's own start page (routes/home.py)


def _login_page(request: Request, next_path: str, error: str | None, status: int = 200) -> HTMLResponse:
    settings = request.app.state.settings
    return render(request, "auth/login.html", {"next": _safe_next(next_path), "error": error,
                                               "totp_off": not settings.totp_required}, status=status)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, lang: Lang, user: MaybeUser, next: str = "/home") -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _login_page(request, next, None)


def _sign_in(request: Request, username: str, password: str, otp: str) -> tuple[CurrentUser, str]:
    """The three steps of accounts.login, each in its own transaction (argon2 in none of them)."""
    accounts = request.app.state.accounts
    database = request.app.state.database
    client = request.client.host if request.client else "unknown"  # proxy-aware: see security.TrustedProxies
    with database.reading() as db:
        attempt = accounts.prepare_login(db, username, client, otp)
    checked = accounts.verify_login(attempt, password)
    with database.transaction() as db:
        user = accounts.finish_login(db, checked, otp)
        token = accounts.start_session(db, user, client=client, user_agent=request.headers.get("user-agent", "")
                                       ) if user else ""
    if user is None:  # the failure is committed above: it counts toward throttling and is audited
        raise NotAuthenticated(WRONG)
    return user, token


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, lang: Lang, username: Annotated[str, Form(max_length=200)] = "",
                password: Annotated[str, Form(max_length=1000)] = "", otp: Annotated[str, Form(max_length=20)] = "",
                next: Annotated[str, Form(max_length=500)] = "/home") -> Response:
    try:
        user, token = await run_in_threadpool(_sign_in, request, username, password, otp)
    except NotAuthenticated as exc:
        return _login_page(request, next, exc.public_message, status=401)
    if user.must_change_password:
        target = "/account/password"
    elif user.needs_totp:
        target = "/account/two-factor"
    else:
        target = _safe_next(next)
    response = RedirectResponse(target, status_code=303)
    settings = request.app.state.settings
    response.set_cookie(session_cookie(request), token, httponly=True, samesite="lax", secure=settings.https,
                        path="/", max_age=settings.session_hours * 3600)
    # a fresh CSRF token, bound to the new session
    response.delete_cookie(csrf_cookie(request), path="/", secure=settings.https)
    return response


@router.post("/logout")
def logout(request: Request, db: DB, user: MaybeUser) -> Response:
    request.app.state.accounts.end_session(db, session_token(request), user)
    db.commit()
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(session_cookie(request), path="/", secure=request.app.state.settings.https)
    response.delete_cookie(csrf_cookie(request), path="/", secure=request.app.state.settings.https)
    return response
