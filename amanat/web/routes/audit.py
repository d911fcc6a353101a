"""The audit log, for auditors: who did what to which record, when. Never values."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from amanat.accounts.service import CurrentUser
from amanat.core.audit import count_events, list_events
from amanat.core.permissions import Permission
from amanat.web.deps import DB, Lang, require
from amanat.web.render import render

router = APIRouter()
Auditor = Annotated[CurrentUser, Depends(require(Permission.AUDIT_READ))]


@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, db: DB, lang: Lang, user: Auditor, action: str | None = None,
              subject: str | None = None, before: int | None = None) -> HTMLResponse:
    events = list_events(db, limit=100, before=before, action=action or None, subject_id=subject or None)
    return render(request, "audit/list.html", {"events": events, "total": count_events(db), "action": action or "",
                                               "subject": subject or ""})
