"""The OpenRosa endpoints as Collect sees them: form list, form download, HEAD, headers and authentication."""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from amanat.accounts import digest
from amanat.accounts.devices import revoke_device_credential
from amanat.accounts.models import User
from amanat.core.audit import Actor
from amanat.errors import InvalidInput
from amanat.web.app import create_app

from .conftest import FORM, add_device, message, new_instance_id, post, submission_xml

LIST = "{http://openrosa.org/xforms/xformsList}"


def entries(response: httpx.Response) -> list[dict[str, str]]:
    root = ET.fromstring(response.content)
    assert root.tag == f"{LIST}xforms"
    return [{child.tag.removeprefix(LIST): child.text or "" for child in xform} for xform in root]


def test_form_list_shape(client: TestClient, auth: httpx.DigestAuth) -> None:
    r = client.get("/formList", auth=auth)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/xml")
    (entry,) = entries(r)
    assert list(entry) == ["formID", "name", "version", "hash", "downloadUrl", "manifestUrl"]
    assert entry["formID"] == FORM.form_id and entry["version"] == FORM.version
    assert entry["name"] == "Service record"
    # never the request's Host header: the configured base URL, or (development) the address served on
    assert entry["downloadUrl"] == f"http://127.0.0.1:8000/forms/{FORM.form_id}/form.xml"
    form = client.get(entry["downloadUrl"], auth=auth)
    assert form.status_code == 200
    # The announced hash is the MD5 of exactly the bytes served, so Collect knows when the form changed.
    assert entry["hash"] == "md5:" + hashlib.md5(form.content).hexdigest()
    manifest = client.get(entry["manifestUrl"], auth=auth)
    assert manifest.status_code == 200
    root = ET.fromstring(manifest.content)
    assert root.tag == "{http://openrosa.org/xforms/xformsManifest}manifest" and len(root) == 0


def test_form_list_filter(client: TestClient, auth: httpx.DigestAuth) -> None:
    assert [e["formID"] for e in entries(client.get(f"/formList?formID={FORM.form_id}", auth=auth))] == [FORM.form_id]
    assert entries(client.get("/formList?formID=no_such_form", auth=auth)) == []


def test_form_download_is_encrypted_to_the_organisation(client: TestClient, auth: httpx.DigestAuth,
                                                        database) -> None:
    r = client.get(f"/forms/{FORM.form_id}/form.xml", auth=auth)
    assert r.status_code == 200
    submission = next(el for el in ET.fromstring(r.content).iter() if el.tag.endswith("}submission"))
    assert submission.get("base64RsaPublicKey") == database.keys.odk_public_key_b64()
    assert submission.get("action") == "http://127.0.0.1:8000/submission"
    assert b"<instanceID/>" in r.content
    unknown = client.get("/forms/no_such_form/form.xml", auth=auth)
    assert unknown.status_code == 404 and message(unknown)[0] == "error"


def test_base_url_setting_names_the_server(settings, database, users, device) -> None:
    app = create_app(settings.model_copy(update={"base_url": "https://intake.example.org/"}), database)
    with TestClient(app) as client:
        auth = httpx.DigestAuth(*device)
        (entry,) = entries(client.get("/formList", auth=auth))
        assert entry["downloadUrl"] == f"https://intake.example.org/forms/{FORM.form_id}/form.xml"
        assert b'action="https://intake.example.org/submission"' in client.get(entry["downloadUrl"], auth=auth).content


def test_head_submission(client: TestClient, auth: httpx.DigestAuth, settings) -> None:
    bare = client.head("/submission")
    assert bare.status_code == 401 and bare.headers["www-authenticate"].startswith("Digest ")
    r = client.head("/submission", auth=auth)
    assert r.status_code == 204
    assert 0 < int(r.headers["x-openrosa-accept-content-length"]) < settings.max_request_bytes


def test_every_response_carries_the_openrosa_headers(client: TestClient, auth: httpx.DigestAuth) -> None:
    iid = new_instance_id()
    responses = [
        client.get("/formList"), client.get("/formList", auth=auth), client.head("/submission"),
        client.head("/submission", auth=auth), client.get(f"/forms/{FORM.form_id}/form.xml", auth=auth),
        client.get(f"/forms/{FORM.form_id}/manifest", auth=auth), client.get("/forms/nothing/form.xml", auth=auth),
        post(client, auth, submission_xml(iid)), post(client, auth, submission_xml(iid, full_name="x")),
        client.post("/submission", content=b"not multipart", auth=auth),
        client.get("/formList", auth=httpx.DigestAuth("referrer", "wrong password")),
    ]
    assert {r.status_code for r in responses} == {200, 201, 204, 401, 404, 409, 422}
    for r in responses:
        assert r.headers["x-openrosa-version"] == "1.0", r.request.url
        assert r.headers["date"].endswith(" GMT")
        assert "set-cookie" not in r.headers


def test_wrong_password_is_401_with_a_fresh_challenge(client: TestClient, device: tuple[str, str]) -> None:
    r = client.get("/formList", auth=httpx.DigestAuth(device[0], "not-the-password"))
    assert r.status_code == 401
    assert 'qop="auth"' in r.headers["www-authenticate"] and "stale" not in r.headers["www-authenticate"]
    nature, text = message(r)
    assert nature == "error" and "not-the-password" not in r.text and text
    assert client.get("/formList", auth=httpx.DigestAuth("nobody", "whatever")).status_code == 401


