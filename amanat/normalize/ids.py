"""Identity documents: e-tazkira, paper tazkira, passport numbers, passport MRZ (ICAO 9303 TD3).

MRZ check digits are computed with the mrz package's ICAO function (``hash_string``) and its
country-code table; the tests hold our verdicts to ``mrz.checker.td3.TD3CodeChecker``'s, which is
~100x slower per call because it re-parses dates with strptime.

e-Tazkira numbers are 13 digits, usually written ``NNNN-NNNN-NNNNN``. No checksum is published, so
the check is the digit count only (lenient on purpose). A paper tazkira is referenced by volume
(جلد), page (صفحه) and record (ثبت): ``paper:12/34/567``.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from functools import lru_cache

from mrz.base.countries_ops import is_code
from mrz.base.functions import hash_string

from amanat.normalize.errors import NormalizeError, require_text
from amanat.normalize.script import ARABIC_RE, ascii_digits, fold

__all__ = ["IdNorm", "MrzNorm", "normalize_passport", "normalize_tazkira", "paper_tazkira", "parse_mrz"]

E_TAZKIRA = "e_tazkira"
PAPER_TAZKIRA = "paper_tazkira"
PASSPORT = "passport"

_VOLUME = frozenset({"جلد", "ج", "vol", "volume", "v", "jild", "jeld", "book"})
_PAGE = frozenset({"صفحه", "ص", "page", "p", "pg", "pp", "safha", "safa", "safhe"})
_RECORD = frozenset({"ثبت", "ث", "record", "rec", "reg", "registration", "no", "nr", "number", "num", "sabt",
                     "r", "شماره", "نمبر"})
_IGNORED = frozenset({"تذکره", "تذکرہ", "tazkira", "tazkera", "tazkereh", "taskira", "تذکیره", "نمره",
                      "عمومی", "general", "id", "nid", "national", "paper", "کاغذی", "ورقی"})
_PARTS = re.compile(r"\d+|[^\W\d_]+")
_PASSPORT_SEPARATORS = re.compile(r"[\s\-./_]+")
_PASSPORT_CHARS = re.compile(r"[A-Z0-9]+")
_MRZ_FILLERS = str.maketrans({"«": "<", "‹": "<", "＜": "<", "〈": "<"})


@dataclass(frozen=True, slots=True)
class IdNorm:
    """A normalised identifier: ``value`` is what gets blind-indexed, ``valid`` the verdict."""

    value: str
    kind: str
    valid: bool
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"value": self.value, "kind": self.kind, "valid": self.valid, "reasons": list(self.reasons)}


def _paper(volume: str | None, page: str | None, record: str | None, reasons: list[str]) -> IdNorm:
    parts = [volume, page, record]
    missing = [name for name, v in zip(("volume", "page", "record"), parts, strict=True) if not v]
    value = "paper:" + "/".join(str(int(v)) if v else "" for v in parts)
    if missing:
        reasons.append("tazkira: paper tazkira lacks its " + " and ".join(missing))
    elif any(int(v) == 0 for v in parts if v):
        reasons.append("tazkira: a paper tazkira number cannot be zero")
    return IdNorm(value, PAPER_TAZKIRA, not reasons, tuple(reasons))


def paper_tazkira(volume: str | None, page: str | None, record: str | None) -> IdNorm:
    """A paper tazkira from the form's separate volume / page / record fields."""
    if volume and page and record and isinstance(volume, str) and isinstance(page, str) and isinstance(record, str):
        v, p, r = ascii_digits(volume).strip(), ascii_digits(page).strip(), ascii_digits(record).strip()
        if (v + p + r).isascii() and v.isdigit() and p.isdigit() and r.isdigit():  # three plain numbers
            iv, ip, ir = int(v), int(p), int(r)
            if iv and ip and ir:
                return IdNorm(f"paper:{iv}/{ip}/{ir}", PAPER_TAZKIRA, True)
    digits: list[str | None] = []
    reasons: list[str] = []
    for name, raw in (("volume", volume), ("page", page), ("record", record)):
        if raw is None or not require_text(raw, "tazkira").strip():
            digits.append(None)
            continue
        raw = ascii_digits(raw).strip()
        if raw.isascii() and raw.isdigit():
            digits.append(raw)
            continue
        found = re.findall(r"[0-9]+", raw)
        if len(found) != 1:
            reasons.append(f"tazkira: the {name} should be one number")
        digits.append(found[0] if found else None)
    if all(d is None for d in digits) and not reasons:
        raise NormalizeError("tazkira: empty", field="tazkira")
    return _paper(*digits, reasons=reasons)


