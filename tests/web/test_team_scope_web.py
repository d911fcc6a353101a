"""Teams in the web: the admin page creates teams and puts users in them; with case_scope = team a caseworker's
case pages, actions, queue and search stop at their team's cases (404, as if the case did not exist)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from amanat.accounts import teams
from amanat.cases import workflow
from amanat.cases.models import Case
from amanat.core.audit import Actor
from tests.cases.casework_factories import store
from tests.conftest import csrf, login


@pytest.fixture
def scoped_settings(settings):  # type: ignore[no-untyped-def]
    return settings.model_copy(update={"case_scope": "team"})


@pytest.fixture
def app(scoped_settings, database, users):  # type: ignore[no-untyped-def]
    from amanat.web.app import create_app

    return create_app(scoped_settings, database)


def _cases(database, users):  # type: ignore[no-untyped-def]
    with database.transaction() as db:
        ours = store(db, database.keys, {"full_name": "محمد نبی", "province": "AF01",
                                         "tazkira_number": "1400-0101-11111"})[0].id
        theirs = store(db, database.keys, {"full_name": "گل احمد", "province": "AF32",
                                           "tazkira_number": "1400-0101-22222"})[0].id
        teams.create_team(db, Actor("test"), "Kabul office", provinces=["AF01"])
        teams.add_member(db, Actor("test"), "Kabul office", "caseworker")
    return ours, theirs


def test_case_scope_team_stops_a_caseworker_at_their_team(client, database, users):
    ours, theirs = _cases(database, users)
    login(client, "caseworker")
    token = csrf(client)
    assert client.get(f"/cases/{ours}").status_code == 200
    assert client.get(f"/cases/{theirs}").status_code == 404
    for path, data in ((f"/cases/{theirs}/work", {"reason": "applicant_contact"}),
                       (f"/cases/{theirs}/notes", {"note": "x"}), (f"/cases/{theirs}/assign", {"assignee": "me"}),
                       (f"/cases/{theirs}/status", {"status": "in_review"}), (f"/cases/{theirs}/protection", None)):
        if data is None:
            assert client.get(path).status_code == 404, path
        else:
            r = client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)
            assert r.status_code == 404, (path, r.status_code)
    queue = client.get("/cases").text
    assert ours in queue and theirs not in queue
    found = client.post("/cases/search", data={"q": "Gul Ahmad", "csrf_token": token}, follow_redirects=True)
    assert theirs not in found.text
    # the verifier is not limited: verification is for the whole office
    client.cookies.clear()
    login(client, "verifier")
    assert client.get(f"/cases/{theirs}").status_code == 200


def test_assigning_a_case_to_a_teammate_brings_it_into_scope(client, database, users):
    _, theirs = _cases(database, users)
    with database.transaction() as db:
        workflow.assign(db, Actor("test"), theirs, users["caseworker"].id)
    login(client, "caseworker")
    assert client.get(f"/cases/{theirs}").status_code == 200


def test_admin_makes_teams_in_the_web(client, database, users):
    login(client, "admin")
    token = csrf(client)
    page = client.get("/admin/teams")
    assert page.status_code == 200 and 'data-case-scope="team"' in page.text
    r = client.post("/admin/teams", data={"name": "Herat office", "province": ["AF32", "AF01"],
                                          "csrf_token": token})
    assert r.status_code == 200 and 'data-team="Herat office"' in r.text
    with database.reading() as db:
        team = next(t for t in teams.list_teams(db) if t.name == "Herat office")
    assert team.provinces == ("AF01", "AF32")
    r = client.post(f"/admin/teams/{team.id}/members", data={"username": "caseworker", "csrf_token": token})
    assert r.status_code == 200 and 'data-user="caseworker"' in r.text
    bad = client.post("/admin/teams", data={"name": "Nowhere", "province": "Herat", "csrf_token": token})
    assert bad.status_code == 422 and "AF01" in bad.text
    r = client.post(f"/admin/teams/{team.id}/members/remove", data={"username": "caseworker", "csrf_token": token})
    assert r.status_code == 200 and 'data-user="caseworker"' not in r.text
    r = client.post(f"/admin/teams/{team.id}/delete", data={"csrf_token": token})
    assert r.status_code == 200 and 'data-team="Herat office"' not in r.text
    client.cookies.clear()
    login(client, "caseworker")
    assert client.get("/admin/teams").status_code == 403


def test_documents_of_another_teams_case_stay_closed(client, database, users):
    from amanat.records.models import Document, Record

    ours, theirs = _cases(database, users)
    with database.transaction() as db:
        ids = {}
        for key, case_id in (("ours", ours), ("theirs", theirs)):
            case = db.get(Case, case_id)
            record = db.scalars(select(Record).where(Record.person_id == case.person_id)).first()
            doc = Document(record_id=record.id, field="doc_tazkira", content_type="image/jpeg", size=3,
                           filename="tazkira.jpg", content=b"\xff\xd8\xff")
            db.add(doc)
            db.flush()
            ids[key] = doc.id
    login(client, "caseworker")
    token = csrf(client)
    assert client.post(f"/documents/{ids['ours']}", data={"csrf_token": token}).status_code == 200
    assert client.post(f"/documents/{ids['theirs']}", data={"csrf_token": token}).status_code == 404
