"""The `amanat` command line against a real SQLite database in a temp dir."""

import sqlite3

import pytest
from typer.testing import CliRunner

from amanat.cli.main import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("AMANAT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMANAT_PASSPHRASE", "a long enough passphrase")
    monkeypatch.setenv("AMANAT_KDF_MEMORY_KIB", "64")
    monkeypatch.setenv("AMANAT_KDF_TIME_COST", "1")
    monkeypatch.setenv("AMANAT_ARGON2_MEMORY_KIB", "64")
    monkeypatch.setenv("AMANAT_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("AMANAT_NEW_PASSWORD", "new-user-password")
    return tmp_path


def test_every_command_has_help():
    for args in (["--help"], ["init", "--help"], ["serve", "--help"], ["worker", "--help"], ["demo", "--help"],
                 ["users", "add", "--help"], ["users", "list", "--help"], ["users", "disable", "--help"],
                 ["audit", "verify", "--help"], ["db", "upgrade", "--help"], ["keys", "rotate", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        assert "Usage" in result.output


def test_init_users_and_audit_verify(env):
    assert runner.invoke(app, ["init", "--organisation", "Test NGO"]).exit_code == 0
    again = runner.invoke(app, ["init"])
    assert again.exit_code == 1 and "already has keys" in again.output
    assert runner.invoke(app, ["users", "add", "amina", "--role", "caseworker"]).exit_code == 0
    listed = runner.invoke(app, ["users", "list"])
    assert listed.exit_code == 0 and "amina" in listed.output and "caseworker" in listed.output
    assert runner.invoke(app, ["users", "disable", "amina"]).exit_code == 0
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "chain unbroken" in ok.output
    con = sqlite3.connect(env / "amanat.db")
    con.execute("UPDATE audit_events SET action = 'user:enable' WHERE seq = 3")
    con.commit()
    con.close()
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1 and "BROKEN at event 3" in broken.output


def test_wrong_passphrase_is_one_clear_line(env, monkeypatch):
    assert runner.invoke(app, ["init"]).exit_code == 0
    monkeypatch.setenv("AMANAT_PASSPHRASE", "not the right one")
    result = runner.invoke(app, ["users", "list"])
    assert result.exit_code == 1
    assert "Wrong passphrase" in result.output and "Traceback" not in result.output


def test_bad_role_is_named(env):
    assert runner.invoke(app, ["init"]).exit_code == 0
    result = runner.invoke(app, ["users", "add", "x1", "--role", "commander"])
    assert result.exit_code == 1 and "role: must be one of" in result.output


def test_key_rotation_keeps_data_readable(env):
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert runner.invoke(app, ["users", "add", "before", "--role", "auditor", "--totp"]).exit_code == 0
    rotated = runner.invoke(app, ["keys", "rotate"])
    assert rotated.exit_code == 0 and "field-2" in rotated.output
    assert runner.invoke(app, ["users", "add", "after", "--role", "auditor", "--totp"]).exit_code == 0
    listed = runner.invoke(app, ["users", "list"])  # decrypts both TOTP secrets
    assert listed.exit_code == 0 and "before" in listed.output and "after" in listed.output


def test_link_run_on_the_demo_data(env, monkeypatch):
    result = runner.invoke(app, ["demo", "--no-serve", "--applicants", "24"])
    assert result.exit_code == 0, result.output
    assert "Sign in at" in result.output
    monkeypatch.setenv("AMANAT_PASSPHRASE", "amanat demo passphrase")
    linked = runner.invoke(app, ["link", "run"])
    assert linked.exit_code == 0, linked.output
    assert "24 records" in linked.output
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_link_audit_merges_and_unmerge_on_the_demo_data(env, monkeypatch):
    assert runner.invoke(app, ["demo", "--no-serve", "--applicants", "12"]).exit_code == 0
    monkeypatch.setenv("AMANAT_PASSPHRASE", "amanat demo passphrase")
    audited = runner.invoke(app, ["link", "audit-merges"])
    assert audited.exit_code == 0, audited.output
    assert "persons to check" in audited.output or "No person's records disagree" in audited.output
    missing = runner.invoke(app, ["link", "unmerge", "no-such-merge"])
    assert missing.exit_code == 1 and "No such merge" in missing.output and "Traceback" not in missing.output
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
