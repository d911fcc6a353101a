"""What a parsed WhatsApp chat is (its messages), shared by whatsapp.py, which reads the export, and
whatsapp_forms.py, which finds the forms in it; neither imports the other's internals.

Also which calendar a chat's dates are in. A phone set to the Persian (Solar Hijri) calendar writes its export's
dates in it, ۱۴۰۳/۰۹/۱۵ (in Persian digits, or Latin ones); the calendar is told from the years, which are
1300–1499 in Solar Hijri and never in Gregorian in a WhatsApp export, and the dates are converted to Gregorian.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import jdatetime

from amanat.intake.errors import IntakeError

GREGORIAN = "gregorian"
SOLAR_HIJRI = "solar_hijri"
SOLAR_YEARS = range(1300, 1500)        # Solar Hijri years a chat can carry (1300 SH began in 1921)
GREGORIAN_YEARS = range(1900, 2200)


@dataclass
class Message:
    index: int
    timestamp: datetime            # naive local time as in the file (Gregorian, converted if need be)
    sender: str | None             # None for system lines
    text: str
    attachments: list[str] = field(default_factory=list)
    attachment_missing: bool = False
    line: int = 0                  # 1-based line of the header in the chat text

    def __repr__(self) -> str:  # bodies are personal data: keep them out of tracebacks
        return f"Message(index={self.index}, timestamp={self.timestamp.isoformat()}, line={self.line})"


@dataclass
class ChatExport:
    messages: list[Message]
    media: dict[str, bytes]
    file_name: str
    date_order: str                # "YMD" | "DMY" | "MDY"
    date_order_ambiguous: bool = False
    missing_media: list[str] = field(default_factory=list)
    calendar: str = GREGORIAN      # the calendar the export wrote its dates in: gregorian | solar_hijri

    def __repr__(self) -> str:
        return f"ChatExport(file_name={self.file_name!r}, messages={len(self.messages)}, media={len(self.media)})"


def infer_calendar(years: Iterable[tuple[int, int]], source: str) -> str:
    """The calendar of a chat from its (line, four-digit year) pairs; two-digit years say nothing."""
    solar = gregorian = None
    for line, year in years:
        if year in SOLAR_YEARS:
            solar = solar or line
        elif year in GREGORIAN_YEARS:
            gregorian = gregorian or line
    if solar and gregorian:
        raise IntakeError("the chat's dates mix Solar Hijri and Gregorian years", source=source,
                          line=max(solar, gregorian))
    return SOLAR_HIJRI if solar else GREGORIAN


def solar_to_gregorian(year: int, month: int, day: int, *, source: str, line: int) -> date:
    """A Solar Hijri date as the Gregorian one; IntakeError naming the line for a day the calendar lacks."""
    try:
        return jdatetime.date(year, month, day).togregorian()
    except ValueError:
        raise IntakeError("date does not exist in the Solar Hijri calendar", source=source, line=line) from None


__all__ = ["GREGORIAN", "SOLAR_HIJRI", "ChatExport", "Message", "infer_calendar", "solar_to_gregorian"]
