"""Which of a table's first rows is its header: lists kept by hand put a title or two above it ("List of
applicants, Kabul, 1402"), and group a header's columns under a merged cell ("Father" over "Name" and "Tazkira").

Every row among the first HEADER_SEARCH_ROWS is tried as the header, alone and together with the row below it
(a two-row header); the one whose cells name the most known columns wins, the earliest single row on a tie.
A merged cell's text stands in every cell it covers. In a two-row header a column is read as "top bottom"
("Father Name"), else as the bottom alone ("Personal details" over "Full name"), else as the top alone (a cell
merged down both rows) — but never as the bottom alone under a group that itself names a field: under "Father",
"Tazkira" is the father's tazkira, not the applicant's, so that column is left for a mapping file to name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from amanat.intake.table_sources import Merge

HEADER_SEARCH_ROWS = 10

Known = Callable[[str], bool]  # does this header text name a column Amanat knows (field, mapping, bookkeeping)?


@dataclass
class HeaderChoice:
    texts: list[str]                  # one per column
    first_row: int                    # 0-based index of the header's first row among the rows looked at
    height: int                       # 1 or 2 rows
    known: int                        # columns whose header names a known column
    notes: list[str] = field(default_factory=list)

    @property
    def last_row(self) -> int:
        return self.first_row + self.height - 1


def _text(value: object) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def fill_merged(rows: list[list[str]], merges: Sequence[Merge]) -> None:
    """Copy each merged range's text (its top-left cell) into every cell it covers, within ``rows``."""
    for r0, r1, c0, c1 in merges:
        if r0 >= len(rows) or c0 >= len(rows[r0]) or not rows[r0][c0]:
            continue
        value = rows[r0][c0]
        for r in range(r0, min(r1, len(rows))):
            row = rows[r]
            if len(row) < c1:
                row.extend([""] * (c1 - len(row)))
            for c in range(c0, c1):
                if not row[c]:
                    row[c] = value


def _two_rows(top: list[str], bottom: list[str], known: Known, forward_fill: bool) -> tuple[list[str], int]:
    """(a header text per column, how many columns were left unread under a group that names a field)."""
    width = max(len(top), len(bottom))
    top = top + [""] * (width - len(top))
    bottom = bottom + [""] * (width - len(bottom))
    if forward_fill:
        # Without merge information (a CSV saved from a sheet with merged cells) a group's text is in its first
        # column only: carry it right over the blank top cells that have a sub-header below them.
        for c in range(1, width):
            if not top[c] and bottom[c] and top[c - 1] and bottom[c - 1]:
                top[c] = top[c - 1]
    texts = []
    guarded = 0
    for t, b in zip(top, bottom, strict=True):
        if t and b and t != b:
            combined = f"{t} {b}"
            if known(combined):
                texts.append(combined)
            elif known(b) and not known(t):
                texts.append(b)
            else:
                guarded += known(b)  # "Tazkira" under "Father": known, and deliberately not read as such
                texts.append(combined)
        else:
            texts.append(t or b)
    return texts, guarded


def find_header(rows: Sequence[Sequence[object]], merges: Sequence[Merge], known: Known) -> HeaderChoice:
    """The header among ``rows`` (the table's first rows); merges are 0-based ranges in the same rows."""
    grid = [[_text(v) for v in row] for row in rows[:HEADER_SEARCH_ROWS + 1]]
    fill_merged(grid, merges)
    best: HeaderChoice | None = None
    best_score = -1
    for i in range(min(len(grid), HEADER_SEARCH_ROWS)):
        if not any(grid[i]):
            continue
        candidates = [(HeaderChoice(list(grid[i]), i, 1, 0), 0)]
        if i + 1 < len(grid) and any(grid[i + 1]):
            texts, guarded = _two_rows(grid[i], grid[i + 1], known, not merges)
            below = grid[i + 1] + [""] * (len(texts) - len(grid[i + 1]))
            if texts != below:  # else it is the next row alone, below a title
                candidates.append((HeaderChoice(texts, i, 2, 0), guarded))
        for c, guarded in candidates:
            c.known = len({t for t in c.texts if t and known(t)})
            # A column left unread under its group still shows the two rows are one header: it counts.
            if best is None or c.known + guarded > best_score:
                best, best_score = c, c.known + guarded
    if best is None:
        return HeaderChoice([], 0, 1, 0)
    if best.known == 0:  # nothing names a known column: the first row that holds anything is the header
        first = next(i for i, row in enumerate(grid) if any(row))
        best = HeaderChoice(list(grid[first]), first, 1, 0)
    if best.first_row:
        above = "row 1" if best.first_row == 1 else f"rows 1–{best.first_row}"
        best.notes.append(f"{above} above the header (a title) left out; the header is "
                          + (f"row {best.first_row + 1}" if best.height == 1
                             else f"rows {best.first_row + 1}–{best.first_row + 2}"))
    elif best.height == 2:
        best.notes.append("the header is rows 1–2 (a merged group header above its columns)")
    return best


__all__ = ["HEADER_SEARCH_ROWS", "HeaderChoice", "fill_merged", "find_header"]
