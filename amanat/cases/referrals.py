"""What a referrer sent, and where it stands: receipts, case numbers, statuses, verification states.

Never values: a referrer sees the receipt they were given, the case it became, the case's status and its
verification state, and whether they have vouched for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanat.cases.models import Case
from amanat.cases.service import case_label, open_case_of_person
from amanat.cases.verification import derive_state
from amanat.cases.verification_models import Attestation
from amanat.intake.models import Submission
from amanat.records.models import Record

__all__ = ["ReferralRow", "list_referrals"]


@dataclass(frozen=True)
class ReferralRow:
    receipt: str
    received_at: datetime
    submission_status: str  # sealed | stored | failed | held | receiving
    case_id: str | None
    case_label: str | None
    case_status: str | None
    verification_state: str | None
    vouched: str | None  # this referrer's latest vouch outcome on the case


def _case_of(db: Session, person_id: str) -> Case | None:
    return open_case_of_person(db, person_id) or db.scalars(
        select(Case).where(Case.person_id == person_id).order_by(Case.opened_at.desc())).first()


def list_referrals(db: Session, user_id: str, *, limit: int = 200) -> list[ReferralRow]:
    subs = db.execute(select(Submission.receipt, Submission.received_at, Submission.status, Record.person_id)
                      .outerjoin(Record, Record.submission_id == Submission.id)
                      .where(Submission.submitted_by == user_id)
                      .order_by(Submission.received_at.desc()).limit(limit)).all()
    out: list[ReferralRow] = []
    for receipt, received_at, status, person_id in subs:
        case = _case_of(db, person_id) if person_id else None
        if case is None:
            out.append(ReferralRow(receipt, received_at, status, None, None, None, None, None))
            continue
        atts = list(db.scalars(select(Attestation).where(Attestation.case_id == case.id)
                               .order_by(Attestation.created_at)))
        mine = [a for a in atts if a.attester_id == user_id and a.method == "vouching"]
        out.append(ReferralRow(receipt, received_at, status, case.id, case_label(case.number), case.status,
                               derive_state(atts, case.status).state, mine[-1].outcome if mine else None))
    return out
