"""Identity documents: e-tazkira, paper tazkira, passport numbers, TD3 MRZ."""

from __future__ import annotations

import pytest
from mrz.checker.td3 import TD3CodeChecker
from mrz.generator.td3 import TD3CodeGenerator

from amanat.normalize.errors import NormalizeError
from amanat.normalize.ids import normalize_passport, normalize_tazkira, paper_tazkira, parse_mrz

TAZKIRA = [
    ("1399-0123-45678", "1399-0123-45678", "e_tazkira", True),
    ("139901234567 8", "1399-0123-45678", "e_tazkira", True),
    ("1399012345678", "1399-0123-45678", "e_tazkira", True),
    ("1399 0123 45678", "1399-0123-45678", "e_tazkira", True),
    ("۱۳۹۹-۰۱۲۳-۴۵۶۷۸", "1399-0123-45678", "e_tazkira", True),
    ("١٣٩٩٠١٢٣٤٥٦٧٨", "1399-0123-45678", "e_tazkira", True),
    ("تذکره: ۱۳۹۹-۰۱۲۳-۴۵۶۷۸", "1399-0123-45678", "e_tazkira", True),
    ("Tazkira 1400-1234-56789", "1400-1234-56789", "e_tazkira", True),
    ("139901234567", "139901234567", "e_tazkira", False),
    ("13990123456789", "13990123456789", "e_tazkira", False),
    ("جلد ۱۲ صفحه ۳۴ ثبت ۵۶۷", "paper:12/34/567", "paper_tazkira", True),
    ("جلد 12، صفحه 34، ثبت 567", "paper:12/34/567", "paper_tazkira", True),
    ("ج ۱۲ ص ۳۴ ث ۵۶۷", "paper:12/34/567", "paper_tazkira", True),
    ("Vol 12 Page 34 No 567", "paper:12/34/567", "paper_tazkira", True),
    ("volume: 012, page: 034, record: 0567", "paper:12/34/567", "paper_tazkira", True),
    ("12/34/567", "paper:12/34/567", "paper_tazkira", True),
    ("۱۲/۳۴/۵۶۷", "paper:12/34/567", "paper_tazkira", True),
    ("جلد ۱۲ صفحه ۳۴", "paper:12/34/", "paper_tazkira", False),
    ("صفحه ۳۴ ثبت ۵۶۷", "paper:/34/567", "paper_tazkira", False),
    ("جلد 0 صفحه 34 ثبت 567", "paper:0/34/567", "paper_tazkira", False),
]


@pytest.mark.parametrize(("raw", "value", "kind", "valid"), TAZKIRA)
def test_tazkira(raw: str, value: str, kind: str, valid: bool) -> None:
    t = normalize_tazkira(raw)
    assert (t.value, t.kind, t.valid) == (value, kind, valid)
    assert t.valid == (not t.reasons) or t.kind == "paper_tazkira"


def test_tazkira_wrong_length_says_how_many_digits() -> None:
    t = normalize_tazkira("139901234567")
    assert t.reasons == ("tazkira: an e-tazkira number has 13 digits, not 12",)


@pytest.mark.parametrize("raw", ["", "abc", "جلد", "-- --"])
def test_tazkira_without_digits_raises(raw: str) -> None:
    with pytest.raises(NormalizeError):
        normalize_tazkira(raw)


@pytest.mark.parametrize(("volume", "page", "record", "value", "valid"), [
    ("12", "34", "567", "paper:12/34/567", True),
    ("۱۲", "۳۴", "۵۶۷", "paper:12/34/567", True),
    ("جلد ۱۲", "ص ۳۴", "۵۶۷", "paper:12/34/567", True),
    ("12", None, "567", "paper:12//567", False),
    ("12", "34 35", "567", "paper:12/34/567", False),
])
def test_paper_tazkira_fields(volume: str, page: str | None, record: str, value: str, valid: bool) -> None:
    t = paper_tazkira(volume, page, record)
    assert (t.value, t.valid) == (value, valid)


PASSPORTS = [
    ("P01234567", "P01234567", True),
    ("p01234567", "P01234567", True),
    ("P 0123 4567", "P01234567", True),
    ("P-0123-4567", "P01234567", True),
    ("OA123456", "OA123456", True),
    ("oa-123456", "OA123456", True),
    ("P۰۱۲۳۴۵۶۷", "P01234567", True),
    ("AB1234567", "AB1234567", True),
    ("123456", "123456", True),
    ("12", "12", False),
    ("P0123456789", "P0123456789", False),
    ("ABCDEFGH", "ABCDEFGH", False),
    ("پ۰۱۲۳۴۵۶۷", "پ01234567", False),
    ("P0123#567", "P0123#567", False),
]


