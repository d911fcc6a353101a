"""Dates that cannot be true are found: unreadable, in the future, a service that ends before it began or
begins before the birth. Partial dates are wrong only where every day they can mean is wrong."""

from __future__ import annotations

import datetime as dt

import pytest

from amanat.forms.spec import load_form
from amanat.forms.validate import validate_submission
from amanat.normalize.date_checks import DateProblem, check_dates

TODAY = dt.date(2026, 12, 7)


@pytest.mark.parametrize("raw", ["abc", "1365/13/40", "1365/12/31", "31/2/2001", "65"])
def test_unreadable_dates(raw: str) -> None:
    assert check_dates({"date_of_birth": raw}, today=TODAY) == {"date_of_birth": DateProblem.UNREADABLE}


@pytest.mark.parametrize("raw", ["2035", "2027-01-01", "1406", "۱۴۰۶/۱/۱"])
def test_dates_in_the_future(raw: str) -> None:
    assert check_dates({"date_of_birth": raw}, today=TODAY) == {"date_of_birth": DateProblem.IN_FUTURE}


@pytest.mark.parametrize("raw", ["1365", "۱۳۶۵/۴/۱۲", "2026-12-07", "1405", "Sep 1986", "15 سنبله ۱۳۶۵"])
def test_possible_dates_pass(raw: str) -> None:
    assert check_dates({"date_of_birth": raw, "refuge_entry_date": "1405"}, today=TODAY) == {}
    assert check_dates({"date_of_birth": "1360", "service_start": raw, "service_end": "2026-12-07"}, today=TODAY) == {}


def test_service_that_ends_before_it_began() -> None:
    problems = check_dates({"service_start": "1395/1/1", "service_end": "1390"}, today=TODAY)
    assert problems == {"service_end": DateProblem.ENDS_BEFORE_START}
    # the same year on both sides can be in order
    assert check_dates({"service_start": "1395/6/1", "service_end": "1395"}, today=TODAY) == {}


def test_service_before_birth() -> None:
    problems = check_dates({"date_of_birth": "1370", "service_start": "1360", "service_end": "1399"}, today=TODAY)
    assert problems == {"service_start": DateProblem.BEFORE_BIRTH}


def test_the_web_form_refuses_them_by_field_and_keeps_the_rest() -> None:
    spec = load_form()
    values = {"full_name": "احمد ولی", "date_of_birth": "2035", "service_start": "1395", "service_end": "1390",
              "family-0-member_name": "زینب", "family-0-member_date_of_birth": "1365/13/40", "consent": "yes"}
    result = validate_submission(spec, values, check_answers=lambda a: check_dates(a, today=TODAY))
    dated = {k: v for k, v in result.errors.items() if "date" in k or k in ("service_start", "service_end")}
    assert dated == {"date_of_birth": "date_in_future", "service_end": "date_ends_before_start",
                     "family-0-member_date_of_birth": "date_unreadable"}
    assert "date_of_birth" not in result.clean and result.clean["service_start"] == "1395"
    # without the check (the form alone) all three are accepted as text
    alone = validate_submission(spec, values).errors
    assert not {k for k in alone if "date" in k or k in ("service_start", "service_end")}
