"""Limits on what one imported file may unpack to, enforced while it is read.

A small file can unpack to a huge one (a zip of newlines, an XLSX of 400k empty rows, an ODK zip whose
photo is a gigabyte of zeros). Nothing here trusts a zip header's declared size: every member is read
through a counting reader that stops at the limit, and rows, columns, cells, messages and attachments are
counted as they are parsed. A limit that is reached raises UploadLimitExceeded naming the file and the
limit, before anything is stored.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import IO, Protocol

from amanat.intake.errors import IntakeError

_CHUNK = 1 << 16
_MiB = 1024 * 1024


class _LimitSettings(Protocol):
    import_max_unpacked_bytes: int
    import_max_file_bytes: int
    import_max_rows: int
    import_max_columns: int
    import_max_cell_chars: int
    import_max_lines: int
    import_max_messages: int
    import_max_attachments: int


class UploadLimitExceeded(IntakeError):
    """An imported file goes past one of the limits; nothing of it is stored."""

    code = "upload_limit"
    status = 413


def _size(n: int) -> str:
    return f"{n // _MiB} MiB" if n >= _MiB and n % _MiB == 0 else f"{n} bytes"


@dataclass(frozen=True)
class UploadLimits:
    """The most one imported file may hold. Defaults suit a chat or list from one intermediary."""

    max_unpacked_bytes: int = 64 * _MiB   # everything a file unpacks to (zip members, chat text)
    max_file_bytes: int = 10 * _MiB       # one member of an archive (a photo, an instance's XML)
    max_rows: int = 50_000                # table rows read (blank ones included)
    max_columns: int = 200
    max_cell_chars: int = 10_000
    max_lines: int = 500_000              # lines of a chat text
    max_messages: int = 100_000           # WhatsApp messages
    max_attachments: int = 5_000          # media files of one archive

    @classmethod
    def from_settings(cls, settings: _LimitSettings) -> UploadLimits:
        return cls(max_unpacked_bytes=settings.import_max_unpacked_bytes,
                   max_file_bytes=settings.import_max_file_bytes, max_rows=settings.import_max_rows,
                   max_columns=settings.import_max_columns, max_cell_chars=settings.import_max_cell_chars,
                   max_lines=settings.import_max_lines, max_messages=settings.import_max_messages,
                   max_attachments=settings.import_max_attachments)


DEFAULT_LIMITS = UploadLimits()


class UnpackBudget:
    """What the members of one archive may unpack to, together and each. Counts what is actually read."""

    def __init__(self, limits: UploadLimits, source: str) -> None:
        self.limits = limits
        self.source = source
        self.used = 0

    def read_member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, label: str,
                    max_bytes: int | None = None, keep: bool = True) -> bytes:
        """The member's bytes (or b"" when not ``keep``: only counted), read in chunks that stop at the
        member's limit and at what is left of the archive's. ``label`` names the member in messages."""
        member_limit = max_bytes if max_bytes is not None else self.limits.max_file_bytes
        chunks: list[bytes] = []
        read = 0
        try:
            with archive.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    read += len(chunk)
                    self.used += len(chunk)
                    if read > member_limit:
                        raise UploadLimitExceeded(
                            f"{label} unpacks to more than the limit of {_size(member_limit)} for one file",
                            source=self.source)
                    if self.used > self.limits.max_unpacked_bytes:
                        raise UploadLimitExceeded(
                            f"the archive unpacks to more than the limit of {_size(self.limits.max_unpacked_bytes)}",
                            source=self.source)
                    if keep:
                        chunks.append(chunk)
        except UploadLimitExceeded:
            raise
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise IntakeError(f"{label} cannot be read (damaged or encrypted)", source=self.source) from exc
        return b"".join(chunks)


def check_xlsx_unpacked(stream: IO[bytes], limits: UploadLimits, source: str) -> None:
    """Read every member of an XLSX (a zip) through the counting reader, keeping nothing, so a workbook that
    unpacks past the limit is refused before openpyxl expands it. The stream is left at its start."""
    start = stream.tell()
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        stream.seek(start)
        return  # not a zip: the table reader says what is wrong with it
    budget = UnpackBudget(limits, source)
    try:
        for number, info in enumerate(archive.infolist(), start=1):
            if not info.is_dir():
                budget.read_member(archive, info, label=f"workbook part {number}",
                                   max_bytes=limits.max_unpacked_bytes, keep=False)
    finally:
        stream.seek(start)


def check_table_shape(columns: int, limits: UploadLimits, source: str) -> None:
    if columns > limits.max_columns:
        raise UploadLimitExceeded(f"the table has {columns} columns, more than the limit of {limits.max_columns}",
                                  source=source)


def too_many_rows(limits: UploadLimits, source: str) -> UploadLimitExceeded:
    return UploadLimitExceeded(f"the table has more than the limit of {limits.max_rows} rows", source=source)


def check_chat_text(text_bytes: bytes, limits: UploadLimits, source: str) -> None:
    """A chat text's size and line count, checked before it is decoded and split."""
    if len(text_bytes) > limits.max_unpacked_bytes:
        raise UploadLimitExceeded(f"the chat text is larger than the limit of {_size(limits.max_unpacked_bytes)}",
                                  source=source)
    lines = max(text_bytes.count(b"\n"), text_bytes.count(b"\r"))
    if lines > limits.max_lines:
        raise UploadLimitExceeded(f"the chat text has more than the limit of {limits.max_lines} lines",
                                  source=source)


def check_count(what: str, count: int, limit: int, source: str) -> None:
    if count > limit:
        raise UploadLimitExceeded(f"the file holds {count} {what}, more than the limit of {limit}", source=source)


__all__ = ["DEFAULT_LIMITS", "UnpackBudget", "UploadLimitExceeded", "UploadLimits", "check_chat_text",
           "check_count", "check_table_shape", "check_xlsx_unpacked", "too_many_rows"]