def _e_tazkira(digits: str, reasons: list[str]) -> IdNorm:
    if len(digits) != 13:
        reasons.append(f"tazkira: an e-tazkira number has 13 digits, not {len(digits)}")
        return IdNorm(digits, E_TAZKIRA, False, tuple(reasons))
    return IdNorm(f"{digits[:4]}-{digits[4:8]}-{digits[8:]}", E_TAZKIRA, not reasons, tuple(reasons))


_E_TAZKIRA_FAST = re.compile(r"([0-9]{4})[- ]?([0-9]{4})[- ]?([0-9]{5})")
_PASSPORT_FAST = re.compile(r"[A-Z]{1,2}[0-9]{6,8}")


@lru_cache(maxsize=2048)  # mostly one value per person: a small cache, less to keep
def _tazkira(raw: str) -> IdNorm:
    fast = _E_TAZKIRA_FAST.fullmatch(ascii_digits(raw).strip())
    if fast is not None:  # the usual NNNN-NNNN-NNNNN, with or without separators
        return IdNorm("-".join(fast.groups()), E_TAZKIRA, True)
    parts = _PARTS.findall(fold(raw))
    nums = [p for p in parts if "0" <= p[0] <= "9"]
    if not nums:
        raise NormalizeError("tazkira: no digits", field="tazkira")
    slots: dict[str, str] = {}
    current: str | None = None
    keyworded = False
    reasons: list[str] = []
    for part in parts:
        if "0" <= part[0] <= "9":
            if current is not None and current not in slots:
                slots[current] = part
            current = None
        elif part in _VOLUME:
            current, keyworded = "volume", True
        elif part in _PAGE:
            current, keyworded = "page", True
        elif part in _RECORD:
            current, keyworded = "record", True
        elif part not in _IGNORED:
            reasons.append("tazkira: contains letters that are not part of a tazkira reference")
    if keyworded:
        return _paper(slots.get("volume"), slots.get("page"), slots.get("record"), reasons)
    digits = "".join(nums)
    if len(nums) == 3 and len(digits) < 13 and all(len(n) <= 6 for n in nums):
        reasons.append("tazkira: read as paper tazkira volume/page/record")
        note = reasons.pop()
        result = _paper(nums[0], nums[1], nums[2], reasons)
        return IdNorm(result.value, result.kind, result.valid, (*result.reasons, note))
    return _e_tazkira(digits, reasons)


def normalize_tazkira(raw: str) -> IdNorm:
    """An e-tazkira number (13 digits → ``NNNN-NNNN-NNNNN``) or a paper tazkira reference."""
    return _tazkira(require_text(raw, "tazkira"))


@lru_cache(maxsize=2048)  # mostly one value per person: a small cache, less to keep
def _passport(raw: str) -> IdNorm:
    if _PASSPORT_FAST.fullmatch(raw):
        return IdNorm(raw, PASSPORT, True)
    text = _PASSPORT_SEPARATORS.sub("", ascii_digits(raw)).upper()
    if not text:
        raise NormalizeError("passport: empty", field="passport")
    reasons: list[str] = []
    if ARABIC_RE.search(text):
        reasons.append("passport: contains Arabic-script letters; passport numbers use Latin letters and digits")
    elif not _PASSPORT_CHARS.fullmatch(text):
        reasons.append("passport: contains characters other than Latin letters and digits")
    if not any("0" <= c <= "9" for c in text):
        reasons.append("passport: contains no digits")
    if not 6 <= len(text) <= 9:
        reasons.append(f"passport: has {len(text)} characters; passport numbers have 6 to 9")
    return IdNorm(text, PASSPORT, not reasons, tuple(reasons))


def normalize_passport(raw: str) -> IdNorm:
    """Upper-case, separators removed, Persian digits to ASCII; 6–9 Latin letters and digits."""
    return _passport(require_text(raw, "passport"))


@dataclass(frozen=True, slots=True)
class MrzNorm:
    """A parsed TD3 MRZ. ``checks`` holds each check digit's verdict; ``valid`` is all of them."""

    valid: bool
    document_type: str
    issuing_country: str
    surname: str
    given_names: str
    number: str
    nationality: str
    birth_date: str | None
    sex: str | None
    expiry_date: str | None
    personal_number: str
    checks: tuple[tuple[str, bool], ...] = ()
    reasons: tuple[str, ...] = ()
    passport: IdNorm | None = field(default=None)

    def to_dict(self) -> dict[str, object]:
        return {
            "valid": self.valid, "document_type": self.document_type, "issuing_country": self.issuing_country,
            "surname": self.surname, "given_names": self.given_names, "number": self.number,
            "nationality": self.nationality, "birth_date": self.birth_date, "sex": self.sex,
            "expiry_date": self.expiry_date, "personal_number": self.personal_number,
            "checks": dict(self.checks), "reasons": list(self.reasons),
            "passport": self.passport.to_dict() if self.passport else None,
        }


