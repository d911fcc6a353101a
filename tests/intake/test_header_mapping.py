"""Spreadsheet headers → form fields on the lists people really have (issue #14): a bare "number"
column, two columns for one field, no name column. Shared by `amanat intake table` and `amanat dedupe`."""

from __future__ import annotations

import io

import pytest
from typer.testing import CliRunner

from amanat.intake.imports import preview_table
from amanat.intake.labels import is_serial_label, match_label
from amanat.intake.tables import read_table


def _reader(header: list[str], row: list[str] | None = None, **kwargs):
    text = ",".join(header) + "\n" + (",".join(row) + "\n" if row else "")
    return read_table(text.encode("utf-8"), file_name="list.csv", **kwargs)


@pytest.mark.parametrize("header", ["شماره", "No.", "No", "#", "S.No", "ردیف", "Number", "نمبر", "شمېره",
                                    "S/No", "Sr. No", "group_x/شماره"])
def test_a_bare_number_column_is_never_the_phone(header: str) -> None:
    reader = _reader(["Name", header], ["Ahmad", "7"])
    assert reader.columns[header] is None and header in reader.unmapped
    (_, sub), = reader
    assert sub.fields == {"full_name": "Ahmad"}


@pytest.mark.parametrize("header", ["شماره تماس", "شماره تلفن", "Phone No.", "Phone No", "نمبر تماس", "Mobile No"])
def test_a_phone_number_column_still_is(header: str) -> None:
    assert _reader(["Name", header]).columns[header] == "phone"
    assert not is_serial_label(header)


def test_typed_forms_keep_their_number_label() -> None:
    # In a WhatsApp form "شماره: 0799…" is the phone; only a table's column header is a row count.
    assert match_label("شماره") == "phone"


def test_two_columns_for_one_field_are_named_with_the_one_used() -> None:
    reader = _reader(["Name", "Father", "نام", "Phone", "Mobile"], ["Ahmad", "Mahmud", "احمد", "0799", "0700"])
    assert reader.warnings == [
        "list.csv: column A 'Name' and column C 'نام' are both read as full_name; column A 'Name' is used "
        "(a mapping file can choose the other)",
        "list.csv: column D 'Phone' and column E 'Mobile' are both read as phone; column D 'Phone' is used "
        "(a mapping file can choose the other)",
    ]
    (_, sub), = reader
    assert sub.fields == {"full_name": "Ahmad", "father_name": "Mahmud", "phone": "0799"}
    # A mapping chooses the other column, and the warning goes.
    chosen = _reader(["Name", "Father", "نام"], ["Ahmad", "Mahmud", "احمد"], mapping={"Name": None})
    assert chosen.warnings == [] and chosen.columns["نام"] == "full_name"


def test_no_name_column_is_a_warning_that_says_how_to_map_one() -> None:
    reader = _reader(["S.No", "Soldier Name", "Father", "DOB"])
    assert reader.warnings == [
        "list.csv: no name column found among the headers 'S.No', 'Soldier Name', 'Father', 'DOB'; say which "
        "column holds the name in a mapping file, e.g. the line: Soldier Name,full_name"]
    assert _reader(["Soldier Name", "Father"], mapping={"Soldier Name": "full_name"}).warnings == []
    assert _reader(["Name in English", "Father"]).warnings == []  # a Latin name is a name column
    unknown = _reader(["Kind", "Father"])
    assert unknown.warnings[0].endswith("e.g. the line: <its header>,full_name")


def test_many_headers_are_shortened_in_the_warning() -> None:
    headers = [f"col{i}" for i in range(20)]
    assert "'col11' and 8 more;" in _reader(headers).warnings[0]


def test_intake_preview_carries_the_warnings_and_previews_a_clean_table() -> None:
    data = "No.,Soldier Name,Father,شماره\n1,Ahmad,Mahmud,1\n".encode()
    result = preview_table(io.BytesIO(data), file_name="list.csv")
    assert result.rows == 1 and result.submissions == 1 and result.errors == []  # no row errors: it used to fail
    assert result.columns == {"No.": None, "Soldier Name": None, "Father": "father_name", "شماره": None}
    assert len(result.warnings) == 1 and "no name column found" in result.warnings[0]


def test_intake_table_cli_prints_the_warnings(tmp_path) -> None:
    from amanat.cli.main import app

    table = tmp_path / "list.csv"
    table.write_text("Name,Father,نام\nAhmad,Mahmud,احمد\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["intake", "table", str(table), "--preview"])
    assert result.exit_code == 0, result.output
    assert ("warning: list.csv: column A 'Name' and column C 'نام' are both read as full_name; column A 'Name' "
            "is used (a mapping file can choose the other)") in " ".join(result.output.split())
    assert "Ahmad" not in result.output
