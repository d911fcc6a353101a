"""What a case gives its pathway checklists: documents held, attestations made, record fields present.

Only names and codes leave here (a document's form field, an attestation's method and outcome, which
fields have a value), never the values themselves. An attester's latest attestation on a case is the one
that counts, as in the verification state (cases/verification.py).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanat.cases.models import Case
from amanat.cases.pathways import Evidence
from amanat.cases.verification_models import Attestation
from amanat.records.models import Document, Record


def attestation_facts(db: Session, case_id: str) -> frozenset[tuple[str, str]]:
    """(method, outcome) of each attester's latest attestation on the case."""
    latest: dict[tuple[str, str], tuple[str, str]] = {}
    rows = db.execute(select(Attestation.attester_id, Attestation.method, Attestation.outcome)
                      .where(Attestation.case_id == case_id).order_by(Attestation.created_at)).all()
    for attester, method, outcome in rows:
        latest[(attester, method)] = (method, outcome)
    return frozenset(latest.values())


def case_evidence(db: Session, case: Case) -> Evidence:
    records = list(db.scalars(select(Record).where(Record.person_id == case.person_id)))
    ids = [r.id for r in records]
    docs = set(db.scalars(select(Document.field).where(Document.record_id.in_(ids)))) if ids else set()
    present = {k for r in records for k, v in (r.data or {}).items() if v not in (None, "", [])}
    return Evidence(frozenset(docs), attestation_facts(db, case.id), frozenset(present), case.risk_level)
