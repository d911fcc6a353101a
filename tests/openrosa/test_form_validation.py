"""OpenRosa submissions are checked against their form version as the web form is: consent, required fields,
choices and constraints. One that fails is kept sealed and marked failed (form_invalid) for staff to look at,
and never becomes a record or a case."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from amanat.cases.models import Case
from amanat.core.audit import Actor
from amanat.intake.imports import import_odk_zip
from amanat.intake.models import Submission
from amanat.jobs.pipeline import drain
from amanat.records.models import Record

from .conftest import FORM, new_instance_id, post, submission_xml


def count(database, model) -> int:
    with database.reading() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def flagged(database, iid: str) -> Submission:
    with database.reading() as db:
        return db.scalars(select(Submission).where(Submission.instance_id == iid)).one()


def edit(xml: bytes, path: str, value: str | None) -> bytes:
    root = ET.fromstring(xml)
    el = root.find(path)
    assert el is not None, path
    el.text = value
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def empty_instance(iid: str) -> bytes:
    return (f'<?xml version="1.0"?><data id="{FORM.form_id}" version="{FORM.version}">'
            f"<meta><instanceID>{iid}</instanceID></meta></data>").encode()


def test_consent_no_is_flagged_never_a_case(client: TestClient, auth: httpx.DigestAuth, database) -> None:
    iid = new_instance_id()
    r = post(client, auth, edit(submission_xml(iid), "consent_group/consent", "no"))
    assert r.status_code == 201  # received and sealed: the intake node cannot read answers
    (step,) = drain(database)
    assert not step.ok and step.error_code == "form_invalid"
    sub = flagged(database, iid)
    assert sub.status == "failed" and sub.error_code == "form_invalid" and sub.sealed  # kept for review
    assert count(database, Record) == 0 and count(database, Case) == 0


def test_an_empty_instance_is_flagged_never_a_case(client: TestClient, auth: httpx.DigestAuth, database) -> None:
    iid = new_instance_id()
    assert post(client, auth, empty_instance(iid)).status_code == 201
    (step,) = drain(database)
    assert not step.ok and step.error_code == "form_invalid"
    assert count(database, Record) == 0 and count(database, Case) == 0


def test_required_field_and_choice_are_checked(client: TestClient, auth: httpx.DigestAuth, database) -> None:
    no_father = new_instance_id()
    post(client, auth, edit(submission_xml(no_father), "personal/father_name", None))
    bad_choice = new_instance_id()
    post(client, auth, edit(submission_xml(bad_choice), "service/service_branch", "navy-of-atlantis"))
    steps = drain(database)
    assert [s.error_code for s in steps] == ["form_invalid", "form_invalid"]
    assert count(database, Case) == 0


def test_a_valid_submission_still_becomes_a_case(client: TestClient, auth: httpx.DigestAuth, database) -> None:
    post(client, auth, submission_xml(new_instance_id()))
    (step,) = drain(database)
    assert step.ok, step.error_code
    assert count(database, Case) == 1


def test_the_odk_zip_import_is_checked_too(database) -> None:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("a/submission.xml", edit(submission_xml(new_instance_id()), "consent_group/consent", "no"))
        archive.writestr("b/submission.xml", submission_xml(new_instance_id(), tazkira="1399-0000-00077"))
    with database.transaction() as db:
        import_odk_zip(db, database.keys, buf.getvalue(), file_name="i.zip", actor=Actor("test"))
    codes = sorted(s.error_code or "ok" for s in drain(database))
    assert codes == ["form_invalid", "ok"]
    assert count(database, Case) == 1
