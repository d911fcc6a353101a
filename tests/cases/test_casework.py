"""Casework services without the web: search through blind indexes, the queue, working on a case, family
members, corrections, assignment and approvals, history, and what review decisions do to cases."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from amanat.cases import access, corrections, family, history, queue, search, workflow
from amanat.cases.models import Case, CaseAccess, CaseNote
from amanat.core.audit import Actor, AuditEvent
from amanat.errors import Conflict, InvalidInput, PermissionDenied
from amanat.records.models import Record, RecordCorrection, RecordLookup
from amanat.records.search_index import NAME_KINDS
from tests.cases.casework_factories import NABI, store


def _actor(users, role):  # type: ignore[no-untyped-def]
    return users[role].actor


def _events(db, action):  # type: ignore[no-untyped-def]
    return [json.loads(e.details) for e in db.scalars(select(AuditEvent).where(AuditEvent.action == action))]


@pytest.mark.parametrize("term,kind", [("Mohammad Nabi", "auto"), ("Muhammad Nabi", "name"), ("محمد نبي", "auto"),
                                       ("nabi", "name"), ("1400-0101-23456", "auto"), ("۱۴۰۰۰۱۰۱۲۳۴۵۶", "tazkira"),
                                       ("+93 799 123 456", "phone"), ("p01234567", "passport")])
def test_search_finds_the_dari_record_by_any_key(database, users, term, kind):
    with database.transaction() as db:
        case, _rec, _ = store(db, database.keys, NABI)
        store(db, database.keys, {"full_name": "Ahmad Shah", "gender": "male"})
        result = search.search_cases(db, database.keys, _actor(users, "caseworker"), users["caseworker"].id, term,
                                     kind)
        assert result.case_ids == (case.id,)
        event = _events(db, "case:search")[-1]
        assert event["results"] == 1 and term not in json.dumps(event, ensure_ascii=False)


def test_search_by_receipt_case_number_and_family_member(database, users):
    with database.transaction() as db:
        case, _rec, receipt = store(db, database.keys, NABI)
        actor, uid = _actor(users, "caseworker"), users["caseworker"].id
        assert search.search_cases(db, database.keys, actor, uid, receipt.lower()).case_ids == (case.id,)
        label = f"C-{case.number:06d}"
        assert search.search_cases(db, database.keys, actor, uid, label).case_ids == (case.id,)
        # a family member's tazkira or name finds the household they were listed in
        assert search.search_cases(db, database.keys, actor, uid, "1400-0202-34567").case_ids == (case.id,)
        assert search.search_cases(db, database.keys, actor, uid, "Fatima", "name").case_ids == (case.id,)
        assert search.search_cases(db, database.keys, actor, uid, "Zarghuna", "name").case_ids == ()
        with pytest.raises(InvalidInput):
            search.search_cases(db, database.keys, actor, uid, "   ")
        with pytest.raises(InvalidInput):
            search.search_cases(db, database.keys, actor, uid, "x", "shoe-size")


def test_names_are_indexed_as_digests_only(database, users):
    with database.transaction() as db:
        _case, rec, _ = store(db, database.keys, NABI)
        digests = db.scalars(select(RecordLookup.digest).where(RecordLookup.record_id == rec,
                                                               RecordLookup.kind.in_(NAME_KINDS))).all()
        assert len(digests) >= 3 and all(len(d) == 16 for d in digests)
        assert all(b"mhmd" not in d and "محمد".encode() not in d for d in digests)


def test_search_answer_is_kept_for_its_user_only(database, users):
    with database.transaction() as db:
        store(db, database.keys, NABI)
        res = search.search_cases(db, database.keys, _actor(users, "caseworker"), users["caseworker"].id, "nabi")
        assert search.get_search(db, users["caseworker"].id, res.search_id).case_ids == res.case_ids
        with pytest.raises(Exception, match="expired"):
            search.get_search(db, users["verifier"].id, res.search_id)


def test_reindex_gives_old_records_their_name_digests_and_members(database, users):
    with database.transaction() as db:
        case, _rec, _ = store(db, database.keys, NABI)
        db.execute(RecordLookup.__table__.delete().where(RecordLookup.kind.in_(NAME_KINDS)))
        actor, uid = _actor(users, "caseworker"), users["caseworker"].id
        assert search.search_cases(db, database.keys, actor, uid, "Mohammad Nabi", "name").case_ids == ()
        seen: list[tuple[int, int]] = []
        assert search.reindex_records(db, database.keys, progress=lambda d, t: seen.append((d, t))) == 1
        assert seen == [(1, 1)]
        assert search.search_cases(db, database.keys, actor, uid, "Mohammad Nabi", "name").case_ids == (case.id,)
        assert search.reindex_records(db, database.keys) == 0


def test_queue_filters_names_and_province(database, users):
    with database.transaction() as db:
        case, _rec, _ = store(db, database.keys, NABI)
        other, _r, _ = store(db, database.keys, {"full_name": "Gul Ahmad", "province": "Herat"})
        uid = users["caseworker"].id
        workflow.assign(db, _actor(users, "caseworker"), case.id, uid)
        rows = queue.list_queue(db, uid, queue.QueueFilter(scope="mine"), with_names=True)
        assert [(r.case_id, r.display_name) for r in rows] == [(case.id, "محمد نبی")]
        assert [r.case_id for r in queue.list_queue(db, uid, queue.QueueFilter(scope="unassigned"))] == [other.id]
        assert all(r.display_name is None for r in queue.list_queue(db, uid, queue.QueueFilter()))
        f = queue.QueueFilter.clean(scope="all", status=None, pathway=None, province="af01", assignee=None,
                                    risk="bogus", sort="nope", page=0)
        assert (f.province, f.risk, f.sort, f.page) == ("AF01", None, "updated", 1)
        assert [r.case_id for r in queue.list_queue(db, uid, f)] == [case.id]
        assert queue.province_names("fa_AF")["AF01"] == "کابل" and queue.province_names("en")["AF01"] == "Kabul"


def test_work_on_case_needs_a_reason_is_audited_once_and_expires(database, users):
    with database.transaction() as db:
        case, rec, _ = store(db, database.keys, NABI)
        actor, uid = _actor(users, "caseworker"), users["caseworker"].id
        with pytest.raises(InvalidInput):
            access.start_work(db, actor, case.id, reason_code="", reason_text=None, minutes=15)
        with pytest.raises(InvalidInput):
            access.start_work(db, actor, case.id, reason_code="other", reason_text=" ", minutes=15)
        assert not access.current_access(db, uid, case.id).any
        access.start_work(db, actor, case.id, reason_code="applicant_contact", reason_text=None, minutes=15)
        now = access.current_access(db, uid, case.id)
        assert now.shows(rec, "full_name") and now.shows(rec, "tazkira_number")
        assert not access.current_access(db, users["verifier"].id, case.id).any  # grants are personal
        assert [e["reason"] for e in _events(db, "case:work")] == ["applicant_contact"]
        later = now.working_until + timedelta(seconds=1)  # type: ignore[operator]
        assert not access.current_access(db, uid, case.id, now=later).any


def test_quick_reveals_stay_shown_together(database, users):
    with database.transaction() as db:
        case, rec, _ = store(db, database.keys, NABI)
        actor, uid = _actor(users, "caseworker"), users["caseworker"].id
        access.reveal_record_field(db, actor, case.id, rec, "full_name", can_special=True)
        access.reveal_record_field(db, actor, case.id, rec, "phone", can_special=True)
        now = access.current_access(db, uid, case.id)
        assert now.shows(rec, "full_name") and now.shows(rec, "phone") and not now.shows(rec, "tazkira_number")
        assert len(_events(db, "record:reveal")) == 2
        access.end_work(db, actor, case.id)
        assert not access.current_access(db, uid, case.id).any
        assert db.scalars(select(CaseAccess)).first() is not None  # grants stay as the record of who saw what


def test_family_members_are_people_revealable_and_linkable(database, users):
    with database.transaction() as db:
        case, _rec, _ = store(db, database.keys, NABI)
        wife_case, _wife_rec, _ = store(db, database.keys, {"full_name": "Fatima", "tazkira_number": "1400-0202-34567"})
        members = family.family_of_case(db, database.keys, case)
        assert len(members) == 1 and members[0].relationship == "spouse"
        assert set(members[0].present) == {"member_name", "member_date_of_birth", "member_tazkira"}
        assert [c.case_id for c in members[0].candidates] == [wife_case.id]  # her own case, by tazkira
        actor, uid = _actor(users, "caseworker"), users["caseworker"].id
        access.reveal_member_field(db, actor, case.id, members[0].id, "member_name")
        assert access.current_access(db, uid, case.id).shows(f"m:{members[0].id}", "member_name")
        assert _events(db, "record:reveal")[-1] == {"field": "family.member_name", "member": members[0].id}
        family.link_member(db, actor, case.id, members[0].id, wife_case.person_id)
        linked = family.family_of_case(db, database.keys, case)[0].linked
        assert linked is not None and linked.case_id == wife_case.id
        with pytest.raises(Exception, match="No such family member"):
            family.link_member(db, actor, wife_case.id, members[0].id, None)


def test_correction_keeps_the_original_renormalises_and_rescores(database, users):
    with database.transaction() as db:
        case, rec, _ = store(db, database.keys, NABI)
        _other, other_rec, _ = store(db, database.keys, {"full_name": "Mohammad Nabi", "father_name": "Abdullah",
                                                         "gender": "male", "date_of_birth": "1990-01-01",
                                                         "tazkira_number": "1399-0000-11111"})
        actor = _actor(users, "caseworker")
        with pytest.raises(InvalidInput):
            corrections.correct_value(db, database.keys, actor, case.id, rec, "tazkira_number", "1400-9999-00000",
                                      reason_code="", reason_text=None, can_special=True)
        with pytest.raises(PermissionDenied):
            corrections.correct_value(db, database.keys, actor, case.id, rec, "religion", "x",
                                      reason_code="typing_error", reason_text=None, can_special=False)
        result = corrections.correct_value(db, database.keys, actor, case.id, rec, "date_of_birth", "1990-01-01",
                                           reason_code="document_check", reason_text=None, can_special=True)
        row = db.get(Record, rec)
        assert row is not None and row.data["date_of_birth"] == "1990-01-01"
        assert row.normalized["dob"]["iso"] == "1990-01-01"
        kept = db.get(RecordCorrection, result.correction_id)
        assert kept is not None and kept.original is None and kept.corrected == "1990-01-01"
        assert result.candidates >= 1  # scored again against the Latin-script record of the same name
        event = _events(db, "record:correct")[-1]
        assert event["field"] == "date_of_birth" and "1990" not in json.dumps(event)
        assert other_rec


def test_attach_document_is_encrypted_and_audited(database, users):
    with database.transaction() as db:
        case, rec, _ = store(db, database.keys, NABI)
        actor = _actor(users, "caseworker")
        doc = corrections.attach_document(db, actor, case.id, rec, "letter.pdf", b"%PDF-1.4\n%%EOF\n",
                                          max_bytes=1000)
        assert doc.content_type == "application/pdf"
        with pytest.raises(InvalidInput):
            corrections.attach_document(db, actor, case.id, rec, "x.exe", b"MZ\x90\x00", max_bytes=1000)
        with pytest.raises(InvalidInput):
            corrections.attach_document(db, actor, case.id, rec, "big.pdf", b"%PDF" + b"0" * 2000, max_bytes=1000)
        assert _events(db, "document:attach")[-1]["document"] == doc.id


def test_assignment_status_reasons_and_close_needs_a_second_person(database, users):
    with database.transaction() as db:
        case, _rec, _ = store(db, database.keys, NABI)
        cw, _verifier = _actor(users, "caseworker"), _actor(users, "verifier")
        with pytest.raises(InvalidInput):  # a verifier does not work cases
            workflow.assign(db, cw, case.id, users["verifier"].id)
        workflow.assign(db, cw, case.id, users["caseworker"].id)
        workflow.assign(db, cw, case.id, None)
        assert case.assigned_to is None
        workflow.change_status(db, cw, case.id, "in_review")
        with pytest.raises(InvalidInput):
            workflow.change_status(db, cw, case.id, "on_hold")  # no reason
        workflow.change_status(db, cw, case.id, "on_hold", reason_code="awaiting_documents")
        with pytest.raises(InvalidInput, match="approval"):
            workflow.change_status(db, cw, case.id, "closed")
        approval = workflow.request_close(db, cw, case.id, reason_code="pathway_completed", reason_text=None)
        with pytest.raises(Conflict):
            workflow.request_close(db, cw, case.id, reason_code="duplicate", reason_text=None)
        with pytest.raises(PermissionDenied):
            workflow.decide_close(db, cw, approval.id, approve=True)  # not the same person
        second = Actor("user:second", users["admin"].id)
        workflow.decide_close(db, second, approval.id, approve=True)
        assert case.status == "closed" and case.closed_at is not None
        codes = [n.code for n in history.case_notes(db, case)]
        assert codes[-6:] == ["assigned", "unassigned", "status", "status", "close_requested", "close_approved"]
        actions = [h.action for h in history.case_history(db, case)]
        assert "case:close_approve" in actions and "case:assign" in actions


def test_review_merge_and_undo_through_the_service(database, users):
    from amanat.linkage.models import MatchPair

    with database.transaction() as db:
        a, rec_a, _ = store(db, database.keys, NABI)
        b, rec_b, _ = store(db, database.keys, {"full_name": "Mohammad Nabi", "gender": "male"})
        left, right = sorted((rec_a, rec_b))
        pair = MatchPair(record_l=left, record_r=right, match_weight=5.0, match_probability=0.9, status="pending",
                         model_version="t")
        db.add(pair)
        db.flush()
        cw = _actor(users, "caseworker")
        result = workflow.apply_review_decision(db, cw, pair.id, "accept")
        assert result.merge_id
        closed = [c for c in (a, b) if c.status == "closed"]
        assert len(closed) == 1
        merge_notes = db.scalars(select(CaseNote).where(CaseNote.code.in_(("merged_into", "merged_from")))).all()
        assert len(merge_notes) == 2
        reopened = workflow.undo_merge(db, cw, result.merge_id)
        assert reopened.status == "in_review"
        assert all(n.voided_at is not None for n in merge_notes)
        assert db.scalars(select(Case).where(Case.status == "closed")).first() is None
