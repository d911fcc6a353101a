"""`amanat backup` and `amanat restore`, end to end on SQLite and PostgreSQL.

A demo organisation with synthetic records is backed up to the backup key, restored into a fresh data dir or
an empty database, and then its records decrypt with the organisation's passphrase, search finds them by
tazkira and name, and its audit chain verifies with the backup and the restore recorded. A changed or cut
backup, another key, a non-empty target and a pg_dump older than the server are each refused in one line,
and nothing is left behind. PostgreSQL's tests skip with a message where it is not reachable (under CI they
fail), as tests/conftest.py's fixture does.
"""

from __future__ import annotations

import json
import os
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text
from typer.testing import CliRunner

from amanat.cli import backup as backup_cli
from amanat.cli.demo_data import demo_applicants
from amanat.cli.main import app
from amanat.cli.organisation import open_organisation
from amanat.cli.run import DEMO_PASSPHRASE
from amanat.config import Settings
from amanat.core.audit import AuditEvent, verify_chain
from amanat.core.backup import Manifest
from amanat.records.models import Record
from tests.conftest import PG_ADMIN_URL, _pg_available

runner = CliRunner()
CHEAP_KDF = {"AMANAT_KDF_MEMORY_KIB": "64", "AMANAT_KDF_TIME_COST": "1", "AMANAT_ARGON2_MEMORY_KIB": "64",
             "AMANAT_ARGON2_TIME_COST": "1", "AMANAT_ENVIRONMENT": "test"}
APPLICANTS = 6


@dataclass
class Place:
    """Where a database lives for the CLI: a data dir, and a database URL for PostgreSQL."""

    data_dir: Path
    url: str | None = None

    def env(self) -> dict[str, str]:
        return {"AMANAT_DATA_DIR": str(self.data_dir), **({"AMANAT_DATABASE_URL": self.url} if self.url else {})}

    def settings(self) -> Settings:
        return Settings(environment="test", data_dir=self.data_dir, database_url=self.url or "",
                        kdf_time_cost=1, kdf_memory_kib=64)

    def is_empty(self) -> bool:
        if self.url is None:
            db = self.data_dir / "amanat.db"
            return not db.exists() or db.stat().st_size == 0
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return not inspect(conn).get_table_names()
        finally:
            engine.dispose()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("AMANAT_DATABASE_URL", "AMANAT_PASSPHRASE", "AMANAT_BACKUP_PUBLIC_KEY", "AMANAT_BACKUP_PASSPHRASE",
                 "AMANAT_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in CHEAP_KDF.items():
        monkeypatch.setenv(name, value)
    return tmp_path


@pytest.fixture(scope="module")
def pg_admin() -> Iterator[str]:
    reason = _pg_available()
    if reason is not None:
        msg = f"PostgreSQL is not reachable at {PG_ADMIN_URL.split('@')[-1]} ({reason}): backup tests on it skipped"
        if os.environ.get("CI"):
            pytest.fail(msg + " — but CI must run them")
        pytest.skip(msg)
    yield PG_ADMIN_URL


def _pg_database(admin_url: str, created: list[str]) -> str:
    name = f"amanat_backup_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    created.append(name)
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", "postgres"])
def places(request: pytest.FixtureRequest, env: Path) -> Iterator[tuple[Place, Place]]:
    """Two places: the office's database (``source``) and a fresh one to restore into (``target``)."""
    if request.param == "sqlite":
        yield Place(env / "office"), Place(env / "restored")
        return
    admin_url = request.getfixturevalue("pg_admin")
    created: list[str] = []
    yield (Place(env / "office", _pg_database(admin_url, created)),
           Place(env / "restored", _pg_database(admin_url, created)))
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in created:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def amanat(place: Place, *args: str, extra: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args), env={**place.env(), **(extra or {})})


