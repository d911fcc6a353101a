"""The managers' dashboard and monthly report: aggregates only, small counts suppressed.

Every count that leaves here has passed ``suppress``: 1 to 4 become "<5", so no person can be singled out by
a small cell (a province with two cases, a pathway with one). Zero stays zero (it names nobody). Nothing
here reads an encrypted column.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Subquery, func, select
from sqlalchemy.orm import Session

from amanat.accounts.models import User
from amanat.cases.models import Case
from amanat.cases.protection_models import CasePathway, Referral
from amanat.cases.service import OPEN_STATUSES, STATUSES
from amanat.cases.verification_models import CaseTask
from amanat.core.audit import AuditEvent
from amanat.core.db import utcnow
from amanat.errors import InvalidInput
from amanat.linkage.models import MatchPair
from amanat.normalize.places import provinces
from amanat.records.models import Record

SMALL = 5
SUPPRESSED = "<5"


def suppress(n: int) -> str:
    """A count as shown: fewer than 5 (but not none) is "<5"."""
    return SUPPRESSED if 0 < n < SMALL else str(n)


@dataclass(frozen=True)
class Bar:
    key: str  # a code (status, pathway, risk level, channel) or a province's P-code
    count: int

    @property
    def shown(self) -> str:
        return suppress(self.count)

    @property
    def suppressed(self) -> bool:
        return 0 < self.count < SMALL


@dataclass
class Dashboard:
    total_open: int
    by_status: list[Bar]
    by_pathway: list[Bar]
    by_province: list[Bar]
    by_risk: list[Bar]
    by_channel: list[Bar]
    intake_days: list[tuple[str, dict[str, int]]]  # (yyyy-mm-dd, {channel: n})
    review_backlog: int
    unassigned: int
    by_assignee: list[Bar]
    days_in_status: list[tuple[str, float | None, int]]  # (status, median days, cases)
    overdue_tasks: int
    referrals: list[Bar] = field(default_factory=list)


def _bars(counts: Counter[str] | dict[str, int], order: tuple[str, ...] = ()) -> list[Bar]:
    keys = [k for k in order if k in counts] + sorted(k for k in counts if k not in order)
    return [Bar(k, int(counts[k])) for k in keys]


def _person_facts() -> Subquery:
    """Per person: a province and a channel of their records (the same pick as the case queue)."""
    return (select(Record.person_id, func.max(Record.province_pcode).label("prov"),
                   func.min(Record.channel).label("channel")).group_by(Record.person_id).subquery())


def province_names(lang: str) -> dict[str, str]:
    return {p.pcode: (p.name_prs if lang in ("fa_AF", "ps_AF") else p.name_en) for p in provinces()}


def _status_since(db: Session, case_ids: list[str]) -> dict[str, datetime]:
    """When each case last changed status (from the audit log); cases never moved count from opening."""
    if not case_ids:
        return {}
    rows = db.execute(select(AuditEvent.subject_id, func.max(AuditEvent.at))
                      .where(AuditEvent.action == "case:status", AuditEvent.subject_type == "case")
                      .group_by(AuditEvent.subject_id)).all()
    wanted = set(case_ids)
    return {sid: at for sid, at in rows if sid in wanted}


def build_dashboard(db: Session, *, days: int = 30, today: date | None = None) -> Dashboard:
    today = today or utcnow().date()
    open_cases = Case.status.in_(OPEN_STATUSES)
    by_status = Counter(dict(db.execute(select(Case.status, func.count()).group_by(Case.status)).all()))
    facts = _person_facts()
    prov = Counter({p or "unknown": n for p, n in db.execute(
        select(facts.c.prov, func.count()).select_from(Case).join(facts, facts.c.person_id == Case.person_id)
        .where(open_cases).group_by(facts.c.prov)).all()})
    channel = Counter({c or "unknown": n for c, n in db.execute(
        select(facts.c.channel, func.count()).select_from(Case).join(facts, facts.c.person_id == Case.person_id)
        .where(open_cases).group_by(facts.c.channel)).all()})
    risk = Counter({r or "not_assessed": n for r, n in db.execute(
        select(Case.risk_level, func.count()).where(open_cases).group_by(Case.risk_level)).all()})
    pathway = Counter(dict(db.execute(
        select(CasePathway.code, func.count()).join(Case, Case.id == CasePathway.case_id)
        .where(open_cases, CasePathway.status != "withdrawn").group_by(CasePathway.code)).all()))
    since = datetime.combine(today - timedelta(days=days - 1), datetime.min.time())
    day_rows = db.execute(select(func.date(Record.created_at), Record.channel, func.count())
                          .where(Record.created_at >= since)
                          .group_by(func.date(Record.created_at), Record.channel)).all()
    per_day: dict[str, dict[str, int]] = {(today - timedelta(days=i)).isoformat(): {} for i in range(days - 1, -1, -1)}
    for d, ch, n in day_rows:
        key = str(d)[:10]
        if key in per_day:
            per_day[key][ch] = int(n)
    assignees = Counter({u or "unassigned": n for u, n in db.execute(
        select(User.username, func.count()).select_from(Case).outerjoin(User, User.id == Case.assigned_to)
        .where(open_cases).group_by(User.username)).all()})
    unassigned = assignees.pop("unassigned", 0)
    opened = db.execute(select(Case.id, Case.status, Case.opened_at).where(open_cases)).all()
    moved = _status_since(db, [r[0] for r in opened])
    now = utcnow()
    spans: dict[str, list[float]] = {}
    for cid, status, opened_at in opened:
        spans.setdefault(status, []).append((now - moved.get(cid, opened_at)).total_seconds() / 86400)
    in_status = [(s, round(statistics.median(spans[s]), 1) if len(spans.get(s, [])) >= SMALL else None,
                  len(spans.get(s, []))) for s in OPEN_STATUSES]
    overdue = db.scalar(select(func.count()).select_from(CaseTask)
                        .where(CaseTask.done_at.is_(None), CaseTask.due_on < today)) or 0
    referrals = Counter(dict(db.execute(select(Referral.status, func.count()).group_by(Referral.status)).all()))
    return Dashboard(
        total_open=sum(n for s, n in by_status.items() if s in OPEN_STATUSES),
        by_status=_bars(by_status, STATUSES), by_pathway=_bars(pathway), by_province=_bars(prov),
        by_risk=_bars(risk, ("high", "medium", "low", "not_assessed")), by_channel=_bars(channel),
        intake_days=list(per_day.items()),
        review_backlog=db.scalar(select(func.count()).select_from(MatchPair).where(MatchPair.status == "pending"))
        or 0,
        unassigned=unassigned, by_assignee=_bars(assignees), days_in_status=in_status, overdue_tasks=int(overdue),
        referrals=_bars(referrals, ("sent", "accepted", "rejected", "done", "revoked")))


def _month_bounds(month: str) -> tuple[datetime, datetime]:
    try:
        start = datetime.strptime(month, "%Y-%m")
    except ValueError:
        raise InvalidInput("month: give it as YYYY-MM.", field="month") from None
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def monthly_report_rows(db: Session, month: str) -> list[tuple[str, str, str]]:
    """(section, key, count as shown) for one month: intake, cases opened and closed, the state now."""
    start, end = _month_bounds(month)
    in_month = (Record.created_at >= start, Record.created_at < end)
    rows: list[tuple[str, str, str]] = [("report", "month", month)]
    for ch, n in db.execute(select(Record.channel, func.count()).where(*in_month).group_by(Record.channel)).all():
        rows.append(("intake_by_channel", ch, suppress(n)))
    opened = db.scalar(select(func.count()).select_from(Case).where(Case.opened_at >= start, Case.opened_at < end))
    closed = db.scalar(select(func.count()).select_from(Case).where(Case.closed_at >= start, Case.closed_at < end))
    rows += [("cases", "opened", suppress(opened or 0)), ("cases", "closed", suppress(closed or 0))]
    board = build_dashboard(db, days=1)
    for section, bars in (("status_now", board.by_status), ("pathway_now", board.by_pathway),
                          ("risk_now", board.by_risk), ("province_now", board.by_province),
                          ("referrals", board.referrals)):
        rows += [(section, b.key, b.shown) for b in bars]
    refs = db.scalar(select(func.count()).select_from(Referral).where(Referral.created_at >= start,
                                                                      Referral.created_at < end))
    rows.append(("referrals_sent_in_month", "all", suppress(refs or 0)))
    return rows


def monthly_report_csv(db: Session, month: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["section", "key", "count"])
    writer.writerows(monthly_report_rows(db, month))
    return buf.getvalue().encode("utf-8")
