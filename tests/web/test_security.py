"""Findings 11 and 12: transport, CSRF bound to the session and checked against Origin, the __Host- prefix,
idle and absolute session limits, proxy headers only from trusted proxies, /healthz, file permissions."""

import os
import stat
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from sqlalchemy import update

from amanat.accounts.models import WebSession
from amanat.config import Settings
from amanat.core.db import utcnow
from tests.conftest import PASSWORD, csrf, login

PROD = {"environment": "production", "secret_key": "a-real-secret-for-this-test-only-x9"}


def test_production_refuses_plain_http_and_a_missing_base_url():
    with pytest.raises(ValidationError, match="AMANAT_BASE_URL"):
        Settings(**PROD)
    with pytest.raises(ValidationError, match="https"):
        Settings(**PROD, base_url="http://amanat.example.org")
    # the explicit override needs trusted proxies (TLS ends at a proxy on a network you trust)
    with pytest.raises(ValidationError, match="https"):
        Settings(**PROD, base_url="http://amanat.example.org", allow_plain_http=True)
    ok = Settings(**PROD, base_url="http://amanat.internal", allow_plain_http=True, trusted_proxies=("10.0.0.1",))
    assert not ok.https
    secure = Settings(**PROD, base_url="https://amanat.example.org")
    assert secure.https and secure.totp_required


def _app(settings, database, **changes):
    from amanat.web.app import create_app

    return create_app(settings.model_copy(update=changes), database)


def test_https_sends_hsts_and_host_prefixed_cookies(settings, database, users):
    app = _app(settings, database, base_url="https://amanat.example.org", https=True)
    with TestClient(app, base_url="https://amanat.example.org") as client:
        r = client.get("/login")
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert "__Host-amanat_csrf=" in r.headers["set-cookie"]
        assert "Secure" in r.headers["set-cookie"]
        token = client.cookies["__Host-amanat_csrf"]
        r = client.post("/login", data={"username": "caseworker", "password": PASSWORD, "csrf_token": token},
                        follow_redirects=False)
        assert r.status_code == 303
        cookie = r.headers["set-cookie"]
        assert "__Host-amanat_session=" in cookie and "Secure" in cookie and "Path=/" in cookie


@pytest.mark.parametrize("base_url", ["", "https://amanat.example.org"])
def test_the_form_url_never_comes_from_the_host_header(settings, database, users, monkeypatch, base_url):
    from amanat.web.routes import openrosa

    app = _app(settings, database, base_url=base_url)
    seen: list[str] = []
    monkeypatch.setattr(openrosa.openrosa, "form_list", lambda db, keys, base, form_id=None: seen.append(base) or b"")
    monkeypatch.setattr(openrosa, "_authenticate", lambda request: None)
    with TestClient(app, base_url="http://evil.example:666") as client:
        client.get("/formList")
    assert seen and all("evil" not in url for url in seen), seen
    assert seen[0] == (base_url or f"http://{settings.host}:{settings.port}")


def test_a_csrf_token_from_another_session_is_refused(app):
    with TestClient(app) as alice, TestClient(app) as mallory:
        login(alice, "caseworker")
        login(mallory, "verifier")
        session, own, stolen = alice.cookies["amanat_session"], csrf(alice), csrf(mallory)
        assert own != stolen
    # Mallory plants her own token as Alice's CSRF cookie (a sibling subdomain can set cookies) and sends it
    with TestClient(app, cookies={"amanat_session": session, "amanat_csrf": stolen}) as planted:
        r = planted.post("/logout", data={"csrf_token": stolen}, follow_redirects=False)
        assert r.status_code == 403
    with TestClient(app, cookies={"amanat_session": session, "amanat_csrf": own}) as genuine:
        assert genuine.post("/logout", data={"csrf_token": own}, follow_redirects=False).status_code == 303


def test_a_post_from_another_origin_is_refused(client):
    login(client, "caseworker")
    token = csrf(client)
    r = client.post("/logout", data={"csrf_token": token}, headers={"Origin": "https://evil.example"},
                    follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/logout", data={"csrf_token": token}, headers={"Referer": "https://evil.example/page"},
                    follow_redirects=False)
    assert r.status_code == 403
    r = client.post("/logout", data={"csrf_token": token}, headers={"Origin": "http://testserver"},
                    follow_redirects=False)
    assert r.status_code == 303


