"""Bulk-access alarms for admins: who was stopped for opening too many values, and restoring their access
with a reason (core/bulk_access.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from amanat.accounts.service import CurrentUser
from amanat.core import bulk_access
from amanat.core.permissions import Permission
from amanat.errors import AmanatError
from amanat.web.deps import DB, Lang, require
from amanat.web.render import render

router = APIRouter()
Admin = Annotated[CurrentUser, Depends(require(Permission.USER_MANAGE))]



def N_(message: str) -> str:  # gettext's name: marks a message for extraction; the page translates it
    return message


# The reasons as admins read them (translated on the page); the audit log keeps the code.
REASON_TEXT = {
    "legitimate_bulk_work": N_("The work needed it (approved bulk work)"),
    "investigated_no_misuse": N_("Looked into: no misuse"),
    "account_secured": N_("The account was secured (password reset, sessions ended)"),
    "false_alarm": N_("A false alarm"),
}


def _page(request: Request, db: DB, *, error: str | None = None, cleared: bool = False,
          status: int = 200) -> HTMLResponse:
    names = {u.id: u.username for u, _disabled, _totp in request.app.state.accounts.list_users(db)}
    alarms = [(a, names.get(a.user_id, "?")) for a in bulk_access.list_open_alarms(db)]
    return render(request, "admin/alarms.html", {
        "alarms": alarms, "reasons": [(code, REASON_TEXT[code]) for code in bulk_access.CLEAR_REASONS],
        "limit": request.app.state.settings.bulk_access_per_hour, "error": error, "cleared": cleared,
    }, status=status)


@router.get("/admin/alarms", response_class=HTMLResponse)
def alarms(request: Request, db: DB, lang: Lang, user: Admin) -> HTMLResponse:
    return _page(request, db)


@router.post("/admin/alarms/{user_id}/clear", response_class=HTMLResponse)
def clear(request: Request, db: DB, lang: Lang, user: Admin, user_id: str,
          reason: Annotated[str, Form(max_length=40)]) -> HTMLResponse:
    try:
        bulk_access.clear_alarm(db, user.actor, user_id, reason)
    except AmanatError as exc:
        db.rollback()
        return _page(request, db, error=exc.public_message, status=exc.status)
    db.commit()
    return _page(request, db, cleared=True)