def one_line_error(result) -> str:  # type: ignore[no-untyped-def]
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, (result.exception, result.output)
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.fixture
def office(places: tuple[Place, Place], env: Path) -> tuple[Place, Place, Path, dict[str, str]]:
    """The demo organisation with records, a backup key pair, and a backup of it sealed to that key."""
    source, target = places
    made = amanat(source, "demo", "--no-serve", "--applicants", str(APPLICANTS))
    assert made.exit_code == 0, made.output
    keygen = runner.invoke(app, ["backup", "keygen", "--private-key", str(env / "backup.key")])
    assert keygen.exit_code == 0, keygen.output
    public = next(line for line in keygen.output.splitlines() if line.startswith("AMANAT_BACKUP_PUBLIC_KEY="))
    key_env = {"AMANAT_BACKUP_PUBLIC_KEY": public.split("=", 1)[1]}
    done = amanat(source, "backup", "--out", str(env / "office.backup"), extra=key_env)
    assert done.exit_code == 0, done.output
    return source, target, env / "office.backup", key_env


def test_backup_restores_into_a_fresh_place_whole(office: tuple[Place, Place, Path, dict[str, str]],
                                                  env: Path) -> None:
    source, target, backup, _ = office
    key = env / "backup.key"
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600 and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not list(env.glob("*.partial"))
    # No value of any applicant is in the file: the dump is encrypted whole (and its fields were already).
    blob = backup.read_bytes()
    for person in demo_applicants(APPLICANTS):
        for field in ("full_name", "full_name_latin", "father_name", "tazkira_number", "phone"):
            assert person[field].encode() not in blob, field
    assert b"SQLite format 3" not in blob and b"PGDMP" not in blob and b"CREATE TABLE" not in blob

    verified = amanat(source, "backup", "verify", str(backup), "--key", str(key))
    assert verified.exit_code == 0, verified.output
    assert "OK" in verified.output and "hash matches and the database opens" in verified.output

    restored = amanat(target, "restore", str(backup), "--key", str(key))
    assert restored.exit_code == 0, restored.output
    assert "audit chain verified" in restored.output
    if target.url is None:  # the restored SQLite file and its folder: nobody else's account reads them
        assert stat.S_IMODE((target.data_dir / "amanat.db").stat().st_mode) == 0o600
        assert stat.S_IMODE(target.data_dir.stat().st_mode) == 0o700

    # The records decrypt with the organisation's passphrase, as they did in the office.
    originals = _records(source)
    assert len(originals) >= APPLICANTS - 1 and _records(target) == originals
    # Search finds a person by tazkira and by name through the restored blind indexes.
    first = demo_applicants(APPLICANTS)[0]
    db_target = open_organisation(target.settings(), passphrase=DEMO_PASSPHRASE)
    from amanat.cases.search import search_cases
    from amanat.core.audit import Actor

    with db_target.transaction() as db:
        user_id = db.scalar(text("SELECT id FROM users WHERE username = 'caseworker'"))
        by_tazkira = search_cases(db, db_target.keys, Actor("test"), user_id, first["tazkira_number"], "tazkira")
        by_name = search_cases(db, db_target.keys, Actor("test"), user_id, first["full_name_latin"], "name")
    assert by_tazkira.case_ids and set(by_tazkira.case_ids) <= set(by_name.case_ids)
    # The audit chain verifies; the office's log says a backup was made, the restored one that it was restored
    # (and verified, in the office), with ids and counts only.
    with db_target.reading() as db:
        assert verify_chain(db).ok
        restore_events = db.scalars(select(AuditEvent).where(AuditEvent.action == "backup:restore")).all()
    assert len(restore_events) == 1 and '"audit_seq"' in restore_events[0].details
    db_target.dispose()
    db_source = open_organisation(source.settings(), keys="none")
    with db_source.reading() as db:
        actions = [e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.subject_type == "backup"))]
        assert verify_chain(db).ok
    db_source.dispose()
    assert actions == ["backup:create", "backup:verify"]


def _records(place: Place) -> dict[str, tuple[str | None, dict[str, object]]]:
    database = open_organisation(place.settings(), passphrase=DEMO_PASSPHRASE)
    try:
        with database.reading() as db:
            return {r.id: (r.display_name, r.data) for r in db.scalars(select(Record))}
    finally:
        database.dispose()


