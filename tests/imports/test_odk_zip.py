"""ODK instances uploaded as a zip (ODK Briefcase, or a copy of the phone's instances folder): held batch →
confirm → the worker opens, decrypts and parses each as it does an OpenRosa submission."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import func, select
from typer.testing import CliRunner

from amanat.cli.main import app
from amanat.intake.models import Submission
from amanat.intake.odk_crypto import encrypt_submission
from amanat.jobs.pipeline import drain
from amanat.records.models import Document, Record
from tests.conftest import csrf, login
from tests.imports.test_web import actions, batch_of, rows
from tests.openrosa.conftest import FORM, JPEG, new_instance_id, submission_xml


def build_zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buf.getvalue()


def export(database) -> tuple[bytes, list[str]]:
    """Two plain instances (one with a photo) and one encrypted instance, as ODK Briefcase lays them out."""
    ids = [new_instance_id() for _ in range(3)]
    root = "ODK Briefcase Storage/forms/Service record/instances"
    files = {
        f"{root}/{ids[0][5:]}/submission.xml": submission_xml(ids[0], tazkira="1399-0000-00001", photo="p.jpg"),
        f"{root}/{ids[0][5:]}/p.jpg": JPEG,
        f"{root}/{ids[1][5:]}/submission.xml": submission_xml(ids[1], full_name="احمد ولی",
                                                               tazkira="1399-0000-00002"),
    }
    manifest, encrypted = encrypt_submission(
        submission_xml(ids[2], full_name="کریم خان", tazkira="1399-0000-00003"), {},
        database.keys.odk_public_key_b64().encode(), form_id=FORM.form_id, instance_id=ids[2],
        version=FORM.version)
    files[f"{root}/{ids[2][5:]}/submission.xml"] = manifest
    files.update({f"{root}/{ids[2][5:]}/{name}": data for name, data in encrypted.items()})
    files["ODK Briefcase Storage/forms/Service record/Service record.xml"] = b"<h:html/>"  # the form: ignored
    return build_zip(files), ids


def upload(client, data: bytes, name: str = "briefcase.zip"):
    return client.post("/imports/odk", data={"csrf_token": csrf(client)},
                       files={"instances": (name, io.BytesIO(data), "application/zip")})


def count(database, model) -> int:
    with database.reading() as db:
        return db.scalar(select(func.count()).select_from(model))


def test_upload_preview_confirm_then_the_worker_files_three_records(client, database, users):
    login(client, "caseworker")
    assert 'action="/imports/odk"' in client.get("/imports").text
    data, ids = export(database)
    r = upload(client, data)
    assert r.status_code == 200, r.text
    assert "محمد نبی" not in r.text and "Instances read" in r.text
    batch = batch_of(r.text)
    held = rows(database, batch_id=batch)
    assert len(held) == 3 and {s.status for s in held} == {"held"} and {s.channel for s in held} == {"openrosa"}
    assert {s.instance_id for s in held} == set(ids)
    assert all("محمد نبی".encode() not in s.sealed for s in held)
    assert drain(database) == []
    assert "import:preview" in actions(database)
    done = client.post(f"/imports/{batch}/confirm", data={"csrf_token": csrf(client)})
    assert done.status_code == 200 and "<strong>3</strong>" in done.text
    steps = drain(database)
    assert len(steps) == 3 and all(s.ok for s in steps), [s.error_code for s in steps]
    with database.reading() as db:
        recs = db.scalars(select(Record).where(Record.channel == "openrosa")).all()
        assert sorted(r.data["full_name"] for r in recs) == sorted(["محمد نبی", "احمد ولی", "کریم خان"])
        payloads = sorted(r.provenance["provenance"]["openrosa"]["payload"] for r in recs)
        assert payloads == ["odk_encrypted", "xform", "xform"]
        origin = recs[0].provenance["provenance"]["openrosa"]["import"]
        assert origin["batch"] == batch and origin["file"] == "briefcase.zip"
        (doc,) = db.scalars(select(Document)).all()
        assert doc.field == "doc_tazkira" and doc.content == JPEG

    # The same export again: every instance is skipped as already received, nothing new is held.
    again = upload(client, data)
    assert again.status_code == 200 and again.text.count("already received (same instance ID)") == 3
    assert len(rows(database)) == 3


def test_truncated_zip_is_refused_and_nothing_stored(client, database):
    login(client, "caseworker")
    data, _ = export(database)
    r = upload(client, data[:-300])
    assert r.status_code == 422 and "truncated or damaged" in r.text
    assert rows(database) == []


def test_a_broken_instance_stores_nothing_and_is_named(client, database):
    login(client, "caseworker")
    good = submission_xml(new_instance_id())
    data = build_zip({"a/submission.xml": good, "b/submission.xml": good.replace(b"<meta>", b"<meta><x>")})
    r = upload(client, data)
    assert r.status_code == 422 and "Nothing was imported" in r.text
    assert "b/submission.xml" in r.text and "not well-formed XML" in r.text
    no_id = build_zip({"submission.xml": submission_xml("")})
    r = upload(client, no_id, "one.zip")
    assert r.status_code == 422 and "one.zip, submission.xml" in r.text and "instanceID" in r.text
    assert rows(database) == [] and count(database, Record) == 0
    r = upload(client, build_zip({"notes.txt": b"x"}))
    assert r.status_code == 422 and "no submission.xml" in r.text
    assert count(database, Submission) == 0


def test_cli_imports_the_zip_then_skips_it_again(database, tmp_path, monkeypatch):
    monkeypatch.setenv("AMANAT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMANAT_DATABASE_URL", database.url)
    monkeypatch.delenv("AMANAT_PASSPHRASE", raising=False)  # sealing needs the public key only
    path = tmp_path / "export.zip"
    path.write_bytes(export(database)[0])
    runner = CliRunner()
    result = runner.invoke(app, ["intake", "odk", str(path)])
    assert result.exit_code == 0 and "Sealed 3 submissions" in result.output, result.output
    assert {s.status for s in rows(database)} == {"sealed"}
    assert all(step.ok for step in drain(database)) and count(database, Record) == 3
    again = runner.invoke(app, ["intake", "odk", str(path)])
    assert again.exit_code == 0 and "Nothing new" in again.output, again.output
