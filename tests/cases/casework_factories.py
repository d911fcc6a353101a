"""Records stored the way the worker stores them (store_submission: blind indexes, family members), with a
case each: factories for the casework tests, no web and no worker."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from amanat.cases.models import Case
from amanat.cases.service import ensure_case
from amanat.core.audit import SYSTEM
from amanat.core.crypto import KeyHolder
from amanat.intake.models import Submission
from amanat.intake.parsed import ParsedSubmission
from amanat.intake.service import OpenedSubmission, new_receipt
from amanat.linkage.service import match_new_record
from amanat.records.models import Record
from amanat.records.service import store_submission


def store(db: Session, keys: KeyHolder, fields: dict[str, Any]) -> tuple[Case, str, str]:
    """(case, record id, receipt) of a submission stored as the worker would."""
    receipt = new_receipt()
    sub = Submission(receipt=receipt, channel="web", form_id="service_record", form_version="1", status="stored")
    db.add(sub)
    db.flush()
    opened = OpenedSubmission(sub.id, receipt, "web", "service_record", "1", "prs", None,
                              ParsedSubmission(channel="web", fields=dict(fields)))
    stored = store_submission(db, keys, opened)
    sub.record_id = stored.record_id
    record = db.get(Record, stored.record_id)
    assert record is not None and stored.norm is not None
    match_new_record(db, keys, record, stored.norm)  # its blocking keys, as the worker indexes them
    case = ensure_case(db, SYSTEM, stored.person_id, record_id=stored.record_id, reason=stored.link_reason)
    db.flush()
    return case, stored.record_id, receipt


NABI = {"full_name": "محمد نبی", "father_name": "عبدالله", "gender": "male", "province": "AF01",
        "tazkira_number": "1400-0101-23456", "phone": "0799123456", "passport_number": "P01234567",
        "family": [{"member_name": "فاطمه", "member_relationship": "spouse", "member_date_of_birth": "1370",
                    "member_tazkira": "1400-0202-34567"}]}
