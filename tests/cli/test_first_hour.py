"""The first hour of a new user, each step as a test: the demo twice, the port, commands before `init`,
production without a secret, unattended `init --admin`, a device login without a public URL, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from amanat.cli.main import app

runner = CliRunner()
CHEAP_KDF = {"AMANAT_KDF_MEMORY_KIB": "64", "AMANAT_KDF_TIME_COST": "1", "AMANAT_ARGON2_MEMORY_KIB": "64",
             "AMANAT_ARGON2_TIME_COST": "1"}


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("AMANAT_DATABASE_URL", "AMANAT_BASE_URL", "AMANAT_PORT", "AMANAT_HOST", "AMANAT_ENVIRONMENT",
                 "AMANAT_SECRET_KEY", "AMANAT_NEW_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "data"
    monkeypatch.setenv("AMANAT_DATA_DIR", str(data))
    monkeypatch.setenv("AMANAT_PASSPHRASE", "a long enough passphrase")
    for name, value in CHEAP_KDF.items():
        monkeypatch.setenv(name, value)
    return data


def leaf_commands() -> dict[str, Any]:
    """Every command of `amanat`, by its path ("users add")."""
    found: dict[str, Any] = {}

    def walk(command: Any, path: tuple[str, ...]) -> None:
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                walk(sub, (*path, name))
        else:
            found[" ".join(path)] = command

    walk(typer.main.get_command(app), ())
    return found


# --- amanat demo ----------------------------------------------------------------------------------------------

def test_the_demo_runs_twice_on_the_same_data_dir(env: Path) -> None:
    first = runner.invoke(app, ["demo", "--no-serve", "--applicants", "6"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["demo", "--no-serve", "--applicants", "6"])
    assert second.exception is None or isinstance(second.exception, SystemExit), second.exception
    assert second.exit_code == 0, second.output
    assert "Using the existing demo organisation" in second.output


def test_the_demo_honours_amanat_port_and_host(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMANAT_PORT", "8765")
    result = runner.invoke(app, ["demo", "--no-serve", "--applicants", "2"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8765/login" in result.output
    flagged = runner.invoke(app, ["demo", "--no-serve", "--port", "9001", "--host", "0.0.0.0"])
    assert "http://0.0.0.0:9001/intake" in flagged.output  # an option still wins over the setting


# --- before `amanat init` -------------------------------------------------------------------------------------

# One invocation of every command that needs the organisation; each must say "run `amanat init` first".
BEFORE_INIT = {
    "serve": ["serve"],
    "worker": ["worker", "--once"],
    "users add": ["users", "add", "amina", "--role", "caseworker"],
    "users list": ["users", "list"],
    "users disable": ["users", "disable", "amina"],
    "users team create": ["users", "team", "create", "Kabul office", "-p", "AF01"],
    "users team add": ["users", "team", "add", "Kabul office", "amina"],
    "users team remove": ["users", "team", "remove", "Kabul office", "amina"],
    "users team coverage": ["users", "team", "coverage", "Kabul office", "--intake"],
    "users team delete": ["users", "team", "delete", "Kabul office"],
    "users team list": ["users", "team", "list"],
    "users device-add": ["users", "device-add", "amina"],
    "users device-list": ["users", "device-list"],
    "users device-revoke": ["users", "device-revoke", "amina-phone"],
    "audit verify": ["audit", "verify"],
    "audit anchor": ["audit", "anchor", "--out", "{folder}/audit.anchors"],
    "keys rotate": ["keys", "rotate"],
    "keys odk-public": ["keys", "odk-public"],
    "link run": ["link", "run"],
    "link train": ["link", "train"],
    "link audit-merges": ["link", "audit-merges"],
    "link unmerge": ["link", "unmerge", "m-1"],
    "intake whatsapp": ["intake", "whatsapp", "{chat}", "--intermediary", "T", "--consent-basis", "phone_verbal"],
    "intake table": ["intake", "table", "{table}", "--consent-basis", "paper_intermediary"],
    "intake odk": ["intake", "odk", "{zip}"],
    "intake odk-instances": ["intake", "odk-instances", "{folder}"],
    "cases reindex": ["cases", "reindex"],
    "keys reencrypt": ["keys", "reencrypt"],
    "person erase": ["person", "erase", "12", "--reason", "applicant_request", "--as", "amina"],
    "person approve": ["person", "approve", "1", "--as", "amina"],
    "person retention": ["person", "retention", "--closed-days", "30"],
    "person ledger": ["person", "ledger", "--out", "{folder}/ledger.json"],
    "person reapply": ["person", "reapply", "{table}"],  # read before the organisation is opened
}
# Commands that create the organisation, or need no database at all (tested where they live).
NO_ORGANISATION_NEEDED = {"db sealed-role",  # prints SQL, opens nothing
                          "init", "demo", "db upgrade", "dedupe", "odk decrypt", "normalize name",
                          "normalize date", "normalize tazkira", "normalize passport", "normalize mrz",
                          "normalize phone", "normalize place", "referral keygen",
                          "referral decrypt",
                          "backup keygen", "backup verify", "restore"}  # tests/cli/test_backup.py


def test_every_command_is_listed_for_the_before_init_walk() -> None:
    # A new command must be added above (a listed one not registered is skipped below).
    assert set(leaf_commands()) - set(BEFORE_INIT) - NO_ORGANISATION_NEEDED == set()


@pytest.mark.parametrize("name", sorted(BEFORE_INIT))
def test_a_command_before_init_is_one_clear_line(env: Path, tmp_path: Path, name: str) -> None:
    if name not in leaf_commands():
        pytest.skip(f"`amanat {name}` is not registered")
    inputs = {"chat": tmp_path / "chat.txt", "table": tmp_path / "list.csv", "zip": tmp_path / "instances.zip",
              "folder": tmp_path / "instances"}
    inputs["chat"].write_text("01/02/2021, 10:00 - A: full name: X\n", encoding="utf-8")
    inputs["table"].write_text("full_name\nX\n", encoding="utf-8")
    inputs["zip"].write_bytes(b"PK\x05\x06" + bytes(18))
    inputs["folder"].mkdir()
    args = [a.format(**inputs) for a in BEFORE_INIT[name]]
    result = runner.invoke(app, args)
    assert isinstance(result.exception, SystemExit), (name, result.exception)  # no traceback
    assert result.exit_code == 1, (name, result.output)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines == ["error: This database has no keys yet: run `amanat init` first. (not_initialised)"], name
    assert not env.exists() or not any(env.iterdir()), "an empty database was left behind"


def test_a_database_that_cannot_be_opened_is_one_line(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMANAT_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    result = runner.invoke(app, ["users", "list"])
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the database cannot be opened:"), result.output


# --- settings ---------------------------------------------------------------------------------------------------

def test_production_without_a_secret_is_one_clear_line(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMANAT_ENVIRONMENT", "production")
    result = runner.invoke(app, ["serve"])
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert result.output.strip() == ("error: AMANAT_SECRET_KEY must be set to a real secret in production "
                                     "(settings_refused)")


def test_a_refused_setting_names_itself(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMANAT_PORT", "eighty")
    result = runner.invoke(app, ["worker", "--once"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.startswith("error: AMANAT_PORT:") and "eighty" not in result.output


# --- init, users ------------------------------------------------------------------------------------------------

def test_init_admin_runs_unattended_with_amanat_new_password(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMANAT_NEW_PASSWORD", "a new admin password")
    result = runner.invoke(app, ["init", "--admin", "farida"], input="")
    assert result.exit_code == 0, result.output
    assert "Added farida (admin)" in result.output
    listed = runner.invoke(app, ["users", "list"])
    assert "farida" in listed.output and "admin" in listed.output


def test_init_admin_without_a_password_stores_nothing(env: Path) -> None:
    result = runner.invoke(app, ["init", "--admin", "farida"], input="")
    assert result.exit_code == 1
    assert "set AMANAT_NEW_PASSWORD" in result.output
    assert runner.invoke(app, ["users", "list"]).exit_code == 1  # still not initialised


def test_init_admin_with_a_refused_password_stores_nothing(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMANAT_NEW_PASSWORD", "short")
    result = runner.invoke(app, ["init", "--admin", "farida"])
    assert result.exit_code == 1, result.output
    monkeypatch.setenv("AMANAT_NEW_PASSWORD", "a new admin password")
    again = runner.invoke(app, ["init", "--admin", "farida"])
    assert again.exit_code == 0, again.output  # the first attempt left no organisation behind


def test_device_add_warns_when_the_public_url_is_not_set(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMANAT_NEW_PASSWORD", "a new user password")
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert runner.invoke(app, ["users", "add", "amina", "--role", "caseworker"]).exit_code == 0
    result = runner.invoke(app, ["users", "device-add", "amina"])
    assert result.exit_code == 0, result.output
    assert "warning: AMANAT_BASE_URL is not set" in result.output
    assert "URL http://127.0.0.1" not in result.output  # a loopback address is never given as the one to type
    monkeypatch.setenv("AMANAT_BASE_URL", "https://intake.example.org/")
    again = runner.invoke(app, ["users", "device-add", "amina"])
    assert "URL https://intake.example.org," in again.output and "warning" not in again.output


# --- Ctrl-C -----------------------------------------------------------------------------------------------------

def test_every_command_turns_ctrl_c_into_one_line() -> None:
    # dedupe has its own handling (it also knows what it has written): tests/linkage/test_dedupe_output.py
    unwrapped = [name for name, command in leaf_commands().items()
                 if name != "dedupe" and not getattr(command.callback, "friendly", False)]
    assert unwrapped == []


@pytest.mark.parametrize("where", ["a command", "a prompt"])
def test_ctrl_c_is_one_line_and_exit_130(env: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    if where == "a command":
        from amanat.jobs import worker

        def interrupted(database: object, limit: int = 0, ahead: object = None) -> None:
            raise KeyboardInterrupt

        monkeypatch.setattr(worker, "process_batch", interrupted)
        result = runner.invoke(app, ["worker", "--once"])
    else:
        from amanat.cli import admin

        def abort(*args: object, **kwargs: object) -> None:
            raise typer.Abort  # what typer.prompt raises on Ctrl-C

        monkeypatch.setattr(admin, "new_password", abort)
        result = runner.invoke(app, ["users", "add", "amina", "--role", "caseworker"])
    assert result.exit_code == 130, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.output.strip().splitlines()[-1] == (
        "interrupted: stopped; what was not yet committed was rolled back")


def _amanat(*args: str) -> subprocess.Popen[bytes]:
    """`amanat ARGS` as the installed entry point runs it."""
    return subprocess.Popen([sys.executable, "-c", "from amanat.cli import start; start()", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))


def _interrupt(proc: subprocess.Popen[bytes]) -> str:
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return err.decode()


def test_ctrl_c_on_a_running_worker(env: Path) -> None:
    """The real signal, in a real process: one line on stderr, exit 130, no traceback."""
    assert runner.invoke(app, ["init"]).exit_code == 0
    proc = _amanat("worker")
    assert proc.stderr is not None
    first = proc.stderr.readline().decode()
    assert first.startswith("Worker running: 0 waiting"), first
    time.sleep(0.5)  # waiting for work now
    text = first + _interrupt(proc)
    assert proc.returncode == 130, text
    assert "Traceback" not in text
    assert text.strip().splitlines()[-1] == "interrupted: stopped; what was not yet committed was rolled back"


def test_ctrl_c_while_the_command_line_loads(monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C before any command runs (the imports take a second): still one line and 130."""
    from amanat.cli import start

    class Loading(types.ModuleType):
        def __getattr__(self, name: str) -> object:
            raise KeyboardInterrupt  # as if the signal came while `amanat.cli.main` was being imported

    monkeypatch.setitem(sys.modules, "amanat.cli.main", Loading("amanat.cli.main"))
    with pytest.raises(SystemExit) as stopped:
        start()
    assert stopped.value.code == 130
    assert capsys.readouterr().err.splitlines() == [
        "interrupted: stopped; what was not yet committed was rolled back"]


