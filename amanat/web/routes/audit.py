"""The audit log, for auditors: who did what to which case or record, when. Never values.

Filters: user (including failed sign-ins under the username tried), date range, case number (everything
that belongs to the case, reveals of its records included) and action. Actions are shown as words in the
reader's language (web/audit_labels.py)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from amanat.accounts.service import CurrentUser
from amanat.cases import audit_log
from amanat.core.audit import count_events
from amanat.core.permissions import Permission
from amanat.errors import InvalidInput
from amanat.intake.form_versions import current_form
from amanat.web import audit_labels
from amanat.web.deps import DB, Lang, require
from amanat.web.render import render

router = APIRouter()
Auditor = Annotated[CurrentUser, Depends(require(Permission.AUDIT_READ))]
Text = Annotated[str, Query(max_length=80)]


@router.get("/audit", response_class=HTMLResponse)
def audit_log_page(request: Request, db: DB, lang: Lang, user: Auditor, action: Text = "", case: Text = "",
                   who: Text = "", since: Text = "", until: Text = "", before: int | None = None) -> HTMLResponse:
    form = {"action": action, "case": case, "who": who, "since": since, "until": until}
    error, events, matched = None, [], 0
    try:
        flt = audit_log.make_filter(user=who, since=since, until=until, case=case, action=action)
        events, matched = audit_log.search_events(db, flt, before=before, limit=100)
    except InvalidInput as exc:
        error = exc.public_message
    named = audit_log.usernames(db, (str(v) for e in events for k, v in audit_labels.parse_details(e.details).items()
                                     if k in audit_labels.USER_KEYS and isinstance(v, str)))
    fields = {f.name: f.label_in(lang.form_lang) for f in current_form(db).fields()}
    rows = [{"event": e, "words": audit_labels.action_words(e.action),
             "details": audit_labels.details_of(e.details, named, fields)} for e in events]
    return render(request, "audit/list.html", {
        "rows": rows, "total": count_events(db), "matched": matched, "form": form, "error": error,
        "actions": [(code, audit_labels.action_words(code)) for code in audit_log.known_actions(db)],
        "case_labels": audit_log.case_labels(db, (e.subject_id for e in events if e.subject_type == "case")),
        "subjects": audit_labels.SUBJECTS, "detail_labels": audit_labels.DETAILS,
        "query": urlencode({k: v for k, v in form.items() if v}),
    }, status=422 if error else 200)
