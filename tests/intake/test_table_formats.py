"""Tables as they arrive: old .xls workbooks, titles above the header, merged header cells, and CSVs in the
encodings Excel writes on a Dari or Pashto Windows (UTF-16 without a BOM, Windows-1256)."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from amanat.intake.errors import IntakeError
from amanat.intake.table_sources import detect_encoding
from amanat.intake.tables import read_table

DATA = Path(__file__).resolve().parent / "data"
DARI_CSV = "نام,نام پدر,شماره تذکره\r\nاحمد ولی,محمد نبی,1399-0101-00001\r\nکریم‌الله,گل آغا,1399-0101-00002\r\n"


def rows(reader) -> list[tuple[int, dict[str, object]]]:
    return [(n, dict(s.fields)) for n, s in reader]


# --- .xls -----------------------------------------------------------------------------------------------------

def test_an_old_excel_workbook_is_read_with_its_dates_and_numbers() -> None:
    reader = read_table(DATA / "list.xls", file_name="list.xls")
    assert reader.kind == "xls"
    assert rows(reader) == [
        (2, {"full_name": "احمد ولی", "father_name": "محمد نبی", "date_of_birth": "1984-03-21",
             "tazkira_number": "1399-0101-00001", "phone": "93700111222"}),
        (3, {"full_name": "Karim Khan", "father_name": "Gul Agha", "date_of_birth": "1990-07-01",
             "tazkira_number": "1399-0101-00002", "phone": "93700333444"}),
    ]


def test_an_xls_with_titles_and_merged_header_cells() -> None:
    reader = read_table(DATA / "titled_merged.xls", file_name="titled_merged.xls")
    assert reader.header_row == 4
    assert reader.columns == {"Full name": "full_name", "Father Name": "father_name", "Father Tazkira": None,
                              "Tazkira number": "tazkira_number"}
    assert reader.warnings[0] == ("titled_merged.xls: rows 1–2 above the header (a title) left out; the header "
                                  "is rows 3–4")
    # The father's tazkira is never read as the applicant's.
    assert rows(reader) == [(5, {"full_name": "احمد ولی", "father_name": "محمد نبی",
                                 "tazkira_number": "1399-0101-00001"})]


def test_an_xls_that_is_really_an_xlsx_or_a_web_page() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Full name"])
    sheet.append(["Ahmad"])
    buf = io.BytesIO()
    book.save(buf)
    assert rows(read_table(buf.getvalue(), file_name="export.xls")) == [(2, {"full_name": "Ahmad"})]
    with pytest.raises(IntakeError, match="really a web page"):
        read_table(b"<html><table><tr><td>Full name</td></tr></table></html>", file_name="export.xls")
    with pytest.raises(IntakeError, match="not a readable XLS workbook"):
        read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), file_name="damaged.xls")


# --- title rows and merged headers in XLSX and CSV ------------------------------------------------------------

def _xlsx(build) -> bytes:
    book = openpyxl.Workbook()
    build(book.active)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_title_rows_above_the_header_of_an_xlsx() -> None:
    def build(sheet):
        sheet.append(["List of applicants, Kabul, 1402"])
        sheet.merge_cells("A1:D1")
        sheet.append([])
        sheet.append(["No.", "Full name", "Father name", "Province"])
        sheet.append([1, "Ahmad Wali", "Nabi", "Kabul"])
        sheet.append([2, "Karim", "Gul", "Herat"])

    reader = read_table(_xlsx(build), file_name="list.xlsx")
    assert reader.header_row == 3
    assert [n for n, _ in rows(reader)] == [4, 5]  # the row numbers the spreadsheet shows
    assert reader.warnings == ["list.xlsx: rows 1–2 above the header (a title) left out; the header is row 3"]


def test_a_merged_group_header_in_an_xlsx() -> None:
    def build(sheet):
        sheet.append(["Personal details", None, "Father", None, "Phone"])
        sheet.append(["Full name", "Date of birth", "Name", "Tazkira", None])
        sheet.merge_cells("A1:B1")
        sheet.merge_cells("C1:D1")
        sheet.merge_cells("E1:E2")
        sheet.append(["Ahmad Wali", "1365/3/1", "Nabi", "1340-0000-00007", "0700111222"])

    reader = read_table(_xlsx(build), file_name="grouped.xlsx")
    assert reader.columns == {"Full name": "full_name", "Date of birth": "date_of_birth", "Father Name": "father_name",
                              "Father Tazkira": None, "Phone": "phone"}
    assert rows(reader) == [(3, {"full_name": "Ahmad Wali", "date_of_birth": "1365/3/1", "father_name": "Nabi",
                                 "phone": "0700111222"})]


def test_a_csv_saved_from_a_sheet_with_merged_header_cells() -> None:
    text = "Father,,Full name\nName,Tazkira,\nNabi,1340-0000-00007,Ahmad\n"  # the merge kept in the first cell only
    reader = read_table(text.encode(), file_name="grouped.csv")
    assert reader.columns == {"Father Name": "father_name", "Father Tazkira": None, "Full name": "full_name"}
    assert rows(reader) == [(3, {"father_name": "Nabi", "full_name": "Ahmad"})]


def test_a_plain_header_is_still_row_one() -> None:
    reader = read_table(b"Full name,Father name\nAhmad,Nabi\nName,Father\n", file_name="list.csv")
    assert reader.header_row == 1 and not reader.warnings
    assert [n for n, _ in rows(reader)] == [2, 3]


# --- encodings ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom(encoding: str) -> None:
    data = DARI_CSV.encode(encoding)
    assert not data.startswith((b"\xff\xfe", b"\xfe\xff"))
    assert detect_encoding(data[:4096], "list.csv") == encoding
    assert rows(read_table(data, file_name="list.csv"))[1] == (
        3, {"full_name": "کریم‌الله", "father_name": "گل آغا", "tazkira_number": "1399-0101-00002"})


def test_windows_1256_as_excel_writes_it_in_a_dari_locale() -> None:
    # Windows-1256 has the Arabic yeh, not the Persian one: Excel writes ی as ي (normalisation folds them).
    data = DARI_CSV.replace("ی", "ي").encode("cp1256")
    assert detect_encoding(data, "list.csv") == "cp1256"
    assert rows(read_table(data, file_name="list.csv")) == [
        (2, {"full_name": "احمد ولي", "father_name": "محمد نبي", "tazkira_number": "1399-0101-00001"}),
        (3, {"full_name": "کريم‌الله", "father_name": "گل آغا", "tazkira_number": "1399-0101-00002"})]


def test_utf8_with_and_without_a_bom_and_utf16_with_one() -> None:
    assert detect_encoding(DARI_CSV.encode("utf-8"), "a.csv") == "utf-8"
    assert detect_encoding(DARI_CSV.encode("utf-8-sig"), "a.csv") == "utf-8-sig"
    assert detect_encoding(DARI_CSV.encode("utf-16"), "a.csv") == "utf-16"


def test_an_encoding_that_cannot_be_told_is_refused_with_how_to_save_it() -> None:
    western = "Full name,Father name\nJosé Müller,Françoise\n".encode("cp1252")
    with pytest.raises(IntakeError, match=r"cannot be told for sure.*CSV UTF-8") as refused:
        read_table(western, file_name="list.csv")
    assert refused.value.source == "list.csv"