# --- intake table: a clean preview, and how long the worker will take ---------------------------------------------

def _list(path: Path, rows: int = 2) -> Path:
    lines = ["full_name,father_name,tazkira_number"]
    lines += [f"Person {i},Father {i},1399-0000-{i:05d}" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_table_preview_of_a_file_without_errors(tmp_path: Path) -> None:
    import openpyxl

    csv_file = _list(tmp_path / "list.csv")
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for line in csv_file.read_text(encoding="utf-8").splitlines():
        sheet.append(line.split(","))
    book.save(tmp_path / "list.xlsx")
    for name in ("list.csv", "list.xlsx"):
        result = runner.invoke(app, ["intake", "table", str(tmp_path / name), "--preview"])
        assert result.exception is None or isinstance(result.exception, SystemExit), (name, result.exception)
        assert result.exit_code == 0, (name, result.output)
        assert "2 submissions with 0 attachments would be created" in result.stdout


def test_intake_table_says_how_long_the_worker_will_take(env: Path, tmp_path: Path) -> None:
    from datetime import datetime, timedelta

    from amanat.config import Settings
    from amanat.core.db import open_database
    from amanat.intake.models import Submission

    assert runner.invoke(app, ["init"]).exit_code == 0
    first = runner.invoke(app, ["intake", "table", str(_list(tmp_path / "a.csv", 3)), "--consent-basis",
                                "paper_intermediary"])
    assert first.exit_code == 0, first.output
    assert ("3 queued; the worker has not yet processed enough to measure its rate, so how long it will take is "
            "not known (3 waiting in all;") in first.output
    database = open_database(Settings())
    with database.transaction() as db:  # the worker's past work: 100 records at 10 per second
        start = datetime(2026, 12, 1, 10, 0)
        for i in range(100):
            db.add(Submission(receipt=f"P{i:06d}", channel="table", form_id="f", form_version="1", status="stored",
                              processed_at=start + timedelta(seconds=i / 10)))
    database.dispose()
    rows = tmp_path / "b.csv"
    rows.write_text(_list(tmp_path / "b.csv", 400).read_text(encoding="utf-8").replace("Person", "Other"),
                    encoding="utf-8")
    second = runner.invoke(app, ["intake", "table", str(rows), "--consent-basis", "paper_intermediary"])
    assert second.exit_code == 0, second.output
    assert "400 queued; the worker will take about 40 s (403 waiting in all, at its recent 10 per second)." in (
        " ".join(second.output.split()))
