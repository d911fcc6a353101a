"""The caseworker's queue, search and case pages. Thin: load, check permission, call a cases service, render.

Every action that shows values or changes a case is a POST that answers with a redirect to a GET page
(post/redirect/get): a reload repeats nothing, a language switch works on every page, and the page keeps
its place (the redirect names the section it came from). Values are shown through time-limited grants
(cases.access), never carried in a URL or a cookie; search terms travel only in a POST body.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from amanat.accounts.service import CurrentUser
from amanat.cases import access, corrections, erasure, family, queue, search, workflow
from amanat.cases import service as cases
from amanat.core.permissions import Permission
from amanat.errors import InvalidInput
from amanat.intake.throughput import backlog
from amanat.web.case_page import case_page_context
from amanat.web.deps import DB, Lang, require
from amanat.web.render import render

router = APIRouter()
CaseReader = Annotated[CurrentUser, Depends(require(Permission.CASE_READ))]
CaseWriter = Annotated[CurrentUser, Depends(require(Permission.CASE_WRITE))]
Assigner = Annotated[CurrentUser, Depends(require(Permission.CASE_ASSIGN))]
Approver = Annotated[CurrentUser, Depends(require(Permission.CASE_APPROVE))]
Revealer = Annotated[CurrentUser, Depends(require(Permission.RECORD_REVEAL))]
DocReader = Annotated[CurrentUser, Depends(require(Permission.DOCUMENT_READ))]
Reason = Annotated[str, Form(max_length=30)]
ReasonText = Annotated[str, Form(max_length=600)]


def _back(case_id: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/cases/{quote(case_id)}" + (f"#{anchor}" if anchor else ""), status_code=303)


@router.get("/cases", response_class=HTMLResponse)
def queue_page(request: Request, db: DB, lang: Lang, user: CaseReader, scope: str | None = None,
               status: str | None = None, pathway: str | None = None, province: str | None = None,
               assignee: str | None = None, risk: str | None = None, sort: str | None = None, page: int = 1,
               search_id: Annotated[str | None, Query(alias="search", max_length=40)] = None) -> HTMLResponse:
    f = queue.QueueFilter.clean(scope=scope, status=status, pathway=pathway, province=province, assignee=assignee,
                                risk=risk, sort=sort, page=page)
    found = search.get_search(db, user.id, search_id) if search_id else None
    with_names = user.can(Permission.CASE_LIST_NAMES)
    rows = queue.list_queue(db, user.id, f, with_names=with_names, case_ids=found.case_ids if found else None)
    shown = sum(1 for r in rows if r.display_name)
    if shown:  # names were read: one audit event for the listing (its own short write transaction)
        with request.app.state.database.transaction() as wdb:
            queue.audit_name_listing(wdb, user.actor, view="search" if found else f.scope, shown=shown)
    return render(request, "cases/queue.html", {
        "rows": rows, "f": f, "statuses": cases.STATUSES, "counts": queue.count_cases(db), "scopes": queue.SCOPES,
        "risks": queue.RISKS, "sorts": list(queue.SORTS), "provinces": queue.province_names(lang.code),
        "assignees": queue.assignees(db), "pathways": queue.pathways_in_use(db), "with_names": with_names,
        "found": found, "search_kinds": search.KINDS, "page_size": queue.PAGE_SIZE,
        "backlog": backlog(db),
        "link": lambda **kw: "/cases?" + urlencode(f.query_args(**kw)),
    })


@router.post("/cases/search")
def run_search(request: Request, db: DB, user: CaseReader, q: Annotated[str, Form(max_length=400)] = "",
               kind: Annotated[str, Form(max_length=20)] = "auto") -> Response:
    """POST: the term stays out of URLs, history and access logs. The answer (case ids) is kept for a GET."""
    result = search.search_cases(db, request.app.state.database.keys, user.actor, user.id, q, kind)
    db.commit()
    if len(result.case_ids) == 1:
        return _back(result.case_ids[0])
    return RedirectResponse(f"/cases?search={quote(result.search_id)}", status_code=303)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_detail(request: Request, db: DB, lang: Lang, user: CaseReader, case_id: str) -> HTMLResponse:
    context = case_page_context(db, request.app.state.database.keys, user, case_id, lang)
    return render(request, "cases/detail.html", context)


@router.post("/cases/{case_id}/work")
def start_work(request: Request, db: DB, user: Revealer, case_id: str, reason: Reason = "",
               reason_text: ReasonText = "") -> Response:
    access.start_work(db, user.actor, case_id, reason_code=reason, reason_text=reason_text,
                      minutes=request.app.state.settings.case_work_minutes)
    db.commit()
    return _back(case_id, "records")


@router.post("/cases/{case_id}/work/end")
def end_work(request: Request, db: DB, user: Revealer, case_id: str) -> Response:
    cases.get_case(db, case_id)
    access.end_work(db, user.actor, case_id)
    db.commit()
    return _back(case_id)


@router.post("/cases/{case_id}/reveal")
def reveal(request: Request, db: DB, user: Revealer, case_id: str,
           record_id: Annotated[str, Form(max_length=40)] = "", field: Annotated[str, Form(max_length=60)] = ""
           ) -> Response:
    """One field, shown with any others already revealed; back to the same place on the page."""
    access.reveal_record_field(db, user.actor, case_id, record_id, field,
                               can_special=user.can(Permission.RECORD_REVEAL_SPECIAL))
    db.commit()
    return _back(case_id, f"f-{record_id}-{field}")


@router.post("/cases/{case_id}/members/{member_id}/reveal")
def reveal_member(request: Request, db: DB, user: Revealer, case_id: str, member_id: str,
                  field: Annotated[str, Form(max_length=60)] = "") -> Response:
    access.reveal_member_field(db, user.actor, case_id, member_id, field)
    db.commit()
    return _back(case_id, f"m-{member_id}")


@router.post("/cases/{case_id}/members/{member_id}/link")
def link_member(request: Request, db: DB, user: CaseWriter, case_id: str, member_id: str,
                person_id: Annotated[str, Form(max_length=40)] = "") -> Response:
    family.link_member(db, user.actor, case_id, member_id, person_id or None)
    db.commit()
    return _back(case_id, f"m-{member_id}")


@router.post("/cases/{case_id}/notes")
def add_note(request: Request, db: DB, user: CaseWriter, case_id: str,
             note: Annotated[str, Form(max_length=6000)] = "") -> Response:
    cases.add_note(db, user.actor, case_id, note)
    db.commit()
    return _back(case_id, "notes")


@router.post("/cases/{case_id}/status")
def change_status(request: Request, db: DB, user: CaseWriter, case_id: str,
                  status: Annotated[str, Form(max_length=20)] = "", reason: Reason = "",
                  reason_text: ReasonText = "") -> Response:
    workflow.change_status(db, user.actor, case_id, status, reason_code=reason or None, reason_text=reason_text)
    db.commit()
    return _back(case_id, "workflow")


@router.post("/cases/{case_id}/assign")
def assign(request: Request, db: DB, user: Assigner, case_id: str,
           assignee: Annotated[str, Form(max_length=40)] = "me") -> Response:
    """``me``, a colleague's id, or ``none`` to unassign."""
    target = user.id if assignee == "me" else None if assignee == "none" else assignee
    workflow.assign(db, user.actor, case_id, target)
    db.commit()
    return _back(case_id, "workflow")


