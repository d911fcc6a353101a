"""The standalone dedupe's output file, for the coordinator who opens it.

Every input row, with Amanat's columns first and then every column of the input under its own header
(not only the ones linkage reads); each cluster's rows together, clusters in order of first
appearance. CSV is UTF-8 with a BOM (Excel then reads Dari and Pashto right); XLSX has a frozen,
filterable header row, columns as wide as their text, and reads right to left when most of the
text is in Arabic script. Text a spreadsheet would run as a formula is escaped either way.

The file is written under a temporary name in the output's folder and renamed when complete: a
run that fails or is interrupted leaves no partial file behind, and an existing file is replaced
only when asked.
"""

from __future__ import annotations

import csv
import itertools
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from amanat.errors import InvalidInput
from amanat.intake.spreadsheet_safety import escape_formula

if TYPE_CHECKING:
    from amanat.linkage.dedupe import DedupeResult, SourceRow

OUTPUT_SUFFIXES = (".csv", ".xlsx", ".txt")
# Column widths and the sheet's direction are judged on the first rows written.
SAMPLE_ROWS = 1000
MAX_WIDTH = 50
_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefc]")
_LATIN = re.compile("[A-Za-z\u00c0-\u024f]")
# What XLSX cannot hold (control characters a CSV may carry); openpyxl refuses a cell with one.
_NOT_IN_XLSX = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


# --- the output's columns and rows ------------------------------------------------------------------

def cell_columns(headers: Sequence[str], reserved: Iterable[str]) -> tuple[str | None, ...]:
    """The output column of each of a file's columns: its header, trimmed; "<header> (input)" when
    one of Amanat's own columns (``reserved``) has that name; "<header> (2)" for the second column
    with one header; None for a column without a header (it holds no value)."""
    taken = set(reserved)
    seen: Counter[str] = Counter()
    out: list[str | None] = []
    for header in headers:
        name = header.strip()
        if not name:
            out.append(None)
            continue
        if name in taken:
            name = f"{name} (input)"
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return tuple(out)


def input_columns(rows: Sequence[SourceRow]) -> list[str]:
    """The input's columns as the output shows them: a row read from a file brings its file's
    columns (``SourceRow.columns``), any other row its fields; in order of first appearance."""
    names: dict[str, None] = {}
    layouts: dict[int, tuple[str | None, ...]] = {}  # by id: one tuple is shared by a file's rows
    for r in rows:
        if r.cells is not None and r.columns is not None:
            if id(r.columns) not in layouts:
                layouts[id(r.columns)] = r.columns
                names.update((c, None) for c in r.columns if c is not None)
        elif not r.fields.keys() <= names.keys():  # the usual row: nothing new (a C-level check)
            names.update((k, None) for k, v in r.fields.items() if k not in names and not isinstance(v, list))
    return list(names)


