"""Bulk reveal is throttled and noticed: past the hourly allowance a user's reveals are refused, an alarm is
audited and listed for admins, and only an admin's clearing (with a reason) restores them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from amanat.cases.models import Case
from amanat.core.audit import AuditEvent, verify_chain
from amanat.records.models import Record
from tests.conftest import csrf, login
from tests.web.test_intake_flow import form, submit

FIELDS = ("tazkira_number", "phone", "father_name", "date_of_birth", "full_name")


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.model_copy(update={"bulk_access_per_hour": 4})


def one_case(client, database) -> tuple[str, str]:
    from amanat.jobs.pipeline import drain

    assert submit(client, form()).status_code == 201
    drain(database)
    with database.reading() as db:
        return db.scalars(select(Case.id)).one(), db.scalars(select(Record.id)).one()


def reveal(client, case_id: str, record_id: str, field: str):
    return client.post(f"/cases/{case_id}/reveal", data={"record_id": record_id, "field": field,
                                                         "csrf_token": csrf(client)})


def actions(database) -> list[str]:
    with database.reading() as db:
        return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)).all())


def test_reveals_past_the_allowance_are_refused_and_raise_one_alarm(client, database, users):
    case_id, record_id = one_case(client, database)
    login(client, "caseworker")
    for field in FIELDS[:4]:
        assert reveal(client, case_id, record_id, field).status_code == 200
    refused = reveal(client, case_id, record_id, FIELDS[4])
    assert refused.status_code == 403 and "به مدیر سیستم خبر داده شد" in refused.text  # in Dari
    again = reveal(client, case_id, record_id, FIELDS[0])
    assert again.status_code == 403
    log = actions(database)
    assert log.count("record:reveal") == 4 and log.count("access:alarm") == 1  # one alarm, not one per try
    with database.reading() as db:
        alarm = db.scalars(select(AuditEvent).where(AuditEvent.action == "access:alarm")).one()
        assert alarm.subject_id == users["caseworker"].id and '"count":4' in alarm.details
        assert verify_chain(db).ok

    login(client, "admin")
    page = client.get("/admin/alarms")
    assert page.status_code == 200 and "caseworker" in page.text
    cleared = client.post(f"/admin/alarms/{users['caseworker'].id}/clear",
                          data={"reason": "investigated_no_misuse", "csrf_token": csrf(client)})
    assert cleared.status_code == 200 and "هیچ هشدار بازی نیست" in cleared.text
    assert actions(database)[-1] == "access:alarm_clear"


def test_clearing_needs_a_listed_reason_and_an_admin(client, database, users):
    case_id, record_id = one_case(client, database)
    login(client, "caseworker")
    for field in FIELDS:
        reveal(client, case_id, record_id, field)
    assert client.get("/admin/alarms").status_code == 403
    login(client, "admin")
    bad = client.post(f"/admin/alarms/{users['caseworker'].id}/clear",
                      data={"reason": "because I said so", "csrf_token": csrf(client)})
    assert bad.status_code == 422 and "access:alarm_clear" not in actions(database)


def test_within_the_allowance_nothing_happens(client, database):
    case_id, record_id = one_case(client, database)
    login(client, "caseworker")
    for field in FIELDS[:3]:
        assert reveal(client, case_id, record_id, field).status_code == 200
    assert "access:alarm" not in actions(database)
