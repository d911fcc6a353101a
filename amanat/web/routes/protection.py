"""A case's protection page: triage, pathway checklists, consents and referrals; and the triage list."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from amanat.accounts.service import CurrentUser
from amanat.cases import partner_referrals as refs
from amanat.cases import pathways as pw
from amanat.cases import service as cases
from amanat.cases import triage
from amanat.cases.evidence import case_evidence
from amanat.core.permissions import Permission
from amanat.web.deps import DB, Lang, parse_form, require
from amanat.web.render import render

router = APIRouter()
CaseReader = Annotated[CurrentUser, Depends(require(Permission.CASE_READ))]
CaseWriter = Annotated[CurrentUser, Depends(require(Permission.CASE_WRITE))]


def catalog(request: Request) -> pw.Catalog:
    return pw.load_catalog(request.app.state.settings.pathways_file)


def _back(case_id: str, anchor: str = "") -> Response:
    return RedirectResponse(f"/cases/{quote(case_id)}/protection{anchor}", status_code=303)


@router.get("/triage", response_class=HTMLResponse)
def triage_list(request: Request, db: DB, lang: Lang, user: CaseReader) -> HTMLResponse:
    return render(request, "protection/triage_list.html", {"rows": triage.list_by_risk(db, limit=200)})


@router.get("/cases/{case_id}/protection", response_class=HTMLResponse)
def protection_page(request: Request, db: DB, lang: Lang, user: CaseReader, case_id: str) -> HTMLResponse:
    case = cases.get_case(db, case_id)
    cat = catalog(request)
    history = triage.assessment_history(db, case.id)
    latest = history[0] if history else None
    checklists = pw.checklists(db, cat, case, case_evidence(db, case))
    return render(request, "protection/case.html", {
        "case": case, "label": cases.case_label(case.number), "history": history, "latest": latest,
        "factors": triage.stored_factors(latest) if latest else None, "checklists": checklists, "catalog": cat,
        "available": [p for p in cat.pathways.values() if p.code not in {c.pathway.code for c in checklists}],
        "text_in": pw.text_in, "can_write": user.can(Permission.CASE_WRITE),
        "can_export": user.can(Permission.EXPORT_CREATE), "can_override": user.can(Permission.CONSENT_OVERRIDE),
        "consents": refs.list_consents(db, case.id), "referrals": refs.list_referrals(db, case.id),
        "intake_consents": refs.intake_consents(db, case.id),
        "partners": refs.list_partners(db, active_only=True), "partner_kinds": cat.partner_kinds,
        "bases": refs.CONSENT_BASES, "transitions": refs.TRANSITIONS,
        "threat_choices": triage.THREAT_CHOICES, "deportation_choices": triage.DEPORTATION_CHOICES,
        "medical_choices": triage.MEDICAL_CHOICES,
    })


@router.post("/cases/{case_id}/triage")
async def assess(request: Request, db: DB, user: CaseWriter, case_id: str) -> Response:
    form = await parse_form(request)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    triage.assess_case(db, user.actor, case_id, fields)
    db.commit()
    return _back(case_id, "#triage")


@router.post("/cases/{case_id}/pathways")
def add_pathway(request: Request, db: DB, user: CaseWriter, case_id: str,
                pathway: Annotated[str, Form(max_length=40)]) -> Response:
    pw.add_pathway(db, user.actor, catalog(request), case_id, pathway)
    db.commit()
    return _back(case_id, "#pathways")


@router.post("/cases/{case_id}/pathways/{case_pathway_id}/items")
def confirm_item(request: Request, db: DB, user: CaseWriter, case_id: str, case_pathway_id: str,
                 item: Annotated[str, Form(max_length=60)],
                 confirmed: Annotated[str, Form(max_length=5)] = "yes") -> Response:
    pw.confirm_item(db, user.actor, catalog(request), case_id, case_pathway_id, item, confirmed=confirmed == "yes")
    db.commit()
    return _back(case_id, "#pathways")


@router.post("/cases/{case_id}/pathways/{case_pathway_id}/status")
def pathway_status(request: Request, db: DB, user: CaseWriter, case_id: str, case_pathway_id: str,
                   status: Annotated[str, Form(max_length=20)]) -> Response:
    pw.set_pathway_status(db, user.actor, case_id, case_pathway_id, status)
    db.commit()
    return _back(case_id, "#pathways")
