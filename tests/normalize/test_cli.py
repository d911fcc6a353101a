"""``amanat normalize …`` through a Typer app that registers the sub-app, as cli/main.py does."""

from __future__ import annotations

import json

import pytest
import typer
from mrz.generator.td3 import TD3CodeGenerator
from typer.testing import CliRunner

from amanat.cli.normalize import normalize_app

app = typer.Typer()
app.add_typer(normalize_app, name="normalize")
runner = CliRunner()


def _json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_name_json() -> None:
    result = runner.invoke(app, ["normalize", "name", "حاجی محمد نبی", "Haji Mohammad Nabi", "--json"])
    assert result.exit_code == 0, result.output
    a, b = _json_lines(result.output)
    assert a["ok"] and a["phonetic"] == b["phonetic"] == "mhmd nb"
    assert a["titles"] == ["haji"] and a["latin"] == "mohammad nabi"


def test_name_text() -> None:
    result = runner.invoke(app, ["normalize", "name", "Najib Ullah"])
    assert result.exit_code == 0
    assert "latin=najibullah" in result.output and "phonetic=njbl" in result.output


def test_date_json_with_failure() -> None:
    result = runner.invoke(app, ["normalize", "date", "1392", "۱۳۹۲/۶/۱۵", "6/9/2013", "1392/13/1", "--json"])
    assert result.exit_code == 1
    rows = _json_lines(result.output)
    assert [r.get("iso") for r in rows[:3]] == ["2013", "2013-09-06", "2013-09-06"]
    assert rows[2]["ambiguous"] and rows[2]["alternatives"] == ["2013-06-09"]
    assert rows[3] == {"input": "1392/13/1", "ok": False, "error": "date: month 13 does not exist"}


def test_date_calendar_option() -> None:
    result = runner.invoke(app, ["normalize", "date", "--calendar", "gregorian", "2013/9/6", "--json"])
    assert _json_lines(result.output)[0]["iso"] == "2013-09-06"


@pytest.mark.parametrize(("command", "value", "field", "expected"), [
    ("tazkira", "۱۳۹۹-۰۱۲۳-۴۵۶۷۸", "value", "1399-0123-45678"),
    ("tazkira", "جلد ۱۲ صفحه ۳۴ ثبت ۵۶۷", "value", "paper:12/34/567"),
    ("passport", "p 0123 4567", "value", "P01234567"),
    ("phone", "۰۷۹۹۱۲۳۴۵۶", "e164", "+93799123456"),
])
def test_id_commands(command: str, value: str, field: str, expected: str) -> None:
    result = runner.invoke(app, ["normalize", command, value, "--json"])
    assert result.exit_code == 0, result.output
    row = _json_lines(result.output)[0]
    assert row[field] == expected and row["valid"] is True and row["reasons"] == []


def test_invalid_verdict_has_reasons() -> None:
    row = _json_lines(runner.invoke(app, ["normalize", "tazkira", "12345", "--json"]).output)[0]
    assert row["ok"] and row["valid"] is False and row["reasons"]


def test_mrz_two_lines_as_two_arguments() -> None:
    mrz = str(TD3CodeGenerator("P", "AFG", "Ahmadzai", "Mohammad Nabi", "P01234567", "AFG", "850615", "M",
                               "300101", ""))
    line1, line2 = mrz.split("\n")
    result = runner.invoke(app, ["normalize", "mrz", line1, line2, "--json"])
    assert result.exit_code == 0, result.output
    rows = _json_lines(result.output)
    assert len(rows) == 1 and rows[0]["valid"] and rows[0]["number"] == "P01234567"


def test_place() -> None:
    result = runner.invoke(app, ["normalize", "place", "Herat", "ایران", "--json"])
    herat, iran = _json_lines(result.output)
    assert herat["province"]["pcode"] == "AF32" and herat["district"]["pcode"] == "AF3201"
    assert iran["country"]["iso2"] == "IR"
    text = runner.invoke(app, ["normalize", "place", "--province", "AF11", "Jaghatu"]).output
    assert "AF1106" in text


def test_place_not_found_exits_non_zero() -> None:
    result = runner.invoke(app, ["normalize", "place", "Atlantis"])
    assert result.exit_code == 1 and "not found" in result.output


def test_every_command_has_help() -> None:
    for command in ("name", "date", "tazkira", "passport", "mrz", "phone", "place"):
        result = runner.invoke(app, ["normalize", command, "--help"])
        assert result.exit_code == 0 and "--json" in result.output
