"""`amanat dedupe` end to end on small CSV and XLSX files."""

from __future__ import annotations

import csv
from pathlib import Path

import typer
from openpyxl import Workbook, load_workbook
from typer.testing import CliRunner

from amanat.cli.dedupe import dedupe_command
from amanat.linkage.dedupe import OUTPUT_LEAD, SourceRow, dedupe_rows

HEADERS = ["full_name", "full_name_latin", "father_name", "date_of_birth", "district", "tazkira_number",
           "phone", "gender"]
SHEET_ROWS = [
    ["محمد نبی", "", "عبدالکریم", "۱۳۶۰/۰۵/۱۲", "Kabul", "1399-1234-56789", "0799123456", "مرد"],
    ["احمد شاه", "Ahmad Shah", "عبدالکریم", "1365", "Kabul", "1399-7654-32100", "0700111222", "مرد"],
    ["Nasir", "", "Someone", "1990", "", "", "", ""],
]
CSV_ROWS = [
    ["Mohammad Nabi", "", "Abdul Karim", "1981-08-03", "Kabul", "1399 1234 56789", "+93 799 123 456", "male"],
    ["Muhammad Nabee", "", "Abdulkarim", "3 August 1981", "", "", "", "M"],
    ["Zarghuna", "", "Rahim", "1970", "Herat", "", "", "female"],
    ["=HYPERLINK(\"http://x\")", "", "Someone else", "", "", "", "", ""],
]


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("dedupe")(dedupe_command)

    @app.command("other")
    def other() -> None:  # a second command keeps "dedupe" a subcommand, as in the real app
        """Placeholder."""

    return app


def _inputs(tmp_path: Path) -> tuple[Path, Path]:
    xlsx = tmp_path / "commander.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for r in SHEET_ROWS:
        ws.append(r)
    wb.save(xlsx)
    path = tmp_path / "veterans.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADERS)
        w.writerows(CSV_ROWS)
    return xlsx, path


