"""The managers' dashboard (aggregates, small counts suppressed) and the monthly report as CSV."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from amanat.accounts.service import CurrentUser
from amanat.cases import dashboard as dash
from amanat.cases import pathways as pw
from amanat.core.db import utcnow
from amanat.core.permissions import Permission
from amanat.export.pdf import render_report_pdf
from amanat.web.charts import bar_chart, day_chart
from amanat.web.deps import DB, Lang, require
from amanat.web.i18n import translations
from amanat.web.render import render

router = APIRouter()
Manager = Annotated[CurrentUser, Depends(require(Permission.DASHBOARD_READ))]


def N_(message: str) -> str:
    """Marks a message for the catalogs; it is translated where it is shown."""
    return message


LEVELS = {"high": N_("High risk"), "medium": N_("Medium risk"), "low": N_("Low risk"),
          "not_assessed": N_("Not assessed")}
REFERRALS = {"sent": N_("Sent"), "accepted": N_("Accepted"), "rejected": N_("Rejected"), "done": N_("Done"),
             "revoked": N_("Revoked")}


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, db: DB, lang: Lang, user: Manager) -> HTMLResponse:
    board = dash.build_dashboard(db)
    _ = translations(lang.code).gettext
    cat = pw.load_catalog(request.app.state.settings.pathways_file)
    pathways = {code: pw.text_in(p.name, lang.code) for code, p in cat.pathways.items()}
    provinces = dash.province_names(lang.code)

    def named(table: dict[str, str], translate: bool = True) -> Callable[[str], str]:
        return lambda key: (_(table[key]) if translate else table[key]) if key in table else _(key)

    charts = [
        (_("Cases by status"), board.by_status, _),
        (_("Open cases by pathway"), board.by_pathway, named(pathways, False)),
        (_("Open cases by province"), board.by_province, named(provinces, False)),
        (_("Open cases by risk"), board.by_risk, named(LEVELS)),
        (_("Open cases by channel"), board.by_channel, _),
        (_("Referrals by status"), board.referrals, named(REFERRALS)),
        (_("Open cases per caseworker"), board.by_assignee, str),
    ]
    rendered = [(title, bar_chart(bars, label, rtl=lang.rtl, title=title) if bars else None,
                 [(label(b.key), b.shown) for b in bars]) for title, bars, label in charts]
    return render(request, "dashboard/index.html", {
        "board": board, "charts": rendered, "suppress": dash.suppress, "month": utcnow().strftime("%Y-%m"),
        "intake_chart": day_chart(board.intake_days, rtl=lang.rtl, title=_("Intake per day (last 30 days)")),
    })


@router.get("/dashboard/monthly.csv")
def monthly_csv(request: Request, db: DB, user: Manager, month: str | None = None) -> Response:
    month = month or utcnow().strftime("%Y-%m")
    body = dash.monthly_report_csv(db, month)  # aggregates only, suppressed: nothing to audit, GET never writes
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="amanat-monthly-{month}.csv"', "Cache-Control": "no-store"})


@router.get("/dashboard/monthly.pdf")
def monthly_pdf(request: Request, db: DB, lang: Lang, user: Manager, month: str | None = None) -> Response:
    """The same report as a PDF in the reader's language (aggregates only, suppressed)."""
    month = month or utcnow().strftime("%Y-%m")
    rows = dash.monthly_report_rows(db, month)
    cat = pw.load_catalog(request.app.state.settings.pathways_file)
    names = {**{code: pw.text_in(p.name, lang.code) for code, p in cat.pathways.items()},
             **dash.province_names(lang.code)}
    body = render_report_pdf(rows, month=month, lang=lang.code, gettext=translations(lang.code).gettext, names=names)
    return Response(body, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="amanat-monthly-{month}.pdf"', "Cache-Control": "no-store"})
