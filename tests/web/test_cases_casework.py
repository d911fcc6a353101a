"""The casework pages through the web: search by a Latin spelling, names in the queue, reveals that stay
together and survive a language switch, work on a case, family members, correction, assignment, and
closing approved by a second person. Every action is POST then redirect to a GET."""

from __future__ import annotations

import json

from sqlalchemy import select

from amanat.cases.models import Case
from amanat.core.audit import Actor, AuditEvent
from tests.cases.casework_factories import NABI, store
from tests.conftest import PASSWORD, csrf, login


def _stored(database):  # type: ignore[no-untyped-def]
    with database.transaction() as db:
        case, rec, receipt = store(db, database.keys, NABI)
        return case.id, rec, receipt


def _actions(database, action):  # type: ignore[no-untyped-def]
    with database.reading() as db:
        return [json.loads(e.details) for e in db.scalars(select(AuditEvent).where(AuditEvent.action == action))]


def test_search_by_latin_spelling_opens_the_dari_case(client, database):
    case_id, _rec, _ = _stored(database)
    login(client, "caseworker")
    r = client.post("/cases/search", data={"q": "Mohammad Nabi", "csrf_token": csrf(client)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/cases/{case_id}"
    assert "Nabi" not in r.headers["location"]
    none = client.post("/cases/search", data={"q": "Zarghuna", "csrf_token": csrf(client)}, follow_redirects=False)
    assert none.status_code == 303 and none.headers["location"].startswith("/cases?search=")
    page = client.get(none.headers["location"] + "&lang=fa_AF")
    assert page.status_code == 200 and "Zarghuna" not in page.text
    assert [e["kind"] for e in _actions(database, "case:search")] == ["name", "name"]


def test_queue_shows_names_to_caseworkers_only_and_audits_the_listing(client, database):
    _stored(database)
    login(client, "caseworker")
    page = client.get("/cases?lang=fa_AF")
    assert "محمد نبی" in page.text and "کابل" in page.text and ">AF01<" not in page.text
    assert _actions(database, "case:list_names")[-1] == {"view": "all", "shown": 1}


def test_reveals_stay_together_and_survive_a_language_switch(client, database):
    case_id, rec, _ = _stored(database)
    login(client, "caseworker")
    for field in ("full_name", "phone"):
        r = client.post(f"/cases/{case_id}/reveal", data={"record_id": rec, "field": field,
                                                          "csrf_token": csrf(client)}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == f"/cases/{case_id}#f-{rec}-{field}"
    page = client.get(f"/cases/{case_id}?lang=ps_AF")
    assert page.status_code == 200 and 'lang="ps-AF"' in page.text
    assert "محمد نبی" in page.text and "0799123456" in page.text and "1400-0101-23456" not in page.text


def test_work_on_the_case_shows_everything_with_one_audit_event(client, database):
    case_id, _rec, _ = _stored(database)
    login(client, "caseworker")
    r = client.post(f"/cases/{case_id}/work", data={"reason": "", "csrf_token": csrf(client)})
    assert r.status_code == 422 and "reason" in r.text
    r = client.post(f"/cases/{case_id}/work", data={"reason": "verification", "csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("#records")
    page = client.get(f"/cases/{case_id}")
    assert "1400-0101-23456" in page.text and "P01234567" in page.text
    assert len(_actions(database, "case:work")) == 1 and _actions(database, "record:reveal") == []
    member = page.text.split('id="m-')[1].split('"')[0]
    client.post(f"/cases/{case_id}/members/{member}/reveal", data={"field": "member_name",
                                                                   "csrf_token": csrf(client)})
    assert "فاطمه" in client.get(f"/cases/{case_id}").text
    client.post(f"/cases/{case_id}/work/end", data={"csrf_token": csrf(client)})
    assert "1400-0101-23456" not in client.get(f"/cases/{case_id}").text


def test_correct_assign_and_close_with_a_second_person(client, database, accounts):
    case_id, rec, _ = _stored(database)
    with database.transaction() as db:
        accounts.create_user(db, Actor("test"), username="second", password=PASSWORD, role="caseworker")
    login(client, "caseworker")
    r = client.post(f"/cases/{case_id}/records/{rec}/correct", data={
        "field": "full_name", "value": "محمد نبی احمدی", "reason": "applicant_request", "csrf_token": csrf(client)},
        follow_redirects=False)
    assert r.status_code == 303
    client.post(f"/cases/{case_id}/assign", data={"assignee": "me", "csrf_token": csrf(client)})
    client.post(f"/cases/{case_id}/status", data={"status": "in_review", "csrf_token": csrf(client)})
    r = client.post(f"/cases/{case_id}/close", data={"reason": "pathway_completed", "csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/cases/{case_id}?lang=fa_AF")
    approval = page.text.split('data-approval="')[1].split('"')[0]
    assert f"/approvals/{approval}/decide" not in page.text  # not to the one who asked
    r = client.post(f"/approvals/{approval}/decide", data={"decision": "approve", "csrf_token": csrf(client)})
    assert r.status_code == 403
    client.post("/logout", data={"csrf_token": csrf(client)})
    client.cookies.clear()
    r = client.post("/login", data={"username": "second", "password": PASSWORD, "csrf_token": csrf(client),
                                    "next": "/"}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/approvals/{approval}/decide", data={"decision": "approve", "csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    with database.reading() as db:
        case = db.get(Case, case_id)
        assert case is not None and case.status == "closed"
    history = client.get(f"/cases/{case_id}?lang=fa_AF").text
    assert "caseworker" in history and "second" in history
    assert [e["field"] for e in _actions(database, "record:correct")] == ["full_name"]


def test_casework_routes_declare_their_permissions(app):
    """The role × route walk checks each route against the permission it declares; this pins what each new
    casework route declares, so a route that loses its require() (or gets a weaker one) fails here."""
    from amanat.core.permissions import Permission as P
    from tests.web.test_route_permissions import route_requirements, routes

    expected = {
        ("GET", "/cases"): P.CASE_READ, ("POST", "/cases/search"): P.CASE_READ,
        ("GET", "/cases/{case_id}"): P.CASE_READ, ("POST", "/cases/{case_id}/work"): P.RECORD_REVEAL,
        ("POST", "/cases/{case_id}/work/end"): P.RECORD_REVEAL, ("POST", "/cases/{case_id}/reveal"): P.RECORD_REVEAL,
        ("POST", "/cases/{case_id}/members/{member_id}/reveal"): P.RECORD_REVEAL,
        ("POST", "/cases/{case_id}/members/{member_id}/link"): P.CASE_WRITE,
        ("POST", "/cases/{case_id}/notes"): P.CASE_WRITE, ("POST", "/cases/{case_id}/status"): P.CASE_WRITE,
        ("POST", "/cases/{case_id}/assign"): P.CASE_ASSIGN, ("POST", "/cases/{case_id}/close"): P.CASE_WRITE,
        ("POST", "/cases/{case_id}/close/withdraw"): P.CASE_WRITE,
        ("POST", "/approvals/{approval_id}/decide"): P.CASE_APPROVE,
        ("POST", "/cases/{case_id}/records/{record_id}/correct"): P.CASE_WRITE,
        ("POST", "/cases/{case_id}/records/{record_id}/documents"): P.CASE_WRITE,
    }
    declared = {(m, r.path): route_requirements(r)[0] for m, r in routes(app)}
    assert {k: declared.get(k) for k in expected} == expected


def test_case_page_shows_answers_and_issues_in_the_readers_language(client, database):
    case_id, _rec, _ = _stored(database)
    login(client, "caseworker")
    page = client.get(f"/cases/{case_id}?lang=fa_AF").text
    assert ">male<" not in page and ">AF01<" not in page  # gender and province as their Dari labels
