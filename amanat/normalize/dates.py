"""Dates in the Solar Hijri and Gregorian calendars, full or partial, in three languages.

Accepted: ``1392``, ``۱۳۹۲/۶/۱۵``, ``1392-06``, ``15 Sunbula 1392``, ``15 سنبله ۱۳۹۲``, ``وږی ۱۳۹۲``,
``15 Shahrivar 1392``, ``2013-09-06``, ``6/9/2013``, ``Sep 2013``, ``September 6, 2013``,
with calendar markers (ه.ش, ش, میلادی, م, SH, AD) and ordinal suffixes.

Conventions (documented in docs/normalisation.md):

* Without a month name or marker, the year decides the calendar: 1200–1499 is Solar Hijri,
  1800–2199 Gregorian. A Lunar Hijri date is refused when marked (ه.ق); unmarked, it cannot be told
  from a Solar Hijri one.
* ``d/m/yyyy`` with both numbers ≤ 12 is read day-first (the Afghan, Iranian and British order), and
  flagged ``ambiguous`` with the month-first reading in ``alternatives``; a number over 12 settles it.
* A partial Solar Hijri date is given as the Gregorian year (or month) in which most of its days fall;
  ``year_range`` and ``date_range`` give the Gregorian span. 1392 → "2013" (21 Mar 2013–20 Mar 2014).
"""

from __future__ import annotations

import calendar as _cal
import datetime as _dt
import re
from dataclasses import dataclass
from functools import lru_cache

import jdatetime

from amanat.normalize.errors import NormalizeError, require_text
from amanat.normalize.script import fold

__all__ = ["DateNorm", "parse_date"]

SOLAR = "solar_hijri"
GREGORIAN = "gregorian"
_SH_YEARS = (1200, 1499)
_G_YEARS = (1800, 2199)

# Afghan (Dari, Pashto, Latin spellings) and Iranian month names, 1 = Hamal / Farvardin.
_SH_MONTHS: tuple[tuple[str, ...], ...] = (
    ("حمل", "وری", "hamal", "haml", "wray", "wrai", "فروردین", "farvardin", "farwardin"),
    ("ثور", "غویی", "غوایی", "sawr", "saur", "sor", "sour", "thawr", "sawur", "ghwayai", "ghwayay",
     "اردیبهشت", "ordibehesht", "ordibehesht", "urdibihisht"),
    ("جوزا", "غبرگولی", "jawza", "jauza", "jowza", "jawzaa", "jauzaa", "jouza", "jawzah", "ghbargolai",
     "خرداد", "khordad", "khurdad"),
    ("سرطان", "چنگاش", "saratan", "sartan", "chungash", "changakh", "تیر", "tir", "teer"),
    ("اسد", "زمری", "asad", "assad", "zmaray", "zmarai", "مرداد", "امرداد", "mordad", "amordad", "murdad"),
    ("سنبله", "وژی", "sunbula", "sonbola", "sunbulah", "sumbula", "sonbula", "sumbulah", "sunbola",
     "sonbolah", "sunbulla", "wagay", "wazhai", "شهریور", "shahrivar", "shahriwar", "shahrewar"),
    ("میزان", "تله", "mizan", "meezan", "tala", "tula", "مهر", "mehr", "mihr"),
    ("عقرب", "لرم", "aqrab", "akrab", "aqrap", "lram", "laram", "ابان", "aban"),
    ("قوس", "لیندی", "qaws", "qaus", "qous", "kaws", "qows", "lindai", "lindey", "اذر", "azar", "adhar",
     "azer"),
    ("جدی", "مرغومی", "jadi", "jaddi", "jadey", "jady", "jaddy", "marghumay", "marghomay", "دی", "dey",
     "dei"),
    ("دلو", "سلواغه", "dalw", "dalwa", "dalv", "dalu", "dalo", "salwagha", "بهمن", "bahman"),
    ("حوت", "کب", "hut", "hoot", "hout", "hoth", "kab", "اسفند", "esfand", "isfand", "esfend"),
)
_G_MONTHS: tuple[tuple[str, ...], ...] = (
    ("january", "jan", "جنوری", "ژانویه", "ژانویه"),
    ("february", "feb", "فبروری", "فوریه", "فیبروری"),
    ("march", "mar", "مارچ", "مارس"),
    ("april", "apr", "اپریل", "اوریل", "اپرل"),
    ("may", "می", "مه", "مئی"),
    ("june", "jun", "جون", "ژوئن", "ژون"),
    ("july", "jul", "جولای", "ژوییه", "ژویه", "جولایی"),
    ("august", "aug", "اگست", "اوت", "اگوست"),
    ("september", "sep", "sept", "سپتمبر", "سپتامبر"),
    ("october", "oct", "اکتوبر", "اکتبر"),
    ("november", "nov", "نومبر", "نوامبر"),
    ("december", "dec", "دسمبر", "دسامبر"),
)


