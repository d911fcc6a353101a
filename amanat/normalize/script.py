"""Same-script folding: Arabic, Persian and Pashto letter variants, digits, ZWNJ, whitespace.

Pashto letters are folded *by sound* (ګ→گ, ښ→ش, ږ→ژ, ځ→ز, څ→س), not by shape as hazm does
(ګ→ک, ښ→س, ږ→ر), because the same name is spelled with the Dari letter that sounds alike.

The work is one ``str.translate`` over a table built once at import (~20 ms): every Unicode decimal
digit becomes its ASCII digit, combining marks (harakat, accents), format characters and private-use
glyphs vanish, presentation forms (PDF copies: ﻣﺤﻤﺪ, the ﷲ ligature) and accented Latin letters
become their base letters, and the spacing forms of the harakat vanish as the marks do. Table values
are checked to be fixed points, so ``fold`` is idempotent.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from amanat.normalize.errors import require_text

__all__ = ["ARABIC_RE", "ascii_digits", "ascii_digits_array", "fold", "is_perso_arabic", "join_compounds"]

ZWNJ = "\u200c"
ZWSP = "\u200b"
# What the spacing forms of the harakat decompose to: a space or tatweel, and the marks.
_SPACING_MARK_JUNK = " \u0640\u064b\u064c\u064d\u064e\u064f\u0650\u0651\u0652\u0670"
# Private-use planes 15 and 16, beyond the translate table: removed where they occur at all.
_PRIVATE_ASTRAL = re.compile("[\U000f0000-\U0010ffff]")

# Sound-based folding of Arabic, Pashto and Urdu letters to the Dari letter that sounds alike.
_LETTERS: dict[str, str] = {
    "ي": "ی", "ى": "ی", "ې": "ی", "ۍ": "ی", "ئ": "ی", "ے": "ی", "ۓ": "ی", "ێ": "ی",
    "ك": "ک", "ڪ": "ک", "ګ": "گ",
    "ښ": "ش", "ږ": "ژ", "ځ": "ز", "څ": "س", "ټ": "ت", "ډ": "د", "ړ": "ر", "ڼ": "ن",
    "ٹ": "ت", "ڈ": "د", "ڑ": "ر", "ں": "ن",
    "ة": "ه", "ۀ": "ه", "ۂ": "ه", "ہ": "ه", "ە": "ه", "ھ": "ه", "ۃ": "ه",
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا", "ٵ": "ا",
    "ؤ": "و", "ٶ": "و",
    "ء": "", "ٴ": "", "ـ": "",  # hamza on its own line and tatweel carry no sound
    # Arabic punctuation to ASCII, so dates and lists split the same way in both scripts.
    "،": ",", "؛": ";", "؟": "?", "٪": "%", "٫": ".", "٬": ",", "۔": ".",
    # Letters of romanisation schemes that have no decomposition.
    "ʿ": "", "ʾ": "", "ʻ": "", "ʼ": "", "ø": "o", "ł": "l", "đ": "d", "ı": "i", "ħ": "h",
}

_ARABIC_RANGES = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff"
ARABIC_RE = re.compile(f"[{_ARABIC_RANGES}]")


def _build_tables() -> tuple[dict[int, str | None], dict[int, str]]:
    digits: dict[int, str] = {}
    table: dict[int, str | None] = {}
    for cp in (*range(0x20000), *range(0xE0000, 0xE01F0)):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat == "Nd":
            digits[cp] = str(unicodedata.decimal(ch))
        elif cat in ("Mn", "Me"):
            table[cp] = None
        elif cat == "Cf":
            # ZWNJ and the zero-width space separate words (نجیب‌الله = نجیب الله); the rest is invisible
            table[cp] = " " if ch in (ZWNJ, ZWSP) else None
        elif cat == "Co":  # private-use glyphs PDF copies leave for letters they could not map
            table[cp] = None
        elif cat in ("Cc", "Zs", "Zl", "Zp") and ch != " ":
            table[cp] = " "
    table.update(digits)
    for src, dst in _LETTERS.items():
        table[ord(src)] = dst or None
    # Canonical decompositions (é -> e + mark) and the compatibility forms people paste:
    # Arabic presentation forms (PDF copy-paste) and fullwidth ASCII.
    for cp in (*range(0xC0, 0x2000), *range(0x1E00, 0x1F00)):
        if cp in table or not unicodedata.decomposition(chr(cp)):
            continue
        if unicodedata.decomposition(chr(cp)).startswith("<"):
            continue
        table[cp] = unicodedata.normalize("NFD", chr(cp))
    for cp in (*range(0xFB50, 0xFE00), *range(0xFE70, 0xFF00), *range(0xFF01, 0xFF5F)):
        if cp not in table and unicodedata.decomposition(chr(cp)):
            value = unicodedata.normalize("NFKC", chr(cp))
            # The spacing forms of tanween, shadda and sukun (ﹰ ﹼ ﹾ, ﱞ…) are a space and a mark:
            # a stray one inside a name must vanish as the mark does, not split the name.
            table[cp] = None if not value.strip(_SPACING_MARK_JUNK) else value
    table[0xFE73] = None  # ARABIC TAIL FRAGMENT: a glyph piece, no letter
    # Resolve chains until every value is a fixed point of casefold + translate (idempotence).
    for cp, value in list(table.items()):
        if value is None:
            continue
        for _ in range(8):
            nxt = value.casefold().translate(table)
            if nxt == value:
                break
            value = nxt
        table[cp] = value or None
    return table, digits


_TABLE, _DIGITS = _build_tables()
# ASCII control characters other than whitespace: treated as spaces on the fast path too.
_ASCII_CTRL = {cp: " " for cp in (*range(0x20), 0x7F)}

_TAILS = (
    "الله|اله|الدین|الحق|الرحمن|الرحیم|الزمان|الاسلام|الکریم|الرشید|الامین|الملک|النسا|النبی|الدوله"
)
# Compounds have one canonical form: joined. "عبد الرحمن" = "عبدالرحمن", "نجیب‌الله" = "نجیبالله".
_JOIN_HEAD = re.compile(r"(?<!\S)(عبد|عبدال|ابو) (?=\S)")
_JOIN_TAIL = re.compile(rf"(?<=\S) ({_TAILS})(?!\S)")


def _tail(match: re.Match[str]) -> str:
    tail = match.group(1)
    return "الله" if tail == "اله" else tail


def fold(text: str) -> str:
    """Fold ``text`` to its same-script matching form.

    Digits become ASCII, letter variants fold by sound, diacritics, tatweel, bidi marks and
    private-use characters go, ZWNJ and the zero-width space become a space and compounds
    (عبد…, …الله, …الدین) are joined, whitespace collapses to single spaces, Latin is case-folded
    and loses its accents. Punctuation is kept.
    """
    text = require_text(text, "text")
    if text.isascii():
        return " ".join(text.translate(_ASCII_CTRL).lower().split())
    text = text.casefold().translate(_TABLE)
    if text and max(text) >= "\U000f0000":
        text = _PRIVATE_ASTRAL.sub("", text)
    return join_compounds(" ".join(text.split()))


def join_compounds(folded: str) -> str:
    """Join Arabic-script compounds in already folded, space-normalised text (عبد …, … الله)."""
    if " " in folded and ("عبد" in folded or "ابو" in folded or " ال" in folded):
        return _JOIN_TAIL.sub(_tail, _JOIN_HEAD.sub(r"\1", folded))
    return folded


def ascii_digits(text: str) -> str:
    """Replace every Unicode decimal digit (Persian, Arabic-Indic, fullwidth, …) by its ASCII digit."""
    text = require_text(text, "text")
    return text if text.isascii() else text.translate(_DIGITS)


def ascii_digits_array(text: pa.Array) -> pa.Array:
    """ascii_digits of each value: Persian and Arabic-Indic digits (two UTF-8 bytes each, the
    lead 0xDB or 0xD9, which is never a continuation byte) rewritten in the bytes by numpy; a
    value with any other non-ASCII character left goes through ascii_digits itself."""
    text = text.cast(pa.string())
    if len(text) == 0 or pc.all(pc.fill_null(pc.string_is_ascii(text), True)).as_py():
        return text
    if text.offset:  # a slice: its own buffers from 0
        text = pa.concat_arrays([text])
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[: len(text) + 1]
    data = np.frombuffer(text.buffers()[2], dtype=np.uint8)[: offsets[-1]]
    second = np.empty_like(data)
    second[:-1], second[-1:] = data[1:], 0
    lead = (((data == 0xDB) & (second >= 0xB0) & (second <= 0xB9))
            | ((data == 0xD9) & (second >= 0xA0) & (second <= 0xA9)))
    out = data.copy()
    at = np.flatnonzero(lead)
    out[at + 1] = 0x30 + (second[at] & 0x0F)  # ۰ is DB B0, ٠ is D9 A0: the low nibble is the digit
    keep = ~lead
    new_offsets = (offsets - np.searchsorted(at, offsets)).astype(np.int32)  # less the leads before each
    got = pa.StringArray.from_buffers(len(text), pa.py_buffer(new_offsets), pa.py_buffer(out[keep].tobytes()),
                                      text.buffers()[0], text.null_count)
    rest = np.flatnonzero(~pc.fill_null(pc.string_is_ascii(got), True).to_numpy(zero_copy_only=False))
    if not len(rest):
        return got
    slow = [ascii_digits(v) for v in text.take(pa.array(rest)).to_pylist()]
    mask = np.zeros(len(text), dtype=bool)
    mask[rest] = True
    return pc.replace_with_mask(got, pa.array(mask), pa.array(slow, pa.string()))


def is_perso_arabic(text: str) -> bool:
    """True if ``text`` contains any Arabic-script character."""
    return ARABIC_RE.search(require_text(text, "text")) is not None
