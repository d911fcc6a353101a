"""Findings 1 and 4: single-use codes, recovery codes, lockout that spares an office and a named caseworker,
and argon2 outside any transaction."""

import threading
import time

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from amanat.accounts.models import User
from amanat.core.audit import Actor
from tests.conftest import PASSWORD, csrf


def _client(app, address: str = "203.0.113.9") -> TestClient:
    return TestClient(app, base_url="http://testserver", client=(address, 40000))


def _post_login(client, username, password=PASSWORD, otp=""):
    return client.post("/login", data={"username": username, "password": password, "otp": otp,
                                       "csrf_token": csrf(client)}, follow_redirects=False)


def _totp_user(database, accounts, username="twofactor", role="auditor") -> str:
    with database.transaction() as db:
        accounts.create_user(db, Actor("test"), username=username, password=PASSWORD, role=role, totp=True)
    with database.reading() as db:
        return db.scalars(select(User).where(User.username == username)).one().totp_secret


def test_a_code_is_accepted_once(app, database, accounts):
    secret = _totp_user(database, accounts)
    code = pyotp.TOTP(secret).now()
    with _client(app) as first:
        assert _post_login(first, "twofactor", otp=code).status_code == 303
    with _client(app) as second:  # the same code, seen over a shoulder, a moment later
        assert _post_login(second, "twofactor", otp=code).status_code == 401


def test_a_recovery_code_stands_in_once(app, database, accounts):
    from amanat.accounts import totp

    _totp_user(database, accounts)
    with database.transaction() as db:
        user_id = db.scalars(select(User.id).where(User.username == "twofactor")).one()
        codes = totp.new_recovery_codes(db, user_id)
    with _client(app) as first:
        assert _post_login(first, "twofactor", otp=codes[0].upper()).status_code == 303
    with _client(app) as second:
        assert _post_login(second, "twofactor", otp=codes[0]).status_code == 401


def test_one_person_guessing_does_not_lock_out_the_office(app):
    with _client(app, "198.51.100.7") as office:
        for _ in range(6):
            assert _post_login(office, "caseworker", "wrong password").status_code in {401, 429}
        # a colleague behind the same NAT signs in with their own account
        assert _post_login(office, "verifier").status_code == 303


def test_the_pair_is_throttled_with_retry_after(app):
    with _client(app, "198.51.100.8") as guesser:
        for _ in range(5):
            assert _post_login(guesser, "caseworker", "wrong password").status_code == 401
        r = _post_login(guesser, "caseworker")
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_a_stranger_cannot_lock_a_named_caseworker_out(app, database, accounts):
    secret = _totp_user(database, accounts, "named-cw", "caseworker")
    for n in range(40):  # a spray from forty addresses
        with _client(app, f"192.0.2.{n + 1}") as stranger:
            assert _post_login(stranger, "named-cw", f"guess number {n}").status_code in {401, 429}
    with _client(app, "203.0.113.50") as real:
        r = _post_login(real, "named-cw", otp=pyotp.TOTP(secret).now())
        assert r.status_code == 303, r.text


def test_an_account_under_attack_slows_tries_without_a_code(app):
    for n in range(12):
        with _client(app, f"192.0.2.{n + 1}") as stranger:
            _post_login(stranger, "auditor", f"guess number {n}")
    with _client(app, "203.0.113.51") as real:
        r = _post_login(real, "auditor")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_password_hashing_holds_no_write_lock(app, database):
    """While argon2 runs for a sign-in, another writer (intake) gets its transaction at once."""
    accounts = app.state.accounts
    real = accounts.hasher
    waited: list[float] = []

    class Watching:
        def __getattr__(self, name):
            return getattr(real, name)

        def verify(self, hashed, password):
            def write():
                t0 = time.monotonic()
                with database.transaction() as db:
                    db.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: waits while another holds the write lock
                waited.append(time.monotonic() - t0)

            other = threading.Thread(target=write)
            other.start()
            other.join(2.0)
            return real.verify(hashed, password)

    accounts.hasher = Watching()
    try:
        with _client(app) as client:
            _post_login(client, "caseworker", "wrong password")
    finally:
        accounts.hasher = real
    time.sleep(0.1)
    assert waited and waited[0] < 1.0, waited
