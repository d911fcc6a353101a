"""Dates: Solar Hijri (Afghan and Iranian month names) and Gregorian, full and partial."""

from __future__ import annotations

import pytest

from amanat.normalize.dates import parse_date
from amanat.normalize.errors import NormalizeError

# raw -> (iso, precision, calendar, original_calendar_value)
VALID = [
    ("1392", "2013", "year", "solar_hijri", "1392"),
    ("۱۳۹۲", "2013", "year", "solar_hijri", "1392"),
    ("۱۳۹۲ ه.ش", "2013", "year", "solar_hijri", "1392"),
    ("1360", "1981", "year", "solar_hijri", "1360"),
    ("2013", "2013", "year", "gregorian", "2013"),
    ("2013 م", "2013", "year", "gregorian", "2013"),
    ("۱۳۹۲/۶/۱۵", "2013-09-06", "day", "solar_hijri", "1392-06-15"),
    ("1392/06/15", "2013-09-06", "day", "solar_hijri", "1392-06-15"),
    ("1392-6-15", "2013-09-06", "day", "solar_hijri", "1392-06-15"),
    ("١٣٩٢/٦/١٥", "2013-09-06", "day", "solar_hijri", "1392-06-15"),
    ("15/6/1392", "2013-09-06", "day", "solar_hijri", "1392-06-15"),
    ("15 Sunbula 1392", "2013-09-06", "day", "solar_hijri", "1392-06-15"),
    ("15 Sonbola 1392", "2013-09-06", "day", "solar_hijri", "1392-06-15"),
    ("15 سنبله ۱۳۹۲", "2013-09-06", "day", "solar_hijri", "1392-06-15"),
    ("۱۵ سنبلهٔ ۱۳۹۲", "2013-09-06", "day", "solar_hijri", "1392-06-15"),
    ("۱۵ وږی ۱۳۹۲", "2013-09-06", "day", "solar_hijri", "1392-06-15"),
    ("15 Shahrivar 1392", "2013-09-06", "day", "solar_hijri", "1392-06-15"),
    ("۱۵ شهریور ۱۳۹۲", "2013-09-06", "day", "solar_hijri", "1392-06-15"),
    ("1392 Sunbula 15", "2013-09-06", "day", "solar_hijri", "1392-06-15"),
    ("15th Sunbula 1392", "2013-09-06", "day", "solar_hijri", "1392-06-15"),
    ("۱۵ ام سنبله ۱۳۹۲", "2013-09-06", "day", "solar_hijri", "1392-06-15"),
    ("1 Hamal 1400", "2021-03-21", "day", "solar_hijri", "1400-01-01"),
    ("1 حمل 1400", "2021-03-21", "day", "solar_hijri", "1400-01-01"),
    ("1 وری 1400", "2021-03-21", "day", "solar_hijri", "1400-01-01"),
    ("1 Farvardin 1400", "2021-03-21", "day", "solar_hijri", "1400-01-01"),
    ("24 Asad 1400", "2021-08-15", "day", "solar_hijri", "1400-05-24"),
    ("۲۴ اسد ۱۴۰۰", "2021-08-15", "day", "solar_hijri", "1400-05-24"),
    ("۲۴ زمری ۱۴۰۰", "2021-08-15", "day", "solar_hijri", "1400-05-24"),
    ("24 Mordad 1400", "2021-08-15", "day", "solar_hijri", "1400-05-24"),
    ("1 Sawr 1399", "2020-04-20", "day", "solar_hijri", "1399-02-01"),
    ("1 Jawza 1399", "2020-05-21", "day", "solar_hijri", "1399-03-01"),
    ("1 Saratan 1399", "2020-06-21", "day", "solar_hijri", "1399-04-01"),
    ("1 Mizan 1399", "2020-09-22", "day", "solar_hijri", "1399-07-01"),
    ("1 Aqrab 1399", "2020-10-22", "day", "solar_hijri", "1399-08-01"),
    ("1 Qaws 1399", "2020-11-21", "day", "solar_hijri", "1399-09-01"),
    ("1 Jadi 1399", "2020-12-21", "day", "solar_hijri", "1399-10-01"),
    ("1 Dalw 1399", "2021-01-20", "day", "solar_hijri", "1399-11-01"),
    ("1 Hut 1399", "2021-02-19", "day", "solar_hijri", "1399-12-01"),
    ("30 Hut 1399", "2021-03-20", "day", "solar_hijri", "1399-12-30"),
    ("1 مرغومی 1399", "2020-12-21", "day", "solar_hijri", "1399-10-01"),
    ("1 سلواغه 1399", "2021-01-20", "day", "solar_hijri", "1399-11-01"),
    ("1 کب 1399", "2021-02-19", "day", "solar_hijri", "1399-12-01"),
    ("1 لړم 1399", "2020-10-22", "day", "solar_hijri", "1399-08-01"),
    ("1 لیندۍ 1399", "2020-11-21", "day", "solar_hijri", "1399-09-01"),
    ("1 تله 1399", "2020-09-22", "day", "solar_hijri", "1399-07-01"),
    ("1 چنګاښ 1399", "2020-06-21", "day", "solar_hijri", "1399-04-01"),
    ("1 غبرګولی 1399", "2020-05-21", "day", "solar_hijri", "1399-03-01"),
    ("1 غویی 1399", "2020-04-20", "day", "solar_hijri", "1399-02-01"),
    ("1 Esfand 1399", "2021-02-19", "day", "solar_hijri", "1399-12-01"),
    ("Sunbula 1392", "2013-09", "month", "solar_hijri", "1392-06"),
    ("سنبله ۱۳۹۲", "2013-09", "month", "solar_hijri", "1392-06"),
    ("1392/6", "2013-09", "month", "solar_hijri", "1392-06"),
    ("6/1392", "2013-09", "month", "solar_hijri", "1392-06"),
    ("Hamal 1400", "2021-04", "month", "solar_hijri", "1400-01"),
    ("2013-09-06", "2013-09-06", "day", "gregorian", "2013-09-06"),
    ("۲۰۱۳-۰۹-۰۶", "2013-09-06", "day", "gregorian", "2013-09-06"),
    ("20130906", "2013-09-06", "day", "gregorian", "2013-09-06"),
    ("2013-09-06T10:30:00", "2013-09-06", "day", "gregorian", "2013-09-06"),
    ("13/9/2013", "2013-09-13", "day", "gregorian", "2013-09-13"),
    ("06.09.2013", "2013-09-06", "day", "gregorian", "2013-09-06"),
    ("6 September 2013", "2013-09-06", "day", "gregorian", "2013-09-06"),
    ("September 6th, 2013", "2013-09-06", "day", "gregorian", "2013-09-06"),
    ("6 Sep 2013", "2013-09-06", "day", "gregorian", "2013-09-06"),
    ("۶ سپتمبر ۲۰۱۳", "2013-09-06", "day", "gregorian", "2013-09-06"),
    ("۶ سپتامبر ۲۰۱۳", "2013-09-06", "day", "gregorian", "2013-09-06"),
    ("Sep 2013", "2013-09", "month", "gregorian", "2013-09"),
    ("2013-09", "2013-09", "month", "gregorian", "2013-09"),
    ("15 اگست 2021", "2021-08-15", "day", "gregorian", "2021-08-15"),
    ("29 Feb 2020", "2020-02-29", "day", "gregorian", "2020-02-29"),
    ("حدود ۱۳۶۰", "1981", "year", "solar_hijri", "1360"),
]


