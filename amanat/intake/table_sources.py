"""Opening a table's bytes: which kind of file it is, a CSV's text encoding, and the rows of an old .xls
workbook (through xlrd) or an XLSX's merged cells. tables.py reads the rows these give.

Encodings: UTF-8 (with or without BOM), UTF-16 with a BOM (Excel's "Unicode text"), UTF-16 without a BOM (told
from its NUL bytes and what the text decodes to), and Windows-1256, which Excel on a Dari or Pashto Windows
writes for "CSV": told from its bytes decoding to Arabic-script letters. Anything else is refused with a
message that says how to save the file, rather than read as the wrong letters.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from collections.abc import Iterator
from typing import IO, Literal

from amanat.intake.errors import IntakeError

TableKind = Literal["csv", "xlsx", "xls"]
Merge = tuple[int, int, int, int]  # 0-based (first row, last row + 1, first column, last column + 1)

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file every real .xls is
ZIP_MAGIC = b"PK\x03\x04"
SAVE_AS_UTF8 = "in Excel: File → Save As → 'CSV UTF-8 (Comma delimited)', and import that file"


def kind_of(file_name: str, head: bytes) -> TableKind:
    """The kind from the first bytes, else from the name: an .xls that is really an XLSX is read as one."""
    if head.startswith(OLE2_MAGIC):
        return "xls"
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    lower = file_name.lower()
    if lower.endswith((".xlsx", ".xlsm")):
        return "xlsx"  # openpyxl names what is wrong with it
    if lower.endswith(".xls"):
        if head.lstrip()[:1] == b"<":
            raise IntakeError("this .xls is really a web page (a website's 'Excel' export): open it in Excel and "
                              "save it as .xlsx or CSV UTF-8", source=file_name)
        raise IntakeError("not a readable XLS workbook (the file does not start as one)", source=file_name)
    return "csv"


# --- CSV text encodings ------------------------------------------------------------------------------------

def _arabic_letter(ch: str) -> bool:
    o = ord(ch)
    return (0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F or 0xFB50 <= o <= 0xFDFF or 0xFE70 <= o <= 0xFEFF
            or o in (0x200C, 0x200D, 0x200E, 0x200F))


def _plausible_text(text: str) -> float:
    """Share of characters a table's text is made of: printable ASCII, line ends, Arabic script, Latin letters."""
    if not text:
        return 0.0
    good = sum(1 for ch in text if (" " <= ch <= "~") or ch in "\t\r\n" or _arabic_letter(ch)
               or ("\u00c0" <= ch <= "\u024f") or ch in "\u00a0\u2019\u2013")
    return good / len(text)


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 without a BOM: a table always has ASCII separators, so NUL bytes sit on one side of each pair."""
    if len(head) < 8 or head.count(0) < 2:
        return None
    even = head[: len(head) - len(head) % 2]
    for encoding, zeros in (("utf-16-le", even[1::2].count(0)), ("utf-16-be", even[0::2].count(0))):
        if zeros == 0:
            continue
        try:
            text = even.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _plausible_text(text) >= 0.97:
            return encoding
    return None


def _windows_arabic(head: bytes) -> bool:
    """Bytes above 127 that Windows-1256 reads as Arabic-script letters (Persian ones included), nearly all."""
    high = bytes(b for b in head if b > 127)
    if not high:
        return False
    text = high.decode("cp1256")
    return sum(1 for ch in text if _arabic_letter(ch) or ch in "،؛؟") / len(text) >= 0.9


def detect_encoding(head: bytes, source: str) -> str:
    """The text encoding of a CSV from its first bytes; IntakeError when it cannot be told for sure."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text" export
    if (utf16 := _utf16_without_bom(head)) is not None:
        return utf16
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if _windows_arabic(head):
        return "cp1256"  # Windows Arabic/Persian: what Excel on a Dari or Pashto machine writes
    raise IntakeError("the text encoding cannot be told for sure (not UTF-8, not UTF-16, and not Windows Arabic "
                      f"as Excel writes it in Dari or Pashto); {SAVE_AS_UTF8}", source=source)


# --- .xls through xlrd ---------------------------------------------------------------------------------------

def open_xls(stream: IO[bytes], file_name: str, sheet: str | None) -> tuple[Iterator[list[object]], list[Merge]]:
    """The rows of an old Excel workbook (97–2003 .xls) as cell values, and its merged cells."""
    import xlrd  # only .xls needs it

    data = stream.read()
    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=True)
        ws = book.sheet_by_name(sheet) if sheet else book.sheet_by_index(0)
    except Exception as exc:  # xlrd raises many kinds for a damaged or foreign file
        raise IntakeError("not a readable XLS workbook (or the sheet is missing)", source=file_name) from exc
    merges = [(r0, r1, c0, c1) for r0, r1, c0, c1 in ws.merged_cells]

    def value(cell: object) -> object:
        ctype, v = cell.ctype, cell.value  # type: ignore[attr-defined]
        if ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
            return None
        if ctype == xlrd.XL_CELL_DATE:
            try:
                return xlrd.xldate.xldate_as_datetime(v, book.datemode)
            except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                return v
        if ctype == xlrd.XL_CELL_BOOLEAN:
            return bool(v)
        if ctype == xlrd.XL_CELL_ERROR:
            return xlrd.error_text_from_code.get(v, "#VALUE!")
        return v

    def rows() -> Iterator[list[object]]:
        try:
            for r in range(ws.nrows):
                yield [value(c) for c in ws.row(r)]
        finally:
            book.release_resources()

    return rows(), merges


# --- an XLSX's merged cells (openpyxl's read-only mode does not give them) ---------------------------------------

_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _column_index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


def xlsx_merges(source: IO[bytes], member: str, *, within_rows: int) -> list[Merge]:
    """The merged ranges of one sheet that start in its first ``within_rows`` rows. The sheet's XML is read in
    chunks (its mergeCells come after all the rows), never whole."""
    found: list[Merge] = []
    try:
        source.seek(0)
        with zipfile.ZipFile(source) as archive, archive.open(member) as xml:
            tail = b""
            while chunk := xml.read(1 << 20):
                text = tail + chunk
                for m in _MERGE.finditer(text):
                    r0, r1 = int(m.group(2)) - 1, int(m.group(4))
                    if r0 < within_rows:
                        found.append((r0, r1, _column_index(m.group(1)), _column_index(m.group(3)) + 1))
                tail = text[-200:]  # a range cut at the chunk's end is found again; the set keeps it once
            source.seek(0)
    except (KeyError, zipfile.BadZipFile, OSError, ValueError):
        return []  # no merge information: the header is read without it
    return sorted(set(found))


__all__ = ["OLE2_MAGIC", "Merge", "TableKind", "detect_encoding", "kind_of", "open_xls", "xlsx_merges"]