def test_dedupe_csv_and_xlsx_to_csv(tmp_path: Path) -> None:
    xlsx, path = _inputs(tmp_path)
    out = tmp_path / "clusters.csv"
    result = CliRunner().invoke(_app(), ["dedupe", str(xlsx), str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "7 rows" in result.output
    assert "محمد" not in result.output and "Nabi" not in result.output  # counts only, no values
    with out.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 7 and list(rows[0])[: len(OUTPUT_LEAD)] == list(OUTPUT_LEAD)
    by = {(r["source_file"], r["source_row"]): r for r in rows}
    dari, brother, formula = by[("commander.xlsx", "2")], by[("commander.xlsx", "3")], by[("veterans.csv", "5")]
    passport, sheet = by[("veterans.csv", "2")], by[("veterans.csv", "3")]
    # The man from the commander's sheet and from his passport: one cluster, with reasons.
    assert dari["cluster_id"] == passport["cluster_id"] and dari["cluster_size"] != "1"
    assert dari["status"] == "linked" and float(dari["match_weight"]) > 10
    assert "same tazkira" in dari["reasons"] and dari["linked_to"] == "veterans.csv row 2"
    # The spreadsheet copy without IDs has weaker evidence but is not lost.
    assert sheet["status"] in {"linked", "review"} and sheet["linked_to"]
    # The brother shares father and district, not the person.
    assert brother["cluster_id"] != dari["cluster_id"] and brother["status"] == ""
    # Cells a spreadsheet would run are escaped; phone numbers starting with + too.
    assert formula["full_name"].startswith("'=")
    assert passport["phone"].startswith("'+")
    singles = [by[("commander.xlsx", "3")], by[("commander.xlsx", "4")], by[("veterans.csv", "4")], formula]
    assert all(r["cluster_size"] == "1" for r in singles)
    assert len({r["cluster_id"] for r in rows}) == 7 - (int(dari["cluster_size"]) - 1)


def test_dedupe_to_xlsx_with_saved_model(tmp_path: Path) -> None:
    xlsx, path = _inputs(tmp_path)
    out, model_out = tmp_path / "clusters.xlsx", tmp_path / "model.json"
    result = CliRunner().invoke(_app(), ["dedupe", str(xlsx), str(path), "-o", str(out), "--save-model",
                                         str(model_out), "--threshold", "0.5"])
    assert result.exit_code == 0, result.output
    ws = load_workbook(out, read_only=True).active
    values = list(ws.iter_rows(values_only=True))
    assert values[0][: len(OUTPUT_LEAD)] == OUTPUT_LEAD and len(values) == 8
    assert all(not (isinstance(v, str) and v.startswith("=")) for row in values for v in row)
    # The saved model can be given back.
    again = CliRunner().invoke(_app(), ["dedupe", str(path), "-o", str(tmp_path / "b.csv"), "--model",
                                        str(model_out)])
    assert again.exit_code == 0, again.output
    assert "(given)" in again.output


def test_bad_output_name_is_one_line_error(tmp_path: Path) -> None:
    _, path = _inputs(tmp_path)
    result = CliRunner().invoke(_app(), ["dedupe", str(path), "--out", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1
    assert "must end in .csv or .xlsx" in result.output
    assert not (tmp_path / "x.pdf").exists()


def _with_address(tmp_path: Path) -> tuple[Path, Path]:
    """The two inputs with an "address" column, which the form has no field for."""
    xlsx, path = _inputs(tmp_path)
    wb = load_workbook(xlsx)
    ws = wb.active
    for row, value in zip(range(1, 5), ["address", "Kart-e Seh 12", "Kart-e Char 4", ""], strict=True):
        ws.cell(row=row, column=len(HEADERS) + 1, value=value or None)
    wb.save(xlsx)
    with path.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    for r, value in zip(rows, ["address", "kart-e seh 12", "Karte Seh 12", "", ""], strict=True):
        r.append(value)
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return xlsx, path


def test_compare_column_is_compared_and_written(tmp_path: Path) -> None:
    xlsx, path = _with_address(tmp_path)
    out, model_out = tmp_path / "clusters.csv", tmp_path / "model.json"
    result = CliRunner().invoke(_app(), ["dedupe", str(xlsx), str(path), "--out", str(out), "--compare", "address",
                                         "--save-model", str(model_out)])
    assert result.exit_code == 0, result.output
    assert "trained on these files" in result.output  # the bundled model knows no such column
    with out.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert "address" in rows[0]
    by = {(r["source_file"], r["source_row"]): r for r in rows}
    assert by[("commander.xlsx", "2")]["address"] == "Kart-e Seh 12"
    # Given back, the model brings its compared column along.
    again = CliRunner().invoke(_app(), ["dedupe", str(path), "-o", str(tmp_path / "b.csv"), "--model",
                                        str(model_out)])
    assert again.exit_code == 0, again.output


def test_compare_errors_name_the_column(tmp_path: Path) -> None:
    xlsx, path = _with_address(tmp_path)
    out = tmp_path / "clusters.csv"
    cases = [
        (["--compare", "street"], "'street' given to --compare is not in commander.xlsx"),
        (["--compare", "district"], "'district' in commander.xlsx is read as the form field 'district'"),
        (["--compare", "address", "--no-train"], "--compare needs a model trained on these files"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(_app(), ["dedupe", str(xlsx), str(path), "--out", str(out), *args])
        assert result.exit_code == 1, args
        assert message in " ".join(result.output.split()), result.output
        assert not out.exists()
    # In one file but not the other: the file is named.
    (tmp_path / "plain").mkdir()
    _, plain = _inputs(tmp_path / "plain")
    result = CliRunner().invoke(_app(), ["dedupe", str(xlsx), str(plain), "--out", str(out), "--compare", "address"])
    assert result.exit_code == 1 and "is not in veterans.csv" in " ".join(result.output.split())


def test_output_keeps_every_field_as_read_and_none_where_a_row_lacks_it() -> None:
    from amanat.linkage.dedupe import SourceRow, dedupe_rows

    rows = [SourceRow("a.csv", 2, {"full_name": "محمد نبی", "unit": 7}),
            SourceRow("a.csv", 3, {"full_name": "Mohammad Nabi", "phone": "0799123456"}),
            SourceRow("b.csv", 2, {"rank": "", "unit": None})]
    table = dedupe_rows(rows).table
    assert list(table.columns[len(OUTPUT_LEAD):]) == ["full_name", "unit", "phone", "rank"]
    assert table["unit"].tolist() == [7, None, None]  # not 7.0, not NaN
    assert table["phone"].tolist() == [None, "0799123456", None]
    assert table["rank"].tolist() == [None, None, ""]
    assert table["source_row"].tolist() == [2, 3, 2]


def test_written_file_streams_exactly_the_table(tmp_path: Path) -> None:
    import csv

    from amanat.linkage.dedupe import SourceRow, dedupe_rows, write_output

    rows = [SourceRow("a.csv", 2, {"full_name": "محمد نبی", "father_name": "عبدالکریم", "unit": 7}),
            SourceRow("a.csv", 3, {"full_name": "Mohammad Nabi", "father_name": "Abdul Karim", "phone": "0799123456"}),
            SourceRow("b.csv", 2, {"full_name": "=HYPERLINK(1)", "unit": None})]
    result = dedupe_rows(rows)
    write_output(result, tmp_path / "out.csv")
    with (tmp_path / "out.csv").open(encoding="utf-8-sig", newline="") as f:
        written = list(csv.reader(f))
    table = result.table
    assert written[0] == list(table.columns)
    expected = [["" if v is None or v != v else str(v) for v in row] for row in table.itertuples(index=False)]
    expected[2][table.columns.get_loc("full_name")] = "'=HYPERLINK(1)"  # a formula is escaped, as before
    assert written[1:] == expected


def test_a_list_of_names_puts_every_row_of_one_name_in_one_possible_group(tmp_path: Path) -> None:
    # Masud three times (two scripts), Ziya twice: with names alone, each name is one possible group,
    # never a link; a name written once is in no group. The rows of a group come out together.
    names = ["مسعود", "Ziya", "Karim Ahmadi", "MASUD", "ضیا", "مسعود", "Yunus"]
    rows = [SourceRow("a.csv", i + 2, {"full_name": v}) for i, v in enumerate(names)]
    result = dedupe_rows(rows)
    lead = result.lead
    group = dict(zip(lead["source_row"].tolist(), lead["possible_group"].tolist(), strict=True))
    assert group[2] == group[5] == group[7] > 0 and group[3] == group[6] > 0 and group[2] != group[3]
    assert group[4] == group[8] == 0
    assert (lead["cluster_size"] == 1).all()  # nothing is linked on names alone
    order = result.table["source_row"].tolist()
    assert order[:3] == [2, 5, 7] and order[3:5] == [3, 6]
    # every grouped row says so where a reader filters: status review, linked to a row of its group
    for row, status, linked_to in zip(lead["source_row"], lead["status"], lead["linked_to"], strict=True):
        if group[row]:
            assert status == "review" and group[int(linked_to.rsplit(" ", 1)[1])] == group[row], row
        else:
            assert status == "" and linked_to == "", row


def test_a_name_grown_by_family_and_pen_names_joins_its_given_names_group() -> None:
    # Bushra written four times (too common for a name grown by any part to join it), then with her
    # family and pen names; Anwar with a father written into the name field; Bushra Karim is another name.
    names = ["بشری", "Bushra", "بشری", "BUSHRA", "بشری بلخی صافی", "Bushra Karim", "Anwar", "انور ولد محمد یوسف"]
    rows = [SourceRow("a.csv", i + 2, {"full_name": v}) for i, v in enumerate(names)]
    lead = dedupe_rows(rows).lead
    group = dict(zip(lead["source_row"].tolist(), lead["possible_group"].tolist(), strict=True))
    assert group[2] == group[3] == group[4] == group[5] == group[6] > 0
    assert group[7] in (0, *(g for g in group.values() if g != group[2]))
    assert group[8] == group[9] > 0 and group[8] != group[2]
    assert (lead["cluster_size"] == 1).all()


def test_a_list_of_names_and_phones_groups_one_name_registered_from_two_phones() -> None:
    # Names and phones only: the same man sent again from another phone is a possible match (never a
    # link on a name); another name on the same phone is nothing here.
    rows = [SourceRow("a.csv", i + 2, f) for i, f in enumerate([
        {"full_name": "مسعود", "phone": "0700111222"}, {"full_name": "Masud", "phone": "0799333444"},
        {"full_name": "Yunus", "phone": "0700111222"}, {"full_name": "Karim Ahmadi", "phone": "0788555666"}])]
    lead = dedupe_rows(rows).lead
    group = lead["possible_group"].tolist()
    assert group[0] == group[1] > 0 and group[2] != group[0] and group[3] == 0
    assert (lead["cluster_size"] == 1).all()


def test_a_names_only_list_says_what_was_compared_and_what_is_missing(tmp_path: Path) -> None:
    shared = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "thin_lists"
    a, b = shared / "a.csv", shared / "b.csv"
    if not a.exists():
        a, b = tmp_path / "a.csv", tmp_path / "b.csv"
        a.write_text("record_id,full_name,province\na1,سلیمان احمدزی,Kabul\n", encoding="utf-8")
        b.write_text("record_id,full_name,province\nb1,Sulaiman Ahmadzai,Kabul\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(_app(), ["dedupe", str(a), str(b), "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "compared: own name (100%), province or district (100%)" in text
    assert "not in these files: father's name" in text and "date of birth" in text
    assert "0 clusters" not in text and "linked as one person:" in text
    assert "a name cannot tell one man from his namesake" in text
    assert "possible groups (column possible_group" in text  # the thin lists hold people written twice
