"""Properties over arbitrary Unicode: every function is total (a value or NormalizeError), idempotent
where it should be, and never changes the value of a digit."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amanat.normalize.dates import parse_date
from amanat.normalize.errors import NormalizeError
from amanat.normalize.ids import normalize_passport, normalize_tazkira, paper_tazkira, parse_mrz
from amanat.normalize.names import name_variants, normalize_name
from amanat.normalize.phones import normalize_phone
from amanat.normalize.places import lookup_country, lookup_district, lookup_province
from amanat.normalize.ranks import lookup_rank, lookup_unit
from amanat.normalize.record import normalize_gender
from amanat.normalize.script import ascii_digits, fold, is_perso_arabic

# Characters that reach the interesting branches: Dari/Pashto letters, digits of three scripts,
# separators, ZWNJ, Latin, marks and presentation forms.
_ALPHABET = ("ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهیيكةۀأإآؤئءـًٌٍَُِّ"
             "ګښږځڅټډړڼېۍ۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩0123456789/-.:, \u200c\u200fabdhlmnrsuAHMPZ<ﻣﺤ")
TEXT = st.one_of(st.text(max_size=60), st.text(alphabet=_ALPHABET, max_size=40))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _digits_in(text: str) -> list[int]:
    return [unicodedata.decimal(c) for c in text if unicodedata.category(c) == "Nd"]


def _ascii_digits_in(text: str) -> list[int]:
    return [int(c) for c in text if c in "0123456789"]


def _is_subsequence(small: list[int], big: list[int]) -> bool:
    it = iter(big)
    return all(any(x == y for y in it) for x in small)


FUNCTIONS: list[Callable[[str], object]] = [
    fold, ascii_digits, is_perso_arabic, normalize_name, name_variants, parse_date, normalize_tazkira,
    normalize_passport, parse_mrz, normalize_phone, lookup_province, lookup_district, lookup_country,
    lookup_rank, lookup_unit, normalize_gender, lambda s: paper_tazkira(s, s, s),
]


@pytest.mark.parametrize("fn", FUNCTIONS)
@SETTINGS
@given(text=TEXT)
def test_total(fn: Callable[[str], object], text: str) -> None:
    try:
        result = fn(text)
    except NormalizeError as exc:
        message = exc.public_message
        assert message and ": " in message
        if len(text.strip()) >= 8:
            assert text.strip() not in message  # personal data never echoed in an error
        return
    to_dict = getattr(result, "to_dict", None)
    if to_dict is not None:
        assert isinstance(to_dict(), dict)


@SETTINGS
@given(text=TEXT)
def test_fold_idempotent_and_digits_kept(text: str) -> None:
    once = fold(text)
    assert fold(once) == once
    assert _ascii_digits_in(once) == _digits_in(text)
    assert ascii_digits(ascii_digits(text)) == ascii_digits(text)
    assert _ascii_digits_in(ascii_digits(text)) == _digits_in(text)


@SETTINGS
@given(text=TEXT)
def test_name_keys_idempotent(text: str) -> None:
    n = normalize_name(text)
    again = normalize_name(n.folded)
    assert again.folded == n.folded
    assert again.phonetic == n.phonetic
    assert _is_subsequence(_ascii_digits_in(n.folded), _digits_in(text))


@SETTINGS
@given(text=TEXT)
def test_date_idempotent_and_digits_kept(text: str) -> None:
    try:
        d = parse_date(text)
    except NormalizeError:
        return
    assert parse_date(d.iso, calendar="gregorian").iso == d.iso
    assert parse_date(d.original_calendar_value, calendar=d.calendar).iso == d.iso
    written = {int("".join(map(str, g))) for g in _digit_runs(text)}
    assert {int(x) for x in d.original_calendar_value.split("-")} <= written | _compact_parts(text)


def _digit_runs(text: str) -> list[list[int]]:
    runs: list[list[int]] = [[]]
    for c in text:
        if unicodedata.category(c) == "Nd":
            runs[-1].append(unicodedata.decimal(c))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _compact_parts(text: str) -> set[int]:
    # YYYYMMDD written as one number.
    out: set[int] = set()
    for run in _digit_runs(text):
        if len(run) == 8:
            s = "".join(map(str, run))
            out |= {int(s[:4]), int(s[4:6]), int(s[6:])}
    return out


@SETTINGS
@given(text=TEXT)
def test_id_values_idempotent_and_digits_kept(text: str) -> None:
    for fn in (normalize_tazkira, normalize_passport):
        try:
            first = fn(text)
        except NormalizeError:
            continue
        if first.valid:
            assert fn(first.value).value == first.value
        if first.kind in ("e_tazkira", "passport"):  # every digit kept, in order, with its value
            assert _ascii_digits_in(first.value) == _digits_in(text)


@SETTINGS
@given(text=TEXT)
def test_phone_idempotent_and_digits_kept(text: str) -> None:
    try:
        p = normalize_phone(text)
    except NormalizeError:
        return
    if p.valid and p.e164:
        assert normalize_phone(p.e164).e164 == p.e164
        if not any(c.isalpha() for c in text):
            national = p.e164.lstrip("+")
            digits = "".join(map(str, _digits_in(text)))
            assert any(national[i:] and digits.endswith(national[i:]) for i in range(1, 4))