def test_revoked_and_disabled_logins_are_refused(client: TestClient, database, device, auth) -> None:
    assert client.head("/submission", auth=auth).status_code == 204
    with database.transaction() as db:
        revoke_device_credential(db, Actor("test"), device[0])
    assert client.head("/submission", auth=auth).status_code == 401
    other = add_device(database, "caseworker")
    with database.transaction() as db:
        db.execute(update(User).where(User.username == "caseworker").values(disabled=True))
    assert client.head("/submission", auth=httpx.DigestAuth(*other)).status_code == 401


def test_a_role_without_submission_create_gets_403(client: TestClient, database) -> None:
    login = add_device(database, "referrer")
    with database.transaction() as db:  # the role changed after the login was made
        db.execute(update(User).where(User.username == "referrer").values(role="auditor"))
    auth = httpx.DigestAuth(*login)
    for r in (client.head("/submission", auth=auth), client.get("/formList", auth=auth),
              post(client, auth, submission_xml(new_instance_id()))):
        assert r.status_code == 403
    assert message(post(client, auth, submission_xml(new_instance_id())))[0] == "error"


def test_device_logins_only_for_roles_that_submit(database, users) -> None:
    with pytest.raises(InvalidInput, match="cannot submit"):
        add_device(database, "auditor")


def basic(login: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()}


def test_basic_over_plain_http_is_refused(client: TestClient, device: tuple[str, str]) -> None:
    r = client.head("/submission", headers=basic(*device))
    assert r.status_code == 401
    assert "Basic" not in r.headers["www-authenticate"]  # only Digest is offered without https
    assert "HTTPS" in message(client.get("/formList", headers=basic(*device)))[1]


def test_basic_over_https(settings, database, users, device) -> None:
    app = create_app(settings.model_copy(update={"https": True}), database)
    with TestClient(app, base_url="https://testserver") as client:
        challenge = client.head("/submission").headers.get_list("www-authenticate")
        assert [c.split()[0] for c in challenge] == ["Digest", "Basic"]
        assert client.head("/submission", headers=basic(*device)).status_code == 204
        assert client.head("/submission", headers=basic(device[0], "wrong")).status_code == 401


def test_sealed_only_node_offers_basic_over_https(settings, database, accounts, users, device, keystore) -> None:
    """A node with the public keys only cannot read HA1 (it is encrypted), but the argon2 hash still works,
    also for a user whose (encrypted) TOTP secret it cannot read."""
    from amanat.core import crypto

    with database.transaction() as db:
        accounts.create_user(db, Actor("test"), username="commander", password="a long password", role="referrer",
                             totp=True)
    totp_device = add_device(database, "commander")
    database.keys.set(crypto.public_ring(keystore))
    app = create_app(settings.model_copy(update={"https": True}), database)
    with TestClient(app, base_url="https://testserver") as client:
        assert [c.split()[0] for c in client.head("/submission").headers.get_list("www-authenticate")] == ["Basic"]
        assert client.head("/submission", headers=basic(*device)).status_code == 204
        assert client.head("/submission", headers=basic(*totp_device)).status_code == 204
        assert client.head("/submission", auth=httpx.DigestAuth(*device)).status_code == 401
        digest_only = client.get("/formList", headers={"Authorization": digest_header(
            *device, "GET", "/formList", digest.make_nonce(settings.secret_key.get_secret_value()))})
        assert digest_only.status_code == 503 and "HTTPS" in message(digest_only)[1]
        iid = new_instance_id()
        r = client.post("/submission", headers=basic(*device),
                        files=[("xml_submission_file", ("submission.xml", submission_xml(iid), "text/xml"))])
        assert r.status_code == 201  # sealed with the public key alone


def digest_header(login: str, password: str, method: str, uri: str, nonce: str) -> str:
    ha1 = digest.ha1(login, password)
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    response = hashlib.md5(f"{ha1}:{nonce}:00000001:abcdef:auth:{ha2}".encode()).hexdigest()
    return (f'Digest username="{login}", realm="{digest.REALM}", nonce="{nonce}", uri="{uri}", qop=auth, '
            f'nc=00000001, cnonce="abcdef", response="{response}", algorithm=MD5')


def test_expired_nonce_is_stale_not_wrong(client: TestClient, device: tuple[str, str], settings) -> None:
    secret = settings.secret_key.get_secret_value()
    old = digest.make_nonce(secret, now=1_000_000)
    r = client.head("/submission", headers={"Authorization": digest_header(*device, "HEAD", "/submission", old)})
    assert r.status_code == 401 and "stale=true" in r.headers["www-authenticate"]
    wrong = client.head("/submission", headers={"Authorization": digest_header(device[0], "x", "HEAD",
                                                                                "/submission", old)})
    assert wrong.status_code == 401 and "stale" not in wrong.headers["www-authenticate"]
    forged = old.split(".")[0] + "." + "0" * 32
    assert client.head("/submission", headers={
        "Authorization": digest_header(*device, "HEAD", "/submission", forged)}).status_code == 401
    fresh = digest.make_nonce(secret)
    assert client.head("/submission", headers={
        "Authorization": digest_header(*device, "HEAD", "/submission", fresh)}).status_code == 204
    # Signed for another resource: refused.
    assert client.head("/submission", headers={
        "Authorization": digest_header(*device, "HEAD", "/formList", fresh)}).status_code == 401
