"""Exports: choose cases and fields, get an encrypted file; above the role's limit, a second person approves.

The file is built in memory and sent sealed (to a partner's key or a passphrase): nothing is written to the
server's disk and the response is never cached.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from amanat.accounts.service import CurrentUser
from amanat.cases import partner_referrals as refs
from amanat.cases import pathways as pw
from amanat.cases import service as cases
from amanat.cases.triage import LEVELS
from amanat.core.permissions import Permission
from amanat.export import pdf
from amanat.export import service as ex
from amanat.export.packet import case_packet
from amanat.intake.form_versions import current_form
from amanat.web.deps import DB, Lang, parse_form, require
from amanat.web.i18n import choice_labels, translations
from amanat.web.render import render

router = APIRouter()
Exporter = Annotated[CurrentUser, Depends(require(Permission.EXPORT_CREATE))]


def _str(form: FormData, name: str, limit: int = 2000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _kdf(request: Request) -> tuple[int, int]:
    s = request.app.state.settings
    return s.kdf_time_cost, s.kdf_memory_kib


def _recipient(form: FormData) -> ex.Recipient:
    return ex.Recipient(partner_id=_str(form, "partner", 40) or None, passphrase=_str(form, "passphrase", 200) or None)


def _attachment(built: ex.Built) -> Response:
    return Response(built.blob, media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{built.filename}"', "Cache-Control": "no-store"})


@router.get("/exports", response_class=HTMLResponse)
def exports_page(request: Request, db: DB, lang: Lang, user: Exporter, requested: str | None = None) -> HTMLResponse:
    cat = pw.load_catalog(request.app.state.settings.pathways_file)
    labels = {f.name: f.label_in(lang.form_lang) for f in current_form(db).fields()}
    return render(request, "exports/index.html", {
        "labels": labels,
        "case_columns": ex.CASE_COLUMNS, "record_columns": ex.RECORD_COLUMNS, "formats": ex.FORMATS,
        "statuses": cases.STATUSES, "levels": LEVELS, "pathways": list(cat.pathways.values()), "text_in": pw.text_in,
        "partners": refs.list_partners(db, active_only=True), "requests": ex.list_requests(db),
        "limit": ex.export_limit(request.app.state.settings.export_limits, user.role), "requested": requested,
        "can_reveal": user.can(Permission.RECORD_REVEAL), "can_special": user.can(Permission.RECORD_REVEAL_SPECIAL),
    })


@router.post("/exports")
async def create_export(request: Request, db: DB, lang: Lang, user: Exporter) -> Response:
    form = await parse_form(request)
    numbers = ex.parse_case_numbers(_str(form, "cases"))
    ids = ex.select_cases(db, numbers=numbers, status=_str(form, "status", 20) or None,
                          pathway=_str(form, "pathway", 40) or None, risk=_str(form, "risk", 20) or None)
    fields = [v for v in form.getlist("fields") if isinstance(v, str)][:60]
    sel = ex.check_selection(ids, fields, _str(form, "format", 10), reveal=_str(form, "reveal", 5) == "yes",
                             can_reveal=user.can(Permission.RECORD_REVEAL),
                             can_special=user.can(Permission.RECORD_REVEAL_SPECIAL))
    out = ex.create_export(db, user.actor, sel, _recipient(form), role=user.role,
                           limits=request.app.state.settings.export_limits, kdf=_kdf(request), rtl=lang.rtl)
    db.commit()
    if out.request is not None:
        return RedirectResponse(f"/exports?requested={quote(out.request.id)}", status_code=303)
    assert out.built is not None
    return _attachment(out.built)


@router.post("/exports/requests/{request_id}/decide")
async def decide(request: Request, db: DB, user: Exporter, request_id: str) -> Response:
    form = await parse_form(request)
    ex.decide_request(db, user.actor, request_id, approve=_str(form, "decision", 10) == "approve")
    db.commit()
    return RedirectResponse("/exports", status_code=303)


@router.post("/exports/requests/{request_id}/download")
async def download(request: Request, db: DB, lang: Lang, user: Exporter, request_id: str) -> Response:
    form = await parse_form(request)
    built = ex.download_approved(db, user.actor, request_id, _recipient(form), kdf=_kdf(request), rtl=lang.rtl)
    db.commit()
    return _attachment(built)


@router.post("/cases/{case_id}/packet")
async def case_packet_pdf(request: Request, db: DB, lang: Lang, user: Exporter, case_id: str) -> Response:
    """The case packet as a PDF in the reader's language, sealed like any export."""
    form = await parse_form(request)
    case = cases.get_case(db, case_id)
    cat = pw.load_catalog(request.app.state.settings.pathways_file)
    packet = case_packet(db, case, cat, lang=lang.code, can_special=user.can(Permission.RECORD_REVEAL_SPECIAL))
    spec = current_form(db)
    labels = {f.name: f.label_in(lang.form_lang) for f in spec.fields()}
    built = pdf.export_packet_pdf(db, user.actor, case, packet, _recipient(form), lang=lang.code,
                                  gettext=translations(lang.code).gettext, labels=labels,
                                  choices=choice_labels(spec, lang.form_lang),
                                  can_reveal=user.can(Permission.RECORD_REVEAL), kdf=_kdf(request))
    db.commit()
    return _attachment(built)
