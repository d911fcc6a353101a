"""The signed-in user's own account: password, authenticator (QR enrolment, recovery codes), sessions.

A sign-in that must first choose a password or set up the authenticator reaches only these pages
(deps.current_user sends it here)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from amanat.accounts import sessions, totp, user_admin
from amanat.errors import AmanatError, TooManyRequests
from amanat.web.deps import DB, Lang, User, session_token
from amanat.web.render import render

router = APIRouter()


def _page(request: Request, db: DB, user: User, *, error: str | None = None, notice: str | None = None,
          status: int = 200) -> HTMLResponse:
    accounts = request.app.state.accounts
    has_totp = totp.enabled(db, user.id)
    return render(request, "account/index.html", {
        "sessions": sessions.list_for(db, user.id, session_token(request)), "has_totp": has_totp,
        "recovery_left": totp.recovery_codes_left(db, user.id) if has_totp else 0,
        "totp_required": accounts.totp_required, "error": error, "notice": notice}, status=status)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, db: DB, lang: Lang, user: User) -> HTMLResponse:
    return _page(request, db, user)


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, db: DB, lang: Lang, user: User) -> HTMLResponse:
    return _page(request, db, user)


# The password fields default to empty (then refused, as too short), never to a password.
@router.post("/account/password", response_class=HTMLResponse)
def change_password(request: Request, db: DB, lang: Lang, user: User,  # nosec B107
                    current_password: Annotated[str, Form(max_length=1000)] = "",
                    password: Annotated[str, Form(max_length=1000)] = "",
                    confirm: Annotated[str, Form(max_length=1000)] = "") -> Response:
    if password != confirm:
        return _page(request, db, user, error="The two new passwords differ.", status=422)
    accounts = request.app.state.accounts
    try:
        user_admin.change_own_password(db, accounts.hasher, user.actor, user.id, current_password, password,
                                       keep_token=session_token(request), policy=accounts.policy,
                                       client=request.client.host if request.client else "unknown")
    except TooManyRequests:
        raise
    except AmanatError as exc:
        if exc.field == "current_password":
            db.commit()  # the wrong guess stays counted in the throttle
        else:
            db.rollback()
        return _page(request, db, user, error=exc.public_message, status=exc.status)
    db.commit()
    if user.needs_totp:
        return RedirectResponse("/account/two-factor", status_code=303)
    return RedirectResponse("/account?changed=password", status_code=303)


@router.get("/account/two-factor", response_class=HTMLResponse)
def two_factor(request: Request, db: DB, lang: Lang, user: User) -> Response:
    if totp.enabled(db, user.id):
        return RedirectResponse("/account", status_code=303)
    pending = totp.pending_uri(db, user.id)
    return render(request, "account/two_factor.html", {
        "qr": totp.qr_svg(pending[0]) if pending else None, "secret": pending[1] if pending else None,
        "required": request.app.state.accounts.totp_required, "codes": None, "error": None})


@router.post("/account/two-factor/start")
def start_two_factor(request: Request, db: DB, user: User) -> Response:
    totp.begin_enrolment(db, user.id)
    db.commit()
    return RedirectResponse("/account/two-factor", status_code=303)


@router.post("/account/two-factor/confirm", response_class=HTMLResponse)
def confirm_two_factor(request: Request, db: DB, lang: Lang, user: User,
                       code: Annotated[str, Form(max_length=20)] = "") -> HTMLResponse:
    try:
        codes = totp.confirm_enrolment(db, user.actor, user.id, code)
    except AmanatError as exc:
        db.rollback()
        pending = totp.pending_uri(db, user.id)
        return render(request, "account/two_factor.html", {
            "qr": totp.qr_svg(pending[0]) if pending else None, "secret": pending[1] if pending else None,
            "required": request.app.state.accounts.totp_required, "codes": None, "error": exc.public_message},
            status=exc.status)
    db.commit()
    # "secret" is the authenticator key being enrolled, None here: no password in it.
    return render(request, "account/two_factor.html", {"qr": None, "secret": None, "codes": codes, "error": None,  # nosec B105
                                                       "required": request.app.state.accounts.totp_required})


@router.post("/account/two-factor/recovery-codes", response_class=HTMLResponse)
def new_recovery_codes(request: Request, db: DB, lang: Lang, user: User,
                       code: Annotated[str, Form(max_length=20)] = "") -> HTMLResponse:
    try:
        codes = totp.regenerate_recovery_codes(db, user.actor, user.id, code)
    except AmanatError as exc:
        db.rollback()
        return _page(request, db, user, error=exc.public_message, status=exc.status)
    db.commit()
    # "secret" is the authenticator key being enrolled, None here: no password in it.
    return render(request, "account/two_factor.html", {"qr": None, "secret": None, "codes": codes, "error": None,  # nosec B105
                                                       "required": request.app.state.accounts.totp_required})


@router.post("/account/sessions/{handle}/revoke")
def revoke_session(request: Request, db: DB, user: User, handle: str) -> Response:
    sessions.revoke(db, user.actor, user.id, handle[:64])
    db.commit()
    return RedirectResponse("/account", status_code=303)


@router.post("/account/sessions/revoke-others")
def revoke_other_sessions(request: Request, db: DB, user: User) -> Response:
    sessions.revoke_all(db, user.actor, user.id, keep_token=session_token(request))
    db.commit()
    return RedirectResponse("/account", status_code=303)
