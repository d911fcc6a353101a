"""Cells that a spreadsheet would run as a formula ("CSV injection") are escaped on the way out."""

from __future__ import annotations

# Excel, LibreOffice and Google Sheets start a formula on these; the fullwidth forms are folded to
# ASCII by some of them, so they are treated the same.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def escape_formula(value: object) -> object:
    """Prefix a text cell that would start a formula with an apostrophe; other values pass through.

    Numbers stay numbers (a negative number is not a formula); only text is escaped.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
