"""Uploaded form versions: the newest active one is the current form for the web form, ODK Collect and every
new submission's recorded version; a broken workbook is refused naming its sheet and row."""

from __future__ import annotations

import io

import httpx
import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from amanat.core.audit import Actor, AuditEvent
from amanat.errors import Conflict
from amanat.forms.spec import SHIPPED_FORM, FormError
from amanat.intake.form_versions import current_form, list_form_versions, set_form_active, upload_form
from amanat.intake.models import Submission
from amanat.jobs.pipeline import drain
from amanat.records.models import Record
from tests.conftest import csrf, login
from tests.forms.workbooks import xlsx

from .conftest import FORM, new_instance_id, post, submission_xml

ADMIN = Actor("test:admin")


def shipped_with(version: str) -> bytes:
    """The shipped workbook under another version."""
    wb = openpyxl.load_workbook(SHIPPED_FORM)
    wb["settings"]["B2"] = version
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def v2() -> bytes:
    return shipped_with("2026120101")


def test_the_shipped_form_until_a_version_is_uploaded(database, v2: bytes) -> None:
    with database.transaction() as db:
        assert current_form(db).version == FORM.version
        spec = upload_form(db, ADMIN, v2, public_key_b64=database.keys.odk_public_key_b64())
        assert spec.version == "2026120101"
    with database.reading() as db:
        assert current_form(db).version == "2026120101"
        versions = list_form_versions(db)
        assert [(v.version, v.current) for v in versions] == [("2026120101", True), (FORM.version, False)]
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "form:upload")).one()
        assert '"version":"2026120101"' in event.details
    with database.transaction() as db:
        set_form_active(db, ADMIN, versions[0].id or 0, False)  # retired: the shipped form is current again
    with database.reading() as db:
        assert current_form(db).version == FORM.version


def test_a_version_is_refused_twice(database, v2: bytes) -> None:
    with database.transaction() as db:
        upload_form(db, ADMIN, v2)
    with database.transaction() as db, pytest.raises(Conflict):
        upload_form(db, ADMIN, v2)
    with database.transaction() as db, pytest.raises(Conflict):
        upload_form(db, ADMIN, shipped_with(FORM.version))  # the shipped form's own version


def test_a_broken_workbook_names_sheet_and_row(database) -> None:
    broken = xlsx([["type", "name", "label"], ["text", "a", "A"], ["txt", "b", "B"]],
                  settings=[["form_id", "version"], ["f", "1"]])
    with database.transaction() as db, pytest.raises(FormError) as info:
        upload_form(db, ADMIN, broken)
    assert (info.value.sheet, info.value.row) == ("survey", 3)
    unversioned = xlsx([["type", "name", "label"], ["text", "a", "A"]], settings=[["form_id"], ["f"]])
    with database.transaction() as db, pytest.raises(FormError) as info:
        upload_form(db, ADMIN, unversioned)
    assert info.value.sheet == "settings"


def test_admin_page_uploads_and_shows_errors(client: TestClient, database, v2: bytes) -> None:
    login(client, "admin")
    page = client.get("/admin/forms")
    assert page.status_code == 200 and FORM.version in page.text
    broken = xlsx([["type", "name", "label"], ["text", "a", "A"], ["text", "a", "B"]],
                  settings=[["form_id", "version"], ["f", "1"]])
    r = client.post("/admin/forms", data={"csrf_token": csrf(client)},
                    files={"xlsx": ("form.xlsx", broken, "application/octet-stream")})
    assert r.status_code == 422
    assert "survey" in r.text and "row 3" in r.text and "The workbook was not accepted." in r.text
    r = client.post("/admin/forms", data={"csrf_token": csrf(client)},
                    files={"xlsx": ("form.xlsx", v2, "application/octet-stream")})
    assert r.status_code == 201 and "2026120101" in r.text
    with database.reading() as db:
        assert current_form(db).version == "2026120101"
    assert client.get("/admin/forms?lang=fa_AF").text.count("فورم") >= 1


def test_only_form_managers_reach_the_page(client: TestClient) -> None:
    login(client, "caseworker")
    assert client.get("/admin/forms").status_code == 403


def test_submissions_record_the_version_they_were_made_with(client: TestClient, auth: httpx.DigestAuth,
                                                           database, v2: bytes) -> None:
    with database.transaction() as db:
        upload_form(db, ADMIN, v2)
    # ODK: the form list announces the new version; a phone still on the old one can still send it.
    listed = client.get("/formList", auth=auth).text
    assert "<version>2026120101</version>" in listed, listed
    old_iid, new_iid = new_instance_id(), new_instance_id()
    assert post(client, auth, submission_xml(old_iid)).status_code == 201
    assert post(client, auth, submission_xml(new_iid, version="2026120101", tazkira="1400-2222-33333")
                ).status_code == 201
    # The web form: the current version.
    r = client.post("/intake?lang=en", data={"full_name": "Ahmad Shah", "father_name": "Ghulam", "consent": "yes",
                                             "service_branch": "ana", "csrf_token": csrf(client)})
    assert r.status_code == 201, r.text
    assert all(step.ok for step in drain(database))
    with database.reading() as db:
        by_instance = dict(db.execute(select(Submission.instance_id, Submission.form_version)).all())
        assert by_instance[old_iid] == FORM.version and by_instance[new_iid] == "2026120101"
        assert by_instance[None] == "2026120101"
        assert sorted(db.scalars(select(Record.form_version))) == [FORM.version, "2026120101", "2026120101"]
