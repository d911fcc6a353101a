"""The shared result types of every intake parser, and the attachment helpers they share."""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from dataclasses import dataclass, field

CHANNELS = ("web", "openrosa", "whatsapp", "table")


@dataclass(frozen=True)
class Attachment:
    name: str            # file name as the channel gave it (sanitised: no path parts)
    content_type: str    # sniffed from magic bytes where possible, else from the extension
    data: bytes = field(repr=False)  # never print document bytes into a traceback or log


@dataclass
class ParsedSubmission:
    channel: str                      # "web" | "openrosa" | "whatsapp" | "table"
    fields: dict[str, object]         # canonical field name -> str (list[dict] for the repeat "family")
    attachments: list[Attachment] = field(default_factory=list)
    provenance: dict[str, object] = field(default_factory=dict)   # JSON-serialisable, no values
    field_sources: dict[str, str] = field(default_factory=dict)   # field -> where it came from
    context: list[dict[str, object]] = field(default_factory=list)

    def __repr__(self) -> str:
        # The default repr would print every value into tracebacks and logs.
        return (f"ParsedSubmission(channel={self.channel!r}, fields={sorted(self.fields)!r}, "
                f"attachments={len(self.attachments)})")


# Extensions we expect from phones and scanners; mimetypes covers the rest where the system knows it.
_BY_EXTENSION = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "pdf": "application/pdf",
    "webp": "image/webp", "heic": "image/heic", "heif": "image/heif", "gif": "image/gif",
    "mp4": "video/mp4", "3gp": "video/3gpp", "opus": "audio/ogg", "ogg": "audio/ogg",
    "m4a": "audio/mp4", "aac": "audio/aac", "mp3": "audio/mpeg", "vcf": "text/vcard",
    "txt": "text/plain", "xml": "application/xml", "csv": "text/csv",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


def sniff_content_type(name: str, data: bytes) -> str:
    """The content type from the magic bytes where we know them, else from the file extension."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIF_BRANDS:
            return "image/heic" if brand in {b"heic", b"heix", b"heim", b"heis"} else "image/heif"
        if brand.startswith(b"3gp"):
            return "video/3gpp"
        if brand in {b"M4A "}:
            return "audio/mp4"
        return "video/mp4"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext in _BY_EXTENSION:
        return _BY_EXTENSION[ext]
    guessed, _ = mimetypes.guess_type(f"x.{ext}") if ext else (None, None)
    return guessed or "application/octet-stream"


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


def safe_file_name(name: str) -> str:
    """The last path part of a channel-given name, without control or reserved characters."""
    base = re.split(r"[/\\]", name)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch) not in {"Cc", "Cf"} or ch in "\u200c\u200d")
    base = _UNSAFE_NAME.sub("_", base).strip().strip(".")
    return base[:200] or "attachment"


def make_attachment(name: str, data: bytes) -> Attachment:
    clean = safe_file_name(name)
    return Attachment(name=clean, content_type=sniff_content_type(clean, data), data=data)
