import datetime
import io
import json

import openpyxl
import pytest

from amanat.intake.errors import IntakeError
from amanat.intake.tables import column_letter, escape_formula, load_mapping, read_table

HEADER = ["_id", "_uuid", "group_x/full_name", "personal-father_name", "تاریخ تولد", "Rank", "نوم",
          "favourite colour", "meta-instanceID"]


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    return "\n".join(delimiter.join(r) for r in rows) + "\n"


ROWS = [HEADER, ["1", "u-1", "Ahmad", "Mahmud", "1365", "Sgt", "", "blue", "uuid:1"],
        ["", "", "", "", "", "", "", "", ""],
        ["2", "u-2", "Ali", "", "1370", "", "", "", "uuid:2"]]


@pytest.mark.parametrize(("encoding", "delimiter"), [
    ("utf-8", ","), ("utf-8-sig", ";"), ("utf-16", "\t"), ("utf-16-le", ","),
])
def test_csv_encodings_delimiters_and_column_matching(encoding: str, delimiter: str) -> None:
    reader = read_table(_csv(ROWS, delimiter).encode(encoding), file_name="kobo.csv")
    assert reader.columns == {
        "_id": None, "_uuid": None, "group_x/full_name": "full_name", "personal-father_name": "father_name",
        "تاریخ تولد": "date_of_birth", "Rank": "rank", "نوم": None, "favourite colour": None,
        "meta-instanceID": None,
    }
    # نوم (Pashto "name") is a second full_name column: the first one wins and this one is reported.
    assert reader.unmapped == ["نوم", "favourite colour"]
    rows = list(reader)
    assert [n for n, _ in rows] == [2, 4]          # the blank row 3 is skipped, numbering is kept
    _, first = rows[0]
    assert first.channel == "table"
    assert first.fields == {"full_name": "Ahmad", "father_name": "Mahmud", "date_of_birth": "1365", "rank": "Sgt"}
    assert first.field_sources["date_of_birth"] == "row 2, column E"
    assert first.provenance == {"source": "kobo.csv", "row": 2, "_id": "1", "_uuid": "u-1",
                                "meta-instanceID": "uuid:1"}


def test_cp1256_fallback() -> None:
    text = _csv([["نام", "ولد"], ["احمد", "محمود"]])
    (_, sub), = read_table(text.encode("cp1256"), file_name="old.csv")
    assert sub.fields == {"full_name": "احمد", "father_name": "محمود"}


def test_explicit_mapping_file(tmp_path) -> None:
    (tmp_path / "m.csv").write_text("column,field\nColonne A,full_name\nfavourite colour,ignore\n")
    (tmp_path / "m.json").write_text(json.dumps({"columns": {"Colonne A": "full_name", "x": None}}))
    (tmp_path / "m.yaml").write_text("Colonne A: full_name\nx: ''\n")
    for name in ("m.csv", "m.json", "m.yaml"):
        mapping = load_mapping(tmp_path / name)
        assert mapping["Colonne A"] == "full_name"
    reader = read_table(b"Colonne A,favourite colour\nA,b\n", file_name="t.csv",
                        mapping=load_mapping(tmp_path / "m.csv"))
    assert reader.unmapped == []
    assert [s.fields for _, s in reader] == [{"full_name": "A"}]
    (tmp_path / "bad.csv").write_text("column,field\nA,favourite_colour\n")
    with pytest.raises(IntakeError, match=r"bad\.csv, line 2: not a canonical field"):
        load_mapping(tmp_path / "bad.csv")


def test_extra_labels_from_the_xlsform() -> None:
    reader = read_table(b"Nom complet\nA\n", file_name="t.csv", extra_labels={"full_name": ["Nom complet"]})
    assert reader.columns == {"Nom complet": "full_name"}


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_values_and_row_errors() -> None:
    data = _xlsx([
        ["full_name", "date_of_birth", "phone", "tazkira_number"],
        ["A", datetime.datetime(1990, 1, 2), 799123456, 1234.0],
        ["B", "#REF!", None, None],
        ["C", None, None, None, "stray"],
    ])
    reader = read_table(io.BytesIO(data), file_name="t.xlsx", on_error="collect")
    rows = list(reader)
    assert rows[0][1].fields == {"full_name": "A", "date_of_birth": "1990-01-02", "phone": "799123456",
                                 "tazkira_number": "1234"}
    assert [str(e) for e in reader.errors] == [
        "t.xlsx, row 3, column B (date_of_birth): the cell holds a spreadsheet error instead of a value",
        "t.xlsx, row 4, column E: a value in a column that has no header",
    ]
    with pytest.raises(IntakeError, match="row 3, column B"):
        list(read_table(io.BytesIO(data), file_name="t.xlsx"))


def test_xlsx_by_magic_and_from_a_path(tmp_path) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(_xlsx([["Name"], ["A"]]))
    assert [s.fields for _, s in read_table(path, file_name="upload.bin")] == [{"full_name": "A"}]


def test_errors_never_quote_values() -> None:
    secret = "Karimi-" + "x" * 40_000
    with pytest.raises(IntakeError) as info:
        list(read_table(_csv([["Name"], [secret]]).encode(), file_name="t.csv"))
    assert "Karimi" not in str(info.value) and "row 2, column A (full_name)" in str(info.value)


def test_invalid_utf8_later_in_the_file_names_the_row() -> None:
    head = _csv([["Name"]] + [["A"]] * 40_000).encode()  # past the 64 KiB sniffed at the start
    with pytest.raises(IntakeError, match="row"):
        list(read_table(head + b"\xff\xfe\xfd\n", file_name="t.csv"))


@pytest.mark.parametrize("data", [b"", b"PK\x03\x04broken"])
def test_empty_and_broken(data: bytes) -> None:
    with pytest.raises(IntakeError):
        list(read_table(data, file_name="t.xlsx" if data else "t.csv"))


def test_escape_formula() -> None:
    for dangerous in ("=1+1", "+93799", "-2", "@SUM(A1)", "\tx", "\rx", "＝1"):
        assert escape_formula(dangerous) == "'" + dangerous
    for safe in ("Ali", "", "1-2", 5, -5, None):
        assert escape_formula(safe) == safe


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