def test_a_changed_or_cut_backup_is_refused_and_nothing_is_restored(
        office: tuple[Place, Place, Path, dict[str, str]], env: Path) -> None:
    source, target, backup, _ = office
    key = str(env / "backup.key")
    blob = backup.read_bytes()
    changed = env / "changed.backup"
    middle = bytearray(blob)
    middle[len(blob) // 2] ^= 0x01
    changed.write_bytes(bytes(middle))
    assert "was changed or damaged" in one_line_error(amanat(source, "backup", "verify", str(changed), "--key", key))
    assert "was changed or damaged" in one_line_error(amanat(target, "restore", str(changed), "--key", key))
    assert target.is_empty() and not list(target.data_dir.glob("amanat.db*"))
    cut = env / "cut.backup"
    cut.write_bytes(blob[: len(blob) - 40])
    assert "cut off" in one_line_error(amanat(target, "restore", str(cut), "--key", key))
    assert target.is_empty() and not list(target.data_dir.glob("amanat.db*"))


def test_another_key_is_refused_by_name(office: tuple[Place, Place, Path, dict[str, str]], env: Path) -> None:
    _, target, backup, _ = office
    other = runner.invoke(app, ["backup", "keygen", "--private-key", str(env / "other.key")])
    assert other.exit_code == 0
    line = one_line_error(amanat(target, "restore", str(backup), "--key", str(env / "other.key")))
    assert "Wrong key: this backup is sealed to the backup key" in line and "(stream_wrong_key)" in line
    assert target.is_empty()
    assert "passphrase" in one_line_error(amanat(target, "restore", str(backup)))  # no key at all: says what to give


def test_a_database_that_is_not_empty_is_replaced_only_with_force(
        office: tuple[Place, Place, Path, dict[str, str]], env: Path) -> None:
    source, target, backup, _ = office
    key = str(env / "backup.key")
    assert amanat(target, "restore", str(backup), "--key", key).exit_code == 0
    again = one_line_error(amanat(target, "restore", str(backup), "--key", key))
    assert "is not empty: refusing to overwrite it" in again and "--force" in again
    # The office's own database too: a restore never lands on live data unasked.
    assert "is not empty" in one_line_error(amanat(source, "restore", str(backup), "--key", key))
    forced = amanat(target, "restore", str(backup), "--key", key, "--force")
    assert forced.exit_code == 0, forced.output
    assert _records(target) == _records(source)
    # A replacement that fails half way (a chunk near the end changed) leaves the database as it was: SQLite's
    # new file is never renamed into place; PostgreSQL's DROP SCHEMA and load roll back together.
    blob = bytearray(backup.read_bytes())
    blob[-100] ^= 0x01
    (env / "late.backup").write_bytes(bytes(blob))
    assert "changed or damaged" in one_line_error(amanat(target, "restore", str(env / "late.backup"), "--key", key,
                                                         "--force"))
    assert _records(target) == _records(source)


def test_a_post_restore_step_runs_after_the_audit_check(office: tuple[Place, Place, Path, dict[str, str]],
                                                        env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, target, backup, _ = office
    seen: list[tuple[str, int]] = []

    def step(database, manifest: Manifest) -> str:  # type: ignore[no-untyped-def]
        with database.reading() as db:
            seen.append((manifest.backup_id, db.scalar(text("SELECT count(*) FROM audit_events"))))
        return "re-applied 0 erasures"

    monkeypatch.setattr(backup_cli, "POST_RESTORE_STEPS", [step])
    done = amanat(target, "restore", str(backup), "--key", str(env / "backup.key"))
    assert done.exit_code == 0, done.output
    assert "re-applied 0 erasures" in done.output and len(seen) == 1


def test_a_passphrase_backup_round_trips(env: Path) -> None:
    source, target = Place(env / "office"), Place(env / "restored")
    assert amanat(source, "demo", "--no-serve", "--applicants", "2").exit_code == 0
    secret = {"AMANAT_BACKUP_PASSPHRASE": "a long backup passphrase for the safe"}
    out = env / "office.backup"
    assert amanat(source, "backup", "--out", str(out), "--passphrase", extra=secret).exit_code == 0
    wrong = one_line_error(amanat(target, "restore", str(out),
                                  extra={"AMANAT_BACKUP_PASSPHRASE": "not the backup passphrase"}))
    assert "Wrong passphrase" in wrong and target.is_empty()
    done = amanat(target, "restore", str(out), extra=secret)
    assert done.exit_code == 0, done.output
    assert _records(target) == _records(source)


def test_backup_refuses_to_overwrite_and_needs_a_key(env: Path) -> None:
    source = Place(env / "office")
    before = one_line_error(amanat(source, "backup", "--out", str(env / "b")))
    assert "run `amanat init` first" in before and not (env / "b").exists()
    assert amanat(source, "demo", "--no-serve", "--applicants", "1").exit_code == 0
    assert "No backup key" in one_line_error(amanat(source, "backup", "--out", str(env / "b")))
    (env / "b").write_bytes(b"keep me")
    keygen = runner.invoke(app, ["backup", "keygen", "--private-key", str(env / "k")])
    public = keygen.output.split("=", 1)[1].split()[0]
    assert "exists" in one_line_error(amanat(source, "backup", "--out", str(env / "b"), "--to", public))
    assert (env / "b").read_bytes() == b"keep me"
    assert "exists" in one_line_error(runner.invoke(app, ["backup", "keygen", "--private-key", str(env / "k")]))


def test_pg_dump_older_than_the_server_is_a_clear_error(pg_admin: str, env: Path, tmp_path: Path) -> None:
    created: list[str] = []
    place = Place(env / "office", _pg_database(pg_admin, created))
    try:
        init = amanat(place, "init", extra={"AMANAT_PASSPHRASE": "a long enough passphrase"})
        assert init.exit_code == 0, init.output
        fake = tmp_path / "bin"
        fake.mkdir()
        (fake / "pg_dump").write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n", encoding="ascii")
        (fake / "pg_dump").chmod(0o755)
        public = runner.invoke(app, ["backup", "keygen", "--private-key", str(env / "k")]).output.split("=", 1)[1]
        path = f"{fake}:{os.environ.get('PATH', '')}"
        line = one_line_error(amanat(place, "backup", "--out", str(env / "b"), "--to", public.split()[0],
                                     extra={"PATH": path}))
        assert "pg_dump is version 9 but the PostgreSQL server is version" in line and "(pg_version_mismatch)" in line
        assert not (env / "b").exists() and not (env / "b.partial").exists()
        missing = one_line_error(amanat(place, "backup", "--out", str(env / "b"), "--to", public.split()[0],
                                        extra={"PATH": str(fake.parent / "nothing")}))
        assert "pg_dump is not installed" in missing
    finally:
        admin = create_engine(pg_admin, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_a_backup_resealed_with_another_audit_head_is_refused(env: Path) -> None:
    # The public key is on the server: whoever holds it can seal a backup. The restored audit chain must end
    # where the manifest says, or the restore is refused and not recorded.
    from amanat.core import crypto
    from amanat.core.crypto_stream import StreamOpener, StreamSealer

    source, target = Place(env / "office"), Place(env / "restored")
    assert amanat(source, "demo", "--no-serve", "--applicants", "2").exit_code == 0
    keygen = runner.invoke(app, ["backup", "keygen", "--private-key", str(env / "k")])
    public = keygen.output.split("=", 1)[1].split()[0]
    assert amanat(source, "backup", "--out", str(env / "b"), "--to", public).exit_code == 0
    with (env / "b").open("rb") as fh:
        opener = StreamOpener(fh, secret_key=(env / "k").read_text().strip())
        dump = b"".join(opener.chunks())
        manifest = json.loads(opener.trailer or b"")
    manifest["audit_seq"] += 1
    with (env / "forged").open("wb") as fh:
        sealer = StreamSealer(fh, content="amanat-backup", public_key=crypto.parse_public_key(public))
        sealer.write(dump)
        sealer.finish(json.dumps(manifest).encode())
    line = one_line_error(amanat(target, "restore", str(env / "forged"), "--key", str(env / "k")))
    assert "the backup's manifest says" in line and "(audit_mismatch)" in line


def test_a_sqlite_database_too_big_for_memory_is_refused_before_anything_is_written(
        env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from amanat.core import backup as core_backup

    source = Place(env / "office")
    assert amanat(source, "demo", "--no-serve", "--applicants", "1").exit_code == 0
    size = (env / "office" / "amanat.db").stat().st_size
    monkeypatch.setattr(core_backup, "available_memory", lambda: 2 * size)
    keygen = runner.invoke(app, ["backup", "keygen", "--private-key", str(env / "k")])
    line = one_line_error(amanat(source, "backup", "--out", str(env / "b"), "--to",
                                 keygen.output.split("=", 1)[1].split()[0]))
    assert "a backup holds it in memory" in line and "(backup_memory)" in line
    assert not list(env.glob("b*"))
