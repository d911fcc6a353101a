"""Small XLSForm workbooks built in memory, for tests of broken and unusual forms."""

from __future__ import annotations

import io
from collections.abc import Sequence

import openpyxl

Table = Sequence[Sequence[str | None]]


def xlsx(survey: Table, choices: Table | None = None, settings: Table | None = None,
         extra: dict[str, Table] | None = None) -> bytes:
    """An .xlsx with the given sheets; each table's first row is its header."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    sheets: dict[str, Table] = {"survey": survey}
    if choices is not None:
        sheets["choices"] = choices
    if settings is not None:
        sheets["settings"] = settings
    sheets.update(extra or {})
    for name, table in sheets.items():
        ws = wb.create_sheet(name)
        for row in table:
            ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


SETTINGS = [["form_id", "version", "default_language"], ["t", "1", "English (en)"]]


def simple_form() -> bytes:
    """Two languages only (no Pashto), a select_multiple, a relevant, a date and a decimal."""
    header = ["type", "name", "label::English (en)", "label::Dari (prs)", "required", "constraint", "relevant",
              "calculation"]
    survey = [
        header,
        ["text", "full_name", "Name", "نام", "yes", None, None, None],
        ["select_multiple colours", "colours", "Colours", "رنگ‌ها", None, None, None, None],
        ["integer", "age", "Age", "سن", None, ". >= 0 and . < 130", None, None],
        ["text", "why", "Why", "چرا", "yes", None, "${age} > 10", None],
        ["date", "seen", "Seen", "دیده", None, None, None, None],
        ["decimal", "weight", "Weight", "وزن", None, None, None, None],
        ["calculate", "calc", None, None, None, None, None, "1 + 1"],
    ]
    choices = [
        ["list_name", "name", "label::English (en)", "label::Dari (prs)"],
        ["colours", "red", "Red", "سرخ"],
        ["colours", "blue", "Blue", "آبی"],
    ]
    return xlsx(survey, choices, SETTINGS)
