"""A case's evidence for its checklists: documents, attestations (each attester's latest), fields, triage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from amanat.cases import pathways as pw
from amanat.cases import triage
from amanat.cases.evidence import case_evidence
from amanat.cases.verification_models import Attestation
from amanat.core.audit import AuditEvent
from amanat.errors import InvalidInput
from tests.protection.factories import make_case


def test_checklist_fills_from_documents_attestations_and_manual(database, users):
    cw, verifier = users["caseworker"], users["verifier"]
    cat = pw.load_catalog()
    with database.transaction() as db:
        case = make_case(db, documents=("doc_tazkira", "doc_service"))
        row = pw.add_pathway(db, cw.actor, cat, case.id, "us_siv_com")
        assert case.pathway == "us_siv_com"
        with pytest.raises(InvalidInput, match="already"):
            pw.add_pathway(db, cw.actor, cat, case.id, "us_siv_com")
        [checklist] = pw.checklists(db, cat, case, case_evidence(db, case))
        met = {s.item.code: s.source for s in checklist.items if s.met}
        assert met == {"hr_letter": "document", "national_id": "document"}
        assert {i.code for i in checklist.missing} == {"supervisor_recommendation", "ds157", "identity_checked",
                                                       "employment_confirmed"}
        assert checklist.deadlines[0].due == row.added_at.date() + timedelta(days=90)
        db.add(Attestation(case_id=case.id, attester_id=verifier.id, attester_role="verifier",
                           method="document_check", outcome="confirmed", reason="Tazkira seen", checks={}))
        db.flush()
        pw.confirm_item(db, cw.actor, cat, case.id, row.id, "ds157", confirmed=True)
        [checklist] = pw.checklists(db, cat, case, case_evidence(db, case))
        met = {s.item.code: s.source for s in checklist.items if s.met}
        assert met["identity_checked"] == "attestation" and met["ds157"] == "manual"
        with pytest.raises(InvalidInput, match="not on this pathway"):
            pw.confirm_item(db, cw.actor, cat, case.id, row.id, "nonsense", confirmed=True)
        actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
        assert "case:pathway_add" in actions and "case:pathway_item" in actions


def test_triage_level_can_meet_an_item(database, users):
    cw = users["caseworker"]
    cat = pw.load_catalog()
    with database.transaction() as db:
        case = make_case(db)
        pw.add_pathway(db, cw.actor, cat, case.id, "local_protection")
        [cl] = pw.checklists(db, cat, case, case_evidence(db, case))
        assert {s.item.code for s in cl.items if s.met} == {"contact_known"}  # the record has a phone
        triage.assess_case(db, cw.actor, case.id, {"threat": "recent"})
        [cl] = pw.checklists(db, cat, case, case_evidence(db, case))
        assert {s.item.code for s in cl.items if s.met} == {"contact_known", "risk_assessed"}
        assert cl.deadlines[0].days_left in (13, 14)  # 14 days after the pathway was added
