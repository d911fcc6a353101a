"""Script folding: letter variants by sound, digits, ZWNJ and compounds, diacritics, whitespace."""

from __future__ import annotations

import pytest

from amanat.normalize.errors import NormalizeError
from amanat.normalize.script import ascii_digits, fold, is_perso_arabic

FOLD_CASES = [
    # Pashto letters fold by sound, not by shape (hazm would give ک, س, ر).
    ("ګل", "گل"),
    ("ښاغلی", "شاغلی"),
    ("ږوند", "ژوند"),
    ("ځدران", "زدران"),
    ("څمکنی", "سمکنی"),
    ("ټوپک", "توپک"),
    ("ډګروال", "دگروال"),
    ("جګړن", "جگرن"),
    ("ننګرهار", "ننگرهار"),
    ("کونړ", "کونر"),
    ("لیندۍ", "لیندی"),
    ("زمرې", "زمری"),
    ("احمدزئ", "احمدزی"),
    # Arabic keyboard letters to Persian ones.
    ("علي", "علی"),
    ("مصطفى", "مصطفی"),
    ("كريم", "کریم"),
    ("فاطمة", "فاطمه"),
    ("خانۀ", "خانه"),
    ("أحمد", "احمد"),
    ("إبراهيم", "ابراهیم"),
    ("آمنه", "امنه"),
    ("مؤمن", "مومن"),
    # Diacritics, tatweel, hamza on its own.
    ("مُحَمَّد", "محمد"),
    ("محمّد", "محمد"),
    ("مـحـمـد", "محمد"),
    ("ضیاء", "ضیا"),
    # Presentation forms copied from PDFs.
    ("ﻣﺤﻤﺪ", "محمد"),
    ("ﻋﻠﯽ", "علی"),
    # Spacing forms of the harakat (ﹰ ﹸ ﹼ ﹾ, ﱞ) vanish as the marks do: they must not split a name.
    ("محﹼمد", "محمد"),
    ("عﹰلی", "علی"),
    ("مﹸحمد", "محمد"),
    ("محﱞمد", "محمد"),
    ("عبدالٌطيف", "عبدالطیف"),
    ("a\ufe73b", "ab"),
    # Private-use glyphs (unmapped PDF glyphs) vanish, in the BMP and the astral planes.
    ("محمد\ue000", "محمد"),
    ("مح\uf8ffمد", "محمد"),
    ("مح\U000f0041مد", "محمد"),
    ("Ahmad\U0010fffd", "ahmad"),
    # The zero-width space separates words, as ZWNJ does.
    ("Ahmad\u200bShah", "ahmad shah"),
    ("نجیب\u200bالله", "نجیبالله"),
    # The ﷲ ligature and lam-alef ligatures unfold.
    ("عبدﷲ", "عبدالله"),
    ("ﻏﻼم", "غلام"),
    # ZWNJ, space or nothing in compounds: one canonical joined form.
    ("نجیب\u200cالله", "نجیبالله"),
    ("نجیب الله", "نجیبالله"),
    ("نجیبالله", "نجیبالله"),
    ("نجیب اله", "نجیبالله"),
    ("عبد الرحمن", "عبدالرحمن"),
    ("عبدالرحمن", "عبدالرحمن"),
    ("شمس الدین", "شمسالدین"),
    ("ضیاء الحق", "ضیاالحق"),
    ("ابو بکر", "ابوبکر"),
    ("الله داد", "الله داد"),
    ("می\u200cخواهم", "می خواهم"),
    # Digits in every script become ASCII; nothing else about them changes.
    ("۱۳۹۲/۶/۱۵", "1392/6/15"),
    ("٢٠١٣-٠٩-٠٦", "2013-09-06"),
    ("０７９９", "0799"),
    ("۰۷۹۹ ۱۲۳ ۴۵۶", "0799 123 456"),
    # Latin: lower case, accents gone, whitespace collapsed.
    ("Mohammad  ḤASAN", "mohammad hasan"),
    ("ʿAbd al-Raḥmān", "abd al-rahman"),
    ("  Gul\tAhmad\n", "gul ahmad"),
    ("Yūsuf", "yusuf"),
    ("İsmail", "ismail"),
    # Bidi marks and other invisibles vanish.
    ("\u200fعلی\u200e", "علی"),
    ("\ufeffAhmad", "ahmad"),
    ("علی\u00a0احمد", "علی احمد"),
    ("", ""),
    ("   ", ""),
]


@pytest.mark.parametrize(("raw", "expected"), FOLD_CASES)
def test_fold(raw: str, expected: str) -> None:
    assert fold(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),
    ("٠١٢٣٤٥٦٧٨٩", "0123456789"),
    ("abc ۱۲", "abc 12"),
    ("१२", "12"),
    ("no digits", "no digits"),
])
def test_ascii_digits(raw: str, expected: str) -> None:
    assert ascii_digits(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("محمد", True), ("Mohammad", False), ("Gul ګل", True), ("ﻣﺤﻤﺪ", True), ("123", False), ("", False),
])
def test_is_perso_arabic(raw: str, expected: bool) -> None:
    assert is_perso_arabic(raw) is expected


def test_hazm_shape_folding_is_not_used() -> None:
    # The shape fold would make these collide with other letters; the sound fold keeps them apart.
    assert fold("ګ") != fold("ک")
    assert fold("ښ") != fold("س")
    assert fold("ږ") != fold("ر")


@pytest.mark.parametrize("fn", [fold, ascii_digits, is_perso_arabic])
def test_non_text_raises_own_error(fn) -> None:
    with pytest.raises(NormalizeError) as exc:
        fn(123)
    assert "expected text" in str(exc.value)
