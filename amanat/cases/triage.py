"""Protection triage: how much danger a person is in, from protection factors only.

The risk is computed from what puts a person in danger now — threats and how recent they are, hiding,
family still in Afghanistan, deportation from the country of refuge, lost documents, medical needs, a
woman-headed household, unaccompanied children, a visa or permit running out. Military value (rank, unit,
specialty, years of service) is never an input: ``ProtectionFactors`` has no such field, ``parse_factors``
refuses any field it does not know, and the queue this module orders sorts by level, deadline and age only.
Each assessment is kept with who made it, when and why; a new one supersedes, never overwrites.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amanat.cases.models import Case
from amanat.cases.protection_models import ProtectionAssessment
from amanat.cases.scope import case_condition, current
from amanat.cases.service import OPEN_STATUSES, case_label, get_case
from amanat.core.audit import Actor, record_event
from amanat.core.db import utcnow
from amanat.errors import InvalidInput

LEVELS = ("low", "medium", "high")  # the levels the case queue filters and sorts by
THREAT_CHOICES = ("none", "past", "recent")  # recent: within the last 90 days, or ongoing
DEPORTATION_CHOICES = ("none", "possible", "order")  # order: a deportation or exit order was served
MEDICAL_CHOICES = ("none", "ongoing", "urgent")
RECENT_THREAT_DAYS = 90

# Why a level was given: one code per factor that counted (translated on the page).
REASONS = ("threat_recent", "threat_past", "threat_recent_date", "in_hiding", "family_in_afghanistan",
           "deportation_possible", "deportation_order", "documents_lost", "medical_ongoing", "medical_urgent",
           "woman_headed_household", "unaccompanied_children", "deadline_passed", "deadline_30_days",
           "deadline_90_days")


@dataclass(frozen=True)
class ProtectionFactors:
    """Everything triage may look at. Adding a field here is the only way to widen it."""

    threat: str = "none"
    last_threat_on: date | None = None
    in_hiding: bool = False
    family_in_afghanistan: bool = False
    deportation: str = "none"
    documents_lost: bool = False
    medical: str = "none"
    woman_headed_household: bool = False
    unaccompanied_children: bool = False
    permit_expires_on: date | None = None

    def to_json(self) -> dict[str, object]:
        out = asdict(self)
        for key in ("last_threat_on", "permit_expires_on"):
            out[key] = out[key].isoformat() if out[key] else None
        return out


FACTOR_NAMES = tuple(f.name for f in fields(ProtectionFactors))
_BOOLS = {f.name for f in fields(ProtectionFactors) if f.type in ("bool", bool)}
_CHOICES = {"threat": THREAT_CHOICES, "deportation": DEPORTATION_CHOICES, "medical": MEDICAL_CHOICES}
_DATES = ("last_threat_on", "permit_expires_on")


def _date(name: str, value: object, today: date) -> date | None:
    if value in (None, ""):
        return None
    try:
        parsed = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise InvalidInput(f"{name}: give a date as YYYY-MM-DD.", field=name) from exc
    if name == "last_threat_on" and parsed > today:
        raise InvalidInput(f"{name}: a threat cannot be in the future.", field=name)
    return parsed


def parse_factors(form: Mapping[str, object], *, today: date | None = None) -> ProtectionFactors:
    """Factors from a form (or a stored assessment). Any name that is not a protection factor is refused,
    so a military field sent by a client or a future form never reaches the computation."""
    today = today or utcnow().date()
    unknown = sorted(k for k in form if k not in FACTOR_NAMES and k != "csrf_token" and k != "note")
    if unknown:
        raise InvalidInput(f"triage: not a protection factor: {', '.join(unknown)[:200]}.", field=unknown[0])
    values: dict[str, object] = {}
    for name, choices in _CHOICES.items():
        raw = str(form.get(name) or "none").strip()
        if raw not in choices:
            raise InvalidInput(f"{name}: choose one of {', '.join(choices)}.", field=name)
        values[name] = raw
    for name in _BOOLS:
        raw = form.get(name)
        values[name] = raw is True or str(raw).lower() in ("1", "true", "yes", "on")
    for name in _DATES:
        values[name] = _date(name, form.get(name), today)
    return ProtectionFactors(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Risk:
    level: str
    score: int
    reasons: tuple[str, ...]


def compute_risk(factors: ProtectionFactors, *, today: date) -> Risk:
    """Score and level from protection factors alone. Weights follow protection practice: a recent threat,
    hiding or a deportation order each make a case urgent on their own."""
    score, reasons = 0, []

    def add(points: int, reason: str) -> None:
        nonlocal score
        score += points
        reasons.append(reason)

    recent_by_date = factors.last_threat_on is not None and (today - factors.last_threat_on).days <= RECENT_THREAT_DAYS
    if factors.threat == "recent":
        add(5, "threat_recent")
    elif recent_by_date:
        add(5, "threat_recent_date")
    elif factors.threat == "past":
        add(2, "threat_past")
    if factors.in_hiding:
        add(4, "in_hiding")
    if factors.family_in_afghanistan:
        add(1, "family_in_afghanistan")
    if factors.deportation == "order":
        add(5, "deportation_order")
    elif factors.deportation == "possible":
        add(2, "deportation_possible")
    if factors.documents_lost:
        add(1, "documents_lost")
    if factors.medical == "urgent":
        add(4, "medical_urgent")
    elif factors.medical == "ongoing":
        add(1, "medical_ongoing")
    if factors.woman_headed_household:
        add(2, "woman_headed_household")
    if factors.unaccompanied_children:
        add(3, "unaccompanied_children")
    if factors.permit_expires_on is not None:
        days = (factors.permit_expires_on - today).days
        if days < 0:
            add(3, "deadline_passed")
        elif days <= 30:
            add(3, "deadline_30_days")
        elif days <= 90:
            add(1, "deadline_90_days")
    level = "high" if score >= 5 else "medium" if score >= 2 else "low"
    return Risk(level, score, tuple(reasons))


def assess_case(db: Session, actor: Actor, case_id: str, form: Mapping[str, object]) -> ProtectionAssessment:
    """Record a new assessment (superseding the last), set the case's risk level, audit it."""
    case = get_case(db, case_id)
    today = utcnow().date()
    factors = parse_factors(form, today=today)
    note = str(form.get("note") or "").strip()
    if len(note) > 2000:
        raise InvalidInput("note: at most 2000 characters.", field="note")
    risk = compute_risk(factors, today=today)
    last = latest_assessment(db, case.id)
    row = ProtectionAssessment(case_id=case.id, assessed_by=actor.user_id, level=risk.level, score=risk.score,
                               factors=factors.to_json(), reasons=list(risk.reasons), note=note or None,
                               supersedes=last.id if last else None)
    db.add(row)
    old, case.risk_level, case.updated_at = case.risk_level, risk.level, utcnow()
    db.flush()
    record_event(db, actor, "case:triage", "case", case.id, assessment=row.id, level=risk.level, score=risk.score,
                 previous=old, reasons=len(risk.reasons))
    return row