@pytest.mark.parametrize(("raw", "iso", "precision", "calendar", "original"), VALID)
def test_valid(raw: str, iso: str, precision: str, calendar: str, original: str) -> None:
    d = parse_date(raw)
    assert (d.iso, d.precision, d.calendar, d.original_calendar_value) == (iso, precision, calendar, original)
    assert d.year == int(iso[:4])
    assert d.month == (int(iso[5:7]) if precision != "year" else None)
    assert d.day == (int(iso[8:10]) if precision == "day" else None)


def test_solar_year_maps_to_the_gregorian_year_holding_most_of_it() -> None:
    d = parse_date("1392")
    assert d.year_range == (2013, 2014)
    assert d.date_range == ("2013-03-21", "2014-03-20")


def test_solar_month_range() -> None:
    d = parse_date("Sunbula 1392")
    assert d.date_range == ("2013-08-23", "2013-09-22")


@pytest.mark.parametrize(("raw", "iso", "alternative"), [
    ("6/9/2013", "2013-09-06", "2013-06-09"),
    ("1/2/2020", "2020-02-01", "2020-01-02"),
    ("5/6/1392", "2013-08-27", "2013-07-28"),
])
def test_ambiguous_day_month_is_reported(raw: str, iso: str, alternative: str) -> None:
    d = parse_date(raw)
    assert d.ambiguous
    assert d.iso == iso
    assert d.alternatives == (alternative,)
    assert any("ambiguous" in r for r in d.reasons)


