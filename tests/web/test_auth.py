from sqlalchemy import select

from amanat.core.audit import AuditEvent
from tests.conftest import PASSWORD, csrf, login


def test_login_logout(client, database):
    login(client, "caseworker")
    assert client.get("/cases").status_code == 200
    r = client.post("/logout", data={"csrf_token": csrf(client)}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/cases", follow_redirects=False).status_code == 303


def test_failed_logins_are_throttled_with_retry_after(client, database):
    for _ in range(5):
        r = client.post("/login", data={"username": "caseworker", "password": "wrong", "csrf_token": csrf(client)})
        assert r.status_code == 401
        assert "Wrong username, password or code" in r.text
    r = client.post("/login", data={"username": "caseworker", "password": PASSWORD, "csrf_token": csrf(client)})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) > 0
    with database.reading() as db:
        assert len(db.scalars(select(AuditEvent).where(AuditEvent.action == "session:login_failed")).all()) == 5


def test_unknown_user_gets_the_same_answer(client):
    r = client.post("/login", data={"username": "nobody-here", "password": "whatever", "csrf_token": csrf(client)})
    assert r.status_code == 401
    assert "Wrong username, password or code" in r.text


def test_open_redirect_refused(client):
    r = client.post("/login", data={"username": "caseworker", "password": PASSWORD, "csrf_token": csrf(client),
                                    "next": "//evil.example/"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/home"  # not the other site: this role's home


def test_totp_required_when_enabled(client, database, accounts):
    import pyotp

    from amanat.accounts.models import User
    from amanat.core.audit import Actor

    with database.transaction() as db:
        accounts.create_user(db, Actor("test"), username="twofactor", password=PASSWORD, role="auditor", totp=True)
    r = client.post("/login", data={"username": "twofactor", "password": PASSWORD, "csrf_token": csrf(client)})
    assert r.status_code == 401
    with database.reading() as db:
        secret = db.scalars(select(User).where(User.username == "twofactor")).one().totp_secret
    r = client.post("/login", data={"username": "twofactor", "password": PASSWORD, "otp": pyotp.TOTP(secret).now(),
                                    "csrf_token": csrf(client)}, follow_redirects=False)
    assert r.status_code == 303
