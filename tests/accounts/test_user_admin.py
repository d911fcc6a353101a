"""Finding 6 (one admin alone cannot make a reader), and the account changes an office needs: password change,
admin reset, re-enable, role change, sessions an admin can end."""

import re

import pytest
from sqlalchemy import select

from amanat.accounts import user_admin
from amanat.accounts.models import User, WebSession
from amanat.core.audit import Actor, AuditEvent
from amanat.errors import InvalidInput, PermissionDenied
from tests.conftest import PASSWORD, csrf, login

NEW = "walnut harbour lantern 42"


def _second_admin(database, accounts):
    with database.transaction() as db:
        accounts.create_user(db, Actor("test"), username="admin-two", password=PASSWORD, role="admin")


def _role(database, username):
    with database.reading() as db:
        return db.scalars(select(User.role).where(User.username == username)).one()


def test_an_admin_alone_cannot_create_a_caseworker_who_reads(client, database):
    login(client, "admin")
    r = client.post("/admin/users", data={"username": "new-cw", "password": NEW, "role": "caseworker",
                                          "csrf_token": csrf(client)})
    assert r.status_code == 201 and "second admin" in r.text
    assert _role(database, "new-cw") == ""  # no role, so no permission, until approved
    with database.reading() as db:
        pending = user_admin.list_pending(db)
    # the same admin cannot approve their own request
    r = client.post(f"/admin/requests/{pending[0].id}/approve", data={"csrf_token": csrf(client)})
    assert r.status_code == 403
    assert _role(database, "new-cw") == ""
    # and cannot sign in as the new account and read: it has no role, and must choose a password first
    client.post("/logout", data={"csrf_token": csrf(client)})
    r = client.post("/login", data={"username": "new-cw", "password": NEW, "csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.headers["location"] == "/account/password"
    assert client.get("/cases", follow_redirects=False).status_code == 303


def test_a_second_admin_approves_and_the_requester_is_locked_out(app, client, database, accounts):
    from fastapi.testclient import TestClient

    _second_admin(database, accounts)
    login(client, "admin")
    client.post("/admin/users", data={"username": "new-cw", "password": NEW, "role": "caseworker",
                                      "csrf_token": csrf(client)})
    with database.reading() as db:
        request_id = user_admin.list_pending(db)[0].id
    with TestClient(app) as second:
        login(second, "admin-two")
        r = second.post(f"/admin/requests/{request_id}/approve", data={"csrf_token": csrf(second)})
        assert r.status_code == 200
        one_time = re.search(r"<code dir=\"ltr\">([a-z0-9-]{23})</code>", r.text)
        assert one_time, r.text
    assert _role(database, "new-cw") == "caseworker"
    with database.reading() as db:
        actions = {e.action for e in db.scalars(select(AuditEvent)).all()}
    assert {"user:role_requested", "user:role_approved"} <= actions
    # the password the first admin chose no longer opens the account; the approver's one-time one does
    client.post("/logout", data={"csrf_token": csrf(client)})
    r = client.post("/login", data={"username": "new-cw", "password": NEW, "csrf_token": csrf(client)})
    assert r.status_code == 401
    r = client.post("/login", data={"username": "new-cw", "password": one_time[1], "csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.headers["location"] == "/account/password"


def test_granting_admin_also_needs_a_second_admin(database, accounts, users):
    with database.transaction() as db:
        outcome = user_admin.request_role(db, Actor("test"), users["admin"].id, "referrer", "admin")
    assert not outcome.applied and _role(database, "referrer") == "referrer"


def test_resetting_a_readers_password_needs_a_second_admin(database, accounts, users):
    with database.transaction() as db:
        outcome = user_admin.reset_password(db, accounts.hasher, Actor("test"), users["admin"].id, "caseworker")
    assert not outcome.applied and outcome.one_time_password is None
    with database.transaction() as db:  # a referrer reads no identities: reset at once
        outcome = user_admin.reset_password(db, accounts.hasher, Actor("test"), users["admin"].id, "referrer")
    assert outcome.applied and outcome.one_time_password
    with database.reading() as db:
        assert db.scalars(select(User.must_change_password).where(User.username == "referrer")).one()


def test_password_change_checks_the_current_one_and_the_rules(database, accounts, users):
    cw = users["caseworker"]
    with database.transaction() as db, pytest.raises(InvalidInput):
        user_admin.change_own_password(db, accounts.hasher, cw.actor, cw.id, "not my password", NEW)
    with database.transaction() as db, pytest.raises(InvalidInput):
        user_admin.change_own_password(db, accounts.hasher, cw.actor, cw.id, PASSWORD, "password1234")
    with database.transaction() as db:
        user_admin.change_own_password(db, accounts.hasher, cw.actor, cw.id, PASSWORD, NEW)
    assert accounts.authenticate(database, "caseworker", NEW).username == "caseworker"


def test_change_password_in_the_web_ends_other_sessions(app, client, database):
    from fastapi.testclient import TestClient

    with TestClient(app) as elsewhere:
        login(elsewhere, "caseworker")
        login(client, "caseworker")
        r = client.post("/account/password", data={"current_password": PASSWORD, "password": NEW, "confirm": NEW,
                                                   "csrf_token": csrf(client)}, follow_redirects=False)
        assert r.status_code == 303
        assert client.get("/cases", follow_redirects=False).status_code == 200
        assert elsewhere.get("/cases", follow_redirects=False).status_code == 303


def test_re_enable_role_change_and_ending_a_users_sessions(app, client, database):
    from fastapi.testclient import TestClient

    with TestClient(app) as auditor:
        login(auditor, "auditor")
        login(client, "admin")
        token = csrf(client)
        assert client.post("/admin/users/auditor/sessions/revoke", data={"csrf_token": token}).status_code == 200
        assert auditor.get("/audit", follow_redirects=False).status_code == 303
    client.post("/admin/users/auditor/disable", data={"csrf_token": token})
    assert client.post("/admin/users/auditor/enable", data={"csrf_token": token}).status_code == 200
    with database.reading() as db:
        assert not db.scalars(select(User.disabled).where(User.username == "auditor")).one()
    assert client.post("/admin/users/auditor/role", data={"role": "referrer", "csrf_token": token}).status_code == 200
    assert _role(database, "auditor") == "referrer"  # a role that reads no identities: at once
    r = client.post("/admin/users/auditor/role", data={"role": "verifier", "csrf_token": token})
    assert r.status_code == 202 and _role(database, "auditor") == "referrer"


def test_an_admin_cannot_change_their_own_role(database, users):
    with database.transaction() as db, pytest.raises(PermissionDenied):
        user_admin.request_role(db, Actor("test"), users["admin"].id, "admin", "caseworker")


def test_sessions_are_listed_and_revocable_by_their_owner(app, client, database):
    from fastapi.testclient import TestClient

    with TestClient(app) as phone:
        login(phone, "verifier")
        login(client, "verifier")
        page = client.get("/account")
        handles = re.findall(r"/account/sessions/([0-9a-f]{64})/revoke", page.text)
        assert len(handles) == 1  # the other one; this one says "this session"
        assert client.post(f"/account/sessions/{handles[0]}/revoke", data={"csrf_token": csrf(client)}
                           ).status_code == 200
        assert phone.get("/cases", follow_redirects=False).status_code == 303
    with database.reading() as db:
        assert len(db.scalars(select(WebSession)).all()) == 1


def test_guessing_the_current_password_on_the_account_page_is_throttled(client):
    """A borrowed session must not become an unlimited password-guessing oracle."""
    login(client, "caseworker")
    statuses = [client.post("/account/password", data={"current_password": f"guess number {n}", "password": NEW,
                                                        "confirm": NEW, "csrf_token": csrf(client)}).status_code
                for n in range(7)]
    assert statuses[:5] == [422] * 5 and statuses[-1] == 429
