import io
import json
import zipfile
from datetime import datetime

import pytest

from amanat.intake.errors import IntakeError
from amanat.intake.whatsapp import clean_text, parse_chat, parse_chat_text

from .shared_data import SHARED_DATA

CHAT_MINER = SHARED_DATA / "whatsapp" / "chat-miner"


@pytest.mark.parametrize("name", [
    "test_bracketed_mmddyy_24hrs.txt", "test_ddmmyy_24hrs.txt", "test_mmddyy_24hrs.txt",
    "test_mmddyyyy_12hrs.txt", "test_yyyymmdd_24hrs.txt",
])
def test_chat_miner_conformance(name: str) -> None:
    """Each of the five formats parses to exactly the messages in target.json.

    target.json is chat-miner's shape: newest first, system lines (no sender) left out, and the
    lines of a multi-line message joined with a space. We keep line breaks and system lines, so the
    comparison applies that shape, nothing else.
    """
    target = json.loads((CHAT_MINER / "target.json").read_text(encoding="utf-8"))
    export = parse_chat((CHAT_MINER / name).read_bytes(), file_name=name)
    got = [
        {"timestamp": m.timestamp.isoformat(), "author": m.sender, "message": " ".join(m.text.split("\n"))}
        for m in reversed(export.messages) if m.sender is not None
    ]
    assert got == target
    assert not export.date_order_ambiguous
    # The system lines are there too, and "John Doe:." (no space after the colon) is one of them.
    assert [m.text for m in export.messages if m.sender is None] == [
        "John Doe:.", '+12 345 578 created group "Groupname"', "You were added"]


def _one(text: str):
    export = parse_chat_text(text, file_name="chat.txt")
    assert len(export.messages) == 1
    return export, export.messages[0]


@pytest.mark.parametrize(("line", "when", "sender", "body"), [
    ("12/07/2017, 22:35 - Ali: salam", datetime(2017, 7, 12, 22, 35), "Ali", "salam"),
    ("15.04.2016, 15:04 - Ali: salam", datetime(2016, 4, 15, 15, 4), "Ali", "salam"),
    ("3/6/18, 1:55\u202fPM - Bob: hi", datetime(2018, 3, 6, 13, 55), "Bob", "hi"),
    ("01/02/2020, 08:49 p. m. - Ana: hola", datetime(2020, 2, 1, 20, 49), "Ana", "hola"),
    ("13.6.2018 klo 21.25.15 - Matti: moi", datetime(2018, 6, 13, 21, 25, 15), "Matti", "moi"),
    ("26/09/2019 à 22:39 - Jean: salut", datetime(2019, 9, 26, 22, 39), "Jean", "salut"),
    ("2019/01/01, 11:25 - A: b", datetime(2019, 1, 1, 11, 25), "A", "b"),
    ("۲۰۲۱/۵/۳۰، ۱۸:۴۴ - احمد: سلام", datetime(2021, 5, 30, 18, 44), "احمد", "سلام"),
    ("۲۰۲۱/۵/۳۰، ۶:۴۴ ب.ظ - احمد: سلام", datetime(2021, 5, 30, 18, 44), "احمد", "سلام"),
    ("۲۰۲۱/۱/۱، ۱:۰۰ ب.ظ - احمد: سلام", datetime(2021, 1, 1, 13, 0), "احمد", "سلام"),
    ("۲۰۲۱/۵/۳۰، ۱۲:۰۵ ق.ظ - احمد: سلام", datetime(2021, 5, 30, 0, 5), "احمد", "سلام"),
    ("٢٤\u200f/٤\u200f/٢٠٢٢، ٢:٠٧ م - علي: مرحبا", datetime(2022, 4, 24, 14, 7), "علي", "مرحبا"),
    ("٢٤\u200f/٤\u200f/٢٠٢٢، ٢:٠٧ ص - علي: مرحبا", datetime(2022, 4, 24, 2, 7), "علي", "مرحبا"),
    ("\u200e[12.06.24, 20:35:11] Mary: hello", datetime(2024, 6, 12, 20, 35, 11), "Mary", "hello"),
    ("[10/31/23, 3:34:33\u202fPM] Al: x", datetime(2023, 10, 31, 15, 34, 33), "Al", "x"),
    ("[2023-10-31, 03:34:33] Al: x", datetime(2023, 10, 31, 3, 34, 33), "Al", "x"),
    ("12/07/2017, 22:35 - \u202a+93 799 123 456\u202c: salam", datetime(2017, 7, 12, 22, 35),
     "+93 799 123 456", "salam"),
])
def test_line_formats(line: str, when: datetime, sender: str, body: str) -> None:
    _, m = _one(line)
    assert (m.timestamp, m.sender, m.text) == (when, sender, body)


