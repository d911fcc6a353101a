"""Where each role lands after signing in, and the referrer's page of what they sent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from amanat.accounts.service import CurrentUser
from amanat.cases import verification
from amanat.cases.referrals import list_referrals
from amanat.core.permissions import Permission, Role
from amanat.web.deps import DB, Lang, User, require
from amanat.web.render import render

router = APIRouter()
Submitter = Annotated[CurrentUser, Depends(require(Permission.SUBMISSION_CREATE))]
HOMES = {Role.CASEWORKER: "/cases", Role.VERIFIER: "/verification", Role.REFERRER: "/referrals",
         Role.ADMIN: "/admin/users", Role.AUDITOR: "/audit"}


def home_of(role: str) -> str:
    """The page a role starts from: one it is allowed to see."""
    try:
        return HOMES[Role(role)]
    except ValueError:
        return "/"


@router.get("/home")
def home(request: Request, user: User) -> Response:
    return RedirectResponse(home_of(user.role), status_code=303)


@router.get("/referrals", response_class=HTMLResponse)
def referrals(request: Request, db: DB, lang: Lang, user: Submitter) -> HTMLResponse:
    return render(request, "home/referrals.html", {
        "rows": list_referrals(db, user.id), "state_labels": verification.STATES,
        "outcome_labels": verification.OUTCOMES, "can_vouch": user.can(Permission.ATTESTATION_WRITE)})
