"""CSV and XLSX tables (Kobo and ODK Central exports, spreadsheets kept by hand) → one submission per row.

Rows are streamed: a CSV is decoded as it is read and an XLSX is opened read-only, so a large export
never sits in memory whole. Columns are matched by XLSForm name (also inside Kobo/Central group paths
such as `group_x/full_name` or `group_x-full_name`), by label in English, Dari or Pashto, or by an
explicit mapping file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Literal

from amanat.intake.errors import IntakeError
from amanat.intake.labels import CANONICAL_FIELDS, NAME_FIELDS, LabelMatcher, is_serial_label
from amanat.intake.parsed import ParsedSubmission
from amanat.intake.spreadsheet_safety import escape_formula
from amanat.intake.table_headers import HEADER_SEARCH_ROWS, find_header
from amanat.intake.table_sources import Merge, TableKind, detect_encoding, kind_of, open_xls, xlsx_merges
from amanat.intake.upload_limits import UploadLimitExceeded

__all__ = ["PROVENANCE_COLUMNS", "TableReader", "escape_formula", "load_mapping", "parse_mapping", "read_table"]

# Export bookkeeping that identifies the submission, not the person: kept in provenance.
PROVENANCE_COLUMNS = frozenset({
    "_id", "_uuid", "_submission_time", "_index", "_parent_index", "_parent_table_name", "_validation_status",
    "_status", "__version__", "_version_", "_xform_id_string", "KEY", "PARENT_KEY", "SubmissionDate",
    "meta-instanceID", "meta/instanceID", "instanceID", "meta-deprecatedID", "meta/deprecatedID",
    "FormVersion", "ReviewState", "isValidated", "start", "end", "today",
})
# Export bookkeeping that says nothing useful or identifies a device or account: left out.
IGNORED_COLUMNS = frozenset({
    "_notes", "_tags", "_geolocation", "_attachments", "_duration", "_submitted_by", "formhub/uuid",
    "formhub-uuid", "meta/rootUuid", "meta-rootUuid", "SubmitterID", "SubmitterName", "AttachmentsPresent",
    "AttachmentsExpected", "Status", "DeviceID", "Edits", "deviceid", "username", "audit", "meta-audit",
    "meta/audit", "meta-instanceName", "meta/instanceName",
})
_IGNORE_MARKERS = {"", "-", "ignore", "none", "skip"}
_MAPPABLE = frozenset(f for f in CANONICAL_FIELDS if f != "family")
_SPREADSHEET_ERRORS = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A",
                                 "#GETTING_DATA", "#SPILL!", "#CALC!"})
MAX_CELL = 32_767  # Excel's own limit for a cell; longer is not a form answer
_HEAD = 64 * 1024


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: what the person sees in their spreadsheet."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def load_mapping(path: str | os.PathLike[str]) -> dict[str, str | None]:
    """A column → field mapping from a small CSV (two columns), JSON or YAML file.

    A field of "", "-", "ignore" or null means: leave this column out.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise IntakeError("mapping file cannot be read", source=p.name) from exc
    return parse_mapping(data, file_name=p.name)


def parse_mapping(data: bytes, *, file_name: str) -> dict[str, str | None]:
    """The same as `load_mapping`, from bytes already in memory (an upload: nothing goes to disk).

    The kind (CSV, JSON or YAML) comes from the file name's extension, as for `load_mapping`.
    """
    name = Path(file_name).name
    try:
        raw = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IntakeError("mapping file cannot be read as UTF-8 text", source=name) from exc
    pairs: list[tuple[int | None, object, object]] = []
    suffix = Path(name).suffix.lower()
    if suffix in {".json", ".yaml", ".yml"}:
        try:
            if suffix == ".json":
                data = json.loads(raw)
            else:
                import yaml  # only mapping files need it
                data = yaml.safe_load(raw)
        except ValueError as exc:
            raise IntakeError("mapping file is not valid JSON", source=name) from exc
        except Exception as exc:  # yaml.YAMLError and friends
            raise IntakeError("mapping file is not valid YAML", source=name) from exc
        if isinstance(data, dict) and isinstance(data.get("columns"), dict):
            data = data["columns"]
        if not isinstance(data, dict):
            raise IntakeError("mapping file must hold an object of column: field", source=name)
        pairs = [(None, k, v) for k, v in data.items()]
    else:
        for number, row in enumerate(csv.reader(io.StringIO(raw)), start=1):
            if not row or not "".join(row).strip():
                continue
            if number == 1 and [c.strip().lower() for c in row[:2]] == ["column", "field"]:
                continue
            pairs.append((number, row[0], row[1] if len(row) > 1 else ""))
    mapping: dict[str, str | None] = {}
    for position, (line, column, fld) in enumerate(pairs, start=1):
        if not isinstance(column, str) or not (fld is None or isinstance(fld, str)):
            raise IntakeError("column and field must be text", source=name, line=line,
                              field=None if line else f"entry {position}")
        target = (fld or "").strip()
        if target.lower() in _IGNORE_MARKERS:
            mapping[column.strip()] = None
        elif target in _MAPPABLE:
            mapping[column.strip()] = target
        else:
            raise IntakeError("not a canonical field name", source=name, line=line,
                              field=None if line else f"entry {position}")
    return mapping


