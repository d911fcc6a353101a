import pytest

from amanat.intake.errors import IntakeError
from amanat.intake.parsed import ParsedSubmission, make_attachment, safe_file_name, sniff_content_type


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("x.bin", b"\xff\xd8\xff\xe0rest", "image/jpeg"),
    ("scan.jpg", b"\x89PNG\r\n\x1a\nrest", "image/png"),        # the bytes win over the extension
    ("doc", b"%PDF-1.7 rest", "application/pdf"),
    ("p", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    ("IMG_0001.HEIC", b"\x00\x00\x00\x18ftypheic\x00\x00", "image/heic"),
    ("v", b"\x00\x00\x00\x18ftypmp42\x00\x00", "video/mp4"),
    ("note.opus", b"OggS\x00rest", "audio/ogg"),
    ("photo.jpeg", b"", "image/jpeg"),                            # nothing to sniff: the extension
    ("unknown", b"\x00\x01", "application/octet-stream"),
])
def test_sniff_content_type(name: str, data: bytes, expected: str) -> None:
    assert sniff_content_type(name, data) == expected


@pytest.mark.parametrize(("raw", "clean"), [
    ("../../etc/passwd", "passwd"), ("C:\\Users\\a\\tazkira.jpg", "tazkira.jpg"),
    ("a\x00b.jpg", "ab.jpg"), ("a:b?.jpg", "a_b_.jpg"), ("\u202eexe.jpg", "exe.jpg"),
    ("نجیب\u200cالله.pdf", "نجیب\u200cالله.pdf"),
    ("..", "attachment"), ("", "attachment"),
])
def test_safe_file_name(raw: str, clean: str) -> None:
    assert safe_file_name(raw) == clean


def test_attachment_and_submission_reprs_hold_no_values() -> None:
    att = make_attachment("dir/scan.pdf", b"%PDF-secret")
    assert (att.name, att.content_type) == ("scan.pdf", "application/pdf")
    assert "secret" not in repr(att)
    sub = ParsedSubmission(channel="web", fields={"full_name": "Karimi"}, attachments=[att])
    assert "Karimi" not in repr(sub) and "full_name" in repr(sub)


def test_intake_error_names_places() -> None:
    err = IntakeError("unknown date format", source="chat.txt", line=14)
    assert str(err) == "chat.txt, line 14: unknown date format"
    assert (err.code, err.status, err.line) == ("intake_invalid", 422, 14)
    err = IntakeError("bad", source="t.xlsx", row=7, column="D", field="date_of_birth")
    assert str(err) == "t.xlsx, row 7, column D (date_of_birth): bad"
    assert str(IntakeError("bad", field="instanceID")) == "field instanceID: bad"
    assert str(IntakeError("bad")) == "bad"
