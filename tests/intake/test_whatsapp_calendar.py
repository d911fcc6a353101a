"""WhatsApp exports from a phone set to the Persian calendar: Solar Hijri dates, told from the years."""

from __future__ import annotations

from datetime import datetime

import pytest

from amanat.intake.errors import IntakeError
from amanat.intake.whatsapp import extract_submissions, parse_chat_text

FORM = "نام: احمد ولی\nنام پدر: محمد نبی\nشماره تذکره: 1399-0101-00001"


def stamps(text: str) -> list[datetime]:
    return [m.timestamp for m in parse_chat_text(text, file_name="chat.txt").messages]


def test_persian_digits_and_solar_hijri_years_become_gregorian() -> None:
    chat = parse_chat_text(f"۱۴۰۳/۰۹/۱۵، ۱۰:۳۰ - احمد: {FORM}\n۱۴۰۳/۱۲/۳۰، ۲۳:۵۹ - احمد: تشکر\n",
                           file_name="chat.txt")
    assert chat.calendar == "solar_hijri"
    # 15 Azar 1403 is 5 December 2024; 30 Esfand 1403 (a leap year) is 20 March 2025.
    assert [m.timestamp for m in chat.messages] == [datetime(2024, 12, 5, 10, 30), datetime(2025, 3, 20, 23, 59)]


def test_latin_digits_and_day_first_order() -> None:
    assert stamps("1403/9/15, 10:30 - A: hi\n") == [datetime(2024, 12, 5, 10, 30)]
    assert stamps("15/09/1403, 22:05 - A: hi\n16/09/1403, 08:00 - B: ok\n") == [
        datetime(2024, 12, 5, 22, 5), datetime(2024, 12, 6, 8, 0)]


def test_gregorian_exports_are_untouched() -> None:
    chat = parse_chat_text("2024/12/05, 10:30 - A: hi\n", file_name="chat.txt")
    assert chat.calendar == "gregorian" and chat.messages[0].timestamp == datetime(2024, 12, 5, 10, 30)
    # Persian digits alone say nothing about the calendar: a Dari phone on the Gregorian calendar writes these.
    assert stamps("۲۰۲۴/۱۲/۰۵، ۱۰:۳۰ - A: hi\n") == [datetime(2024, 12, 5, 10, 30)]


def test_a_day_the_solar_calendar_lacks_names_its_line() -> None:
    with pytest.raises(IntakeError, match="does not exist in the Solar Hijri calendar") as bad:
        parse_chat_text("1402/12/29, 10:00 - A: hi\n1402/12/30, 10:00 - A: hi\n", file_name="chat.txt")
    assert bad.value.line == 2  # 1402 is not a leap year: Esfand has 29 days


def test_a_chat_mixing_the_calendars_is_refused() -> None:
    with pytest.raises(IntakeError, match="mix Solar Hijri and Gregorian"):
        parse_chat_text("1403/09/15, 10:00 - A: hi\n2024/12/06, 10:00 - A: hi\n", file_name="chat.txt")


def test_forms_in_a_solar_hijri_chat_keep_gregorian_times() -> None:
    chat = parse_chat_text(f"۱۴۰۳/۰۹/۱۵، ۱۰:۳۰ - احمد: {FORM}\n", file_name="chat.txt")
    result = extract_submissions(chat, intermediary="Commander T")
    [sub] = result.submissions
    assert sub.fields["full_name"] == "احمد ولی"
    assert "2024-12-05T10:30" in sub.field_sources["full_name"]