def test_day_month_order_comes_from_the_whole_file_not_the_line() -> None:
    # Line 1 alone reads as 3 April; line 2 (day 25) shows this file is month first.
    export = parse_chat_text("4/3/21, 10:00 - A: one\n12/25/21, 10:00 - A: two", file_name="c.txt")
    assert export.date_order == "MDY" and not export.date_order_ambiguous
    assert export.messages[0].timestamp == datetime(2021, 4, 3, 10, 0)
    export = parse_chat_text("4/3/21, 10:00 - A: one\n25/12/21, 10:00 - A: two", file_name="c.txt")
    assert export.date_order == "DMY"
    assert export.messages[0].timestamp == datetime(2021, 3, 4, 10, 0)


def test_ambiguous_order_uses_locale_hints_and_says_so() -> None:
    us = parse_chat_text("4/3/21, 10:00\u202fAM - A: one", file_name="c.txt")
    assert (us.date_order, us.date_order_ambiguous) == ("MDY", True)
    eu = parse_chat_text("04.03.21, 10:00 - A: one", file_name="c.txt")
    assert (eu.date_order, eu.date_order_ambiguous) == ("DMY", True)
    assert eu.messages[0].timestamp == datetime(2021, 3, 4, 10, 0)


def test_multiline_bodies_keep_digits_zwnj_and_drop_bidi_marks() -> None:
    text = ("۲۰۲۱/۵/۳۰، ۱۸:۴۴ - احمد: نام: نجیب\u200cالله\n"
            "تذکره: \u200f۱۴۰۰-۰۱۰۱-۱۲۳۴۵\u200f\n"
            "👨\u200d👩\u200d👧\n"
            "۲۰۲۱/۵/۳۰، ۱۸:۴۵ - احمد: ok")
    export = parse_chat_text(text, file_name="c.txt")
    first = export.messages[0]
    assert first.text == "نام: نجیب\u200cالله\nتذکره: ۱۴۰۰-۰۱۰۱-۱۲۳۴۵\n👨\u200d👩\u200d👧"
    assert first.line == 1 and export.messages[1].line == 4
    assert clean_text("a\u202fb\u2066c\u2069\u202ed") == "a bcd"


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 20


def test_android_zip_with_media() -> None:
    chat = ("28/04/2021, 10:00 - Ali: IMG-20210428-WA0001.jpg (file attached)\nhis tazkira\n"
            "28/04/2021, 10:01 - Ali: IMG-20210428-WA0002.jpg (Datei angehängt)\n"
            "28/04/2021, 10:02 - Ali: <Media omitted>\n")
    data = _zip({"WhatsApp Chat with Ali.txt": chat.encode(), "IMG-20210428-WA0001.jpg": JPEG})
    export = parse_chat(data, file_name="WhatsApp Chat with Ali.zip")
    a, b, c = export.messages
    assert (a.attachments, a.attachment_missing, a.text) == (["IMG-20210428-WA0001.jpg"], False, "his tazkira")
    assert (b.attachments, b.attachment_missing) == (["IMG-20210428-WA0002.jpg"], True)
    assert (c.attachments, c.attachment_missing, c.text) == ([], True, "")
    assert export.media == {"IMG-20210428-WA0001.jpg": JPEG}
    assert export.missing_media == ["IMG-20210428-WA0002.jpg"]


