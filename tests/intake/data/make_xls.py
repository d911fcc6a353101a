"""Writes the .xls fixtures beside this file (Excel 97–2003 workbooks, synthetic people only).

Needs xlwt, which Amanat itself does not (it reads .xls with xlrd): `pip install --target /tmp/xlwt xlwt`, then
`PYTHONPATH=/tmp/xlwt python tests/intake/data/make_xls.py`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import xlwt

HERE = Path(__file__).resolve().parent


def plain() -> None:
    """A list as an old Excel saves it: header in row 1, Dari and Latin names, a date cell, a number cell."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for c, h in enumerate(["No.", "Full name", "Father name", "Date of birth", "Tazkira number", "Phone"]):
        sheet.write(0, c, h)
    rows = [(1, "احمد ولی", "محمد نبی", dt.date(1984, 3, 21), "1399-0101-00001", 93700111222),
            (2, "Karim Khan", "Gul Agha", dt.date(1990, 7, 1), "1399-0101-00002", 93700333444)]
    for r, row in enumerate(rows, start=1):
        for c, v in enumerate(row):
            sheet.write(r, c, v, date_style if isinstance(v, dt.date) else xlwt.Style.default_style)
    book.save(str(HERE / "list.xls"))


def titled_and_merged() -> None:
    """Two title rows (the first merged across the width), then a two-row header: "Father" merged over its
    name and tazkira, "Full name" merged down both header rows."""
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("List")
    sheet.write_merge(0, 0, 0, 3, "لست متقاضیان - کابل ۱۴۰۲")
    sheet.write(1, 0, "Prepared by the district office")
    sheet.write_merge(2, 3, 0, 0, "Full name")
    sheet.write_merge(2, 2, 1, 2, "Father")
    sheet.write(3, 1, "Name")
    sheet.write(3, 2, "Tazkira")
    sheet.write_merge(2, 3, 3, 3, "Tazkira number")
    sheet.write(4, 0, "احمد ولی")
    sheet.write(4, 1, "محمد نبی")
    sheet.write(4, 2, "1360-0000-00009")
    sheet.write(4, 3, "1399-0101-00001")
    book.save(str(HERE / "titled_merged.xls"))


if __name__ == "__main__":
    plain()
    titled_and_merged()