def latest_assessment(db: Session, case_id: str) -> ProtectionAssessment | None:
    return db.scalars(select(ProtectionAssessment).where(ProtectionAssessment.case_id == case_id)
                      .order_by(ProtectionAssessment.assessed_at.desc())).first()


def assessment_history(db: Session, case_id: str) -> list[ProtectionAssessment]:
    return list(db.scalars(select(ProtectionAssessment).where(ProtectionAssessment.case_id == case_id)
                           .order_by(ProtectionAssessment.assessed_at.desc())))


def stored_factors(row: ProtectionAssessment) -> ProtectionFactors:
    return parse_factors(row.factors, today=date.max)


@dataclass(frozen=True)
class TriageRow:
    case_id: str
    label: str
    status: str
    risk_level: str | None
    opened_at: datetime


# The only ordering triage uses: level (high first), the latest score, then the oldest case. Nothing else may be
# added without a protection reason; tests/protection/test_triage.py checks that no military field is in it.
LEVEL_RANK = sql_case({"high": 0, "medium": 1, "low": 2}, value=Case.risk_level, else_=3)
LATEST_SCORE = (select(ProtectionAssessment.score).where(ProtectionAssessment.case_id == Case.id)
                .order_by(ProtectionAssessment.assessed_at.desc()).limit(1).correlate(Case).scalar_subquery())
TRIAGE_ORDER = (LEVEL_RANK, func.coalesce(LATEST_SCORE, -1).desc(), Case.opened_at, Case.number)


def list_by_risk(db: Session, *, limit: int = 100) -> list[TriageRow]:
    """Open cases, most at risk first; unassessed cases after the assessed ones."""
    q = (select(Case).where(Case.status.in_(OPEN_STATUSES), case_condition(current(db)))
         .order_by(*TRIAGE_ORDER).limit(limit))
    return [TriageRow(c.id, case_label(c.number), c.status, c.risk_level, c.opened_at) for c in db.scalars(q)]
