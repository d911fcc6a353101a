"""The caseworker's queue and case pages: masked by default, reveal on request (audited)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from amanat.accounts.service import CurrentUser
from amanat.cases import service as cases
from amanat.core.permissions import Permission
from amanat.errors import NotFound
from amanat.intake.form_versions import current_form
from amanat.records import service as records
from amanat.review import service as review
from amanat.web.deps import DB, Lang, require
from amanat.web.render import render

router = APIRouter()
CaseReader = Annotated[CurrentUser, Depends(require(Permission.CASE_READ))]
CaseWriter = Annotated[CurrentUser, Depends(require(Permission.CASE_WRITE))]
Revealer = Annotated[CurrentUser, Depends(require(Permission.RECORD_REVEAL))]
DocReader = Annotated[CurrentUser, Depends(require(Permission.DOCUMENT_READ))]


@router.get("/cases", response_class=HTMLResponse)
def queue(request: Request, db: DB, lang: Lang, user: CaseReader, status: str | None = None,
          page: int = 1) -> HTMLResponse:
    if status is not None and status not in cases.STATUSES:
        status = None
    page = max(1, min(page, 10_000))
    rows = cases.list_queue(db, status=status, limit=50, offset=(page - 1) * 50)
    return render(request, "cases/queue.html", {"rows": rows, "status": status, "statuses": cases.STATUSES,
                                                "counts": cases.count_cases(db), "page": page})


def _case_page(request: Request, db: DB, lang_form: str, user: CurrentUser, case_id: str,
               revealed: dict[str, dict[str, str]] | None = None, status: int = 200) -> HTMLResponse:
    case = cases.get_case(db, case_id)
    spec = current_form(db)  # labels of the form in use; older versions' extra fields show by name
    order = [f.name for f in spec.fields() if not f.is_attachment]
    labels = {f.name: f.label_in(lang_form) for f in spec.fields()}
    labels.pop("consent", None)  # its label is the whole consent text; the template names it briefly
    # Coded answers (province, branch, gender…) are shown by their label in the reader's language.
    choice_labels = {f.name: {c.name: c.label_in(lang_form) for c in f.choices} for f in spec.fields() if f.is_select}
    hidden = {f.name for f in spec.fields() if f.is_attachment}
    can_special = user.can(Permission.RECORD_REVEAL_SPECIAL)
    views = []
    for rec in cases.case_records(db, case):
        shown = (revealed or {}).get(rec.id, {})
        view = records.record_view(db, rec.id, revealed=(), can_special=can_special, field_order=order)
        view.fields = [fv for fv in view.fields if fv.name not in hidden]
        for fv in view.fields:
            if fv.name in shown:
                fv.value, fv.masked = shown[fv.name], False
        views.append(view)
    family = []  # people linkage proposed as this person's family: their cases, never their values
    for rel in review.relatives_of(db, [v.id for v in views]):
        other = cases.open_case_of_person(db, rel.other_person_id)
        if other is not None and other.id != case.id:
            family.append({"case_id": other.id, "label": cases.case_label(other.number), "relation": rel.relation,
                           "status": rel.status, "pair_id": rel.pair_id})
    assignee = None
    if case.assigned_to:
        from amanat.accounts.models import User as UserRow

        row = db.get(UserRow, case.assigned_to)
        assignee = row.username if row else None
    return render(request, "cases/detail.html", {
        "case": case, "label": cases.case_label(case.number), "records": views, "labels": labels,
        "choice_labels": choice_labels,
        "notes": cases.case_notes(db, case), "transitions": cases.TRANSITIONS.get(case.status, ()),
        "can_reveal": user.can(Permission.RECORD_REVEAL), "can_write": user.can(Permission.CASE_WRITE),
        "can_docs": user.can(Permission.DOCUMENT_READ), "assignee": assignee,
        "merges": [m for m in records.merges_of_person(db, case.person_id) if m.undone_at is None],
        "can_review": user.can(Permission.REVIEW_DECIDE), "family": family,
    }, status=status)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_detail(request: Request, db: DB, lang: Lang, user: CaseReader, case_id: str) -> HTMLResponse:
    return _case_page(request, db, lang.form_lang, user, case_id)


@router.post("/cases/{case_id}/reveal", response_class=HTMLResponse)
def reveal(request: Request, db: DB, lang: Lang, user: Revealer, case_id: str,
           record_id: Annotated[str, Form(max_length=40)], field: Annotated[str, Form(max_length=60)]) -> HTMLResponse:
    """POST, not GET: a reveal writes an audit event, and its value must never sit in a URL or cache."""
    case = cases.get_case(db, case_id)
    if record_id not in {r.id for r in cases.case_records(db, case)}:
        raise NotFound("No such record in this case.")
    value = records.reveal_field(db, user.actor, record_id, field,
                                 can_special=user.can(Permission.RECORD_REVEAL_SPECIAL))
    db.commit()
    return _case_page(request, db, lang.form_lang, user, case_id, revealed={record_id: {field: value}})


@router.post("/cases/{case_id}/notes")
def add_note(request: Request, db: DB, user: CaseWriter, case_id: str,
             note: Annotated[str, Form(max_length=6000)] = "") -> Response:
    cases.add_note(db, user.actor, case_id, note)
    db.commit()
    return RedirectResponse(f"/cases/{quote(case_id)}", status_code=303)


@router.post("/cases/{case_id}/status")
def change_status(request: Request, db: DB, user: CaseWriter, case_id: str,
                  status: Annotated[str, Form(max_length=20)]) -> Response:
    cases.change_status(db, user.actor, case_id, status)
    db.commit()
    return RedirectResponse(f"/cases/{quote(case_id)}", status_code=303)


@router.post("/cases/{case_id}/assign")
def assign_to_me(request: Request, db: DB, user: Annotated[CurrentUser, Depends(require(Permission.CASE_ASSIGN))],
                 case_id: str) -> Response:
    cases.assign(db, user.actor, case_id, user.id)
    db.commit()
    return RedirectResponse(f"/cases/{quote(case_id)}", status_code=303)


@router.post("/documents/{document_id}")
def open_document(request: Request, db: DB, user: DocReader, document_id: str) -> Response:
    name, content_type, content = records.read_document(db, user.actor, document_id)
    db.commit()
    ascii_name = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "._-" else "_" for ch in name) or "document"
    return Response(content, media_type=content_type, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store"})