def _month_index() -> dict[str, tuple[str, int]]:
    index: dict[str, tuple[str, int]] = {}
    for cal, table in ((SOLAR, _SH_MONTHS), (GREGORIAN, _G_MONTHS)):
        for i, names in enumerate(table, start=1):
            for name in names:
                index.setdefault(fold(name).replace(" ", ""), (cal, i))
    return index


_MONTHS = _month_index()
_SOLAR_MARKS = frozenset({"ش", "شمسی", "هش", "sh", "shamsi", "solar", "hs", "hsh", "s"})
_GREG_MARKS = frozenset({"م", "میلادی", "ad", "ce", "gregorian", "miladi", "g"})
_LUNAR_MARKS = frozenset({"ق", "قمری", "هق", "qamari", "lunar", "hq"})
_NOISE = frozenset({"ه", "هجری", "سال", "تاریخ", "ماه", "روز", "تولد", "سنه", "date", "year", "month", "day",
                    "of", "the", "born", "dob", "in", "on", "ah", "hijri", "h", "yr"})
_APPROX = frozenset({"حدود", "تقریبا", "about", "approx", "approximately", "circa", "ca", "c", "around"})
_TIME = re.compile(r"(?:(?<=\d)t)?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?")
_ORDINAL = re.compile(r"(?<=\d) ?(?:st|nd|rd|th|ام)(?![^\W\d_])")
_PARTS = re.compile(r"\d+|[^\W\d_]+")
_SIMPLE = re.compile(r"(\d{1,4})(?:[/.-](\d{1,2})(?:[/.-](\d{1,4}))?)?")


@dataclass(frozen=True, slots=True)
class DateNorm:
    """A parsed date. ``iso``, ``year``, ``month``, ``day`` are Gregorian; ``original_calendar_value``
    is the date as written, in its own calendar ("1392-06-15")."""

    iso: str
    precision: str
    calendar: str
    year: int
    month: int | None
    day: int | None
    original_calendar_value: str
    ambiguous: bool = False
    alternatives: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    year_range: tuple[int, int] | None = None
    date_range: tuple[str, str] | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "iso": self.iso, "precision": self.precision, "calendar": self.calendar, "year": self.year,
            "month": self.month, "day": self.day, "original_calendar_value": self.original_calendar_value,
            "ambiguous": self.ambiguous, "alternatives": list(self.alternatives), "reasons": list(self.reasons),
            "year_range": list(self.year_range) if self.year_range else None,
            "date_range": list(self.date_range) if self.date_range else None,
        }


def _fail(message: str) -> NormalizeError:
    return NormalizeError(f"date: {message}", field="date")


def _calendar_of_year(year: int, hint: str | None) -> str:
    if hint == SOLAR:
        if not _SH_YEARS[0] <= year <= _SH_YEARS[1]:
            raise _fail("the year is outside the supported Solar Hijri range 1200-1499")
        return SOLAR
    if hint == GREGORIAN:
        if not _G_YEARS[0] <= year <= _G_YEARS[1]:
            raise _fail("the year is outside the supported Gregorian range 1800-2199")
        return GREGORIAN
    if _SH_YEARS[0] <= year <= _SH_YEARS[1]:
        return SOLAR
    if _G_YEARS[0] <= year <= _G_YEARS[1]:
        return GREGORIAN
    raise _fail("the year is neither Solar Hijri (1200-1499) nor Gregorian (1800-2199)")


