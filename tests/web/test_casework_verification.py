"""Verification, tasks, each role's home, the referrer's page and the auditor's filters, through the web."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from amanat.cases.models import Case
from amanat.cases.tasks import add_task, list_overdue
from amanat.cases.verification_models import Attestation, CaseTask
from amanat.core.db import utcnow
from amanat.records.models import Document
from tests.cases.factories import VALID_MRZ, make_case
from tests.conftest import PASSWORD, csrf, login

HOMES = {"caseworker": "/cases", "verifier": "/verification", "referrer": "/referrals", "admin": "/admin/users",
         "auditor": "/audit"}


def _case(database, users, **kw) -> tuple[str, int]:
    with database.transaction() as db:
        case = make_case(db, {"full_name": "Mohammad Nabi", "passport_mrz": VALID_MRZ,
                              "date_of_birth": "1974-08-12"}, **kw)
        return case.id, case.number


@pytest.mark.parametrize("role", sorted(HOMES))
def test_every_role_lands_on_a_page_it_may_see(client, role):
    login(client, role)
    r = client.get("/home", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == HOMES[role]
    page = client.get(HOMES[role])
    assert page.status_code == 200, (role, page.status_code)


def test_sign_in_without_a_next_page_goes_home(client):
    r = client.post("/login", data={"username": "auditor", "password": PASSWORD, "csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/home"
    assert client.get("/home", follow_redirects=False).headers["location"] == "/audit"


def test_verifier_records_an_attestation_shown_on_the_case_page(client, database, users):
    case_id, _ = _case(database, users, documents=1)
    login(client, "verifier")
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert 'id="verification"' in page.text and "attest-form" in page.text
    assert 'data-check="mrz"' in page.text  # the document checks are shown to the verifier
    with database.reading() as db:
        doc_id = db.scalars(select(Document.id)).one()
    r = client.post(f"/cases/{case_id}/attestations", data={
        "method": "document_check", "outcome": "confirmed", "reason": "Passport and tazkira seen in the office",
        "documents": [doc_id], "csrf_token": csrf(client)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("#verification")
    page = client.get(f"/cases/{case_id}?lang=ps_AF")
    assert 'data-state="verified"' in page.text
    assert "Passport and tazkira seen in the office" in page.text  # the reason, to those who read the case
    with database.reading() as db:
        att = db.scalars(select(Attestation)).one()
        assert att.checks["mrz"] == "pass" and att.checks["mrz_birth_date"] == "pass"


def test_attestation_refused_without_the_permission_or_with_bad_input(client, database, users):
    case_id, _ = _case(database, users)
    login(client, "caseworker")  # reads cases, does not attest
    r = client.post(f"/cases/{case_id}/attestations", data={"method": "interview", "outcome": "confirmed",
                                                             "reason": "x", "csrf_token": csrf(client)})
    assert r.status_code == 403
    login(client, "verifier")
    r = client.post(f"/cases/{case_id}/attestations?lang=fa_AF", data={
        "method": "interview", "outcome": "perhaps", "reason": "x", "csrf_token": csrf(client)})
    assert r.status_code == 422
    assert "choose confirmed, not confirmed" not in r.text  # the message is shown in Dari
    with database.reading() as db:
        assert db.scalar(select(Attestation.id)) is None


def test_referrer_sees_status_never_values_and_vouches(client, database, users):
    case_id, number = _case(database, users, submitted_by=users["referrer"].id)
    other_id, _ = _case(database, users, submitted_by=users["caseworker"].id)
    login(client, "referrer")
    page = client.get("/referrals?lang=fa_AF")
    assert page.status_code == 200
    assert f"C-{number:06d}" in page.text and "Mohammad" not in page.text and "AM-" in page.text
    assert page.text.count("data-receipt=") == 1  # only what they sent
    assert client.get(f"/cases/{case_id}").status_code == 403  # never the case itself
    r = client.post(f"/cases/{case_id}/attestations", data={
        "method": "vouching", "outcome": "confirmed", "reason": "Served with him in the same unit, 2016-2019",
        "csrf_token": csrf(client)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/referrals"
    r = client.post(f"/cases/{other_id}/attestations", data={
        "method": "vouching", "outcome": "confirmed", "reason": "I know him", "csrf_token": csrf(client)})
    assert r.status_code == 403
    page = client.get("/referrals?lang=en")
    assert "Verification pending" in page.text  # a vouch alone waits for a verifier
    login(client, "verifier")
    page = client.get(f"/cases/{case_id}")
    assert 'data-user="referrer"' in page.text  # the intermediary's record of vouches
    assert f"/cases/{case_id}#verification" in client.get("/verification").text


def test_caseworker_adds_a_task_and_marks_it_done(client, database, users):
    case_id, _ = _case(database, users)
    login(client, "caseworker")
    r = client.post(f"/cases/{case_id}/tasks", data={"title": "Call the referrer back", "assignee":
                                                     users["verifier"].id, "due": "", "csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("#tasks")
    assert "Call the referrer back" in client.get(f"/cases/{case_id}").text
    r = client.post(f"/cases/{case_id}/tasks", data={"title": "x", "due": "31/12/2026", "csrf_token": csrf(client)})
    assert r.status_code == 422
    with database.reading() as db:
        task_id = db.scalars(select(CaseTask.id)).one()
    login(client, "verifier")
    assert "Call the referrer back" in client.get("/tasks").text
    r = client.post(f"/tasks/{task_id}/done", data={"back": "tasks", "csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/tasks"
    assert "Call the referrer back" not in client.get("/tasks").text
    assert client.post(f"/cases/{case_id}/tasks", data={"title": "y", "csrf_token": csrf(client)}).status_code == 403


def test_auditor_finds_a_case_by_number_in_pashto(client, database, users):
    case_id, number = _case(database, users)
    login(client, "verifier")
    client.post(f"/cases/{case_id}/attestations", data={"method": "interview", "outcome": "confirmed",
                                                         "reason": "ok", "csrf_token": csrf(client)})
    login(client, "caseworker")
    client.post(f"/cases/{case_id}/tasks", data={"title": "Follow up", "assignee": users["verifier"].id,
                                                 "csrf_token": csrf(client)})
    login(client, "auditor")
    page = client.get(f"/audit?case=C-{number:06d}&lang=ps_AF")
    assert page.status_code == 200
    actions = re.findall(r'data-action="([^"]+)"', page.text)
    assert {"attestation:create", "task:create", "case:open"} <= set(actions)
    assert "attestation:create</code>" not in page.text  # shown as words, not as the code
    assert "Follow up" not in page.text and "ok</" not in page.text  # never values
    assigned = re.search(r'<li data-key="assignee">(.*?)</li>', page.text, re.S)
    assert assigned and "verifier" in assigned.group(1)  # a user named by username, not by id
    assert client.get("/audit?case=C-abc").status_code == 422


def test_failed_sign_in_shows_the_username_tried_and_the_address(app, client):
    with TestClient(app, base_url="http://testserver", client=("203.0.113.9", 40000)) as outsider:
        r = outsider.post("/login", data={"username": "caseworker", "password": "wrong-password-1",
                                          "csrf_token": csrf(outsider)})
        assert r.status_code == 401
    login(client, "auditor")
    page = client.get("/audit?who=caseworker&action=session:login_failed")
    rows = re.findall(r'<tr class="audit-row" data-action="session:login_failed">(.*?)</tr>', page.text, re.S)
    assert len(rows) == 1
    assert "caseworker" in rows[0] and "203.0.113.9" in rows[0] and "Username tried" in rows[0]
    assert "wrong-password-1" not in page.text


def test_case_pages_without_cases_answer_not_found(client, database):
    login(client, "verifier")
    r = client.post("/cases/00000000-0000-0000-0000-000000000000/attestations",
                    data={"method": "interview", "outcome": "confirmed", "reason": "x", "csrf_token": csrf(client)})
    assert r.status_code == 404
    with database.reading() as db:
        assert db.scalar(select(Case.id)) is None


def test_only_the_assignee_or_a_caseworker_closes_a_task(client, database, users):
    case_id, _ = _case(database, users)
    with database.transaction() as db:
        task = add_task(db, users["caseworker"].actor, case_id, title="Check the unit", assignee_id=None, due=None)
        task_id = task.id
        task.due_on = utcnow().date() - timedelta(days=1)  # overdue: on everyone's overdue list
        assert [t.id for t in list_overdue(db)] == [task_id]
    login(client, "verifier")  # reads cases, is not the assignee, may not change cases
    page = client.get("/tasks")
    assert "Check the unit" in page.text and f"/tasks/{task_id}/done" not in page.text
    assert client.post(f"/tasks/{task_id}/done", data={"csrf_token": csrf(client)}).status_code == 403
    for role in ("referrer", "auditor", "admin"):
        login(client, role)
        assert client.post(f"/tasks/{task_id}/done", data={"csrf_token": csrf(client)}).status_code == 403
        assert client.get("/tasks").status_code == 403
    login(client, "caseworker")
    r = client.post(f"/tasks/{task_id}/done", data={"csrf_token": csrf(client)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{case_id}#tasks"
