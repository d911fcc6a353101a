"""Partner organisations (registered with their public keys by an admin), consent and referrals of a case."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from amanat.accounts.service import CurrentUser
from amanat.cases import partner_referrals as refs
from amanat.cases import pathways as pw
from amanat.core.permissions import Permission
from amanat.export.packet import send_referral
from amanat.web.deps import DB, Lang, require
from amanat.web.render import render

router = APIRouter()
KeyManager = Annotated[CurrentUser, Depends(require(Permission.KEY_MANAGE))]
CaseWriter = Annotated[CurrentUser, Depends(require(Permission.CASE_WRITE))]


def _catalog(request: Request) -> pw.Catalog:
    return pw.load_catalog(request.app.state.settings.pathways_file)


def _back(case_id: str, anchor: str) -> Response:
    return RedirectResponse(f"/cases/{quote(case_id)}/protection{anchor}", status_code=303)


@router.get("/admin/partners", response_class=HTMLResponse)
def partners_page(request: Request, db: DB, lang: Lang, user: KeyManager) -> HTMLResponse:
    cat = _catalog(request)
    return render(request, "protection/partners.html", {"partners": refs.list_partners(db), "kinds": cat.partner_kinds,
                                                        "text_in": pw.text_in})


@router.post("/admin/partners")
def register_partner(request: Request, db: DB, user: KeyManager, name: Annotated[str, Form(max_length=200)],
                     kind: Annotated[str, Form(max_length=40)],
                     public_key: Annotated[str, Form(max_length=200)]) -> Response:
    refs.register_partner(db, user.actor, name=name, kind=kind, public_key=public_key,
                          kinds=list(_catalog(request).partner_kinds))
    db.commit()
    return RedirectResponse("/admin/partners", status_code=303)


@router.post("/admin/partners/{partner_id}/active")
def partner_active(request: Request, db: DB, user: KeyManager, partner_id: str,
                   active: Annotated[str, Form(max_length=5)]) -> Response:
    refs.set_partner_active(db, user.actor, partner_id, active == "yes")
    db.commit()
    return RedirectResponse("/admin/partners", status_code=303)


@router.post("/cases/{case_id}/consents")
def record_consent(request: Request, db: DB, user: CaseWriter, case_id: str,
                   partner_kind: Annotated[str, Form(max_length=40)], basis: Annotated[str, Form(max_length=20)],
                   form_version: Annotated[str, Form(max_length=60)],
                   language: Annotated[str, Form(max_length=10)]) -> Response:
    refs.record_consent(db, user.actor, case_id, partner_kind=partner_kind, form_version=form_version,
                        language=language, basis=basis, kinds=list(_catalog(request).partner_kinds))
    db.commit()
    return _back(case_id, "#consents")


@router.post("/cases/{case_id}/consents/{consent_id}/withdraw")
def withdraw_consent(request: Request, db: DB, user: CaseWriter, case_id: str, consent_id: str) -> Response:
    refs.withdraw_consent(db, user.actor, case_id, consent_id)
    db.commit()
    return _back(case_id, "#consents")


@router.post("/cases/{case_id}/referrals")
def refer(request: Request, db: DB, user: CaseWriter, case_id: str, partner: Annotated[str, Form(max_length=40)],
          pathway: Annotated[str, Form(max_length=40)] = "",
          override_reason: Annotated[str, Form(max_length=2000)] = "") -> Response:
    send_referral(db, user.actor, _catalog(request), case_id, partner, pathway=pathway or None,
                  override_reason=override_reason or None, can_override=user.can(Permission.CONSENT_OVERRIDE),
                  can_special=user.can(Permission.RECORD_REVEAL_SPECIAL))
    db.commit()
    return _back(case_id, "#referrals")


@router.post("/referrals/{referral_id}/status")
def referral_status(request: Request, db: DB, user: CaseWriter, referral_id: str,
                    status: Annotated[str, Form(max_length=20)]) -> Response:
    ref = refs.set_referral_status(db, user.actor, referral_id, status)
    db.commit()
    return _back(ref.case_id, "#referrals")


@router.post("/referrals/{referral_id}/packet")
def referral_packet(request: Request, db: DB, user: CaseWriter, referral_id: str) -> Response:
    name, blob = refs.read_packet(db, user.actor, referral_id)
    db.commit()
    return Response(blob, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
