"""CSV and XLSX writers that never touch the disk, and make every cell safe to open in a spreadsheet.

openpyxl writes each worksheet to a temporary file before zipping it, which would leave plaintext in the
server's TMPDIR; this XLSX writer builds the workbook's few XML parts in memory instead (inline strings,
one sheet). A cell that a spreadsheet would read as a formula (starting with =, +, -, @, a tab or a
carriage return) is written with a leading apostrophe, as OWASP advises for CSV injection.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape  # escapes what we write; nothing is parsed  # nosec B406

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "|", "%")
_ILLEGAL_XML = {c: None for c in range(32) if c not in (9, 10, 13)}


def safe_cell(value: object) -> str:
    """The text of a cell, defused: no spreadsheet will evaluate it."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) or (text[:1] == "'" and text[1:2] in FORMULA_STARTS):
        return "'" + text
    return text


def write_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8 (Dari, Pashto)


def _col(n: int) -> str:
    name = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        name = chr(65 + r) + name
    return name


_OOXML = "http://schemas.openxmlformats.org"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_REL = f"{_OOXML}/officeDocument/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_CONTENT_TYPES = (
    f'{_HEAD}<Types xmlns="{_OOXML}/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/></Types>')
_RELS = (f'{_HEAD}<Relationships xmlns="{_OOXML}/package/2006/relationships">'
         f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK_RELS = (f'{_HEAD}<Relationships xmlns="{_OOXML}/package/2006/relationships">'
                  f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
                  f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>')
_STYLES = (
    f'{_HEAD}<styleSheet xmlns="{_OOXML}/spreadsheetml/2006/main">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '</fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
    '<cellXfs count="2"><xf fontId="0"/><xf fontId="1" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')


def _workbook(sheet_name: str) -> str:
    return (f'{_HEAD}<workbook xmlns="{_OOXML}/spreadsheetml/2006/main" xmlns:r="{_REL}">'
            f'<sheets><sheet name="{escape(sheet_name[:31])}" sheetId="1" r:id="rId1"/></sheets></workbook>')


def _cell_xml(ref: str, value: object, style: int) -> str:
    s = f' s="{style}"' if style else ""
    if isinstance(value, bool) or value is None:
        value = "" if value is None else str(value).lower()
    if isinstance(value, int | float):
        return f'<c r="{ref}"{s}><v>{value}</v></c>'
    text = safe_cell(value).translate(_ILLEGAL_XML)
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{escape(text)}</t></is></c>'


def write_xlsx(header: Sequence[str], rows: Iterable[Sequence[object]], *, sheet: str = "Export",
               rtl: bool = False) -> bytes:
    """A one-sheet workbook in memory; numbers stay numbers, text is defused as in ``safe_cell``."""
    view = ' rightToLeft="1"' if rtl else ""
    parts = [f'{_HEAD}<worksheet xmlns="{_OOXML}/spreadsheetml/2006/main">'
             f'<sheetViews><sheetView workbookViewId="0"{view}>'
             '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
             '<sheetData>']
    cols = [_col(i) for i in range(len(header))]
    parts.append('<row r="1">' + "".join(_cell_xml(f"{c}1", h, 1) for c, h in zip(cols, header, strict=True))
                 + "</row>")
    for n, row in enumerate(rows, start=2):
        parts.append(f'<row r="{n}">' + "".join(_cell_xml(f"{c}{n}", v, 0) for c, v in zip(cols, row, strict=True))
                     + "</row>")
    parts.append("</sheetData></worksheet>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _workbook(sheet))
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/styles.xml", _STYLES)
        z.writestr("xl/worksheets/sheet1.xml", "".join(parts))
    return buf.getvalue()
