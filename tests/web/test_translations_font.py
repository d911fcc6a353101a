"""The app's own font: served from /static (no CDN), with its OFL licence, and covering every letter Dari and
Pashto use. A phone without a Pashto font showed ۍ (U+06CD) as an empty box; the font's own character map is
read here (WOFF 1.0 tables are zlib-compressed, so the standard library reads them)."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest

from amanat.web.app import STATIC

FONTS = STATIC / "fonts"
# Pashto's own letters, the Dari/Persian ones, the Arabic ones both use, Persian and Arabic-Indic digits,
# punctuation, and the joiners that Dari words need.
PASHTO = "ټډړږښګڼۍېځڅ"
DARI = "پچژکگیۀ"
COMMON = "ابتثجحخدذرزسشصضطظعغفقلمنوهئأإؤءآةى"
DIGITS = "۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩"
PUNCTUATION = "،؛؟٪"
NEEDED = PASHTO + DARI + COMMON + DIGITS + PUNCTUATION + "\u200c"


def woff_cmap(data: bytes) -> set[int]:
    """The code points a WOFF 1.0 font maps (cmap formats 4 and 12)."""
    signature, _flavor, _length, num_tables = struct.unpack(">4sIIH", data[:14])
    assert signature == b"wOFF"
    tables: dict[bytes, bytes] = {}
    for i in range(num_tables):
        tag, offset, comp_len, orig_len, _checksum = struct.unpack(">4sIIII", data[44 + 20 * i:64 + 20 * i])
        raw = data[offset:offset + comp_len]
        tables[tag] = zlib.decompress(raw) if comp_len < orig_len else raw
    cmap = tables[b"cmap"]
    _version, count = struct.unpack(">HH", cmap[:4])
    points: set[int] = set()
    for i in range(count):
        _platform, _encoding, offset = struct.unpack(">HHI", cmap[4 + 8 * i:12 + 8 * i])
        fmt = struct.unpack(">H", cmap[offset:offset + 2])[0]
        if fmt == 4:
            seg_x2 = struct.unpack(">H", cmap[offset + 6:offset + 8])[0]
            ends = struct.unpack(f">{seg_x2 // 2}H", cmap[offset + 14:offset + 14 + seg_x2])
            starts_at = offset + 16 + seg_x2
            starts = struct.unpack(f">{seg_x2 // 2}H", cmap[starts_at:starts_at + seg_x2])
            for start, end in zip(starts, ends, strict=True):
                if start != 0xFFFF:
                    points.update(range(start, end + 1))  # glyph 0 ranges are rare in subset fonts
        elif fmt == 12:
            groups = struct.unpack(">I", cmap[offset + 12:offset + 16])[0]
            for g in range(groups):
                start, end, _glyph = struct.unpack(">III", cmap[offset + 16 + 12 * g:offset + 28 + 12 * g])
                points.update(range(start, end + 1))
    return points


def font_files() -> list[Path]:
    """The fonts the pages draw Dari and Pashto with (the Latin subset is the packet PDF's, tested below)."""
    return sorted(FONTS.glob("*Arabic*.woff"))


def test_a_regular_and_a_bold_font_are_shipped_with_their_licence() -> None:
    names = [p.name for p in font_files()]
    assert any("400" in n for n in names) and any("700" in n for n in names), names
    licence = (FONTS / "OFL.txt").read_text(encoding="utf-8")
    assert "SIL Open Font License, Version 1.1" in licence
    assert "Copyright" in licence.splitlines()[0]


@pytest.mark.parametrize("path", font_files(), ids=lambda p: p.name)
def test_the_font_has_every_dari_and_pashto_letter(path: Path) -> None:
    points = woff_cmap(path.read_bytes())
    missing = [f"U+{ord(c):04X} {c}" for c in NEEDED if ord(c) not in points]
    assert missing == []


def test_the_latin_font_has_every_letter_and_digit_a_packet_writes() -> None:
    points = woff_cmap((FONTS / "Vazirmatn-Latin-400.woff").read_bytes())
    needed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.,:;-/()+#'"
    assert [c for c in needed if ord(c) not in points] == []


def test_the_stylesheet_uses_the_shipped_fonts_and_nothing_from_elsewhere() -> None:
    css = (STATIC / "app.css").read_text(encoding="utf-8")
    urls = re.findall(r"url\(\"?([^\")]+)\"?\)", css)
    assert urls, "app.css declares no @font-face"
    for url in urls:
        assert url.startswith("/static/fonts/"), url  # served by the app, never a CDN
        assert (STATIC / url.removeprefix("/static/")).is_file(), url
    for sheet, selector in (("app.css", "body"), ("form.css", r"\.af-form")):
        text = (STATIC / sheet).read_text(encoding="utf-8")
        stack = re.search(selector + r"\s*\{[^}]*?font-family:\s*([^;]+);", text)
        assert stack and stack.group(1).startswith('"Vazirmatn"'), sheet  # Arabic script never falls to a box


def test_the_app_serves_the_font(client) -> None:  # type: ignore[no-untyped-def]
    for path in font_files():
        response = client.get(f"/static/fonts/{path.name}")
        assert response.status_code == 200
        assert response.content == path.read_bytes()
    assert "SIL Open Font License" in client.get("/static/fonts/OFL.txt").text
