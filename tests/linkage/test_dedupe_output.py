"""`amanat dedupe`'s output as a coordinator gets it, and the file handling around it (issue #14)."""

from __future__ import annotations

import csv
import os
import signal
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from amanat.linkage import dedupe_output
from amanat.linkage.dedupe import OUTPUT_LEAD, DedupeResult, SourceRow
from amanat.linkage.dedupe_output import atomic_target, cell_columns, row_order, write_output
from tests.linkage.test_dedupe_cli import _app

# A commander's list as it comes: a row number, the list's own ids, a status of its own, two names
# (one under a header nothing matches), and a column nobody asked for.
LIST_HEADER = ["No.", "record_id", "Name", "Father", "DOB", "تذکره", "شماره", "status", "list_no", "id"]
LIST_ROWS = [
    ["1", "R-7", "محمد نبی", "عبدالکریم", "1360", "1399-1234-56789", "1", "verified", "L1", "x1"],
    ["2", "R-8", "احمد شاه", "عبدالکریم", "1365", "1399-7654-32100", "2", "", "L1", "x2"],
    ["3", "R-9", "محمد نبي", "عبدالكريم", "1360", "1399-1234-56789", "3", "", "L2", "x3"],
    ["4", "R-10", "", "", "", "", "4", "", "L2", "x4"],
    ["5", "", "", "", "", "", "5", "", "", ""],  # numbered, never filled in
]




def _invoke(*args: str | Path):
    return CliRunner().invoke(_app(), ["dedupe", *map(str, args)])


def _flat(text: str) -> str:
    return " ".join(text.split())


def _list(tmp_path: Path, name: str = "list.csv", header: list[str] = LIST_HEADER,
          rows: list[list[str]] = LIST_ROWS) -> Path:
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def _read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    return list(csv.reader(raw.decode("utf-8-sig").splitlines()))


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


# --- 1. every column, grouped ----------------------------------------------------------------------

