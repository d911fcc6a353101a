"""The review queue: compare two records side by side, see each field's weight, accept or reject; undo a merge."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from amanat.accounts.service import CurrentUser
from amanat.cases import workflow
from amanat.core.permissions import Permission
from amanat.intake.form_versions import current_form
from amanat.linkage.service import active_model
from amanat.review import service as review
from amanat.web.deps import DB, Lang, require
from amanat.web.i18n import choice_labels
from amanat.web.render import render

router = APIRouter()
Reviewer = Annotated[CurrentUser, Depends(require(Permission.REVIEW_DECIDE))]


def waterfall(prior: float, contributions: list[tuple[str, float]], width: int = 560) -> dict[str, Any]:
    """Bars for an SVG waterfall: the prior, then each comparison's log2 Bayes factor, ending at the total."""
    steps = [("prior", prior), *contributions]
    running, points = 0.0, []
    for name, w in steps:
        points.append((name, running, running + w, w))
        running += w
    lo = min(0.0, *(min(a, b) for _, a, b, _ in points))
    hi = max(0.0, *(max(a, b) for _, a, b, _ in points))
    span = (hi - lo) or 1.0
    scale = (width - 20) / span

    def x(v: float) -> float:
        return 10 + (v - lo) * scale

    bars = [{"name": name, "x": round(x(min(a, b)), 1), "w": round(max(abs(b - a) * scale, 1.0), 1),
             "weight": round(w, 2), "positive": w >= 0, "y": 28 * i} for i, (name, a, b, w) in enumerate(points)]
    return {"bars": bars, "zero": round(x(0.0), 1), "height": 28 * len(bars) + 8, "width": width,
            "total": round(running, 2)}


@router.get("/review", response_class=HTMLResponse)
def queue(request: Request, db: DB, lang: Lang, user: Reviewer, page: int = 1,
          show: Annotated[str, Query(pattern="^(pending|relatives)$")] = "pending") -> HTMLResponse:
    """Perhaps one person (``pending``), or two people of one family (``relatives``: never merged
    unless a person says so)."""
    page = max(1, min(page, 10_000))
    return render(request, "review/queue.html", {
        "items": review.list_pending(db, limit=50, offset=(page - 1) * 50, status=show), "show": show,
        "total": review.count_pending(db), "relatives": review.count_pending(db, review.RELATIVES), "page": page,
        "relations": review.RELATIONS})


@router.post("/review/{pair_id}/open", response_class=HTMLResponse)
def open_pair(request: Request, db: DB, lang: Lang, user: Reviewer, pair_id: str) -> HTMLResponse:
    """POST, because it shows both records in clear and writes an audit event for each."""
    view = review.open_pair(db, user.actor, pair_id)
    db.commit()
    spec = current_form(db)
    labels = {f.name: f.label_in(lang.form_lang) for f in spec.fields()}
    model_prior = active_model(db).prior
    prior = math.log2(model_prior / (1 - model_prior))
    relation = view.reasons[0] if view.reasons and view.reasons[0] in review.RELATIONS else None
    return render(request, "review/pair.html", {"pair": view, "labels": labels, "fields": review.COMPARE_FIELDS,
                                                "chart": waterfall(prior, view.contributions), "relation": relation,
                                                "choices": choice_labels(spec, lang.form_lang),
                                                "ltr_fields": {f.name for f in spec.fields()
                                                               if f.text_direction == "ltr"}})


@router.post("/review/{pair_id}/decide")
def decide(request: Request, db: DB, user: Reviewer, pair_id: str,
           decision: Annotated[str, Form(pattern="^(accept|reject|household)$")]) -> Response:
    workflow.apply_review_decision(db, user.actor, pair_id, decision)
    db.commit()
    return RedirectResponse("/review", status_code=303)


@router.post("/merges/{merge_id}/undo")
def undo_merge(request: Request, db: DB, user: Reviewer, merge_id: str) -> Response:
    case = workflow.undo_merge(db, user.actor, merge_id)
    db.commit()
    return RedirectResponse(f"/cases/{case.id}", status_code=303)
