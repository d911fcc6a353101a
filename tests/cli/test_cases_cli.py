"""`amanat cases reindex` on a real SQLite organisation: old records get their name indexes, with progress."""

import sqlite3

from typer.testing import CliRunner

from amanat.cli.main import app
from tests.cli.test_admin_commands import env  # noqa: F401  (the fixture)

runner = CliRunner()


def test_reindex_gives_records_without_name_indexes_theirs(env, monkeypatch):  # noqa: F811
    assert runner.invoke(app, ["demo", "--no-serve", "--applicants", "12"]).exit_code == 0
    monkeypatch.setenv("AMANAT_PASSPHRASE", "amanat demo passphrase")
    db = env / "amanat.db"
    with sqlite3.connect(db) as con:
        records = con.execute("SELECT count(*) FROM records").fetchone()[0]
        assert con.execute("SELECT count(*) FROM record_lookups WHERE kind = 'name'").fetchone()[0] > 0
        con.execute("DELETE FROM record_lookups WHERE kind IN ('name', 'name_tok')")  # as before name search
    first = runner.invoke(app, ["cases", "reindex"])
    assert first.exit_code == 0, first.output
    assert f"{records} records indexed for search." in first.output
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(DISTINCT record_id) FROM record_lookups WHERE kind = 'name'"
                           ).fetchone()[0] == records
    again = runner.invoke(app, ["cases", "reindex"])
    assert again.exit_code == 0 and "already indexed" in again.output
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0