@pytest.mark.parametrize("raw", ["13/9/2013", "9/9/2013", "2013-09-06", "15 Sunbula 1392"])
def test_unambiguous_is_not_flagged(raw: str) -> None:
    assert not parse_date(raw).ambiguous


def test_month_first_when_the_day_cannot_be_a_month() -> None:
    d = parse_date("9/13/2013")
    assert d.iso == "2013-09-13"
    assert any("month/day" in r for r in d.reasons)


INVALID = [
    ("1392/13/1", "month 13 does not exist"),
    ("1392/0/1", "month 0 does not exist"),
    ("1392/12/30", "day 30 does not exist"),
    ("1392/7/31", "day 31 does not exist"),
    ("31 Mizan 1392", "day 31 does not exist"),
    ("30 Feb 2013", "day 30 does not exist"),
    ("29 Feb 2019", "day 29 does not exist"),
    ("2013-09-31", "day 31 does not exist"),
    ("0/6/1392", "day 0 does not exist"),
    ("13/14/2013", "neither of the first two numbers can be a month"),
    ("92", "four-digit year"),
    ("15/6/92", "two-digit year"),
    ("1600", "neither Solar Hijri"),
    ("1392 ه.ق", "Lunar Hijri"),
    ("hello", "not a month name"),
    ("Sunbula", "no year"),
    ("15 Sunbula September 1392", "more than one month name"),
    ("15 Sunbula 2013", "outside the supported Solar Hijri range"),
    ("", "empty"),
    ("--", "empty"),
]


@pytest.mark.parametrize(("raw", "message"), INVALID)
def test_impossible_dates_rejected_with_reason(raw: str, message: str) -> None:
    with pytest.raises(NormalizeError) as exc:
        parse_date(raw)
    text = str(exc.value)
    assert text.startswith("date: ")
    assert message in text
    if len(raw) > 4:
        assert raw not in text  # the value itself never appears in the message


@pytest.mark.parametrize(("raw", "calendar", "iso"), [
    ("1392/6/15", "solar_hijri", "2013-09-06"),
    ("2013/9/6", "gregorian", "2013-09-06"),
    ("1392", "solar_hijri", "2013"),
])
def test_calendar_argument(raw: str, calendar: str, iso: str) -> None:
    assert parse_date(raw, calendar=calendar).iso == iso


@pytest.mark.parametrize(("raw", "calendar"), [("1392", "gregorian"), ("2013", "solar_hijri")])
def test_calendar_argument_conflict_rejected(raw: str, calendar: str) -> None:
    with pytest.raises(NormalizeError):
        parse_date(raw, calendar=calendar)


def test_bad_calendar_name() -> None:
    with pytest.raises(NormalizeError):
        parse_date("1392", calendar="lunar")


def test_roundtrip_through_iso_and_original() -> None:
    d = parse_date("۱۵ سنبله ۱۳۹۲")
    assert parse_date(d.iso, calendar="gregorian").iso == d.iso
    assert parse_date(d.original_calendar_value, calendar=d.calendar).iso == d.iso


def test_to_dict_is_json_ready() -> None:
    import json

    d = json.loads(json.dumps(parse_date("1392").to_dict()))
    assert d["year_range"] == [2013, 2014]
    assert d["alternatives"] == []