@lru_cache(maxsize=4096)
def _days_in(cal: str, year: int, month: int) -> int:
    if cal == GREGORIAN:
        return _cal.monthrange(year, month)[1]
    if month <= 6:
        return 31
    if month <= 11:
        return 30
    return 30 if jdatetime.date(year, 1, 1).isleap() else 29


def _check(cal: str, year: int, month: int | None, day: int | None) -> None:
    if month is not None and not 1 <= month <= 12:
        raise _fail(f"month {month} does not exist")
    if day is not None and month is not None:
        if day < 1:
            raise _fail("day 0 does not exist")
        last = _days_in(cal, year, month)
        if day > last:
            raise _fail(f"day {day} does not exist in that month (it has {last} days)")


@lru_cache(maxsize=65536)
def _to_gregorian(cal: str, y: int, m: int, d: int) -> _dt.date:
    if cal == GREGORIAN:
        return _dt.date(y, m, d)
    # jdatetime's converter without building a jdatetime.date (whose locale lookup dominates the cost).
    return _dt.date(*jdatetime.JalaliToGregorian(y, m, d).getGregorianList())


def _build(cal: str, y: int, m: int | None, d: int | None, reasons: list[str],
           alternatives: tuple[str, ...] = ()) -> DateNorm:
    if not reasons and not alternatives:
        return _build_plain(cal, y, m, d)
    return _make(cal, y, m, d, tuple(reasons), alternatives)


@lru_cache(maxsize=65536)
def _build_plain(cal: str, y: int, m: int | None, d: int | None) -> DateNorm:
    """The same date written differently (۱۳۶۵/۴/۱۲, 12 Saratan 1365, …) shares one result."""
    return _make(cal, y, m, d, (), ())


def _make(cal: str, y: int, m: int | None, d: int | None, reasons: tuple[str, ...],
          alternatives: tuple[str, ...]) -> DateNorm:
    _check(cal, y, m, d)
    original = f"{y:04d}" + (f"-{m:02d}" if m else "") + (f"-{d:02d}" if d else "")
    ambiguous = bool(alternatives)
    if m is not None and d is not None:
        g = _to_gregorian(cal, y, m, d)
        return DateNorm(g.isoformat(), "day", cal, g.year, g.month, g.day, original, ambiguous, alternatives,
                        reasons)
    if m is not None:
        first = _to_gregorian(cal, y, m, 1)
        last = _to_gregorian(cal, y, m, _days_in(cal, y, m))
        head = _cal.monthrange(first.year, first.month)[1] - first.day + 1
        main = first if first.month == last.month or head > last.day else last
        return DateNorm(f"{main.year:04d}-{main.month:02d}", "month", cal, main.year, main.month, None,
                        original, ambiguous, alternatives, reasons, (first.year, last.year),
                        (first.isoformat(), last.isoformat()))
    first = _to_gregorian(cal, y, 1, 1)
    last = _to_gregorian(cal, y, 12, _days_in(cal, y, 12))
    # A Solar Hijri year starts on 20/21 March, so most of it lies in the first Gregorian year.
    return DateNorm(f"{first.year:04d}", "year", cal, first.year, None, None, original, False, (),
                    reasons, (first.year, last.year), (first.isoformat(), last.isoformat()))


