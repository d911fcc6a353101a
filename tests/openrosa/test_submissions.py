"""Submissions through OpenRosa, sealed at intake and opened by the worker, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from amanat.cases.models import Case
from amanat.core.audit import AuditEvent, verify_chain
from amanat.intake.models import Submission, SubmissionPart
from amanat.intake.odk_crypto import encrypt_submission
from amanat.intake.openrosa import RECEIVING_HOURS, release_stale
from amanat.jobs.pipeline import drain
from amanat.records.models import Document, Record

from ..conftest import login
from .conftest import FORM, JPEG, JPEG2, message, new_instance_id, post, submission_xml


def one(database, model, *where):
    with database.reading() as db:
        return db.scalars(select(model).where(*where)).one()


def count(database, model, *where) -> int:
    with database.reading() as db:
        return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def documents(database, record_id: str) -> dict[str, bytes]:
    with database.reading() as db:
        return {d.field: d.content for d in db.scalars(select(Document).where(Document.record_id == record_id))}


def test_submission_with_a_photo_becomes_a_record(client: TestClient, auth: httpx.DigestAuth, database) -> None:
    iid = new_instance_id()
    xml = submission_xml(iid, photo="1700000000001.jpg")
    r = post(client, auth, xml, [("1700000000001.jpg", JPEG)])
    assert r.status_code == 201
    nature, text = message(r)
    assert nature == "submit_success" and "AM-" in text
    sub = one(database, Submission, Submission.instance_id == iid)
    assert sub.channel == "openrosa" and sub.status == "sealed" and sub.form_version == FORM.version
    assert sub.form_id == FORM.form_id and sub.content_sha256 and len(sub.content_sha256) == 64
    assert b"Mohammad" not in sub.sealed and "محمد".encode() not in sub.sealed
    (step,) = drain(database)
    assert step.ok, step.error_code
    rec = one(database, Record, Record.id == step.record_id)
    assert rec.channel == "openrosa" and rec.form_version == FORM.version
    assert rec.data["full_name"] == "محمد نبی" and rec.data["service_branch"] == "ana"
    assert rec.provenance["provenance"]["instanceID"] == iid
    assert rec.provenance["provenance"]["openrosa"] == {"device": "referrer", "payload": "xform"}
    assert documents(database, rec.id) == {"doc_tazkira": JPEG}
    with database.reading() as db:
        assert verify_chain(db).ok
        assert db.scalar(select(AuditEvent.actor).where(AuditEvent.action == "submission:receive")) == \
            "device:referrer"


def test_incomplete_submission_waits_for_its_last_post(client: TestClient, auth, database) -> None:
    iid = new_instance_id()
    xml = submission_xml(iid, photo="a.jpg", passport_photo="b.jpg")
    first = post(client, auth, xml, [("a.jpg", JPEG)], incomplete=True)
    assert first.status_code == 201 and "waiting" in message(first)[1]
    assert one(database, Submission, Submission.instance_id == iid).status == "receiving"
    assert drain(database) == []  # the worker leaves it alone until the rest arrives
    last = post(client, auth, xml, [("b.jpg", JPEG2)])
    assert last.status_code == 202 and message(last)[0] == "submit_success"
    sub = one(database, Submission, Submission.instance_id == iid)
    assert sub.status == "sealed" and sub.part_count == 3
    (step,) = drain(database)
    assert step.ok, step.error_code
    assert documents(database, step.record_id) == {"doc_tazkira": JPEG, "doc_passport": JPEG2}
    assert count(database, Submission) == 1


def test_same_instance_same_xml_adds_attachments(client: TestClient, auth, database) -> None:
    iid = new_instance_id()
    xml = submission_xml(iid, photo="a.jpg")
    assert post(client, auth, xml).status_code == 201
    again = post(client, auth, xml, [("a.jpg", JPEG)])
    assert again.status_code == 202 and "added" in message(again)[1]
    retried = post(client, auth, xml, [("a.jpg", JPEG)])  # a POST Collect repeats: the part comes twice
    assert retried.status_code == 202
    (step,) = drain(database)
    assert step.ok
    assert documents(database, step.record_id) == {"doc_tazkira": JPEG}
    rec = one(database, Record, Record.id == step.record_id)
    assert rec.provenance["provenance"]["openrosa"]["repeated_parts"] == 1
    after = post(client, auth, xml, [("a.jpg", JPEG)])  # already stored: acknowledged, nothing to add
    assert after.status_code == 202 and "Already received" in message(after)[1]
    assert count(database, Submission) == 1 and count(database, Record) == 1


def test_same_instance_other_xml_is_a_conflict(client: TestClient, auth, database) -> None:
    iid = new_instance_id()
    assert post(client, auth, submission_xml(iid)).status_code == 201
    r = post(client, auth, submission_xml(iid, full_name="احمد شاه"))
    assert r.status_code == 409
    nature, text = message(r)
    assert nature == "error" and "instanceID" in text and "احمد" not in r.text
    assert count(database, Submission) == 1
    assert count(database, SubmissionPart) == 1  # the first one's XML, and nothing added to it


def test_an_edit_is_linked_to_the_submission_it_replaces(client: TestClient, auth, database) -> None:
    first_iid = new_instance_id()
    assert post(client, auth, submission_xml(first_iid)).status_code == 201
    (first,) = drain(database)
    edit_iid = new_instance_id()
    r = post(client, auth, submission_xml(edit_iid, full_name="محمد نبی احمدزی", deprecated_id=first_iid))
    assert r.status_code == 201
    (edit,) = drain(database)
    assert edit.ok
    original = one(database, Submission, Submission.instance_id == first_iid)
    rec = one(database, Record, Record.id == edit.record_id)
    prov = rec.provenance["provenance"]
    assert prov["deprecatedID"] == first_iid
    assert prov["deprecates"] == {"instance_id": first_iid, "submission_id": original.id,
                                  "record_id": first.record_id}
    assert rec.person_id == one(database, Record, Record.id == first.record_id).person_id  # same tazkira
    event = one(database, AuditEvent, AuditEvent.action == "submission:edit")
    assert event.subject_id == edit.submission_id and original.id in event.details


def encrypted(database, iid: str, media: dict[str, bytes], **fields) -> tuple[bytes, dict[str, bytes]]:
    xml = submission_xml(iid, **fields)
    return encrypt_submission(xml, media, database.keys.odk_public_key_b64().encode(), form_id=FORM.form_id,
                              instance_id=iid, version=FORM.version)


def test_encrypted_submission_is_decrypted_by_the_worker(client: TestClient, auth, database) -> None:
    iid = new_instance_id()
    manifest, files = encrypted(database, iid, {"p.jpg": JPEG}, photo="p.jpg")
    r = post(client, auth, manifest, list(files.items()))
    assert r.status_code == 201, r.text
    sub = one(database, Submission, Submission.instance_id == iid)
    assert sub.status == "sealed" and sub.form_version == FORM.version
    (step,) = drain(database)
    assert step.ok, step.error_code
    rec = one(database, Record, Record.id == step.record_id)
    assert rec.data["full_name"] == "محمد نبی"
    assert rec.provenance["provenance"]["openrosa"]["payload"] == "odk_encrypted"
    assert rec.provenance["provenance"]["openrosa"]["signature"] == "valid"
    assert "flags" not in rec.provenance["provenance"]
    assert documents(database, rec.id) == {"doc_tazkira": JPEG}


def test_tampered_encrypted_file_fails_and_stores_nothing(client: TestClient, auth, database) -> None:
    iid = new_instance_id()
    manifest, files = encrypted(database, iid, {"p.jpg": JPEG}, photo="p.jpg")
    enc = bytearray(files["submission.xml.enc"])
    enc[-1] ^= 0x5A  # the last block: its padding no longer checks
    files["submission.xml.enc"] = bytes(enc)
    assert post(client, auth, manifest, list(files.items())).status_code == 201  # intake cannot tell
    (step,) = drain(database)
    assert not step.ok and step.error_code == "odk_decrypt_failed"
    sub = one(database, Submission, Submission.instance_id == iid)
    assert sub.status == "failed" and sub.error_code == "odk_decrypt_failed" and sub.record_id is None
    assert count(database, Record) == 0 and count(database, Document) == 0
    assert one(database, AuditEvent, AuditEvent.action == "submission:fail").subject_id == sub.id


def test_signature_mismatch_is_flagged_not_dropped(client: TestClient, auth, database) -> None:
    iid = new_instance_id()
    manifest, files = encrypted(database, iid, {"p.jpg": JPEG}, photo="p.jpg")
    enc = bytearray(files["p.jpg.enc"])
    enc[100] ^= 0x01  # inside the photo: it still decrypts, but no longer matches the signature
    files["p.jpg.enc"] = bytes(enc)
    assert post(client, auth, manifest, list(files.items())).status_code == 201
    (step,) = drain(database)
    assert step.ok
    rec = one(database, Record, Record.id == step.record_id)
    prov = rec.provenance["provenance"]
    assert prov["openrosa"]["signature"] == "mismatch" and prov["flags"] == {"signature_mismatch": True}
    assert one(database, AuditEvent, AuditEvent.action == "submission:signature_mismatch").subject_id == \
        step.submission_id
    assert documents(database, rec.id)["doc_tazkira"] != JPEG
    case = one(database, Case, Case.person_id == rec.person_id)
    page = login(client, "caseworker").get(f"/cases/{case.id}")
    assert 'data-flags="signature_mismatch"' in page.text and "Its signature does not match" in page.text


def test_submission_errors_name_the_problem(client: TestClient, auth, database) -> None:
    unknown = post(client, auth, submission_xml(new_instance_id(), form_id="someone_elses_form"))
    assert unknown.status_code == 404 and "not known" in message(unknown)[1]
    broken = post(client, auth, b"<data id='x'><unclosed></data>")
    assert broken.status_code == 422 and message(broken)[0] == "error"
    no_id = post(client, auth, submission_xml("").replace(b"<instanceID />", b""))
    assert no_id.status_code == 422 and "instanceID" in message(no_id)[1]
    missing = client.post("/submission", files=[("photo.jpg", ("photo.jpg", JPEG, "image/jpeg"))], auth=auth)
    assert missing.status_code == 422 and "xml_submission_file" in message(missing)[1]
    assert count(database, Submission) == 0


def _age(database, iid: str, hours: float) -> None:
    with database.transaction() as db:
        sub = db.scalars(select(Submission).where(Submission.instance_id == iid)).one()
        sub.received_at = sub.received_at - timedelta(hours=hours)


def test_a_submission_whose_last_part_never_comes_is_released(client: TestClient, auth, database) -> None:
    iid = new_instance_id()
    xml = submission_xml(iid, photo="a.jpg", passport_photo="b.jpg")
    assert post(client, auth, xml, [("a.jpg", JPEG)], incomplete=True).status_code == 201
    _age(database, iid, RECEIVING_HOURS - 1)
    assert post(client, auth, submission_xml(new_instance_id())).status_code == 201
    assert one(database, Submission, Submission.instance_id == iid).status == "receiving"  # not yet
    _age(database, iid, 2)
    with database.transaction() as db:
        assert release_stale(db) == 1
        assert release_stale(db) == 0
    steps = drain(database)
    assert all(s.ok for s in steps), [s.error_code for s in steps]
    sub = one(database, Submission, Submission.instance_id == iid)
    rec = one(database, Record, Record.id == sub.record_id)
    assert rec.data["full_name"] == "محمد نبی"
    assert documents(database, rec.id) == {"doc_tazkira": JPEG}
    assert rec.provenance["provenance"]["missing_media"] == ["b.jpg"]
    event = one(database, AuditEvent, AuditEvent.action == "submission:release_incomplete")
    assert event.subject_id == sub.id and event.actor == "system:openrosa"
    with database.reading() as db:
        assert verify_chain(db).ok


def test_a_released_encrypted_submission_opens_with_what_came(client: TestClient, auth, database) -> None:
    iid = new_instance_id()
    manifest, files = encrypted(database, iid, {"a.jpg": JPEG, "b.jpg": JPEG2}, photo="a.jpg",
                                passport_photo="b.jpg")
    parts = [(n, files[n]) for n in ("a.jpg.enc", "submission.xml.enc")]  # b.jpg.enc never arrives
    assert post(client, auth, manifest, parts, incomplete=True).status_code == 201
    _age(database, iid, RECEIVING_HOURS + 1)
    with database.transaction() as db:
        assert release_stale(db) == 1
    (step,) = drain(database)
    assert step.ok, step.error_code
    rec = one(database, Record, Record.id == step.record_id)
    prov = rec.provenance["provenance"]
    assert prov["openrosa"]["signature"] == "unverifiable" and prov["flags"] == {"missing_media": 1}
    assert prov["missing_media"] == ["b.jpg"]
    assert documents(database, rec.id) == {"doc_tazkira": JPEG}
    case = one(database, Case, Case.person_id == rec.person_id)
    page = login(client, "caseworker").get(f"/cases/{case.id}")
    assert page.status_code == 200
    assert 'data-flags="missing_media"' in page.text and "Attachments that never arrived: 1." in page.text


def test_the_worker_releases_a_stale_submission_without_another_post(client: TestClient, auth, database) -> None:
    from amanat.jobs.worker import Worker

    iid = new_instance_id()
    xml = submission_xml(iid, photo="a.jpg", passport_photo="b.jpg")
    assert post(client, auth, xml, [("a.jpg", JPEG)], incomplete=True).status_code == 201
    _age(database, iid, RECEIVING_HOURS + 1)
    worker = Worker(database)
    worker._release_incomplete()
    assert worker.released == 1
    assert one(database, Submission, Submission.instance_id == iid).status == "sealed"
    worker._release_incomplete()  # not again until RELEASE_EVERY_SECONDS have passed
    assert worker.released == 1
    assert one(database, AuditEvent, AuditEvent.action == "submission:release_incomplete").actor == "system:openrosa"
