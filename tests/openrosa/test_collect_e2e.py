"""ODK Collect's conversation with a real `amanat serve`, written from INTEROP.md rather than from our code.

Collect (1) sends HEAD /submission and takes 401 as "ask for the login", (2) answers the Digest challenge
(RFC 7616, MD5, qop=auth) and expects 204 with X-OpenRosa-Accept-Content-Length, (3) POSTs multipart/form-data
with the instance as `xml_submission_file` and each photo as a part named after its file, reusing the nonce
with the next nonce count, and (4) counts only 201/202 with an OpenRosaResponse body as sent. Every answer must
carry X-OpenRosa-Version: 1.0 and one Date. The device login comes from `amanat users device-add`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import xml.etree.ElementTree as ET
from email.utils import formatdate
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from amanat.core import crypto
from amanat.core.db import Database
from amanat.core.keystore import load_keystore
from amanat.records.models import Document, Record
from tests.functional import server as srv

from .conftest import JPEG, new_instance_id, submission_xml


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def parse_challenge(header: str) -> dict[str, str]:
    scheme, _, params = header.partition(" ")
    assert scheme == "Digest"
    return {k: v1 or v2 for k, v1, v2 in re.findall(r'(\w+)=(?:"([^"]*)"|([^\s,]+))', params)}


class CollectDigest:
    """The client side of RFC 7616 as Collect's HTTP stack does it: one nonce, counting requests."""

    def __init__(self, username: str, password: str, challenge: dict[str, str]) -> None:
        assert challenge["qop"] == "auth" and challenge.get("algorithm", "MD5") == "MD5"
        self.username, self.password, self.challenge, self.nc = username, password, challenge, 0

    def header(self, method: str, uri: str) -> str:
        self.nc += 1
        nc, cnonce = f"{self.nc:08x}", secrets.token_hex(8)
        realm, nonce = self.challenge["realm"], self.challenge["nonce"]
        ha1 = md5(f"{self.username}:{realm}:{self.password}")
        response = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{md5(f'{method}:{uri}')}")
        return (f'Digest username="{self.username}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
                f'response="{response}", qop=auth, nc={nc}, cnonce="{cnonce}", algorithm=MD5')


def collect_headers() -> dict[str, str]:
    return {"X-OpenRosa-Version": "1.0", "Date": formatdate(usegmt=True), "User-Agent": "org.odk.collect.android"}


def assert_openrosa_headers(response: httpx.Response) -> None:
    assert response.headers.get_list("x-openrosa-version") == ["1.0"]
    assert len(response.headers.get_list("date")) == 1, response.headers.get_list("date")


@pytest.mark.slow
def test_collect_sends_a_form_with_a_photo(tmp_path: Path) -> None:
    srv.init(tmp_path)
    added = srv.cli(tmp_path, "users", "add", "commander", "--role", "referrer",
                    extra_env={"AMANAT_NEW_PASSWORD": "a staff password"})
    assert added.returncode == 0, added.stderr
    device = srv.cli(tmp_path, "users", "device-add", "commander")
    assert device.returncode == 0, device.stderr
    login = dict(re.findall(r"^(username|password): (\S+)$", device.stdout, re.MULTILINE))
    assert login["username"] == "commander" and len(login["password"]) >= 20

    server = srv.start(tmp_path)
    try:
        with httpx.Client(base_url=server.url, timeout=30.0, headers=collect_headers()) as http:
            # 1. HEAD without credentials: 401 and a Digest challenge.
            first = http.head("/submission")
            assert first.status_code == 401
            assert_openrosa_headers(first)
            auth = CollectDigest(login["username"], login["password"],
                                 parse_challenge(first.headers["www-authenticate"]))
            # 2. HEAD with the answer: 204 and how much one POST may carry.
            head = http.head("/submission", headers={"Authorization": auth.header("HEAD", "/submission")})
            assert head.status_code == 204, head.text
            assert_openrosa_headers(head)
            limit = int(head.headers["x-openrosa-accept-content-length"])
            # 3. The multipart POST, the photo a part named after its file, under the limit.
            iid = new_instance_id()
            xml = submission_xml(iid, full_name="گل احمد", tazkira="1400-1111-22222", photo="1712345678901.jpg")
            files = [("xml_submission_file", ("submission.xml", xml, "text/xml")),
                     ("1712345678901.jpg", ("1712345678901.jpg", JPEG, "image/jpeg"))]
            assert len(xml) + len(JPEG) < limit
            post = http.post("/submission", files=files,
                             headers={"Authorization": auth.header("POST", "/submission")})
            # 4. Only 201/202 with an OpenRosaResponse counts as sent.
            assert post.status_code == 201, post.text
            assert_openrosa_headers(post)
            root = ET.fromstring(post.content)
            assert root.tag == "{http://openrosa.org/http/response}OpenRosaResponse"
            msg = root.find("{http://openrosa.org/http/response}message")
            assert msg is not None and msg.get("nature") == "submit_success"
            receipt = re.search(r"AM-[0-9A-Z]{4}-[0-9A-Z]{4}", msg.text or "")
            assert receipt
            # A wrong password is a 401 again, never a 200 that Collect would take for a captive portal.
            bad = CollectDigest(login["username"], "not-it", parse_challenge(first.headers["www-authenticate"]))
            assert http.head("/submission", headers={"Authorization": bad.header("HEAD", "/submission")}
                             ).status_code == 401
        srv.wait_until(lambda: server.counts().get("stored") == 1, 30, "the worker did not store the submission")
    finally:
        server.stop()
    assert "گل احمد" not in server.tail(100_000) and iid not in server.tail(100_000)

    database = Database(f"sqlite:///{server.database}", crypto.KeyHolder(), synchronous="NORMAL")
    try:
        with database.reading() as db:
            keystore = load_keystore(db)
            assert keystore is not None
            database.keys.set(crypto.unlock(keystore, srv.PASSPHRASE))
            record = db.scalars(select(Record)).one()
            assert record.channel == "openrosa" and record.data["full_name"] == "گل احمد"
            assert record.provenance["receipt"] == receipt.group(0)
            document = db.scalars(select(Document)).one()
            assert document.field == "doc_tazkira" and document.content == JPEG
    finally:
        database.dispose()