def test_an_idle_session_ends(client, database):
    login(client, "caseworker")
    assert client.get("/cases", follow_redirects=False).status_code == 200
    with database.transaction() as db:
        db.execute(update(WebSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    assert client.get("/cases", follow_redirects=False).status_code == 303


def test_a_session_ends_at_its_absolute_lifetime_however_busy(client, database):
    login(client, "caseworker")
    with database.transaction() as db:
        db.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1), last_seen_at=utcnow()))
    assert client.get("/cases", follow_redirects=False).status_code == 303


def test_proxy_headers_only_from_trusted_proxies(settings, database, users):
    from sqlalchemy import select

    from amanat.core.audit import AuditEvent

    def failed_from(app, peer, forwarded):
        with TestClient(app, client=(peer, 1234)) as c:
            c.post("/login", data={"username": "caseworker", "password": "wrong password!",
                                   "csrf_token": csrf(c)}, headers={"X-Forwarded-For": forwarded})
        with database.reading() as db:
            event = db.scalars(select(AuditEvent).where(AuditEvent.action == "session:login_failed")
                               .order_by(AuditEvent.seq.desc())).first()
        return str(event.details) if event is not None else ""

    untrusted = _app(settings, database)
    assert "198.51.100.1" not in failed_from(untrusted, "203.0.113.5", "198.51.100.1")
    trusted = _app(settings, database, trusted_proxies=("10.0.0.0/8",))
    assert "198.51.100.2" in failed_from(trusted, "10.0.0.3", "1.1.1.1, 198.51.100.2")


def test_anonymous_healthz_says_only_ok(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.text.strip() == "ok"
    assert "keys" not in r.text and "submissions" not in r.text


def test_health_details_need_a_token_or_staff(settings, database, users):
    app = _app(settings, database, health_token=SecretStr("monitor-token-for-tests"))
    with TestClient(app) as client:
        assert client.get("/healthz/details", follow_redirects=False).status_code == 303  # to sign in
        r = client.get("/healthz/details", headers={"Authorization": "Bearer monitor-token-for-tests"})
        assert r.status_code == 200 and r.json()["keys"] == "unlocked" and "submissions" in r.json()
        assert client.get("/healthz/details", headers={"Authorization": "Bearer wrong"}).status_code == 403
        login(client, "admin")
        assert client.get("/healthz/details").json()["keys"] == "unlocked"


def test_database_files_and_data_dir_are_private(tmp_path, keystore):
    from amanat.core.db import open_database

    settings = Settings(environment="test", data_dir=tmp_path / "data")
    database = open_database(settings)
    with database.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    assert stat.S_IMODE(os.stat(tmp_path / "data").st_mode) == 0o700
    for name in os.listdir(tmp_path / "data"):
        assert stat.S_IMODE(os.stat(tmp_path / "data" / name).st_mode) & 0o077 == 0, name
    database.dispose()


def test_keys_rotate_takes_effect_on_a_running_server(app, client, database, keystore):
    """`amanat keys rotate` (another process) stores a new field key; the server uses it without a restart."""
    from amanat.core import crypto
    from amanat.core.keystore import load_keystore, store_rotated_key
    from tests.conftest import PASSPHRASE

    assert database.keys.active_field_key_id == "field-1"
    with database.transaction() as db:
        new, retired = crypto.rotate_field_key(load_keystore(db), PASSPHRASE)
        store_rotated_key(db, new, retired)
    app.state.refresh_keys()  # what the server's timer runs every few seconds
    assert database.keys.active_field_key_id == new.key_id
    old = crypto.KeyHolder()
    old.set(crypto.unlock(keystore, PASSPHRASE))
    blob = old.encrypt_field("t", b"written before the rotation")
    assert database.keys.decrypt_field("t", blob) == b"written before the rotation"


def test_forwarded_proto_is_believed_only_from_a_trusted_proxy(settings, database, users):
    app = _app(settings, database, trusted_proxies=("10.0.0.0/8",))
    headers = {"X-Forwarded-Proto": "https", "Origin": "https://testserver"}
    for peer, expected in (("203.0.113.7", 403), ("10.0.0.3", 303)):
        with TestClient(app, client=(peer, 1234)) as client:
            r = client.post("/login", data={"username": "caseworker", "password": PASSWORD,
                                            "csrf_token": csrf(client)}, headers=headers, follow_redirects=False)
            assert r.status_code == expected, (peer, r.status_code)
