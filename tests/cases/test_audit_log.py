"""The auditor's filters: by user, dates, case number (everything that belongs to the case) and action."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from amanat.accounts.service import attempt_details
from amanat.cases import audit_log as al
from amanat.cases.service import case_records
from amanat.cases.tasks import add_task
from amanat.cases.verification import record_attestation
from amanat.core.audit import AuditEvent
from amanat.core.db import utcnow
from amanat.errors import InvalidInput, NotAuthenticated
from amanat.records.service import reveal_field
from tests.cases.factories import make_case


def test_case_number_finds_the_case_its_records_and_reveals(database, users):
    cw, verifier = users["caseworker"], users["verifier"]
    with database.transaction() as db:
        case = make_case(db, documents=1)
        other = make_case(db)
        rec = case_records(db, case)[0]
        reveal_field(db, cw.actor, rec.id, "full_name", can_special=False)
        reveal_field(db, cw.actor, case_records(db, other)[0].id, "full_name", can_special=False)
        record_attestation(db, verifier.actor, case.id, role="verifier", method="interview", outcome="confirmed",
                           reason="ok")
        add_task(db, cw.actor, case.id, title="Call back", assignee_id=None, due=None)
        label = f"C-{case.number:06d}"
        events, total = al.search_events(db, al.make_filter(user=None, since=None, until=None, case=label,
                                                            action=None))
        actions = {e.action for e in events}
        assert {"case:open", "record:reveal", "attestation:create", "task:create"} <= actions
        assert total == len(events)
        assert all(e.subject_id != case_records(db, other)[0].id for e in events)
        only_reveals, n = al.search_events(db, al.make_filter(user="caseworker", since=None, until=None,
                                                              case=str(case.number), action="record:reveal"))
        assert n == 1 and only_reveals[0].subject_id == rec.id
        by_subject, _ = al.search_events(db, al.AuditFilter(case_number=case.number, action="task"))
        assert [e.action for e in by_subject] == ["task:create"]
        assert al.search_events(db, al.AuditFilter(case_number=99999)) == ([], 0)


def test_date_range_is_inclusive_of_the_last_day(database, users):
    with database.transaction() as db:
        make_case(db)
        today = utcnow().date()
        _, n_today = al.search_events(db, al.AuditFilter(since=today, until=today))
        _, n_yesterday = al.search_events(db, al.AuditFilter(until=today - timedelta(days=1)))
        assert n_today > 0 and n_yesterday == 0


def test_failed_sign_in_keeps_the_username_tried_and_the_address(database, accounts, users):
    for name in ("caseworker", "no such person!"):
        with pytest.raises(NotAuthenticated):
            accounts.authenticate(database, name, "wrong-password", client="203.0.113.7")
    with database.reading() as db:
        failed = list(db.scalars(select(AuditEvent).where(AuditEvent.action == "session:login_failed")
                                 .order_by(AuditEvent.seq)))
        details = [json.loads(e.details) for e in failed]
        assert details == [{"client": "203.0.113.7", "username": "caseworker"},
                           {"client": "203.0.113.7", "username": None}]  # not a username's shape: dropped
        events, _ = al.search_events(db, al.AuditFilter(username="caseworker", action="session"))
        assert [e.seq for e in events] == [failed[0].seq]


def test_attempt_details_never_keep_an_unreadable_address():
    assert attempt_details("a.b", "fe80::1%eth0") == {"username": "a.b", "client": "fe80::1"}
    assert attempt_details("a.b", "testclient")["client"] == "unknown"


@pytest.mark.parametrize("kwargs,field", [({"case": "C-abc"}, "case"), ({"case": "0"}, "case"),
                                          ({"since": "yesterday"}, "from"), ({"user": "Bad Name"}, "user"),
                                          ({"action": "drop table"}, "action"),
                                          ({"since": "2026-02-02", "until": "2026-01-01"}, "to")])
def test_bad_filters_name_the_field(kwargs, field):
    args = {"user": None, "since": None, "until": None, "case": None, "action": None, **kwargs}
    with pytest.raises(InvalidInput) as err:
        al.make_filter(**args)
    assert err.value.field == field


def test_case_numbers_in_several_spellings():
    assert [al.parse_case_number(s) for s in ("C-000042", "c42", "42", " C 0042 ")] == [42] * 4
    assert al.parse_case_number("") is None
