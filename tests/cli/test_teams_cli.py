"""`amanat users team …` against a real SQLite database in a temp dir."""

from typer.testing import CliRunner

from amanat.cli.main import app
from tests.cli.test_admin_commands import env  # noqa: F401 - the fixture

runner = CliRunner()


def test_team_commands(env):  # noqa: F811
    assert runner.invoke(app, ["init", "--organisation", "Test NGO"]).exit_code == 0
    for user in ("amina", "bashir"):
        assert runner.invoke(app, ["users", "add", user, "--role", "caseworker"]).exit_code == 0
    made = runner.invoke(app, ["users", "team", "create", "Kabul office", "-p", "AF01", "-p", "af02"])
    assert made.exit_code == 0 and "AF01 AF02" in made.output, made.output
    assert runner.invoke(app, ["users", "team", "create", "Intake", "--intake"]).exit_code == 0
    assert runner.invoke(app, ["users", "team", "add", "Kabul office", "amina"]).exit_code == 0
    assert runner.invoke(app, ["users", "team", "add", "Intake", "bashir"]).exit_code == 0
    listed = runner.invoke(app, ["users", "team", "list"])
    assert listed.exit_code == 0 and "Kabul office" in listed.output and "amina" in listed.output
    assert "intake" in listed.output and "bashir" in listed.output
    assert runner.invoke(app, ["users", "team", "coverage", "Kabul office", "-p", "AF03"]).exit_code == 0
    assert "AF03" in runner.invoke(app, ["users", "team", "list"]).output
    assert runner.invoke(app, ["users", "team", "remove", "Kabul office", "amina"]).exit_code == 0
    assert runner.invoke(app, ["users", "team", "delete", "Intake"]).exit_code == 0
    # bad input: one clear line each, nothing stored
    bad = runner.invoke(app, ["users", "team", "create", "Nowhere", "-p", "Kabul"])
    assert bad.exit_code == 1 and "province codes" in bad.output and "Traceback" not in bad.output
    assert "Nowhere" not in runner.invoke(app, ["users", "team", "list"]).output
    again = runner.invoke(app, ["users", "team", "add", "Kabul office", "nobody"])
    assert again.exit_code == 1 and "No such user" in again.output
    dup = runner.invoke(app, ["users", "team", "create", "Kabul office"])
    assert dup.exit_code == 1 and "exists" in dup.output
    for args in (["users", "team", "--help"], ["users", "team", "create", "--help"]):
        assert runner.invoke(app, args).exit_code == 0
