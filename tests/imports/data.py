"""Files to import, built in the test's tmp dir: a Persian-locale WhatsApp export and Kobo-like tables.

Every name and number here is invented.
"""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl

from amanat.intake.consent import ImportConsent

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))

# Android export, Persian digits, year first, Arabic comma: two typed forms, photos around them, chat between.
CHAT = """۲۰۲۱/۵/۳۰، ۱۸:۳۰ - فرمانده نمونه: سلام، فورم دو نفر دیگر
۲۰۲۱/۵/۳۰، ۱۸:۴۰ - فرمانده نمونه: IMG-20210530-WA0001.jpg (file attached)
تذکره اش
۲۰۲۱/۵/۳۰، ۱۸:۴۴ - فرمانده نمونه: ۱- نام: زرمینه آزمون
۲- نام پدر: پدر آزمون
۳- تذکره: ۱۴۰۰-۰۱۰۱-۱۲۳۴۵
۴- رتبه: دگروال
۲۰۲۱/۵/۳۰، ۱۸:۴۵ - دفتر: تشکر
۲۰۲۱/۵/۳۰، ۱۸:۴۶ - فرمانده نمونه: قطعه: کندک ۵
او تا ۱۳۹۹ در هلمند بود
۲۰۲۱/۵/۳۰، ۱۹:۳۰ - فرمانده نمونه: Name: Testa Khanova
Father's name: Probe Khan
Rank: Sergeant
Unit: 215 Corps
۲۰۲۱/۵/۳۰، ۱۹:۳۱ - فرمانده نمونه: IMG-20210530-WA0002.png (file attached)
۲۰۲۱/۵/۳۰، ۲۰:۰۰ - دفتر: Rank: ?
"""
MEDIA = {"IMG-20210530-WA0001.jpg": JPEG, "IMG-20210530-WA0002.png": PNG}
CHAT_NAME = "WhatsApp Chat with Test Group"


def chat_zip(chat: str = CHAT, media: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{CHAT_NAME}.txt", chat)
        for name, data in (MEDIA if media is None else media).items():
            zf.writestr(name, data)
    return buf.getvalue()


# A Kobo-style export: group paths, bookkeeping columns, a label header in Dari, one column to map by file.
TABLE_HEADER = ["_id", "_uuid", "personal/full_name", "personal/father_name", "تاریخ تولد", "Rank", "Colonne X"]
TABLE_ROWS = [
    ["1", "5f8a2c1e-0000-4000-8000-000000000001", "Testa One", "Father One", "1365", "Sgt", "Kandak 1"],
    ["", "", "", "", "", "", ""],
    ["2", "5f8a2c1e-0000-4000-8000-000000000002", "=HYPERLINK(\"x\")", "Father Two", "1370", "", "Kandak 2"],
]
MAPPING_CSV = "column,field\nColonne X,unit\n"


def table_csv(rows: list[list[str]] | None = None) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([TABLE_HEADER, *(TABLE_ROWS if rows is None else rows)])
    return buf.getvalue().encode("utf-8")


def table_xlsx(rows: list[list[object]] | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [TABLE_HEADER, *(TABLE_ROWS if rows is None else rows)]:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# The consent basis every table or chat import must state (intake/consent.py): as a form field and as a value.
BASIS = {"consent_basis": "paper_intermediary"}
CONSENT = ImportConsent("paper_intermediary")