def test_every_input_column_is_kept_under_its_own_header(tmp_path: Path) -> None:
    source = _list(tmp_path)
    out = tmp_path / "clusters.csv"
    result = _invoke(source, "--out", out)
    assert result.exit_code == 0, result.output
    rows = _read_csv(out)
    lead = len(OUTPUT_LEAD)
    assert tuple(rows[0][:lead]) == OUTPUT_LEAD
    # Every input column, in the input's order, by its header; the list's own "status" beside Amanat's.
    assert rows[0][lead:] == ["No.", "record_id", "Name", "Father", "DOB", "تذکره", "شماره", "status (input)",
                              "list_no", "id"]
    by_row = {r[1]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert by_row["2"]["record_id"] == "R-7" and by_row["2"]["status (input)"] == "verified"
    assert by_row["2"]["Name"] == "محمد نبی" and by_row["2"]["list_no"] == "L1" and by_row["2"]["id"] == "x1"
    # A row with values only in columns linkage does not read is still in the output, on its own.
    assert by_row["5"]["record_id"] == "R-10" and by_row["5"]["cluster_size"] == "1"
    assert "1 row holds values only in columns that are not read" in _flat(result.output)
    # A row that holds only its numbers is not a row of the list.
    assert len(rows) == 1 + 4 and "6" not in by_row


def test_rows_of_one_cluster_are_together_in_order_of_first_appearance(tmp_path: Path) -> None:
    source = _list(tmp_path)
    out = tmp_path / "clusters.csv"
    assert _invoke(source, "--out", out).exit_code == 0
    rows = _read_csv(out)
    col = {h: i for i, h in enumerate(rows[0])}
    # Rows 2 and 4 are one man (the same tazkira, in two spellings): together, before row 3.
    assert [r[col["source_row"]] for r in rows[1:]] == ["2", "4", "3", "5"]
    assert rows[1][col["cluster_id"]] == rows[2][col["cluster_id"]] != rows[3][col["cluster_id"]]


def test_row_order_keeps_clusters_whole_and_in_first_appearance() -> None:
    assert row_order([1, 2, 1, 3, 2, 1]).tolist() == [0, 2, 5, 1, 4, 3]
    assert row_order(["c", "a", "c", "b"]).tolist() == [0, 2, 1, 3]  # by first appearance, not by value


def test_cell_columns_name_clashes_and_repeats() -> None:
    assert cell_columns([" Name ", "status", "Name", "", "Name"], OUTPUT_LEAD) == (
        "Name", "status (input)", "Name (2)", None, "Name (3)")


def _result(rows: list[SourceRow], clusters: list[int]) -> DedupeResult:
    lead = pd.DataFrame({"source_file": [r.source_file for r in rows], "source_row": [r.source_row for r in rows],
                         "cluster_id": clusters, "cluster_size": [clusters.count(c) for c in clusters]})
    return DedupeResult(lead, rows, model=None, trained=False, pair_count=0)  # type: ignore[arg-type]


def _sheet_rows(texts: list[str]) -> list[SourceRow]:
    columns = ("Name", "Notes")
    return [SourceRow("a.xlsx", i + 2, {"full_name": t}, (t, "=cmd()" if i == 0 else None), columns)
            for i, t in enumerate(texts)]


def test_two_files_share_columns_by_header_and_keep_their_own() -> None:
    a_cols, b_cols = ("record_id", "Name"), ("Name", "list_no")
    rows = [SourceRow("a.csv", 2, {"full_name": "A"}, ("R-1", "A"), a_cols),
            SourceRow("b.csv", 2, {"full_name": "B"}, ("B", "L-1"), b_cols),
            SourceRow("c.csv", 2, {"full_name": "C", "unit": 7})]  # made by hand: its fields are shown
    result = _result(rows, [1, 2, 3])
    assert result.input_columns == ["record_id", "Name", "list_no", "full_name", "unit"]
    assert [r[4:] for r in result.output_rows()] == [
        ["R-1", "A", None, None, None], [None, "B", "L-1", None, None], [None, None, None, "C", 7]]
    assert result.table["Name"].tolist() == ["A", "B", None]


# --- the XLSX a coordinator opens ------------------------------------------------------------------

def test_xlsx_has_frozen_filtered_header_widths_and_reads_right_to_left(tmp_path: Path) -> None:
    result = _result(_sheet_rows(["محمد نبی", "احمد شاه ولد عبدالکریم", "Nasir", "زرغونه"]), [1, 2, 1, 3])
    path = tmp_path / "out.xlsx"
    write_output(result, path)
    ws = load_workbook(path).active
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:F5"  # every column, the header and four rows
    assert ws.sheet_view.rightToLeft
    assert ws["A1"].font.bold
    widths = {c: ws.column_dimensions[c].width for c in "ABCDEF"}
    assert widths["E"] >= len("احمد شاه ولد عبدالکریم") and all(8 <= w <= 50 for w in widths.values())
    values = list(ws.iter_rows(values_only=True))
    assert values[0] == ("source_file", "source_row", "cluster_id", "cluster_size", "Name", "Notes")
    assert [v[1] for v in values[1:]] == [2, 4, 3, 5]  # grouped by cluster
    assert values[1][5] == "'=cmd()"  # a formula is escaped


def test_xlsx_of_latin_text_reads_left_to_right(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    write_output(_result(_sheet_rows(["Mohammad Nabi", "Ahmad Shah", "محمد"]), [1, 2, 3]), path)
    assert not load_workbook(path).active.sheet_view.rightToLeft


def test_csv_is_utf8_with_bom_and_escapes_formulas_in_cells_and_headers(tmp_path: Path) -> None:
    rows = [SourceRow("a.csv", 2, {}, ("=1+1", "+93 799 123 456"), ("=HYPERLINK(1)", "phone"))]
    path = tmp_path / "out.csv"
    write_output(_result(rows, [1]), path)
    written = _read_csv(path)
    assert written[0][-2:] == ["'=HYPERLINK(1)", "phone"]
    assert written[1][-2:] == ["'=1+1", "'+93 799 123 456"]


# --- 2. where the output goes ----------------------------------------------------------------------

def test_out_equal_to_an_input_is_refused_even_with_force(tmp_path: Path) -> None:
    source = _list(tmp_path)
    before = source.read_bytes()
    for extra in ([], ["--force"]):
        result = _invoke(source, "--out", source, *extra)
        assert result.exit_code == 1
        assert result.output.splitlines() == [
            f"error: --out {source} is one of the input files: write to another file (an input is never "
            "overwritten) (invalid_input)"]
        assert source.read_bytes() == before


def test_existing_output_needs_force(tmp_path: Path) -> None:
    source = _list(tmp_path)
    out = tmp_path / "clusters.csv"
    out.write_text("keep me", encoding="utf-8")
    result = _invoke(source, "--out", out)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"error: {out} exists already: give --force to replace it, or another --out (invalid_input)"]
    assert out.read_text(encoding="utf-8") == "keep me"
    result = _invoke(source, "--out", out, "--force")
    assert result.exit_code == 0, result.output
    assert _read_csv(out)[0][0] == "source_file"
    assert _files(tmp_path) == {"list.csv", "clusters.csv"}


def test_saved_model_is_not_overwritten_without_force(tmp_path: Path) -> None:
    source = _list(tmp_path)
    model = tmp_path / "model.json"
    model.write_text("{}", encoding="utf-8")
    result = _invoke(source, "--out", tmp_path / "c.csv", "--save-model", model)
    assert result.exit_code == 1 and "exists already: give --force" in _flat(result.output)
    assert model.read_text(encoding="utf-8") == "{}" and not (tmp_path / "c.csv").exists()


def test_missing_output_folder_and_a_folder_as_output_are_one_line(tmp_path: Path) -> None:
    source = _list(tmp_path)
    result = _invoke(source, "--out", tmp_path / "nowhere" / "clusters.xlsx")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"error: the folder {tmp_path / 'nowhere'} (for --out) does not exist: create it, or write elsewhere "
        "(invalid_input)"]
    result = _invoke(source, "--out", tmp_path)
    assert result.exit_code == 1 and "is a folder: give a file name" in result.output
    assert len(result.output.splitlines()) == 1