@pytest.mark.parametrize(("raw", "value", "valid"), PASSPORTS)
def test_passport(raw: str, value: str, valid: bool) -> None:
    p = normalize_passport(raw)
    assert (p.value, p.valid, p.kind) == (value, valid, "passport")
    assert bool(p.reasons) != valid


def _mrz(number: str = "P01234567", birth: str = "850615", sex: str = "M", expiry: str = "300101",
         personal: str = "") -> str:
    return str(TD3CodeGenerator("P", "AFG", "Ahmadzai", "Mohammad Nabi", number, "AFG", birth, sex, expiry, personal))


def _swap(mrz: str, line: int, pos: int, char: str) -> str:
    lines = mrz.split("\n")
    lines[line] = lines[line][:pos] + char + lines[line][pos + 1:]
    return "\n".join(lines)


def test_mrz_fields() -> None:
    m = parse_mrz(_mrz())
    assert m.valid
    assert (m.surname, m.given_names, m.number, m.nationality, m.issuing_country) == (
        "AHMADZAI", "MOHAMMAD NABI", "P01234567", "AFG", "AFG")
    assert (m.birth_date, m.expiry_date, m.sex) == ("1985-06-15", "2030-01-01", "m")
    assert m.passport is not None and m.passport.value == "P01234567"
    assert dict(m.checks) == {"number": True, "birth_date": True, "expiry_date": True, "personal_number": True,
                              "composite": True}


@pytest.mark.parametrize(("line", "pos", "char", "failing"), [
    (1, 9, "0", {"number", "composite"}),       # document number check digit
    (1, 3, "9", {"number", "composite"}),       # a digit of the number itself
    (1, 19, "0", {"birth_date", "composite"}),
    (1, 15, "1", {"birth_date", "composite"}),
    (1, 27, "0", {"expiry_date", "composite"}),
    (1, 43, "0", {"composite"}),
])
def test_mrz_check_digits(line: int, pos: int, char: str, failing: set[str]) -> None:
    good = _mrz()
    bad = _swap(good, line, pos, char)
    if bad == good:
        bad = _swap(good, line, pos, "2")
    m = parse_mrz(bad)
    assert not m.valid
    assert {name for name, ok in m.checks if not ok} == failing


@pytest.mark.parametrize("mrz", [
    _mrz(), _mrz("X1234567", "010203", "F", "281231", "AB12345"), _mrz(birth="991231"),
    _swap(_mrz(), 1, 9, "0"), _swap(_mrz(), 1, 43, "1"), _swap(_mrz(), 1, 20, "Q"), _swap(_mrz(), 0, 2, "Z"),
])
def test_mrz_verdict_matches_the_mrz_package(mrz: str) -> None:
    ours = parse_mrz(mrz)
    theirs = TD3CodeChecker(mrz)
    hashes = {"number": theirs.document_number_hash, "birth_date": theirs.birth_date_hash,
              "expiry_date": theirs.expiry_date_hash, "personal_number": theirs.optional_data_hash,
              "composite": theirs.final_hash}
    assert dict(ours.checks) == hashes
    assert ours.valid == bool(theirs)


@pytest.mark.parametrize("transform", [
    lambda m: m.replace("\n", ""),                 # 88 characters on one line
    lambda m: m.lower(),                           # typed in lower case
    lambda m: m.replace("<", "«"),                 # OCR fillers
    lambda m: "  " + m.replace("\n", " \r\n ") + "\n",
])
def test_mrz_input_forms(transform) -> None:
    assert parse_mrz(transform(_mrz())).valid


@pytest.mark.parametrize(("raw", "message"), [
    ("P<AFG", "2 lines, found 1"),
    ("P<AFGAHMADZAI<<MOHAMMAD\nP012345673AFG", "line 1 has 23 characters"),
    ("P<AFG" + "Ä" * 39 + "\n" + "<" * 44, "characters other than"),
])
def test_mrz_malformed(raw: str, message: str) -> None:
    with pytest.raises(NormalizeError) as exc:
        parse_mrz(raw)
    assert message in str(exc.value)
    assert "AHMADZAI" not in str(exc.value)
