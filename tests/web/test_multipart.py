"""The in-memory multipart parser reads what Starlette's reads, and refuses what it refuses."""

from __future__ import annotations

import asyncio

import pytest
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartParser
from starlette.requests import Request

from amanat.web.multipart import MultipartError, parse_multipart, read_form

BOUNDARY = b"----amanattest7MA4YWxkTrZu0gW"
LIMITS = {"max_files": 3, "max_fields": 5, "max_part_size": 1024}


def part(name: str, value: bytes, filename: str | None = None, *, disposition: bytes | None = None,
         extra: bytes = b"") -> bytes:
    head = disposition or (f'form-data; name="{name}"'.encode()
                           + (f'; filename="{filename}"'.encode() if filename is not None else b""))
    return b"--" + BOUNDARY + b"\r\nContent-Disposition: " + head + b"\r\n" + extra + b"\r\n" + value + b"\r\n"


def body(*parts: bytes, preamble: bytes = b"", epilogue: bytes = b"") -> bytes:
    return preamble + b"".join(parts) + b"--" + BOUNDARY + b"--\r\n" + epilogue


def _request(data: bytes, ctype: bytes) -> Request:
    chunks = [data[i:i + 7000] for i in range(0, len(data), 7000)] or [b""]

    async def receive() -> dict[str, object]:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    return Request({"type": "http", "method": "POST", "headers": [(b"content-type", ctype)], "query_string": b""},
                   receive)


def starlette(data: bytes, charset: str = "") -> FormData:
    ctype = b"multipart/form-data; boundary=" + BOUNDARY + (f"; charset={charset}".encode() if charset else b"")

    async def go() -> FormData:
        req = _request(data, ctype)
        return await MultiPartParser(req.headers, req.stream(), **LIMITS).parse()

    return asyncio.run(go())


def plain(form: FormData) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            value.file.seek(0)
            out.append((key, (value.filename, value.file.read(), value.headers.get("content-type"))))
        else:
            out.append((key, value))
    return out


CASES = {
    "fields": body(part("a", "احمد".encode()), part("b", b""), part("a", b"second")),
    "file": body(part("csrf_token", b"tok"), part("doc", b"\xff\xd8\xff" + bytes(range(256)) * 3, "x.jpg",
                                                  extra=b"Content-Type: image/jpeg\r\n")),
    "crlf inside a value": body(part("note", b"line one\r\nline two\r\n--not the boundary")),
    "epilogue": body(part("a", b"1"), epilogue=b"trailing bytes are ignored"),
    "escaped quote in a name": body(part("", b"v", disposition=b'form-data; name="a\\"b"')),
    "rfc 2231 file name": body(part("", b"data",
                                    disposition=b"form-data; name=\"f\"; filename*=UTF-8''na%C3%AFve.jpg")),
    "windows path": body(part("", b"data", disposition=b'form-data; name="f"; filename="C:\\\\Users\\\\x\\\\a.jpg"')),
    "empty file": body(part("f", b"", "")),
    "unicode file name": body(part("f", b"d", "تذکره.jpg")),
}


@pytest.mark.parametrize("name", CASES)
def test_reads_what_starlette_reads(name: str) -> None:
    data = CASES[name]
    assert plain(parse_multipart(data, BOUNDARY, **LIMITS)) == plain(starlette(data))


REFUSED = {
    "too many files": body(*(part(f"f{i}", b"x", "a.jpg") for i in range(4))),
    "too many fields": body(*(part(f"a{i}", b"x") for i in range(6))),
    "text part too large": body(part("a", b"x" * 1025)),
    "no name": body(part("", b"x", disposition=b"form-data")),
    "preamble": body(part("a", b"1"), preamble=b"a preamble\r\n"),
    "no closing delimiter": body(part("a", b"1"))[: -len(b"--" + BOUNDARY + b"--\r\n")],
    "no delimiter at all": b"just some bytes",
    "headers never end": b"--" + BOUNDARY + b"\r\nContent-Disposition: form-data; name=\"a\"" + b"x" * 9000,
}


@pytest.mark.parametrize("name", REFUSED)
def test_refuses_what_starlette_refuses(name: str) -> None:
    with pytest.raises(MultipartError) as refused:
        parse_multipart(REFUSED[name], BOUNDARY, **LIMITS)
    assert refused.value.status_code == 400
    # Stricter than Starlette in two ways: it would read on through 8 KB of headers, and it took a body cut
    # off before the closing delimiter as a form (with the last part dropped).
    if name not in ("headers never end", "no closing delimiter"):
        with pytest.raises(Exception):  # Starlette raises its own MultiPartException
            starlette(REFUSED[name])


def test_uploads_are_in_memory_and_read_inline() -> None:
    form = parse_multipart(CASES["file"], BOUNDARY, **LIMITS)
    upload = form["doc"]
    assert isinstance(upload, UploadFile) and upload._in_memory  # no thread hop, never a temporary file
    assert asyncio.run(upload.read()).startswith(b"\xff\xd8\xff")


def test_read_form_is_kept_on_the_request() -> None:
    req = _request(CASES["fields"], b"multipart/form-data; boundary=" + BOUNDARY)

    async def go() -> tuple[FormData, FormData]:
        first = await read_form(req, **LIMITS)
        return first, await req.form()

    first, again = asyncio.run(go())
    assert first is again and first.getlist("a") == ["احمد", "second"]


def test_a_missing_boundary_is_refused() -> None:
    req = _request(CASES["fields"], b"multipart/form-data")
    with pytest.raises(HTTPException):
        asyncio.run(read_form(req, **LIMITS))