def test_ctrl_c_while_writing_leaves_nothing_and_prints_one_line(tmp_path: Path, monkeypatch) -> None:
    source = _list(tmp_path)
    out = tmp_path / "clusters.xlsx"

    def interrupted(self: DedupeResult):
        rows = list(dedupe_output.output_records(self.rows, self.lead, self.input_columns))
        yield rows[0]
        assert any(name.endswith(".part") for name in _files(tmp_path))  # written under another name
        raise KeyboardInterrupt

    monkeypatch.setattr(DedupeResult, "output_rows", interrupted)
    result = _invoke(source, "--out", out)
    assert result.exit_code == 130
    assert result.output.splitlines()[-1] == "interrupted: nothing was written"
    assert "Traceback" not in result.output
    assert _files(tmp_path) == {"list.csv"}  # neither the output nor its temporary file


def test_ctrl_c_turned_into_an_engine_error_is_still_an_interrupt(tmp_path: Path, monkeypatch) -> None:
    """DuckDB answers Ctrl-C with its own "Query interrupted" error, which Splink wraps again."""
    from amanat.linkage import dedupe as dd

    def query(*args, **kwargs):
        try:
            os.kill(os.getpid(), signal.SIGINT)  # as the terminal sends it
        except KeyboardInterrupt:
            raise RuntimeError("Query interrupted") from None

    monkeypatch.setattr(dd, "dedupe_rows", query)
    source = _list(tmp_path)
    result = _invoke(source, "--out", tmp_path / "clusters.csv")
    assert result.exit_code == 130
    assert result.output.splitlines()[-1] == "interrupted: nothing was written"
    assert _files(tmp_path) == {"list.csv"}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "out.csv"
    out.write_text("old", encoding="utf-8")
    with pytest.raises(ZeroDivisionError), atomic_target(out) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise ZeroDivisionError
    assert out.read_text(encoding="utf-8") == "old" and _files(tmp_path) == {"out.csv"}
    with atomic_target(out) as tmp:
        tmp.write_text("new", encoding="utf-8")
    assert out.read_text(encoding="utf-8") == "new" and _files(tmp_path) == {"out.csv"}


# --- 3. --mapping, and the columns shown before the run -------------------------------------------

def test_mapping_file_names_the_columns_and_is_shown_before_the_run(tmp_path: Path) -> None:
    header = ["#", "Soldier Name", "Father", "DOB", "list_no"]
    rows = [["1", "Mohammad Nabi", "Abdul Karim", "1981", "L1"], ["2", "Muhammad Nabi", "Abdulkarim", "1981", "L1"]]
    source = _list(tmp_path, "soldiers.csv", header, rows)
    # Without a mapping: no name column, and the warning says how to name one.
    result = _invoke(source, "--out", tmp_path / "a.csv")
    assert result.exit_code == 0, result.output
    assert ("warning: soldiers.csv: no name column found among the headers '#', 'Soldier Name', 'Father', 'DOB', "
            "'list_no'; say which column holds the name in a mapping file, e.g. the line: Soldier Name,full_name"
            ) in result.output
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("column,field\nSoldier Name,full_name\nDOB,ignore\n", encoding="utf-8")
    result = _invoke(source, "--out", tmp_path / "b.csv", "--mapping", mapping)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    read = lines.index("soldiers.csv: columns read as fields: B 'Soldier Name' → full_name, C 'Father' → "
                       "father_name")
    kept = lines.index("soldiers.csv: not read, only copied to the output: A '#', D 'DOB', E 'list_no'")
    summary = next(i for i, line in enumerate(lines) if line.startswith("2 rows;"))
    assert read < kept < summary and "no name column" not in result.output
    written = _read_csv(tmp_path / "b.csv")
    assert written[0][len(OUTPUT_LEAD):] == header  # mapped or not, every column keeps its header


def test_a_bad_mapping_file_is_one_line(tmp_path: Path) -> None:
    source = _list(tmp_path)
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("column,field\nName,favourite_colour\n", encoding="utf-8")
    result = _invoke(source, "--out", tmp_path / "c.csv", "--mapping", mapping)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "error: mapping.csv, line 2: not a canonical field name (intake_invalid)"]
