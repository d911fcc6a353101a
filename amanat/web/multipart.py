"""Parsing multipart/form-data posts from the whole body in memory.

Starlette feeds python-multipart's byte-level state machine chunk by chunk, with a callback per header and
per data run and an awaited write per chunk into a spooled file; for a form with a 100 KB photo that was a
tenth of the server's CPU per intake post. The body is in memory already (the request cap bounds it, and
uploads must never be spooled to disk: they are plaintext), so here the parts are found with bytes.find,
and each upload is a BytesIO over its bytes. The limits are Starlette's (files, fields, text part size);
the Content-Disposition parameters are read by python-multipart's own parser, as before.
"""

from __future__ import annotations

import re
from io import BytesIO

from python_multipart.multipart import parse_options_header
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

MAX_PART_HEADERS = 16
MAX_HEADER_BYTES = 8 * 1024  # one part's header block


class MultipartError(HTTPException):
    def __init__(self, message: str) -> None:
        super().__init__(status_code=400, detail=message)


async def read_form(request: Request, *, max_files: int, max_fields: int, max_part_size: int) -> FormData:
    """The request's form, parsed once: later ``request.form()`` calls return this same FormData."""
    if request._form is not None:  # Starlette keeps the first parse on the request; so do we
        return request._form
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise MultipartError("Missing boundary in multipart.")
    charset = params.get(b"charset", b"utf-8").decode("latin-1")
    form = parse_multipart(await request.body(), boundary, charset=charset, max_files=max_files,
                           max_fields=max_fields, max_part_size=max_part_size)
    request._form = form  # the parse Starlette would otherwise redo, with its default limits
    return form


def parse_multipart(body: bytes, boundary: bytes, *, charset: str = "utf-8", max_files: int, max_fields: int,
                    max_part_size: int) -> FormData:
    delimiter = b"--" + boundary
    separator = b"\r\n" + delimiter
    items: list[tuple[str, str | UploadFile]] = []
    files = fields = 0
    if not body.startswith(delimiter):  # no preamble: browsers send none, and Starlette refused one too
        raise MultipartError("Invalid multipart data.")
    pos = len(delimiter)
    while True:
        if body.startswith(b"--", pos):  # the closing delimiter; an epilogue after it is ignored
            return FormData(items)
        if not body.startswith(b"\r\n", pos):
            raise MultipartError("Invalid multipart data.")
        head_end = body.find(b"\r\n\r\n", pos, pos + MAX_HEADER_BYTES)
        if head_end < 0:
            raise MultipartError("Invalid multipart data.")
        data_start = head_end + 4
        data_end = body.find(separator, data_start)
        if data_end < 0:
            raise MultipartError("Invalid multipart data.")
        headers = _part_headers(body[pos + 2:head_end]) if head_end > pos else []
        disposition = next((v for k, v in headers if k == b"content-disposition"), b"")
        options = _disposition(disposition)
        if b"name" not in options:
            raise MultipartError('The Content-Disposition header field "name" must be provided.')
        name = _decode(options[b"name"], charset)
        if b"filename" in options:
            files += 1
            if files > max_files:
                raise MultipartError(f"Too many files. Maximum number of files is {max_files}.")
            data = body[data_start:data_end]
            upload = UploadFile(_InMemory(data), size=len(data), filename=_decode(options[b"filename"], charset),
                                headers=Headers(raw=headers))
            items.append((name, upload))
        else:
            fields += 1
            if fields > max_fields:
                raise MultipartError(f"Too many fields. Maximum number of fields is {max_fields}.")
            if data_end - data_start > max_part_size:
                raise MultipartError(f"Part exceeded maximum size of {int(max_part_size / 1024)}KB.")
            items.append((name, _decode(body[data_start:data_end], charset)))
        pos = data_end + len(separator)


class _InMemory(BytesIO):
    # UploadFile reads this as "not rolled over to disk", so its read() runs inline, not in a thread.
    _rolled = False


def _part_headers(block: bytes) -> list[tuple[bytes, bytes]]:
    lines = block.split(b"\r\n")
    if len(lines) > MAX_PART_HEADERS:
        raise MultipartError("Invalid multipart data.")
    out = []
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise MultipartError("Invalid multipart data.")
        out.append((name.lower(), value.strip()))
    return out


# What browsers send; anything else (escapes, filename*, odd spacing) goes to python-multipart's parser.
_PLAIN_DISPOSITION = re.compile(rb'form-data; name="([^"\\\r\n]*)"(?:; filename="([^"\\\r\n]*)")?')


def _disposition(value: bytes) -> dict[bytes, bytes]:
    plain = _PLAIN_DISPOSITION.fullmatch(value)
    if plain is None:
        return parse_options_header(value)[1]
    name, filename = plain.groups()
    return {b"name": name} if filename is None else {b"name": name, b"filename": filename}


def _decode(value: bytes, charset: str) -> str:
    """As Starlette does: the form's charset, else Latin-1 (which never fails)."""
    try:
        return value.decode(charset)
    except (UnicodeDecodeError, LookupError):
        return value.decode("latin-1")
