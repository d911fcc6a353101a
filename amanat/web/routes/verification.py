"""Verification: record an attestation, and the verifier's list of cases awaiting verification. The case
page's verification section is gathered by web/casework_sections.py."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from amanat.accounts.service import CurrentUser
from amanat.cases import verification
from amanat.core.permissions import Permission
from amanat.web.deps import DB, Lang, require
from amanat.web.render import render

router = APIRouter()
Attester = Annotated[CurrentUser, Depends(require(Permission.ATTESTATION_WRITE))]
CaseReader = Annotated[CurrentUser, Depends(require(Permission.CASE_READ))]
MAX_DOCUMENTS = 50


@router.post("/cases/{case_id}/attestations")
def record_attestation(request: Request, db: DB, lang: Lang, user: Attester, case_id: str,
                       method: Annotated[str, Form(max_length=20)] = "",
                       outcome: Annotated[str, Form(max_length=20)] = "",
                       reason: Annotated[str, Form(max_length=4000)] = "",
                       documents: Annotated[list[str] | None, Form()] = None) -> Response:
    # Someone who cannot read cases (a referrer) may only vouch, and only for a case they referred.
    vouch_only = not user.can(Permission.CASE_READ)
    verification.record_attestation(db, user.actor, case_id, role=user.role, method=method, outcome=outcome,
                                    reason=reason, document_ids=(documents or [])[:MAX_DOCUMENTS],
                                    vouch_only=vouch_only)
    db.commit()
    target = "/referrals" if vouch_only else f"/cases/{quote(case_id)}#verification"
    return RedirectResponse(target, status_code=303)


@router.get("/verification", response_class=HTMLResponse)
def awaiting(request: Request, db: DB, lang: Lang, user: CaseReader) -> HTMLResponse:
    return render(request, "verification/queue.html", {"rows": verification.awaiting_verification(db),
                                                       "state_labels": verification.STATES})
