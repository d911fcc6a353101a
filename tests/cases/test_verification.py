"""Attestations, the state derived from them, vouches and the document checks (no web)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from amanat.cases import verification as v
from amanat.cases.document_checks import case_checks
from amanat.cases.verification_models import Attestation
from amanat.core.audit import AuditEvent, verify_chain
from amanat.errors import InvalidInput, NotFound, PermissionDenied
from tests.cases.factories import BAD_MRZ, VALID_MRZ, add_record, make_case


def _attest(db, user, case, outcome="confirmed", method="interview", reason="Met him; answers agree.", **kw):
    return v.record_attestation(db, user.actor, case.id, role=user.role, method=method, outcome=outcome,
                                reason=reason, **kw)


def test_state_follows_the_attestations(database, users):
    verifier, caseworker = users["verifier"], users["caseworker"]
    with database.transaction() as db:
        case = make_case(db)
        assert v.verification_state(db, case) == "none"
        case.status = "verification"
        assert v.verification_state(db, case) == "pending"
        _attest(db, verifier, case, outcome="inconclusive")
        assert v.verification_state(db, case) == "pending"
        _attest(db, verifier, case, outcome="confirmed")  # the verifier's latest is what counts
        assert v.verification_state(db, case) == "verified"
        _attest(db, caseworker, case, outcome="not_confirmed", method="records_check")
        state, views = v.list_attestations(db, case)
        assert state == "conflicting"
        flagged = {a.attester for a in views if a.conflicting}
        assert flagged == {"verifier", "caseworker"}
        assert [a.current for a in views] == [True, True, False]  # newest first; the first finding superseded
        _attest(db, caseworker, case, outcome="confirmed", method="records_check")
        assert v.verification_state(db, case) == "verified"


def test_not_confirmed_by_a_verifier_is_not_verified(database, users):
    with database.transaction() as db:
        case = make_case(db)
        _attest(db, users["verifier"], case, outcome="not_confirmed", method="document_check")
        assert v.verification_state(db, case) == "not_verified"


def test_reason_is_encrypted_and_the_audit_event_has_codes_only(database, users):
    with database.transaction() as db:
        case = make_case(db)
        att = _attest(db, users["verifier"], case, reason="Served with him in 3rd Kandak, 2016-2019")
        raw = db.execute(text("SELECT reason FROM attestations WHERE id = :id"), {"id": att.id}).scalar_one()
        assert b"Kandak" not in bytes(raw)
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "attestation:create")).one()
        details = json.loads(event.details)
        assert event.subject_id == case.id and details["outcome"] == "confirmed" and details["state"] == "verified"
        assert "Kandak" not in event.details
        assert verify_chain(db).ok


@pytest.mark.parametrize("field,value,message", [("method", "guess", "method"), ("outcome", "maybe", "outcome"),
                                                 ("reason", "   ", "reason"), ("reason", "x" * 2001, "reason")])
def test_bad_input_is_refused_with_the_field_named(database, users, field, value, message):
    with database.transaction() as db:
        case = make_case(db)
        args = {"method": "interview", "outcome": "confirmed", "reason": "ok", field: value}
        with pytest.raises(InvalidInput) as err:
            v.record_attestation(db, users["verifier"].actor, case.id, role="verifier", **args)
        assert err.value.field == message
        assert db.scalar(select(Attestation.id)) is None


def test_unknown_case_is_not_found(database, users):
    with database.transaction() as db, pytest.raises(NotFound):
        v.record_attestation(db, users["verifier"].actor, "nope", role="verifier", method="interview",
                             outcome="confirmed", reason="ok")


def test_referrer_may_vouch_only_for_people_they_referred(database, users):
    referrer = users["referrer"]
    with database.transaction() as db:
        theirs = make_case(db, submitted_by=referrer.id)
        other = make_case(db, submitted_by=users["caseworker"].id)
        att = v.record_attestation(db, referrer.actor, theirs.id, role="referrer", method="vouching",
                                   outcome="confirmed", reason="Served with him in the same unit, 2016-2019",
                                   vouch_only=True)
        assert att.method == "vouching"
        assert v.verification_state(db, theirs) == "pending"  # a vouch alone does not verify
        with pytest.raises(PermissionDenied):
            v.record_attestation(db, referrer.actor, other.id, role="referrer", method="vouching",
                                 outcome="confirmed", reason="I know him", vouch_only=True)
        with pytest.raises(PermissionDenied):
            v.record_attestation(db, referrer.actor, theirs.id, role="referrer", method="document_check",
                                 outcome="confirmed", reason="I saw it", vouch_only=True)


def test_voucher_record_counts_what_later_checks_found(database, users):
    referrer, verifier = users["referrer"], users["verifier"]
    with database.transaction() as db:
        cases = [make_case(db, submitted_by=referrer.id) for _ in range(4)]
        for case in cases:
            v.record_attestation(db, referrer.actor, case.id, role="referrer", method="vouching",
                                 outcome="confirmed", reason="same unit", vouch_only=True)
        _attest(db, verifier, cases[0], outcome="confirmed")
        _attest(db, verifier, cases[1], outcome="not_confirmed")
        _attest(db, verifier, cases[2], outcome="inconclusive")
        record = v.voucher_record(db, referrer.id)
        assert (record.vouches, record.upheld, record.contradicted, record.unchecked) == (4, 1, 1, 2)
        assert v.verification_state(db, cases[1]) == "conflicting"  # the vouch says yes, the verifier no
        ctx = v.verification_context(db, cases[0], can_attest=True, can_read=True)
        assert [r.username for r in ctx["voucher_records"]] == ["referrer"]
        hidden = v.verification_context(db, cases[0], can_attest=False, can_read=False)
        assert hidden["voucher_records"] == [] and hidden["document_checks"] == []


def test_evidence_documents_must_belong_to_the_case(database, users):
    with database.transaction() as db:
        case = make_case(db, documents=2)
        other = make_case(db, documents=1)
        ctx = v.verification_context(db, case, can_attest=True, can_read=True)
        mine = [d["id"] for d in ctx["attest_documents"]]
        other_ctx = v.verification_context(db, other, can_attest=True, can_read=True)
        theirs = [d["id"] for d in other_ctx["attest_documents"]]
        assert len(mine) == 2
        att = _attest(db, users["verifier"], case, method="document_check", document_ids=mine)
        assert v.list_attestations(db, case)[1][0].documents == 2
        assert att.checks["tazkira"] == "absent"
        with pytest.raises(InvalidInput) as err:
            _attest(db, users["verifier"], case, document_ids=theirs)
        assert err.value.field == "documents"


def test_document_checks_use_mrz_tazkira_and_dates(database):
    good = {"full_name": "Anna", "passport_mrz": VALID_MRZ, "date_of_birth": "1974-08-12",
            "tazkira_number": "1399-0123-45678", "service_start": "2010", "service_end": "2015"}
    with database.transaction() as db:
        case = make_case(db, good)
        checks = {c.code: c for c in case_checks(db, case)}
        assert {k: c.verdict for k, c in checks.items()} == {
            "mrz": "pass", "mrz_birth_date": "pass", "tazkira": "pass", "records_birth_date": "absent",
            "records_tazkira": "absent", "service_dates": "pass"}
        add_record(db, case.person_id, {**good, "passport_mrz": BAD_MRZ, "date_of_birth": "1975-01-01",
                                        "tazkira_number": "1400-9999-11111", "service_start": "2016",
                                        "service_end": "2012"})
        checks = {c.code: c for c in case_checks(db, case)}
        assert checks["mrz"].verdict == "fail" and checks["mrz"].parts == ("composite",)
        assert checks["mrz_birth_date"].verdict == "fail"
        assert checks["records_birth_date"].verdict == "fail" and checks["records_tazkira"].verdict == "fail"
        assert checks["service_dates"].verdict == "fail"
        assert checks["tazkira"].verdict == "pass"
        add_record(db, case.person_id, {"full_name": "Anna", "tazkira_number": "12345"})
        assert {c.code: c.verdict for c in case_checks(db, case)}["tazkira"] == "fail"


def test_awaiting_verification_lists_pending_and_conflicting_cases(database, users):
    with database.transaction() as db:
        waiting, done, untouched, conflict = (make_case(db) for _ in range(4))
        waiting.status = "verification"
        _attest(db, users["verifier"], done)
        _attest(db, users["verifier"], conflict)
        _attest(db, users["caseworker"], conflict, outcome="not_confirmed")
        rows = v.awaiting_verification(db)
        assert [r.case_id for r in rows] == [conflict.id, waiting.id]
        assert [r.case_id for r in v.awaiting_verification(db, limit=1)] == [conflict.id]
        assert rows[0].state == "conflicting" and untouched.id not in {r.case_id for r in rows}


def test_verified_cases_do_not_crowd_out_waiting_ones(database, users):
    with database.transaction() as db:
        done = [make_case(db) for _ in range(3)]
        for case in done:
            _attest(db, users["verifier"], case)
        waiting = make_case(db)
        waiting.status = "verification"
        waiting.updated_at = max(c.updated_at for c in done) + timedelta(minutes=1)  # the newest
        assert [r.case_id for r in v.awaiting_verification(db, limit=1)] == [waiting.id]
