"""`amanat intake odk-instances FOLDER`: an ODK Collect instances folder copied off a phone, plain and encrypted
instances with media, then the worker; a second copy of the folder is recognised by instance ID."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from amanat.cli.main import app
from amanat.intake.errors import IntakeError
from amanat.intake.models import Submission
from amanat.intake.odk_crypto import encrypt_submission
from amanat.intake.odk_folder import read_instances_folder
from amanat.jobs.pipeline import drain
from amanat.records.models import Document, Record
from tests.openrosa.conftest import FORM, JPEG, new_instance_id, submission_xml

runner = CliRunner()


@pytest.fixture
def env(database, tmp_path, monkeypatch):
    monkeypatch.setenv("AMANAT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMANAT_DATABASE_URL", database.url)
    monkeypatch.delenv("AMANAT_PASSPHRASE", raising=False)  # sealing needs the public key only
    return tmp_path


def phone_folder(root: Path, database, *, plain: int = 1, encrypted: int = 1) -> list[str]:
    """instances/ as Collect leaves it: `<form>_<time>/<form>_<time>.xml` and a photo for a plain instance;
    the manifest (submission.xml), submission.xml.enc and the photo's .enc for an encrypted one."""
    ids = []
    for n in range(plain):
        iid = new_instance_id()
        ids.append(iid)
        folder = root / "instances" / f"Service record_2024-05-0{n + 1}_10-00-00"
        folder.mkdir(parents=True)
        (folder / f"{folder.name}.xml").write_bytes(
            submission_xml(iid, full_name="محمد نبی", tazkira=f"1399-0000-1000{n}", photo="1714550000000.jpg"))
        (folder / "1714550000000.jpg").write_bytes(JPEG)
    for n in range(encrypted):
        iid = new_instance_id()
        ids.append(iid)
        manifest, files = encrypt_submission(
            submission_xml(iid, full_name="کریم خان", tazkira=f"1399-0000-2000{n}", photo="1714560000000.jpg"),
            {"1714560000000.jpg": JPEG}, database.keys.odk_public_key_b64().encode(), form_id=FORM.form_id,
            instance_id=iid, version=FORM.version)
        folder = root / "instances" / f"Service record_2024-06-0{n + 1}_11-00-00"
        folder.mkdir(parents=True)
        (folder / "submission.xml").write_bytes(manifest)
        for name, data in files.items():
            (folder / name).write_bytes(data)
    (root / "forms").mkdir(exist_ok=True)
    (root / "forms" / "Service record.xml").write_bytes(b"<h:html/>")  # the form, on the phone beside: not a submission
    return ids


def count(database, model) -> int:
    with database.reading() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def test_a_phone_folder_plain_and_encrypted_with_media_then_again(env, database) -> None:
    ids = phone_folder(env / "odk", database)
    result = runner.invoke(app, ["intake", "odk-instances", str(env / "odk")])
    assert result.exit_code == 0, result.output
    # Parts: the plain instance's photo; the encrypted one's submission.xml.enc and photo .enc.
    assert "Sealed 2 submissions (3 attachments)" in result.output
    assert "2 queued" in result.output
    with database.reading() as db:
        subs = db.scalars(select(Submission)).all()
        assert {s.instance_id for s in subs} == set(ids) and {s.channel for s in subs} == {"openrosa"}
        assert all("محمد نبی".encode() not in s.sealed for s in subs)
    steps = drain(database)
    assert len(steps) == 2 and all(s.ok for s in steps), [s.error_code for s in steps]
    with database.reading() as db:
        names = sorted(r.data["full_name"] for r in db.scalars(select(Record)).all())
    assert names == sorted(["کریم خان", "محمد نبی"])
    assert count(database, Document) == 2  # each instance's photo, the encrypted one decrypted by the worker

    # The folder copied again a week later, with one new submission: only that one is stored, the others named.
    later = env / "odk" / "instances" / "Service record_2024-06-09_09-00-00"
    later.mkdir()
    (later / f"{later.name}.xml").write_bytes(submission_xml(new_instance_id(), tazkira="1399-0000-30000"))
    again = runner.invoke(app, ["intake", "odk-instances", str(env / "odk")])
    assert again.exit_code == 0, again.output
    text = " ".join(again.output.split())
    assert "Sealed 1 submissions (0 attachments)" in text
    assert "skipped Service record_2024-05-01_10-00-00/Service record_2024-05-01_10-00-00.xml: " \
           "already received (same instance ID)" in text
    assert "skipped Service record_2024-06-01_11-00-00/submission.xml: already received" in text
    third = runner.invoke(app, ["intake", "odk-instances", str(env / "odk")])
    assert "Nothing new: all 3 instances of odk were already received (same instance ID)." in " ".join(
        third.output.split())
    assert count(database, Submission) == 3


def test_one_submission_folder_and_bad_folders(env, database, tmp_path) -> None:
    phone_folder(tmp_path / "phone", database, plain=1, encrypted=0)
    one = next((tmp_path / "phone" / "instances").iterdir())
    instances, digest, size = read_instances_folder(one)
    assert [(m, [n for n, _ in media]) for m, _, media in instances] == [(f"{one.name}.xml", ["1714550000000.jpg"])]
    assert len(digest) == 64 and size > len(JPEG)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(IntakeError, match="no ODK instance in the folder"):
        read_instances_folder(empty)
    result = runner.invoke(app, ["intake", "odk-instances", str(empty)])
    assert result.exit_code == 1 and "no ODK instance in the folder" in result.output
    assert "Traceback" not in result.output
