"""Whatever bytes or text arrive, the parsers answer with a result or an IntakeError, never another crash."""

import contextlib
import io
import os
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amanat.intake.errors import IntakeError
from amanat.intake.labels import match_label
from amanat.intake.odk_crypto import decrypt_submission, parse_manifest
from amanat.intake.tables import read_table
from amanat.intake.whatsapp import extract_submissions, parse_chat, parse_chat_text
from amanat.intake.xform_submission import parse_xform_submission

from .odk_fixtures import load

# AMANAT_FUZZ_EXAMPLES=5000 for a long local run; the default keeps the suite fast.
FAST = settings(max_examples=int(os.environ.get("AMANAT_FUZZ_EXAMPLES", "60")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

# Text made of the pieces chat lines are made of, so examples reach deep into the parser.
_PIECES = st.sampled_from([
    "12/07/2017", "۲۰۲۱/۵/۳۰", "٢٤\u200f/٤\u200f/٢٠٢٢", "[", "]", ", ", "، ", " - ", "22:35", "۱۸:۴۴", "1:55",
    "\u202fPM", " ب.ظ", " م", " p. m.", " klo ", "21.25.15", "Ali", ": ", "نام: احمد", "Rank: x",
    "\n", "IMG-1.jpg (file attached)", "<attached: a.jpg>", "<Media omitted>", "31", "13", "00", "99",
    "\u200e", "\u202a", "\u2066",
])
chat_text = st.one_of(st.text(max_size=300), st.lists(_PIECES, max_size=40).map("".join))


@FAST
@given(chat_text)
def test_whatsapp_text_never_crashes(text: str) -> None:
    try:
        export = parse_chat_text(text, file_name="c.txt")
    except IntakeError:
        return
    extract_submissions(export, intermediary="u")


@FAST
@given(st.binary(max_size=400))
def test_whatsapp_bytes_never_crash(data: bytes) -> None:
    for blob in (data, b"PK\x03\x04" + data):
        with contextlib.suppress(IntakeError):
            parse_chat(blob, file_name="c.zip")


@FAST
@given(st.integers(min_value=0, max_value=400))
def test_any_truncation_of_a_zip_export(cut: int) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("_chat.txt", "[12.06.24, 20:35:11] Mary: hello\n" * 20)
        zf.writestr("a.jpg", b"\xff\xd8\xff" * 50)
    data = buf.getvalue()
    with contextlib.suppress(IntakeError):
        parse_chat(data[: min(cut, len(data))], file_name="c.zip")


@FAST
@given(st.binary(max_size=400))
def test_xml_parsers_never_crash(data: bytes) -> None:
    for parse in (parse_manifest, parse_xform_submission):
        with contextlib.suppress(IntakeError):
            parse(data)


@settings(max_examples=15, deadline=None)  # each try loads and checks an RSA key: keep it short
@given(st.binary(min_size=0, max_size=64), st.integers(min_value=0, max_value=10_000))
def test_decrypt_with_damaged_files_never_crashes(junk: bytes, where: int) -> None:
    manifest, files, pem = load("encrypted-form")
    enc = bytearray(files["submission.xml.enc"])
    enc[where % len(enc)] ^= 0xFF
    for damaged in (bytes(enc), junk, bytes(enc) + junk):
        with contextlib.suppress(IntakeError):
            decrypt_submission(manifest, {"submission.xml.enc": damaged}, pem)


@FAST
@given(st.binary(max_size=600), st.sampled_from(["t.csv", "t.xlsx", "t.bin"]))
def test_tables_never_crash(data: bytes, name: str) -> None:
    try:
        reader = read_table(data, file_name=name, on_error="collect")
        for _ in reader:
            pass
    except IntakeError:
        pass


@FAST
@given(st.lists(st.lists(st.text(max_size=12), max_size=6), max_size=8), st.sampled_from([",", ";", "\t"]))
def test_tables_from_text_never_crash(rows: list[list[str]], delimiter: str) -> None:
    data = "\n".join(delimiter.join(r) for r in rows).encode("utf-8", errors="surrogatepass")
    try:
        for _ in read_table(data, file_name="t.csv"):
            pass
    except IntakeError:
        pass


@FAST
@given(st.text(max_size=80))
def test_match_label_is_total(text: str) -> None:
    result = match_label(text)
    assert result is None or isinstance(result, str)
