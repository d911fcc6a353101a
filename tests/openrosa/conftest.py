"""Fixtures for the OpenRosa server: a device login, submissions built the way Collect writes them."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence

import httpx
import pytest
from fastapi.testclient import TestClient

from amanat.accounts.devices import create_device_credential
from amanat.accounts.service import Accounts
from amanat.core.audit import Actor
from amanat.core.db import Database
from amanat.forms.spec import load_form

FORM = load_form()
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 60
JPEG2 = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(reversed(range(256))) * 70
OPENROSA_RESPONSE = "{http://openrosa.org/http/response}"


def new_instance_id() -> str:
    return f"uuid:{uuid.uuid4()}"


def submission_xml(instance_id: str, *, full_name: str = "محمد نبی", tazkira: str = "1399-0123-45678",
                   photo: str | None = None, passport_photo: str | None = None, deprecated_id: str | None = None,
                   form_id: str = FORM.form_id, version: str = FORM.version) -> bytes:
    """A filled-in instance of the shipped form, grouped as pyxform's XForm groups it."""
    root = ET.Element("data", {"id": form_id, "version": version,
                               "xmlns:jr": "http://openrosa.org/javarosa", "xmlns:orx": "http://openrosa.org/xforms"})
    personal = ET.SubElement(root, "personal")
    for name, value in (("full_name", full_name), ("full_name_latin", "Mohammad Nabi"), ("father_name", "عبدالله"),
                        ("gender", "male"), ("date_of_birth", "۱۳۶۲/۵/۱۲"), ("province", "AF01")):
        ET.SubElement(personal, name).text = value
    ET.SubElement(ET.SubElement(root, "service"), "service_branch").text = "ana"
    ET.SubElement(ET.SubElement(root, "identity"), "tazkira_number").text = tazkira
    documents = ET.SubElement(root, "documents")
    ET.SubElement(documents, "doc_tazkira").text = photo
    ET.SubElement(documents, "doc_passport").text = passport_photo
    ET.SubElement(ET.SubElement(root, "consent_group"), "consent").text = "yes"
    meta = ET.SubElement(root, "meta")
    ET.SubElement(meta, "instanceID").text = instance_id
    if deprecated_id:
        ET.SubElement(meta, "deprecatedID").text = deprecated_id
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def multipart(xml: bytes, media: Sequence[tuple[str, bytes]] = (), *, incomplete: bool = False,
              ) -> tuple[list[tuple[str, tuple[str, bytes, str]]], dict[str, str]]:
    """(files, data) for a POST /submission as Collect builds it."""
    files = [("xml_submission_file", ("submission.xml", xml, "text/xml"))]
    files += [(name, (name, data, "application/octet-stream")) for name, data in media]
    return files, ({"*isIncomplete*": "yes"} if incomplete else {})


def post(client: TestClient, auth: httpx.Auth, xml: bytes, media: Sequence[tuple[str, bytes]] = (), *,
         incomplete: bool = False) -> httpx.Response:
    files, data = multipart(xml, media, incomplete=incomplete)
    return client.post("/submission", files=files, data=data, auth=auth)


def message(response: httpx.Response) -> tuple[str, str]:
    """(nature, text) of an OpenRosaResponse body."""
    root = ET.fromstring(response.content)
    assert root.tag == f"{OPENROSA_RESPONSE}OpenRosaResponse", response.text
    msg = root.find(f"{OPENROSA_RESPONSE}message")
    assert msg is not None
    return msg.get("nature", ""), msg.text or ""


def add_device(database: Database, username: str) -> tuple[str, str]:
    with database.transaction() as db:
        return create_device_credential(db, Accounts(time_cost=1, memory_kib=64), Actor("test"), username)


@pytest.fixture
def device(database: Database, users: dict[str, object]) -> tuple[str, str]:
    """(login, password) of a device belonging to the referrer."""
    return add_device(database, "referrer")


@pytest.fixture
def auth(device: tuple[str, str]) -> httpx.DigestAuth:
    return httpx.DigestAuth(*device)
