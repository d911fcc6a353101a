"""`amanat users device-add|device-list|device-revoke` against a real SQLite database in a temp dir."""

from __future__ import annotations

import re
import sqlite3

import pytest
from typer.testing import CliRunner

from amanat.accounts import digest
from amanat.cli.main import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    for name, value in (("DATA_DIR", str(tmp_path)), ("PASSPHRASE", "a long enough passphrase"),
                        ("KDF_MEMORY_KIB", "64"), ("KDF_TIME_COST", "1"), ("ARGON2_MEMORY_KIB", "64"),
                        ("ARGON2_TIME_COST", "1"), ("NEW_PASSWORD", "new-user-password")):
        monkeypatch.setenv(f"AMANAT_{name}", value)
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert runner.invoke(app, ["users", "add", "amina", "--role", "referrer"]).exit_code == 0
    assert runner.invoke(app, ["users", "add", "omar", "--role", "auditor"]).exit_code == 0
    return tmp_path


def test_device_add_prints_the_password_once_and_stores_no_clear_secret(env) -> None:
    added = runner.invoke(app, ["users", "device-add", "amina"])
    assert added.exit_code == 0, added.output
    login = dict(re.findall(r"^(username|password): (\S+)$", added.output, re.MULTILINE))
    assert login["username"] == "amina" and re.fullmatch(r"([a-z2-9]{4}-){4}[a-z2-9]{4}", login["password"])
    second = runner.invoke(app, ["users", "device-add", "amina"])  # a second phone
    assert "username: amina-2" in second.output
    con = sqlite3.connect(env / "amanat.db")
    ha1, password_hash = con.execute(
        "SELECT ha1, password_hash FROM device_credentials WHERE username = 'amina'").fetchone()
    con.close()
    assert digest.ha1("amina", login["password"]).encode() not in ha1  # HA1 is encrypted with the field key
    assert password_hash.startswith("$argon2id$") and login["password"] not in password_hash
    listed = runner.invoke(app, ["users", "device-list"])
    assert "amina-2" in listed.output and "referrer" in listed.output and login["password"] not in listed.output


def test_device_revoke_and_refusals(env) -> None:
    assert runner.invoke(app, ["users", "device-add", "amina"]).exit_code == 0
    revoked = runner.invoke(app, ["users", "device-revoke", "amina"])
    assert revoked.exit_code == 0 and "Revoked" in revoked.output
    assert "revoked" in runner.invoke(app, ["users", "device-list"]).output
    again = runner.invoke(app, ["users", "device-revoke", "amina"])
    assert again.exit_code == 1 and "No active device login" in again.output
    auditor = runner.invoke(app, ["users", "device-add", "omar"])
    assert auditor.exit_code == 1 and "cannot submit forms" in auditor.output and "Traceback" not in auditor.output
    nobody = runner.invoke(app, ["users", "device-add", "nobody"])
    assert nobody.exit_code == 1 and "No user" in nobody.output
