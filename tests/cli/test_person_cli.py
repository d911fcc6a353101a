"""`amanat person erase` / `approve` / `retention` / `ledger` and `amanat keys reencrypt` on a real SQLite file."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from amanat.cli.main import app
from amanat.cli.organisation import open_organisation
from amanat.config import Settings
from amanat.core.audit import Actor
from amanat.core.keystore import DataKey
from amanat.intake.parsed import ParsedSubmission
from amanat.intake.service import seal_submission
from amanat.jobs.worker import run_worker
from amanat.records.models import Record
from tests.cli.test_backup import pg_admin  # noqa: F401  (a fixture: PostgreSQL, or a skip)

runner = CliRunner()


@pytest.fixture(params=["sqlite"])
def office(request, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """An initialised organisation with three staff and one stored record; SQLite in the data dir, or (the
    param "postgres") a PostgreSQL database of its own, dropped afterwards."""
    created: list[str] = []
    monkeypatch.delenv("AMANAT_DATABASE_URL", raising=False)
    if request.param == "postgres":
        from tests.cli.test_backup import _pg_database

        monkeypatch.setenv("AMANAT_DATABASE_URL", _pg_database(request.getfixturevalue("pg_admin"), created))
    for name, value in (("DATA_DIR", str(tmp_path)), ("PASSPHRASE", "a long enough passphrase"),
                        ("KDF_MEMORY_KIB", "64"), ("KDF_TIME_COST", "1"), ("ARGON2_MEMORY_KIB", "64"),
                        ("ARGON2_TIME_COST", "1"), ("NEW_PASSWORD", "new-user-password"),
                        ("USER_PASSWORD", "new-user-password")):
        monkeypatch.setenv(f"AMANAT_{name}", value)
    assert runner.invoke(app, ["init", "--organisation", "Test NGO"]).exit_code == 0
    for user, role in (("amina", "caseworker"), ("bashir", "admin"), ("zahra", "auditor")):
        result = runner.invoke(app, ["users", "add", user, "--role", role])
        assert result.exit_code == 0, result.output
    database = open_organisation(Settings())
    with database.transaction() as db:
        seal_submission(db, database.keys, ParsedSubmission("web", {"full_name": "Farid Ahmad", "consent": "yes",
                                                                    "phone": "+93 700 123 456"}),
                        actor=Actor("test"), form_id="amanat_service_record", form_version="1")
    assert run_worker(database, once=True)[0] == 1
    yield database
    database.dispose()
    if created:
        from sqlalchemy import create_engine, text

        admin = create_engine(request.getfixturevalue("pg_admin"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _record(database) -> Record:  # type: ignore[no-untyped-def]
    with database.reading() as db:
        rec = db.scalar(select(Record))
        assert rec is not None
        return rec


def test_erase_is_asked_by_one_and_approved_by_another(office, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    asked = runner.invoke(app, ["person", "erase", "1", "--reason", "applicant_request", "--as", "amina"])
    assert asked.exit_code == 0, asked.output
    approval = re.search(r"approval ([0-9a-f-]{36})", asked.output).group(1)  # type: ignore[union-attr]
    same = runner.invoke(app, ["person", "approve", approval, "--as", "amina"])
    assert same.exit_code == 1 and "second person" in same.output
    auditor = runner.invoke(app, ["person", "approve", approval, "--as", "zahra"])
    assert auditor.exit_code == 1 and "may not" in auditor.output
    monkeypatch.setenv("AMANAT_USER_PASSWORD", "not his password")
    wrong = runner.invoke(app, ["person", "approve", approval, "--as", "bashir"])
    monkeypatch.setenv("AMANAT_USER_PASSWORD", "new-user-password")
    assert wrong.exit_code == 1 and "wrong password" in wrong.output
    assert _record(office).data["full_name"] == "Farid Ahmad"  # nothing erased yet
    done = runner.invoke(app, ["person", "approve", approval, "--as", "bashir"])
    assert done.exit_code == 0, done.output
    assert f"by approval #{approval[:8]}" in done.output
    rec = _record(office)
    assert rec.data == {}
    with office.reading() as db:
        assert db.scalar(select(DataKey.key_id).where(DataKey.key_id == f"rk:{rec.id}")) is None
    ledger = tmp_path / "ledger.json"
    assert runner.invoke(app, ["person", "ledger", "--out", str(ledger)]).exit_code == 0
    assert oct(ledger.stat().st_mode & 0o777) == "0o600"
    assert json.loads(ledger.read_text())["entries"][0][0] == f"rk:{rec.id}"
    again = runner.invoke(app, ["person", "erase", "1", "--reason", "applicant_request", "--as", "amina"])
    assert again.exit_code == 1 and "already erased" in again.output


def test_bad_inputs_are_named(office) -> None:  # type: ignore[no-untyped-def]
    bad = runner.invoke(app, ["person", "erase", "1", "--reason", "because", "--as", "amina"])
    assert bad.exit_code == 1 and "reason: one of" in bad.output
    missing = runner.invoke(app, ["person", "erase", "99", "--reason", "applicant_request", "--as", "amina"])
    assert missing.exit_code == 1 and "No case number 99" in missing.output
    nonsense = runner.invoke(app, ["person", "erase", "x'; drop", "--reason", "applicant_request", "--as", "amina"])
    assert nonsense.exit_code == 1 and "case number or a record id" in nonsense.output
    other = runner.invoke(app, ["person", "erase", "1", "--reason", "other", "--as", "amina"])
    assert other.exit_code == 1 and "say why" in other.output


def test_retention_dry_run_and_reencrypt(office) -> None:  # type: ignore[no-untyped-def]
    dry = runner.invoke(app, ["person", "retention", "--closed-days", "30"])
    assert dry.exit_code == 0 and "dry run" in dry.output and "0 case(s)" in dry.output
    moved = runner.invoke(app, ["keys", "reencrypt"])
    assert moved.exit_code == 0, moved.output
    assert "0 record(s) moved" in moved.output  # stored by the worker: already under its own key


@pytest.mark.parametrize("office", ["sqlite", "postgres"], indirect=True)
def test_an_erased_person_stays_erased_after_restoring_an_older_backup(office, tmp_path,  # type: ignore[no-untyped-def]
                                                                        monkeypatch) -> None:
    from amanat.cases.erasure import tombstone
    from amanat.cases.models import Case
    from amanat.core.audit import verify_chain

    with office.transaction() as db:  # a second person, who is not erased
        seal_submission(db, office.keys, ParsedSubmission("web", {"full_name": "Javid Karimi", "consent": "yes"}),
                        actor=Actor("test"), form_id="amanat_service_record", form_version="1")
    assert run_worker(office, once=True)[0] == 1
    farid = _record(office)
    keygen = runner.invoke(app, ["backup", "keygen", "--private-key", str(tmp_path / "backup.key")])
    public = next(line for line in keygen.output.splitlines() if line.startswith("AMANAT_BACKUP_PUBLIC_KEY="))
    monkeypatch.setenv("AMANAT_BACKUP_PUBLIC_KEY", public.split("=", 1)[1])
    made = runner.invoke(app, ["backup", "--out", str(tmp_path / "older.backup")])
    assert made.exit_code == 0, made.output
    asked = runner.invoke(app, ["person", "erase", "1", "--reason", "applicant_request", "--as", "amina"])
    approval = re.search(r"approval ([0-9a-f-]{36})", asked.output).group(1)  # type: ignore[union-attr]
    assert runner.invoke(app, ["person", "approve", approval, "--as", "bashir"]).exit_code == 0
    ledger = tmp_path / "erasure-ledger.json"  # the data dir's ledger, rewritten by the erasure
    assert oct(ledger.stat().st_mode & 0o777) == "0o600" and f"rk:{farid.id}" in ledger.read_text()
    office.dispose()

    restored = runner.invoke(app, ["restore", str(tmp_path / "older.backup"), "--key", str(tmp_path / "backup.key"),
                                   "--force"])
    assert restored.exit_code == 0, restored.output
    assert "1 record(s) erased after the backup was made are erased again" in restored.output
    database = open_organisation(Settings())
    try:
        with database.reading() as db:
            records = {r.id: r.data for r in db.scalars(select(Record))}
            assert records[farid.id] == {}
            assert [d.get("full_name") for d in records.values() if d] == ["Javid Karimi"]
            assert db.scalar(select(DataKey.key_id).where(DataKey.key_id == f"rk:{farid.id}")) is None
            case = db.scalar(select(Case).where(Case.number == 1))
            assert case is not None and tombstone(db, case.id) is not None
            assert verify_chain(db).ok
    finally:
        database.dispose()
