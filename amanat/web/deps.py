"""Request dependencies: the database session, the signed-in user, permissions and CSRF."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from amanat.accounts.service import CurrentUser
from amanat.core.crypto import constant_time_equal
from amanat.core.permissions import Permission
from amanat.errors import NotAuthenticated, PermissionDenied
from amanat.web.i18n import LANGUAGES, Language, from_accept_language, resolve_language
from amanat.web.multipart import read_form

SESSION_COOKIE = "amanat_session"
CSRF_COOKIE = "amanat_csrf"
LANG_COOKIE = "amanat_lang"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
FORM_MAX_FILES = 20
FORM_MAX_FIELDS = 400
FORM_MAX_PART = 64 * 1024  # one text field; files are limited by size elsewhere


def get_db(request: Request) -> Iterator[Session]:
    """One session per request. Writes begin IMMEDIATE on SQLite; the route commits, never a helper."""
    database = request.app.state.database
    session = database.read_session() if request.method in SAFE_METHODS else database.write_session()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


DB = Annotated[Session, Depends(get_db)]


def _session_user(request: Request, token: str) -> CurrentUser | None:
    with request.app.state.database.reading() as db:
        user: CurrentUser | None = request.app.state.accounts.session_user(db, token)
        return user


async def optional_user(request: Request) -> CurrentUser | None:
    """Who is signed in. Looked up in its own read transaction: on SQLite a write request's session holds the
    write lock from its first statement, and a route that then writes through a job transaction would wait
    on itself. Async, so a request without a session cookie (public intake) costs no thread hop."""
    token = request.cookies.get(SESSION_COOKIE)
    user = await run_in_threadpool(_session_user, request, token) if token else None
    request.state.user = user
    return user


MaybeUser = Annotated[CurrentUser | None, Depends(optional_user)]


async def current_user(user: MaybeUser) -> CurrentUser:
    if user is None:
        raise NotAuthenticated("Please sign in.")
    return user


User = Annotated[CurrentUser, Depends(current_user)]


def require(permission: Permission) -> Callable[..., CurrentUser]:
    """A dependency that admits only users whose role holds ``permission``."""

    async def check(user: User) -> CurrentUser:
        if not user.can(permission):
            raise PermissionDenied("Your role does not allow this.")
        return user

    check.permission = permission  # type: ignore[attr-defined]  # read by the route-walking test
    return check


async def language(request: Request) -> Language:  # async: pure, so no thread hop
    lang = resolve_language(request.query_params.get("lang")) or resolve_language(request.cookies.get(LANG_COOKIE))
    lang = lang or from_accept_language(request.headers.get("accept-language"))
    request.state.lang = lang
    return lang


Lang = Annotated[Language, Depends(language)]


def csrf_token(request: Request) -> str:
    """The double-submit token: a random cookie that every unsafe form must echo back."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token or len(token) > 64:
        token = getattr(request.state, "new_csrf", None) or secrets.token_urlsafe(24)
        request.state.new_csrf = token  # the response middleware sets the cookie
    return token


async def parse_form(request: Request) -> FormData:
    """The request's form with our limits. The first parse is the one the request keeps (later
    ``request.form()`` calls get it), so every form's limits are the ones set here."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await read_form(request, max_files=FORM_MAX_FILES, max_fields=FORM_MAX_FIELDS,
                               max_part_size=FORM_MAX_PART)
    return await request.form(max_files=FORM_MAX_FILES, max_fields=FORM_MAX_FIELDS, max_part_size=FORM_MAX_PART)


async def verify_csrf(request: Request) -> None:
    """Applied to every route. Unsafe methods need the token unless the route opts out (OpenRosa)."""
    if request.method in SAFE_METHODS:
        return
    if getattr(request.scope.get("endpoint"), "csrf_exempt", False):
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get("x-csrf-token", "")
    if not sent and request.headers.get("content-type", "").startswith(("multipart/form-data",
                                                                       "application/x-www-form-urlencoded")):
        form = await parse_form(request)
        value: Any = form.get("csrf_token", "")
        sent = value if isinstance(value, str) else ""
    if not cookie or not sent or not constant_time_equal(cookie, sent):
        raise PermissionDenied("This form has expired or was sent from another site. Reload the page and try again.",
                               code="csrf_failed")


def csrf_exempt(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an endpoint that authenticates every request itself (Digest auth) and sets no cookies."""
    endpoint.csrf_exempt = True  # type: ignore[attr-defined]
    return endpoint


__all__ = ["DB", "LANGUAGES", "Lang", "MaybeUser", "User", "csrf_exempt", "csrf_token", "parse_form", "require",
           "verify_csrf"]