def test_ios_zip_with_media_and_omitted_variants() -> None:
    chat = ("\u200e[06.02.26, 12:55:54] Mary: \u200e<attached: 00000015-PHOTO-2026-02-06-12-55-54.jpg>\n"
            "[06.02.26, 12:56:00] Mary: \u200eimage omitted\n"
            "[06.02.26, 12:57:00] Mary: <رسانه حذف شد>\n"
            "[06.02.26, 12:58:00] Mary: <Medien ausgeschlossen>\n")
    data = _zip({"_chat.txt": chat.encode(), "00000015-PHOTO-2026-02-06-12-55-54.jpg": JPEG})
    export = parse_chat(data, file_name="export.zip")
    assert export.messages[0].attachments == ["00000015-PHOTO-2026-02-06-12-55-54.jpg"]
    assert not export.messages[0].attachment_missing
    assert [m.attachment_missing for m in export.messages[1:]] == [True, True, True]


def test_zip_member_path_is_reduced_to_its_name() -> None:
    chat = "28/04/2021, 10:00 - Ali: x.jpg (file attached)\n"
    export = parse_chat(_zip({"_chat.txt": chat.encode(), "../../etc/x.jpg": JPEG}), file_name="e.zip")
    assert list(export.media) == ["x.jpg"]
    assert not export.messages[0].attachment_missing


def test_truncated_zip() -> None:
    data = _zip({"_chat.txt": b"28/04/2021, 10:00 - Ali: hi\n", "a.jpg": JPEG * 100})
    with pytest.raises(IntakeError) as info:
        parse_chat(data[: len(data) // 2], file_name="export.zip")
    assert "export.zip" in str(info.value)


def test_zip_without_chat_text() -> None:
    with pytest.raises(IntakeError, match="no chat text"):
        parse_chat(_zip({"a.jpg": JPEG}), file_name="export.zip")


def test_unknown_date_format_names_the_line_not_the_text() -> None:
    text = "Sunday the fifth, Ahmad Karimi wrote: hello\n28/04/2021, 10:00 - Ali: hi"
    with pytest.raises(IntakeError) as info:
        parse_chat_text(text, file_name="chat.txt")
    assert str(info.value) == "chat.txt, line 1: unknown date format (no WhatsApp message header)"
    assert "Karimi" not in str(info.value)


def test_impossible_date_is_an_error_with_its_line() -> None:
    text = "28/04/2021, 10:00 - Ali: hi\n31/02/2021, 10:00 - Ali: hi"
    with pytest.raises(IntakeError, match="line 2"):
        parse_chat_text(text, file_name="chat.txt")


def test_not_utf8_and_empty() -> None:
    with pytest.raises(IntakeError, match="UTF-8"):
        parse_chat(b"28/04/2021, 10:00 - Ali: \xff\xfe\xfa", file_name="chat.txt")
    with pytest.raises(IntakeError, match="no WhatsApp messages"):
        parse_chat(b"\n\n", file_name="chat.txt")


def test_utf16_and_bom() -> None:
    line = "28/04/2021, 10:00 - Ali: hi"
    assert parse_chat(line.encode("utf-16"), file_name="c.txt").messages[0].text == "hi"
    assert parse_chat(b"\xef\xbb\xbf" + line.encode(), file_name="c.txt").messages[0].sender == "Ali"


def test_repr_does_not_leak_bodies() -> None:
    export, m = _one("28/04/2021, 10:00 - Ahmad Karimi: tazkira 1400-0101-12345")
    assert "Karimi" not in repr(m) and "1400" not in repr(m) and "Karimi" not in repr(export)