_CHECK_LABELS = {"number": "document number", "birth_date": "birth date", "expiry_date": "expiry date",
                 "personal_number": "personal number", "composite": "composite (final)"}


def _check_digit(data: str, digit: str) -> bool:
    """ICAO 9303 check digit (7-3-1 weights) as the mrz package computes it."""
    return hash_string(data) == digit


def _td3_checks(line2: str) -> tuple[tuple[str, bool], ...]:
    personal, personal_digit = line2[28:42], line2[42]
    personal_ok = (personal_digit in "<0" and set(personal) == {"<"}) or _check_digit(personal, personal_digit)
    return (
        ("number", _check_digit(line2[0:9], line2[9])),
        ("birth_date", _check_digit(line2[13:19], line2[19])),
        ("expiry_date", _check_digit(line2[21:27], line2[27])),
        ("personal_number", personal_ok),
        ("composite", _check_digit(line2[0:10] + line2[13:20] + line2[21:43], line2[43])),
    )


def _td3_fields(line1: str, line2: str, birth: str | None, expiry: str | None) -> list[str]:
    reasons = []
    if line1[0] != "P":
        reasons.append("mrz: the document type is not a passport (P)")
    if not is_code(line1[2:5].replace("<", "")):
        reasons.append("mrz: the issuing country code is unknown")
    if not is_code(line2[10:13].replace("<", "")):
        reasons.append("mrz: the nationality code is unknown")
    names = line1[5:].rstrip("<")
    if not names or any(c.isdigit() for c in names):
        reasons.append("mrz: the name field is malformed")
    if line2[0] == "<":
        reasons.append("mrz: the document number is malformed")
    if birth is None:
        reasons.append("mrz: the birth date is not a real date")
    if expiry is None:
        reasons.append("mrz: the expiry date is not a real date")
    if birth and expiry and expiry <= birth:
        reasons.append("mrz: the expiry date is before the birth date")
    if line2[20] not in "MFX<":
        reasons.append("mrz: the sex field must be M, F, X or <")
    return reasons


def _mrz_lines(raw: str) -> tuple[str, str]:
    text = ascii_digits(raw).translate(_MRZ_FILLERS).upper()
    lines = [re.sub(r"\s+", "", line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    if len(lines) == 1 and len(lines[0]) == 88:
        lines = [lines[0][:44], lines[0][44:]]
    if len(lines) != 2:
        raise NormalizeError(f"mrz: a passport MRZ has 2 lines, found {len(lines)}", field="mrz")
    for i, line in enumerate(lines, start=1):
        if len(line) != 44:
            raise NormalizeError(f"mrz: line {i} has {len(line)} characters, expected 44", field="mrz")
        if not re.fullmatch(r"[A-Z0-9<]{44}", line):
            raise NormalizeError(f"mrz: line {i} contains characters other than A-Z, 0-9 and <", field="mrz")
    return lines[0], lines[1]


def _mrz_date(yymmdd: str, *, future: bool) -> str | None:
    if not yymmdd.isdigit():
        return None
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    this_year = _dt.date.today().year % 100
    # Birth dates are in the past; expiry dates up to a decade or so ahead.
    century = 2000 if (yy <= this_year + 20 if future else yy <= this_year) else 1900
    try:
        return _dt.date(century + yy, mm, dd).isoformat()
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _mrz(raw: str) -> MrzNorm:
    line1, line2 = _mrz_lines(raw)
    names = line1[5:].rstrip("<").split("<<", 1)
    surname = names[0].replace("<", " ").strip()
    given = names[1].replace("<", " ").strip() if len(names) > 1 else ""
    number = line2[0:9].replace("<", "")
    birth = _mrz_date(line2[13:19], future=False)
    expiry = _mrz_date(line2[21:27], future=True)
    checks = _td3_checks(line2)
    reasons = [f"mrz: the {_CHECK_LABELS[name]} check digit is wrong" for name, ok in checks if not ok]
    reasons += _td3_fields(line1, line2, birth, expiry)
    sex = {"M": "m", "F": "f", "<": "x", "X": "x"}.get(line2[20])
    passport = _passport(number) if number else None
    return MrzNorm(not reasons, line1[:2].replace("<", ""), line1[2:5].replace("<", ""), surname, given,
                   number, line2[10:13].replace("<", ""), birth, sex, expiry, line2[28:42].replace("<", ""),
                   checks, tuple(reasons), passport)


def parse_mrz(raw: str) -> MrzNorm:
    """Parse a two-line TD3 MRZ (or its 88 characters on one line) and verify its check digits."""
    return _mrz(require_text(raw, "mrz"))