def row_order(cluster_id: Sequence[object] | np.ndarray,
              possible_group: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
    """The output's order: each cluster's rows together, clusters in order of first appearance,
    rows within a cluster in input order; the clusters of one possible group next to each other
    (the group where its first row is)."""
    codes = pd.factorize(np.asarray(cluster_id))[0]
    if possible_group is None:
        return np.argsort(codes, kind="stable")
    group = np.asarray(possible_group, dtype=np.int64)
    # a cluster without a group is a group of its own
    outer = pd.factorize(np.where(group > 0, group, -1 - codes))[0]
    return np.lexsort((np.arange(len(codes)), codes, outer))


def input_values(rows: Sequence[SourceRow], order: Iterable[int], names: Sequence[str]) -> Iterator[list[Any]]:
    """Each row's values under ``names`` (input_columns), in ``order``; what a row lacks is None."""
    index = {k: i for i, k in enumerate(names)}
    width = len(names)
    # id(columns) → (columns, (cell, output column) pairs, or None where the file's columns come first in order)
    layouts: dict[int, tuple[tuple[str | None, ...], list[tuple[int, int]] | None]] = {}
    for i in order:
        r = rows[i]
        cells, columns = r.cells, r.columns
        if cells is None or columns is None:
            get = r.fields.get
            yield [get(k) for k in names]
            continue
        layout = layouts.get(id(columns))
        if layout is None:
            pairs = [(a, index[c]) for a, c in enumerate(columns) if c is not None]
            in_order = len(pairs) == len(columns) and all(a == b for a, b in pairs)
            layout = layouts[id(columns)] = (columns, None if in_order else pairs)
        pairs_or_none = layout[1]
        if pairs_or_none is None:
            values = list(cells)
            values.extend([None] * (width - len(values)))
        else:
            values = [None] * width
            for a, b in pairs_or_none:
                values[b] = cells[a]
        yield values


def _order(lead: pd.DataFrame) -> np.ndarray:
    group = lead["possible_group"].to_numpy() if "possible_group" in lead.columns else None
    return row_order(lead["cluster_id"].to_numpy(), group)


def output_records(rows: Sequence[SourceRow], lead: pd.DataFrame, names: Sequence[str]) -> Iterator[list[Any]]:
    """The output's rows: the lead columns, then the input's (``names``), grouped by cluster."""
    order = _order(lead)
    ordered = lead.take(order).itertuples(index=False, name=None)
    for head, values in zip(ordered, input_values(rows, order.tolist(), names), strict=True):
        yield [*head, *values]


def output_table(rows: Sequence[SourceRow], lead: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """The whole output as one table, in the output's order (dtype object keeps each value as read)."""
    order = _order(lead)
    columns = [np.empty(len(rows), dtype=object) for _ in names]
    for k, values in enumerate(input_values(rows, order.tolist(), names)):
        for column, v in zip(columns, values, strict=True):
            column[k] = v
    for column in columns:
        column[pd.isna(column)] = None
    head = lead.take(order).reset_index(drop=True)
    rest = pd.DataFrame(dict(zip(names, columns, strict=True)), columns=list(names), copy=False)
    return pd.concat([head, rest], axis=1)


# --- where it goes ----------------------------------------------------------------------------------

def check_suffix(path: str | os.PathLike[str]) -> str:
    """"csv" or "xlsx", from the name (.txt is written as CSV)."""
    suffix = Path(path).suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise InvalidInput(f"--out {path}: the output must end in .csv or .xlsx", field="out")
    return "xlsx" if suffix == ".xlsx" else "csv"


def check_target(path: str | os.PathLike[str], inputs: Sequence[str | os.PathLike[str]], *, force: bool,
                 option: str = "--out") -> None:
    """Refuse, before any work, a file the run could not or must not write: in a folder that does
    not exist, a folder itself, one of the inputs (even with ``force``), or a file that exists
    already (unless ``force``)."""
    p = Path(path)
    if p.is_dir():
        raise InvalidInput(f"{option} {p} is a folder: give a file name", field=option.lstrip("-"))
    folder = p.parent
    if not folder.is_dir():
        raise InvalidInput(f"the folder {folder} (for {option}) does not exist: create it, or write elsewhere",
                           field=option.lstrip("-"))
    if not p.exists():
        return
    for source in inputs:
        try:
            same = os.path.samefile(p, source)
        except OSError:
            same = False
        if same:
            raise InvalidInput(f"{option} {p} is one of the input files: write to another file (an input is "
                               "never overwritten)", field=option.lstrip("-"))
    if not force:
        raise InvalidInput(f"{p} exists already: give --force to replace it, or another {option}",
                           field=option.lstrip("-"))


@contextmanager
def atomic_target(path: str | os.PathLike[str], *, replace: bool = True) -> Iterator[Path]:
    """A temporary file beside ``path`` to write to. When the block ends without error it becomes
    ``path`` (in one rename); on any error or Ctrl-C it is deleted, so nothing partial is left. An
    existing ``path`` is replaced only when ``replace``. Created readable by its owner only: it
    holds what the inputs held."""
    p = Path(path)
    try:
        fd, name = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".part")
    except OSError as exc:
        raise InvalidInput(f"cannot write in the folder {p.parent}: {exc.strerror or exc}", field="out") from None
    os.close(fd)
    tmp = Path(name)
    try:
        try:
            yield tmp
            if not replace and p.exists():
                raise InvalidInput(f"{p} appeared while this ran and is left as it is: give --force to replace it",
                                   field="out")
            os.replace(tmp, p)
        except OSError as exc:  # a full disk, a folder gone read-only: one line, not a traceback
            raise InvalidInput(f"{p} could not be written: {exc.strerror or exc}", field="out") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --- writing ----------------------------------------------------------------------------------------

def _cell(v: Any) -> Any:
    if v is None or (isinstance(v, float) and v != v):
        return None
    return escape_formula(v)


def write_output(result: DedupeResult, path: str | os.PathLike[str], *, replace: bool = True) -> None:
    """CSV (UTF-8 with BOM) or XLSX, by extension, streamed row by row, and only complete
    (atomic_target). Text that a spreadsheet would run as a formula is escaped, headers included."""
    kind = check_suffix(path)
    lead = list(result.lead.columns)
    header = [_cell(h) for h in (*lead, *result.input_columns)]
    records: Iterable[list[Any]] = ([_cell(v) for v in row] for row in result.output_rows())
    with atomic_target(path, replace=replace) as tmp:
        if kind == "xlsx":
            _write_xlsx(tmp, header, records, rows=len(result.rows), lead=len(lead))
        else:
            with tmp.open("w", encoding="utf-8-sig", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(header)
                writer.writerows(["" if v is None else v for v in row] for row in records)


def mostly_arabic_script(rows: Iterable[Sequence[Any]], start: int = 0) -> bool:
    """Whether more of the text cells (from column ``start`` on) are mostly in Arabic script
    (Dari, Pashto) than mostly in Latin letters."""
    arabic = latin = 0
    for row in rows:
        for v in itertools.islice(row, start, None):
            if isinstance(v, str) and v:
                a, b = len(_ARABIC_SCRIPT.findall(v)), len(_LATIN.findall(v))
                arabic += a > b
                latin += b > a
    return arabic > latin


def column_widths(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> list[float]:
    """Each column as wide as its longest text in ``rows`` or its header (with room for the filter's
    button), within 8 and MAX_WIDTH characters."""
    widths: list[float] = []
    for j, h in enumerate(header):
        longest = max([len(str(h)) + 3, *(len(str(row[j])) for row in rows if j < len(row) and row[j] is not None)])
        widths.append(float(min(max(longest + 2, 8), MAX_WIDTH)))
    return widths


def _write_xlsx(path: Path, header: list[Any], records: Iterable[list[Any]], *, rows: int, lead: int) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    records = (_xlsx_row(r) for r in records)
    sample = list(itertools.islice(records, SAMPLE_ROWS))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("clusters")
    # Set before the first row: a write-only sheet writes its views and columns ahead of the rows.
    ws.freeze_panes = "A2"
    ws.sheet_view.rightToLeft = mostly_arabic_script(sample, start=lead)
    for j, width in enumerate(column_widths(header, sample), start=1):
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{rows + 1}"
    bold = Font(bold=True)
    cells = []
    for h in _xlsx_row(header):
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        cells.append(cell)
    ws.append(cells)
    for row in itertools.chain(sample, records):
        ws.append(row)
    wb.save(path)


def _xlsx_row(row: list[Any]) -> list[Any]:
    for j, v in enumerate(row):
        if isinstance(v, str) and _NOT_IN_XLSX.search(v):
            row[j] = _NOT_IN_XLSX.sub("", v)
    return row
