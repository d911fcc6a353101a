"""Same-script folding: Arabic, Persian and Pashto letter variants, digits, ZWNJ, whitespace.

Pashto letters are folded *by sound* (ګ→گ, ښ→ش, ږ→ژ, ځ→ز, څ→س), not by shape as hazm does
(ګ→ک, ښ→س, ږ→ر), because the same name is spelled with the Dari letter that sounds alike.

The work is one ``str.translate`` over a table built once at import (~20 ms): every Unicode decimal
digit becomes its ASCII digit, combining marks (harakat, accents) and format characters vanish,
presentation forms and accented Latin letters become their base letters. Table values are checked
to be fixed points, so ``fold`` is idempotent.
"""

from __future__ import annotations

import re
import unicodedata

from amanat.normalize.errors import require_text

__all__ = ["ARABIC_RE", "ascii_digits", "fold", "is_perso_arabic", "join_compounds"]

ZWNJ = "\u200c"

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
            table[cp] = " " if ch == ZWNJ else None
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
            table[cp] = unicodedata.normalize("NFKC", chr(cp))
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

    Digits become ASCII, letter variants fold by sound, diacritics, tatweel and bidi marks go,
    ZWNJ becomes a space and compounds (عبد…, …الله, …الدین) are joined, whitespace collapses
    to single spaces, Latin is case-folded and loses its accents. Punctuation is kept.
    """
    text = require_text(text, "text")
    if text.isascii():
        return " ".join(text.translate(_ASCII_CTRL).lower().split())
    return join_compounds(" ".join(text.casefold().translate(_TABLE).split()))


def join_compounds(folded: str) -> str:
    """Join Arabic-script compounds in already folded, space-normalised text (عبد …, … الله)."""
    if " " in folded and ("عبد" in folded or "ابو" in folded or " ال" in folded):
        return _JOIN_TAIL.sub(_tail, _JOIN_HEAD.sub(r"\1", folded))
    return folded


def ascii_digits(text: str) -> str:
    """Replace every Unicode decimal digit (Persian, Arabic-Indic, fullwidth, …) by its ASCII digit."""
    text = require_text(text, "text")
    return text if text.isascii() else text.translate(_DIGITS)


def is_perso_arabic(text: str) -> bool:
    """True if ``text`` contains any Arabic-script character."""
    return ARABIC_RE.search(require_text(text, "text")) is not None