def _numeric(nums: list[str], hint: str | None, reasons: list[str]) -> DateNorm:
    if len(nums) == 1:
        n = nums[0]
        if len(n) == 4:
            y = int(n)
            return _build(_calendar_of_year(y, hint), y, None, None, reasons)
        if len(n) == 8 and n[:2] in ("12", "13", "14", "18", "19", "20", "21"):
            y, m, d = int(n[:4]), int(n[4:6]), int(n[6:])
            return _build(_calendar_of_year(y, hint), y, m, d, reasons)
        raise _fail("a lone number must be a four-digit year or eight digits YYYYMMDD")
    if len(nums) == 2:
        a, b = nums
        if len(a) == 4 and len(b) <= 2:
            y, m = int(a), int(b)
        elif len(b) == 4 and len(a) <= 2:
            y, m = int(b), int(a)
        else:
            raise _fail("two numbers must be a four-digit year and a month")
        return _build(_calendar_of_year(y, hint), y, m, None, reasons)
    if len(nums) != 3:
        raise _fail("too many numbers for a date")
    a, b, c = nums
    if len(a) == 4 and len(b) <= 2 and len(c) <= 2:
        y, m, d = int(a), int(b), int(c)
        return _build(_calendar_of_year(y, hint), y, m, d, reasons)
    if len(c) == 4 and len(a) <= 2 and len(b) <= 2:
        y, first, second = int(c), int(a), int(b)
        cal = _calendar_of_year(y, hint)
        if first > 12 and second > 12:
            raise _fail("neither of the first two numbers can be a month")
        if first > 12 or first == second:
            return _build(cal, y, second, first, reasons)
        if second > 12:
            reasons.append("date: read as month/day/year because the second number is over 12")
            return _build(cal, y, first, second, reasons)
        # Both could be the month: read day-first, report the other reading, never pick silently.
        try:
            alt = _build(cal, y, first, second, []).iso
        except NormalizeError:
            return _build(cal, y, second, first, reasons)
        reasons.append("date: day and month order is ambiguous; read as day/month")
        return _build(cal, y, second, first, reasons, (alt,))
    if all(len(x) <= 2 for x in nums):
        raise _fail("a two-digit year is ambiguous; write the year in full")
    raise _fail("the numbers do not form a date")


def _named(nums: list[str], cal: str, month: int, hint: str | None, reasons: list[str]) -> DateNorm:
    if hint is not None and hint != cal:
        raise _fail("the month name belongs to the other calendar")
    years = [n for n in nums if len(n) == 4]
    days = [n for n in nums if len(n) <= 2]
    if len(years) != 1 or len(days) > 1 or len(years) + len(days) != len(nums):
        raise _fail("a month name needs a four-digit year and at most a day")
    y = int(years[0])
    _calendar_of_year(y, cal)
    return _build(cal, y, month, int(days[0]) if days else None, reasons)


@lru_cache(maxsize=65536)
def _parse(raw: str, calendar: str | None) -> DateNorm:
    # Two cache levels: the raw text, then its folded form (۱۳۶۵/۴/۱۲ and 1365/4/12 are one entry).
    return _parse_folded(fold(raw), calendar)


@lru_cache(maxsize=65536)
def _parse_folded(text: str, calendar: str | None) -> DateNorm:
    simple = _SIMPLE.fullmatch(text)
    if simple is not None:  # the common all-numeric forms skip the word loop
        return _numeric([g for g in simple.groups() if g], calendar, [])
    if ":" in text:
        text = _TIME.sub(" ", text)
    text = _ORDINAL.sub("", text)
    parts = _PARTS.findall(text)
    if not parts:
        raise _fail("empty")
    hint = calendar
    reasons: list[str] = []
    nums: list[str] = []
    months: list[tuple[str, int]] = []
    for part in parts:
        if "0" <= part[0] <= "9":  # fold made every decimal digit ASCII; ² is not one
            nums.append(part)
            continue
        if part in _MONTHS:
            months.append(_MONTHS[part])
            continue
        mark = SOLAR if part in _SOLAR_MARKS else GREGORIAN if part in _GREG_MARKS else None
        if mark is not None:
            if calendar is not None and calendar != mark:
                reasons.append("date: the calendar marker disagrees with the calendar given; used the one given")
            elif hint is None:
                hint = mark
            continue
        if part in _LUNAR_MARKS:
            raise _fail("Lunar Hijri dates are not supported; convert to Solar Hijri or Gregorian")
        if part in _APPROX:
            reasons.append("date: marked as approximate")
            continue
        if part not in _NOISE:
            raise _fail("contains a word that is not a month name or calendar marker")
    if not nums:
        raise _fail("no year")
    if len(months) > 1:
        raise _fail("more than one month name")
    if months:
        return _named(nums, months[0][0], months[0][1], hint, reasons)
    return _numeric(nums, hint, reasons)


def parse_date(raw: str, *, calendar: str | None = None) -> DateNorm:
    """Parse a full or partial date; raise NormalizeError (without quoting the value) if impossible.

    ``calendar`` ("solar_hijri" or "gregorian") forces the calendar when the form says which one.
    """
    require_text(raw, "date")
    if calendar not in (None, SOLAR, GREGORIAN):
        raise _fail("calendar must be solar_hijri or gregorian")
    return _parse(raw, calendar)
