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
from amanat.cases import scope as case_scope
from amanat.core.crypto import constant_time_equal, hmac_sign
from amanat.core.permissions import Permission
from amanat.errors import AmanatError, NotAuthenticated, PermissionDenied
from amanat.web.i18n import LANGUAGES, Language, from_accept_language, resolve_language
from amanat.web.multipart import read_form

SESSION_COOKIE = "amanat_session"
CSRF_COOKIE = "amanat_csrf"
# Over HTTPS the cookies take the __Host- prefix: the browser then accepts them only with Secure, Path=/ and no
# Domain, so a sibling subdomain cannot plant a session or CSRF cookie for us.
HOST_PREFIX = "__Host-"
LANG_COOKIE = "amanat_lang"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
FORM_MAX_FILES = 20
FORM_MAX_FIELDS = 400
FORM_MAX_PART = 64 * 1024  # one text field; files are limited by size elsewhere


def get_db(request: Request) -> Iterator[Session]:
    """One session per request. Writes begin IMMEDIATE on SQLite; the route commits, never a helper. The
    session carries the signed-in user's case scope (cases/scope.py), worked out when a case is first loaded."""
    database = request.app.state.database
    session = database.read_session() if request.method in SAFE_METHODS else database.write_session()
    case_scope.bind(session, lambda: _case_scope(request, session))
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def _case_scope(request: Request, session: Session) -> case_scope.CaseScope:
    user: CurrentUser | None = getattr(request.state, "user", None)
    setting = request.app.state.settings.case_scope
    if user is None:  # no one signed in: such routes load no case; if one did, it would see none under "team"
        return case_scope.EVERY_CASE if setting == "all" else case_scope.CaseScope(limited=True)
    return case_scope.scope_for(session, case_scope=setting, user_id=user.id, role=user.role)


DB = Annotated[Session, Depends(get_db)]


def session_cookie(request: Request) -> str:
    return HOST_PREFIX + SESSION_COOKIE if request.app.state.settings.https else SESSION_COOKIE


def csrf_cookie(request: Request) -> str:
    return HOST_PREFIX + CSRF_COOKIE if request.app.state.settings.https else CSRF_COOKIE


def session_token(request: Request) -> str | None:
    return request.cookies.get(session_cookie(request))


def _session_user(request: Request, token: str) -> CurrentUser | None:
    database = request.app.state.database
    with database.reading() as db:
        found = request.app.state.accounts.session_lookup(db, token)
    if found is None:
        return None
    user, stale = found
    if stale:  # the idle clock: written at most once a minute per session, in its own short transaction
        from amanat.accounts import sessions

        with database.transaction() as db:
            sessions.touch(db, token)
    return user


async def optional_user(request: Request) -> CurrentUser | None:
    """Who is signed in. Looked up in its own read transaction: on SQLite a write request's session holds the
    write lock from its first statement, and a route that then writes through a job transaction would wait
    on itself. Async, so a request without a session cookie (public intake) costs no thread hop."""
    token = session_token(request)
    user = await run_in_threadpool(_session_user, request, token) if token else None
    request.state.user = user
    return user


MaybeUser = Annotated[CurrentUser | None, Depends(optional_user)]


class StepRequired(AmanatError):
    """Signed in, but a step comes first (choose a password, set up the authenticator): the edge redirects."""

    code = "step_required"
    status = 403

    def __init__(self, public_message: str, *, location: str) -> None:
        super().__init__(public_message)
        self.location = location


RESTRICTED_PATHS = ("/account", "/logout")  # all a restricted sign-in reaches


async def current_user(request: Request, user: MaybeUser) -> CurrentUser:
    if user is None:
        raise NotAuthenticated("Please sign in.")
    if user.restricted and not request.url.path.startswith(RESTRICTED_PATHS):
        if user.must_change_password:
            raise StepRequired("Choose a new password first.", location="/account/password")
        raise StepRequired("Set up your authenticator first.", location="/account/two-factor")
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


def _bound_token(request: Request, session: str) -> str:
    secret = request.app.state.settings.secret_key.get_secret_value()
    return hmac_sign(secret, f"csrf:{session}")[:43]


def csrf_token(request: Request) -> str:
    """The token every unsafe form must send. With a session cookie it is an HMAC of the session token, so it
    is bound to that sign-in and a token from another session (or one planted in a cookie) is refused;
    before sign-in (intake, the login form) it is a random double-submit cookie. Either way the response
    middleware keeps the cookie equal to it, for scripts that read it."""
    session = session_token(request)
    if session:
        token = _bound_token(request, session)
    else:
        token = request.cookies.get(csrf_cookie(request)) or ""
        if not token or len(token) > 64:
            token = getattr(request.state, "new_csrf", None) or secrets.token_urlsafe(24)
    if request.cookies.get(csrf_cookie(request)) != token:
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
    _check_origin(request)
    session = session_token(request)
    expected = _bound_token(request, session) if session else request.cookies.get(csrf_cookie(request), "")
    sent = request.headers.get("x-csrf-token", "")
    if not sent and request.headers.get("content-type", "").startswith(("multipart/form-data",
                                                                       "application/x-www-form-urlencoded")):
        form = await parse_form(request)
        value: Any = form.get("csrf_token", "")
        sent = value if isinstance(value, str) else ""
    if not expected or not sent or not constant_time_equal(expected, sent):
        raise PermissionDenied("This form has expired or was sent from another site. Reload the page and try again.",
                               code="csrf_failed")


def _origin_of(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else "null"


def _check_origin(request: Request) -> None:
    """A browser names the page a form came from (Origin, or Referer where Origin is not sent): it must be this
    site. Clients that send neither (scripts, ODK tools) still need the token."""
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if not referer:
            return
        origin = _origin_of(referer)
    own = request.app.state.settings.public_origin or f"{request.url.scheme}://{request.url.netloc}"
    if origin.strip().lower() != own.lower():
        raise PermissionDenied("This form was sent from another site. Reload the page and try again.",
                               code="csrf_failed")


def csrf_exempt(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an endpoint that authenticates every request itself (Digest auth) and sets no cookies."""
    endpoint.csrf_exempt = True  # type: ignore[attr-defined]
    return endpoint


__all__ = ["DB", "LANGUAGES", "Lang", "MaybeUser", "StepRequired", "User", "csrf_cookie", "csrf_exempt", "csrf_token",
           "parse_form", "require", "session_cookie", "session_token", "verify_csrf"]
