"""Finding 1: two-factor enrolment in the web (QR code, confirmation, recovery codes) and required in production."""

import re

import pyotp
from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, csrf, login


def _enrol(client) -> tuple[str, list[str]]:
    assert client.post("/account/two-factor/start", data={"csrf_token": csrf(client)}).status_code == 200
    page = client.get("/account/two-factor")
    assert "<svg" in page.text  # the QR code, drawn on the server
    secret = re.search(r"<code dir=\"ltr\">([A-Z2-7]{16,})</code>", page.text)[1]
    assert client.post("/account/two-factor/confirm", data={"code": "000000", "csrf_token": csrf(client)}
                       ).status_code == 422
    r = client.post("/account/two-factor/confirm", data={"code": pyotp.TOTP(secret).now(),
                                                         "csrf_token": csrf(client)})
    assert r.status_code == 200
    return secret, re.findall(r"<code>([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})</code>", r.text)


def test_enrolment_in_the_web_then_a_code_is_needed(app, client):
    login(client, "caseworker")
    _secret, codes = _enrol(client)
    assert len(codes) == 10
    with TestClient(app) as later:
        r = later.post("/login", data={"username": "caseworker", "password": PASSWORD, "csrf_token": csrf(later)})
        assert r.status_code == 401
        r = later.post("/login", data={"username": "caseworker", "password": PASSWORD, "otp": codes[3],
                                       "csrf_token": csrf(later)}, follow_redirects=False)
        assert r.status_code == 303


def test_an_enrolled_authenticator_cannot_be_replaced_from_a_session(client):
    login(client, "caseworker")
    _enrol(client)
    r = client.post("/account/two-factor/start", data={"csrf_token": csrf(client)})
    assert r.status_code == 409


def test_production_sends_a_user_without_an_authenticator_to_enrol_first(settings, database, users):
    from amanat.web.app import create_app

    app = create_app(settings.model_copy(update={"require_totp": True}), database)
    with TestClient(app) as client:
        r = client.post("/login", data={"username": "caseworker", "password": PASSWORD, "csrf_token": csrf(client)},
                        follow_redirects=False)
        assert r.headers["location"] == "/account/two-factor"
        assert client.get("/cases", follow_redirects=False).headers["location"] == "/account/two-factor"
        _enrol(client)
        assert client.get("/cases", follow_redirects=False).status_code == 200
    assert "Two-factor sign-in is off" not in TestClient(app).get("/login").text


def test_development_says_two_factor_is_off(client):
    assert "Two-factor sign-in is off" in client.get("/login").text
