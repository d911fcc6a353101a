"""Whether an applicant's dates can be true: readable, not in the future, and in order (service ends after it
began, and begins after the birth). The web form refuses an answer that fails; an import keeps it and flags it.

Problems are codes, keyed by field name, never the values: the edges word them in the reader's language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum

from amanat.errors import AmanatError
from amanat.normalize.dates import DateNorm, parse_date

__all__ = ["DATE_FIELDS", "ISSUE_REASONS", "DateProblem", "check_dates", "date_span", "order_problems"]


class DateProblem(StrEnum):
    UNREADABLE = "date_unreadable"
    IN_FUTURE = "date_in_future"
    ENDS_BEFORE_START = "date_ends_before_start"
    BEFORE_BIRTH = "date_before_birth"


# How a stored record's issues name them (normalize/record.py); the web shows them in the reader's language.
ISSUE_REASONS = {
    DateProblem.IN_FUTURE: "date: in the future",
    DateProblem.ENDS_BEFORE_START: "date: the end of service is before its start",
    DateProblem.BEFORE_BIRTH: "date: before the date of birth",
}

# The form's canonical date answers (and a family member's, inside the family repeat).
DATE_FIELDS = ("date_of_birth", "service_start", "service_end", "refuge_entry_date", "member_date_of_birth")


def date_span(date: DateNorm) -> tuple[dt.date, dt.date]:
    """The first and last Gregorian day a (possibly partial) date can mean: 1392 → 21 Mar 2013–20 Mar 2014."""
    if date.date_range:
        return dt.date.fromisoformat(date.date_range[0]), dt.date.fromisoformat(date.date_range[1])
    if date.day is not None and date.month is not None:
        day = dt.date(date.year, date.month, date.day)
        return day, day
    if date.month is not None:
        last = (dt.date(date.year + date.month // 12, date.month % 12 + 1, 1) - dt.timedelta(days=1))
        return dt.date(date.year, date.month, 1), last
    return dt.date(date.year, 1, 1), dt.date(date.year, 12, 31)


def order_problems(dates: Mapping[str, DateNorm], today: dt.date) -> dict[str, DateProblem]:
    """Problems of dates already read: a date that cannot have begun by ``today``, a service that ends before
    it began, and a service or refuge entry before the person was born. A date is wrong only where every day
    it can mean is wrong (1392 against 1392/6/15 is no problem)."""
    spans = {name: date_span(d) for name, d in dates.items()}
    problems: dict[str, DateProblem] = {}
    for name, (first, _last) in spans.items():
        if first > today:
            problems[name] = DateProblem.IN_FUTURE
    start, end = spans.get("service_start"), spans.get("service_end")
    if start and end and not {"service_start", "service_end"} & problems.keys() and end[1] < start[0]:
        problems["service_end"] = DateProblem.ENDS_BEFORE_START
    birth = None if "date_of_birth" in problems else spans.get("date_of_birth")
    if birth is not None:
        for name in ("service_start", "service_end", "refuge_entry_date"):
            if name in spans and name not in problems and spans[name][1] < birth[0]:
                problems[name] = DateProblem.BEFORE_BIRTH
    return problems


def check_dates(answers: Mapping[str, object], *, today: dt.date | None = None) -> dict[str, str]:
    """Problems of one form's (or one family row's) date answers, as field → DateProblem code."""
    today = today or dt.datetime.now(dt.UTC).date()
    problems: dict[str, str] = {}
    dates: dict[str, DateNorm] = {}
    for name in DATE_FIELDS:
        raw = answers.get(name)
        if not isinstance(raw, str) or not raw.strip():
            continue
        try:
            dates[name] = parse_date(raw)
        except AmanatError:
            problems[name] = DateProblem.UNREADABLE
    problems.update(order_problems(dates, today))
    return problems