@router.post("/cases/{case_id}/close")
def request_close(request: Request, db: DB, user: CaseWriter, case_id: str, reason: Reason = "",
                  reason_text: ReasonText = "") -> Response:
    workflow.request_close(db, user.actor, case_id, reason_code=reason or None, reason_text=reason_text)
    db.commit()
    return _back(case_id, "workflow")


@router.post("/cases/{case_id}/close/withdraw")
def withdraw_close(request: Request, db: DB, user: CaseWriter, case_id: str) -> Response:
    workflow.withdraw_close(db, user.actor, case_id)
    db.commit()
    return _back(case_id, "workflow")


@router.post("/approvals/{approval_id}/decide")
def decide_approval(request: Request, db: DB, user: Approver, approval_id: str,
                    decision: Annotated[str, Form(max_length=10)] = "") -> Response:
    if decision not in ("approve", "reject"):
        raise InvalidInput("decision: approve or reject.", field="decision")
    case = workflow.decide_close(db, user.actor, approval_id, approve=decision == "approve")
    db.commit()
    return _back(case.id, "workflow")


@router.post("/cases/{case_id}/erase")
def request_erasure(request: Request, db: DB, user: CaseWriter, case_id: str, reason: Reason = "",
                    reason_text: ReasonText = "") -> Response:
    erasure.request_case_erasure(db, user.actor, case_id, reason_code=reason or None, reason_text=reason_text)
    db.commit()
    return _back(case_id, "workflow")


@router.post("/approvals/{approval_id}/erase")
def decide_erasure(request: Request, db: DB, user: Approver, approval_id: str,
                   decision: Annotated[str, Form(max_length=10)] = "") -> Response:
    """A second caseworker approves (the person is erased now) or rejects a request to erase."""
    if decision not in ("approve", "reject"):
        raise InvalidInput("decision: approve or reject.", field="decision")
    database = request.app.state.database
    done = erasure.decide_erasure(db, database.keys, user.actor, approval_id, approve=decision == "approve")
    case_id = erasure.approval_case(db, approval_id)
    db.commit()
    if done is not None:  # the WAL truncated, the ledger rewritten for a restore (docs/protection.md)
        database.truncate_wal()
        erasure.save_ledger(db, request.app.state.settings.data_dir / erasure.LEDGER_FILE)
    return _back(case_id, "workflow")


@router.post("/cases/{case_id}/records/{record_id}/correct")
def correct(request: Request, db: DB, user: CaseWriter, case_id: str, record_id: str,
            field: Annotated[str, Form(max_length=60)] = "", value: Annotated[str, Form(max_length=600)] = "",
            reason: Reason = "", reason_text: ReasonText = "") -> Response:
    corrections.correct_value(db, request.app.state.database.keys, user.actor, case_id, record_id, field, value,
                              reason_code=reason, reason_text=reason_text,
                              can_special=user.can(Permission.RECORD_REVEAL_SPECIAL))
    db.commit()
    return _back(case_id, f"rec-{record_id}")


@router.post("/cases/{case_id}/records/{record_id}/documents")
def attach_document(request: Request, db: DB, user: CaseWriter, case_id: str, record_id: str,
                    document: Annotated[UploadFile | None, File()] = None) -> Response:
    if document is None or not document.filename:
        raise InvalidInput("document: choose a file.", field="document")
    max_bytes = request.app.state.settings.max_upload_bytes
    data = document.file.read(max_bytes + 1)
    corrections.attach_document(db, user.actor, case_id, record_id, document.filename, data, max_bytes=max_bytes)
    db.commit()
    return _back(case_id, f"rec-{record_id}")


@router.post("/documents/{document_id}")
def open_document(request: Request, db: DB, user: DocReader, document_id: str) -> Response:
    name, content_type, content = access.read_document(db, user.actor, document_id)
    db.commit()
    ascii_name = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "._-" else "_" for ch in name) or "document"
    return Response(content, media_type=content_type, headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
        "Cache-Control": "no-store"})