def _label_field(header: str, matcher: LabelMatcher) -> str | None:
    """The field a header's label stands for; a bare "number" column (row numbers) stands for none."""
    text = header.replace("_", " ")
    return None if is_serial_label(text) else matcher.match(text)


# A header that speaks of a name (for the example in the "no name column" warning).
_NAMEISH = re.compile(r"name|نام|نوم|اسم", re.IGNORECASE)


class _Prefixed(io.RawIOBase):
    """The bytes already read for sniffing, then the rest of the stream, without reading it whole."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n


def _sniff_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    text = str(value).strip()
    return text or None


class TableReader:
    """Iterate `(row_number, ParsedSubmission)`; `row_number` is what the spreadsheet shows (the header is
    `header_row`: 1, unless title rows stand above it)."""

    def __init__(self, stream: IO[bytes], *, file_name: str, kind: TableKind,
                 mapping: Mapping[str, str | None] | None, extra_labels: Mapping[str, Iterable[str]] | None,
                 on_error: Literal["raise", "collect"], sheet: str | None, owns_stream: bool,
                 max_rows: int | None = None, max_cell: int = MAX_CELL) -> None:
        self.file_name = file_name
        self.max_rows = max_rows  # rows read, blank ones included; past it: UploadLimitExceeded
        self.max_cell = max_cell
        self.kind = kind
        self.on_error = on_error
        self.errors: list[IntakeError] = []
        self._stream = stream
        self._owns = owns_stream
        self._workbook: object | None = None
        self._merges: list[Merge] = []
        self._rows = self._open(kind, sheet)
        mapping = mapping or {}
        matcher = LabelMatcher(extra_labels)
        head: list[list[object]] = []
        while len(head) <= HEADER_SEARCH_ROWS and (row := self._next_row(len(head) + 1)) is not None:
            head.append(row)
        # Title rows above the header, and a merged group header above its columns: see table_headers.py.
        choice = find_header([[_cell_text(v) for v in row] for row in head], self._merges,
                             lambda text: self._match(text, mapping, matcher)[0] != "none")
        if not choice.texts:
            raise IntakeError("the table is empty (no header row)", source=file_name)
        self.header_row = choice.last_row + 1  # as the spreadsheet numbers it
        self._rows = itertools.chain(head[choice.last_row + 1:], self._rows)
        self.headers = [t.translate({0xFEFF: None, 0x200E: None, 0x200F: None}) for t in choice.texts]
        self._fields: list[str | None] = []
        self._provenance: list[str | None] = []
        self.columns: dict[str, str | None] = {}
        self.unmapped: list[str] = []
        # about the columns: two read as one field, no name column; title rows left out above the header
        self.warnings: list[str] = [f"{file_name}: {note}" for note in choice.notes]
        self._letters = [column_letter(i) for i in range(len(self.headers))]
        self._map_columns(mapping, matcher)
        self._named = [bool(h.strip()) for h in self.headers]

    # -- opening ------------------------------------------------------------------------------------
    def _open(self, kind: TableKind, sheet: str | None) -> Iterator[Iterable[object]]:
        if kind == "csv":
            return self._open_csv()
        if kind == "xls":
            rows, self._merges = open_xls(self._stream, self.file_name, sheet)
            return rows
        return self._open_xlsx(sheet)

    def _open_csv(self) -> Iterator[list[str]]:
        head = self._stream.read(_HEAD)
        encoding = detect_encoding(head, self.file_name)
        raw = io.BufferedReader(_Prefixed(head, self._stream))
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        sample = head.decode(encoding, errors="ignore")
        return csv.reader(text, delimiter=_sniff_delimiter(sample.lstrip("\ufeff")))

    def _open_xlsx(self, sheet: str | None) -> Iterator[tuple[object, ...]]:
        import openpyxl  # heavy; only XLSX needs it

        source: IO[bytes] = self._stream
        if not source.seekable():
            source = io.BytesIO(source.read())  # a zip needs random access
        try:
            wb = openpyxl.load_workbook(source, read_only=True, data_only=True)
            ws = wb[sheet] if sheet else wb.worksheets[0]
            rows = ws.iter_rows(values_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
            raise IntakeError("not a readable XLSX workbook (or the sheet is missing)",
                              source=self.file_name) from exc
        self._workbook = wb
        member = getattr(ws, "_worksheet_path", None)  # openpyxl's read-only sheets do not give merged cells
        if isinstance(member, str):
            self._merges = xlsx_merges(source, member, within_rows=HEADER_SEARCH_ROWS + 1)
        return rows

    def _next_row(self, row_number: int = 1) -> list[object] | None:
        try:
            return list(next(self._rows))
        except StopIteration:
            return None
        except UnicodeDecodeError:
            raise IntakeError("text is not in the file's encoding from here on", source=self.file_name,
                              row=row_number) from None
        except csv.Error:
            raise IntakeError("malformed CSV (a cell too large, or a stray NUL byte)", source=self.file_name,
                              row=row_number) from None
        except Exception as exc:  # damaged XLSX parts surface only while streaming
            raise IntakeError("the workbook is damaged", source=self.file_name, row=row_number) from exc

    # -- columns ------------------------------------------------------------------------------------
    def _match(self, header: str, mapping: Mapping[str, str | None], matcher: LabelMatcher) -> tuple[str, str | None]:
        """("field" | "provenance" | "ignored" | "none", name)."""
        if header in mapping:
            target = mapping[header]
            return ("field", target) if target else ("ignored", None)
        if header in PROVENANCE_COLUMNS:
            return "provenance", header
        if header in IGNORED_COLUMNS:
            return "ignored", None
        if header in _MAPPABLE:
            return "field", header
        hit = _label_field(header, matcher)
        if hit in _MAPPABLE:
            return "field", hit
        for sep in ("/", "-"):
            if sep in header:
                last = header.rsplit(sep, 1)[1].strip()
                if last in _MAPPABLE:
                    return "field", last
                if last == "instanceID":
                    return "provenance", header
                hit = _label_field(last, matcher)
                if hit in _MAPPABLE:
                    return "field", hit
        return "none", None

    def _map_columns(self, mapping: Mapping[str, str | None], matcher: LabelMatcher) -> None:
        taken: dict[str, int] = {}  # field → the column read as it
        for index, header in enumerate(self.headers):
            kind, name = self._match(header.strip(), mapping, matcher) if header.strip() else ("ignored", None)
            if kind == "field" and name in taken:
                # The first column for a field wins; the other is reported in .unmapped and warned about.
                self.warnings.append(f"{self.file_name}: {self._column(taken[name])} and {self._column(index)} are "
                                     f"both read as {name}; {self._column(taken[name])} is used (a mapping file "
                                     "can choose the other)")
                kind, name = "none", None
            self._fields.append(name if kind == "field" else None)
            self._provenance.append(name if kind == "provenance" else None)
            if kind == "field" and name:
                taken[name] = index
            if header.strip():
                self.columns[header] = name if kind == "field" else None
            if kind == "none":
                self.unmapped.append(header)
        named = [" ".join(h.split()) for h in self.headers if h.strip()]  # one line each, for the message
        if named and not taken.keys() & NAME_FIELDS:
            shown = ", ".join(f"'{h}'" for h in named[:12]) + (f" and {len(named) - 12} more" if len(named) > 12
                                                                 else "")
            example = next((" ".join(h.split()) for h in self.unmapped if _NAMEISH.search(h)), "<its header>")
            self.warnings.append(f"{self.file_name}: no name column found among the headers {shown}; say which "
                                 f"column holds the name in a mapping file, e.g. the line: {example},full_name")

    @property
    def column_fields(self) -> list[str | None]:
        """The field each column (in the order of `.headers`) is read as; None: not read as a field."""
        return list(self._fields)

    def _column(self, index: int) -> str:
        """How a message names a column: its letter and header, as the person sees them."""
        return f"column {self._letters[index]} '{' '.join(self.headers[index].split())}'"

    # -- rows ---------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[tuple[int, ParsedSubmission]]:
        for row_number, parsed, _ in self._rows_read(keep_cells=False):
            if parsed is not None:
                yield row_number, parsed

    def with_cells(self) -> Iterator[tuple[int, ParsedSubmission | None, tuple[str | None, ...]]]:
        """Every row that holds a value, with all its cells: `(row_number, submission, cells)`, where
        cells are the texts of the row's columns in the order of `.headers` (None: empty) and the
        submission is None when no matched column holds a value. For a tool that writes every column
        back out (`amanat dedupe`); a row error is raised or collected as when iterating."""
        return self._rows_read(keep_cells=True)

    def _rows_read(self, keep_cells: bool) -> Iterator[tuple[int, ParsedSubmission | None, tuple[str | None, ...]]]:
        row_number = self.header_row
        width = len(self.headers)
        cells: list[str | None] | None = None
        try:
            while (row := self._next_row(row_number + 1)) is not None:
                row_number += 1
                if self.max_rows is not None and row_number - self.header_row > self.max_rows:
                    raise UploadLimitExceeded(f"the table has more than the limit of {self.max_rows} rows",
                                              source=self.file_name)
                if keep_cells:
                    cells = [None] * width
                try:
                    parsed = self._row(row_number, row, cells)
                except IntakeError as exc:
                    if self.on_error == "raise":
                        raise
                    self.errors.append(exc)
                    continue
                if parsed is not None or (cells is not None and any(c is not None for c in cells)):
                    yield row_number, parsed, tuple(cells) if cells is not None else ()
        finally:
            self.close()

    def _row(self, row_number: int, row: list[object], cells: list[str | None] | None = None,
             ) -> ParsedSubmission | None:
        fields: dict[str, object] = {}
        sources: dict[str, str] = {}
        provenance: dict[str, object] = {"source": self.file_name, "row": row_number}
        named, letters, field_of, provenance_of = self._named, self._letters, self._fields, self._provenance
        width = len(named)
        for index, value in enumerate(row):
            # CSV cells are already str: skip the type dispatch for them (this loop is the hot path).
            text = (value.strip() or None) if type(value) is str else _cell_text(value)
            if text is None:
                continue
            if index >= width or not named[index]:
                raise IntakeError("a value in a column that has no header", source=self.file_name,
                                  row=row_number, column=column_letter(index))
            fld = field_of[index]
            if self.kind != "csv" and text in _SPREADSHEET_ERRORS:
                raise IntakeError("the cell holds a spreadsheet error instead of a value",
                                  source=self.file_name, row=row_number, column=letters[index], field=fld)
            if len(text) > self.max_cell:
                raise IntakeError(f"the cell is longer than {self.max_cell} characters", source=self.file_name,
                                  row=row_number, column=letters[index], field=fld)
            if cells is not None:
                cells[index] = text
            if fld is not None:
                fields[fld] = text
                sources[fld] = f"row {row_number}, column {letters[index]}"
            elif (prov := provenance_of[index]) is not None:
                provenance[prov] = text
        if not fields:
            return None  # blank row, or only bookkeeping columns
        return ParsedSubmission(channel="table", fields=fields, attachments=[], provenance=provenance,
                                field_sources=sources, context=[])

    def close(self) -> None:
        wb, self._workbook = self._workbook, None
        if wb is not None:
            wb.close()  # type: ignore[attr-defined]
        if self._owns:
            self._stream.close()

    def __enter__(self) -> TableReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_table(stream_or_path: IO[bytes] | bytes | str | os.PathLike[str], *, file_name: str,
               mapping: Mapping[str, str | None] | None = None,
               extra_labels: Mapping[str, Iterable[str]] | None = None,
               on_error: Literal["raise", "collect"] = "raise", sheet: str | None = None,
               max_rows: int | None = None, max_cell: int = MAX_CELL) -> TableReader:
    """Open a CSV, XLSX or XLS table for streaming; the kind comes from the bytes, else from the name.

    on_error="collect" skips a bad row and keeps its IntakeError in `.errors` instead of stopping.
    """
    owns = False
    stream: IO[bytes]
    if isinstance(stream_or_path, bytes | bytearray):
        stream = io.BytesIO(stream_or_path)
    elif isinstance(stream_or_path, str | os.PathLike):
        try:
            stream = open(stream_or_path, "rb")  # noqa: SIM115 (the reader closes it when done)
        except OSError as exc:
            raise IntakeError("file cannot be opened", source=file_name) from exc
        owns = True
    else:
        stream = stream_or_path
    kind: TableKind = "csv"
    if not file_name.lower().endswith((".csv", ".tsv", ".txt")):
        peek = stream.peek(8)[:8] if isinstance(stream, io.BufferedReader) else b""
        if not peek and stream.seekable():
            pos = stream.tell()
            peek = stream.read(8)
            stream.seek(pos)
        try:
            kind = kind_of(file_name, peek)
        except BaseException:
            if owns:
                stream.close()
            raise
    try:
        return TableReader(stream, file_name=file_name, kind=kind, mapping=mapping, extra_labels=extra_labels,
                           on_error=on_error, sheet=sheet, owns_stream=owns, max_rows=max_rows, max_cell=max_cell)
    except BaseException:
        if owns:
            stream.close()
        raise
