"""WhatsApp chat exports (.txt, or .zip with media) → messages, parsed in memory.

Android writes `DATE, TIME - Sender: text`, iOS `[DATE, TIME] Sender: text`; both in every locale's
digits, date order, 12/24-hour clock and AM/PM words. Day/month order is decided once per file from
all its dates (a value above 12), never per line. Bodies are kept as written: bidi marks are removed
and U+202F becomes a space, but digits, ZWNJ and ZWJ are left alone.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime, time

from amanat.intake.errors import IntakeError
from amanat.intake.parsed import safe_file_name
from amanat.intake.upload_limits import DEFAULT_LIMITS, UnpackBudget, UploadLimits, check_chat_text, check_count
from amanat.intake.whatsapp_chat import SOLAR_HIJRI, ChatExport, Message, infer_calendar, solar_to_gregorian

# Form extraction lives beside this module; re-exported so callers need one import (whatsapp_forms imports only
# whatsapp_chat, so the two do not import each other).
from amanat.intake.whatsapp_forms import ExtractionResult, extract_submissions, preview_json

# Bidi controls WhatsApp sprinkles around dates, names and numbers; ZWNJ/ZWJ are letters' business.
# (A regex, not str.translate: translate with a dict costs a Python lookup per character.)
_BIDI = re.compile("[\u200e\u200f\u061c\ufeff\u202a-\u202e\u2066-\u2069]")

# AM/PM words, longest first so "p. m." wins over "م".
_AM = ("a. m.", "a.m.", "am", "ق.ظ.", "ق.ظ", "قبل‌ازظهر", "قبل از ظهر", "ص", "غ.م.", "غ.م", "vorm.", "ap.",
       "午前", "上午", "오전", "sa", "πμ", "π.μ.", "дп")
_PM = ("p. m.", "p.m.", "pm", "ب.ظ.", "ب.ظ", "بعدازظهر", "بعد از ظهر", "م", "غ.و.", "غ.و", "nachm.", "ip.",
       "午後", "下午", "오후", "ch", "μμ", "μ.μ.", "пп")
# Case variants are spelled out instead of re.IGNORECASE, which halves the speed of the header regex.
_MARKERS = sorted({v for m in (*_AM, *_PM) for v in (m, m.upper(), m.lower(), m.capitalize())},
                  key=len, reverse=True)
_AM_SET = {m.casefold() for m in _AM}
_MARKER_RE = "|".join(re.escape(m) for m in _MARKERS)

_HEADER = re.compile(
    r"""^(?P<bracket>\[)?
    (?P<d1>\d{1,4})(?P<sep>[./-])\ ?(?P<d2>\d{1,2})(?P=sep)\ ?(?P<d3>\d{1,4})\.?
    (?:[,،]\ ?|\ )(?:(?:klo|à|um|kl\.|o|alle|om|в)\ )?
    (?:(?P<pre>""" + _MARKER_RE + r""")\ ?)?
    (?P<h>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<s>\d{2}))?
    (?:\ ?(?P<post>""" + _MARKER_RE + r"""))?
    (?(bracket)\]\ ?|\ [-–]\ )
    (?P<rest>.*)$""",
    re.VERBOSE,
)

# "IMG-20210428-WA0001.jpg (file attached)" and its translations; media present in the export.
_FILE_ATTACHED = re.compile(r"^(?P<name>[^\n]{1,200}?\.[\w]{1,6}) \((?P<note>[^()\n]{2,40})\)$")
_ATTACHED_NOTES = {
    "file attached", "datei angehängt", "archivo adjunto", "fichier joint", "arquivo anexado", "file allegato",
    "bestand bijgevoegd", "dosya ekli", "файл прикреплен", "файл прикреплён", "plik załączony",
    "fil vedhæftet", "fil bifogad", "fil vedlagt", "tiedosto liitetty", "file terlampir", "fișier atașat",
    "soubor připojen", "fájl csatolva", "αρχείο επισυνάφθηκε", "прикачен файл", "файл додано",
    "فایل پیوست شد", "فایل پیوست شده", "فایل ضمیمه شد", "ملف مرفق", "تم إرفاق ملف", "فائل منسلک ہے",
    "फ़ाइल संलग्न", "ফাইল সংযুক্ত", "tệp đính kèm", "ไฟล์แนบ", "附件", "첨부파일",
}
# iOS: "<attached: 00000015-PHOTO-2026-02-06-12-55-54.jpg>", localised word before the colon.
_IOS_ATTACHED = re.compile(r"^<(?P<note>[^<>:\n]{2,30}):\s?(?P<name>[^<>\n]{1,200}\.[\w]{1,6})>$")
# Exported without media: "<Media omitted>", "image omitted", "<رسانه حذف شد>" and their translations.
_OMITTED = {s.casefold() for s in (
    "<Media omitted>", "<Médias omis>", "<Medien ausgeschlossen>", "<Multimedia omitido>",
    "<Archivo omitido>", "<Mídia oculta>", "<Arquivo de mídia oculto>", "<Media omessi>",
    "<Media weggelaten>", "<Medya dahil edilmedi>", "<Без медиафайлов>", "<Медиафайл пропущен>",
    "<Медіа пропущено>", "<Без медіафайлів>", "<Pominięto multimedia>", "<Media tidak disertakan>",
    "<Media dihilangkan>", "<Medier udeladt>", "<Media utelämnat>", "<Media utelatt>",
    "<Media jätetty pois>", "<Média vynechána>", "<Média kihagyva>", "<Media omise>",
    "<Πολυμέσα παραλείφθηκαν>", "<رسانه حذف شد>", "<رسانه حذف شده>", "<فایل رسانه حذف شد>",
    "<تم استبعاد الوسائط>", "<الوسائط محذوفة>", "<تم حذف الوسائط>", "<میڈیا چھوڑ دیا گیا>",
    "<میڈیا خارج کر دیا گیا>", "<मीडिया के बिना>", "<मीडिया छोड़ दिया गया>", "<মিডিয়া বাদ দেওয়া হয়েছে>",
    "<Đã bỏ qua phương tiện>", "<ไม่รวมสื่อ>", "<省略了媒体>", "<メディアは含まれていません>", "<미디어 파일 생략됨>",
    "<Vyombo vya habari vimeachwa>", "<Midia yaacheka>",
    "image omitted", "video omitted", "audio omitted", "sticker omitted", "GIF omitted", "document omitted",
    "Contact card omitted", "imagen omitida", "video omitido", "audio omitido", "sticker omitido",
    "documento omitido", "image absente", "vidéo absente", "audio omis", "Bild weggelassen",
    "Video weggelassen", "Audio weggelassen", "Dokument weggelassen", "immagine omessa", "video omesso",
    "imagem ocultada", "vídeo ocultado", "áudio ocultado", "afbeelding weggelaten", "video weggelaten",
    "görüntü dahil edilmedi", "video dahil edilmedi", "изображение отсутствует", "видео отсутствует",
    "аудио отсутствует", "تصویر حذف شد", "ویدیو حذف شد", "صدا حذف شد", "سند حذف شد", "استیکر حذف شد",
    "تم استبعاد الصورة", "تم استبعاد الفيديو", "تم استبعاد الصوت", "الصورة محذوفة", "الفيديو محذوف",
    "gambar tidak disertakan", "video tidak disertakan",
)}
_OMITTED_SUFFIXES = (" omitted", " omitida", " omitido", " weggelassen", " omessa", " omesso", " ocultada",
                     " ocultado")

CHAT_TEXT_NAMES = re.compile(r"(^|/)(_chat\.txt|WhatsApp Chat[^/]*\.txt|[^/]*\.txt)$", re.IGNORECASE)


@dataclass(slots=True)
class _Header:
    line: int
    parts: tuple[int, int, int]
    year_digits: tuple[int, int, int]
    sep: str
    hour: int
    minute: int
    second: int
    marker: str | None
    bracket: bool
    rest: str


def clean_text(text: str) -> str:
    """Remove bidi controls and fold U+202F to a space; digits, ZWNJ and ZWJ stay as written."""
    # U+202F (narrow no-break space, before AM/PM on recent Android and iOS) becomes a space.
    return _BIDI.sub("", text).replace("\u202f", " ")


def parse_chat(data: bytes, *, file_name: str, limits: UploadLimits = DEFAULT_LIMITS) -> ChatExport:
    """Parse a WhatsApp export (.zip with or without media, or the bare .txt), within ``limits``: the zip's
    members are read through a counting reader, and the text's size, lines and messages are bounded."""
    media: dict[str, bytes] = {}
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06") or file_name.lower().endswith(".zip"):
        text_bytes, media = _read_zip(data, file_name, limits)
    else:
        text_bytes = data
    check_chat_text(text_bytes, limits, file_name)
    text = _decode(text_bytes, file_name)
    export = parse_chat_text(text, file_name=file_name, media=media)
    check_count("messages", len(export.messages), limits.max_messages, file_name)
    return export


def _read_zip(data: bytes, source: str, limits: UploadLimits) -> tuple[bytes, dict[str, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise IntakeError("not a readable zip archive (truncated or damaged)", source=source) from exc
    check_count("files", len(infos), limits.max_attachments + 1, source)
    chats = [i for i in infos if CHAT_TEXT_NAMES.search(i.filename) and "__MACOSX" not in i.filename]
    # _chat.txt (iOS) or "WhatsApp Chat with ….txt" (Android) first; any other .txt only as a last resort.
    chats.sort(key=lambda i: (not re.search(r"(_chat|WhatsApp Chat[^/]*)\.txt$", i.filename, re.I),
                              -i.file_size))
    if not chats:
        raise IntakeError("the archive holds no chat text file", source=source)
    chat_info = chats[0]
    media: dict[str, bytes] = {}
    text_bytes = b""
    budget = UnpackBudget(limits, source)  # counts what is read; a header's declared size is never trusted
    for number, info in enumerate(infos, start=1):
        if "__MACOSX" in info.filename and info is not chat_info:
            continue
        # Member names can be a person's name (documents keep theirs): say which member by number.
        if info is chat_info:
            text_bytes = budget.read_member(archive, info, label="the chat text",
                                            max_bytes=limits.max_unpacked_bytes)
        else:
            media[safe_file_name(info.filename)] = budget.read_member(archive, info,
                                                                      label=f"archive member {number}")
    return text_bytes, media


def _decode(data: bytes, source: str) -> str:
    encoding = "utf-16" if data.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start]
        line = prefix.count(b"\n") + 1 if encoding == "utf-8-sig" else None
        raise IntakeError("chat text is not valid UTF-8", source=source, line=line) from None


def _match_header(line_no: int, line: str) -> _Header | None:
    if not line or not (line[0] == "[" or line[0].isdigit()):
        return None
    m = _HEADER.match(line)
    if m is None:
        return None
    d1, d2, d3, sep, h, mi, sec, pre, post, bracket, rest = m.group(
        "d1", "d2", "d3", "sep", "h", "mi", "s", "pre", "post", "bracket", "rest")
    if len(d1) < 3 and len(d3) not in (2, 4):
        return None  # a year is written with 2 or 4 digits, first (2021/5/3) or last (3/5/21)
    return _Header(line_no, (int(d1), int(d2), int(d3)), (len(d1), len(d2), len(d3)), sep, int(h), int(mi),
                   int(sec or 0), pre or post, bool(bracket), rest)


def infer_date_order(headers: list[_Header]) -> tuple[str, bool]:
    """("YMD" | "DMY" | "MDY", ambiguous?) from all of a file's dates at once."""
    if not headers:
        return "DMY", True
    if any(h.year_digits[0] >= 3 or h.parts[0] > 31 for h in headers):
        return "YMD", False
    first_big = any(h.parts[0] > 12 for h in headers)
    second_big = any(h.parts[1] > 12 for h in headers)
    if first_big and not second_big:
        return "DMY", False
    if second_big and not first_big:
        return "MDY", False
    return _locale_guess(headers), True


def _locale_guess(headers: list[_Header]) -> str:
    # No date settles it. The export's own style hints at the phone's locale: only US-style English
    # writes month first, and it does so with "/" and an English AM/PM; everyone else is day first.
    sample = headers[: min(len(headers), 200)]
    english_12h = sum(1 for h in sample if h.marker and h.marker.casefold() in {"am", "pm"})
    slash = sum(1 for h in sample if h.sep == "/")
    if english_12h > len(sample) / 2 and slash > len(sample) / 2:
        return "MDY"
    return "DMY"


def _year(h: _Header, order: str) -> tuple[int, int]:
    """(the year as written, how many digits it has) under the file's date order."""
    return (h.parts[0], h.year_digits[0]) if order == "YMD" else (h.parts[2], h.year_digits[2])


def _timestamp(h: _Header, order: str, source: str, calendar: str = "gregorian") -> datetime:
    a, b, c = h.parts
    if order == "YMD":
        year, month, day = a, b, c
        year_len = h.year_digits[0]
    elif order == "DMY":
        day, month, year = a, b, c
        year_len = h.year_digits[2]
    else:
        month, day, year = a, b, c
        year_len = h.year_digits[2]
    if year_len == 2:
        year += 2000
    hour = h.hour
    if h.marker is not None:
        if not 1 <= hour <= 12 and hour != 0:
            raise IntakeError("hour out of range for a 12-hour clock", source=source, line=h.line)
        is_am = h.marker.casefold() in _AM_SET
        hour = (0 if hour == 12 else hour) if is_am else (hour if hour == 12 else hour + 12)
    try:
        if calendar == SOLAR_HIJRI:
            return datetime.combine(solar_to_gregorian(year, month, day, source=source, line=h.line),
                                    time(hour, h.minute, h.second))
        return datetime(year, month, day, hour, h.minute, h.second)
    except ValueError:
        raise IntakeError(f"date or time does not exist in the file's {order} order", source=source,
                          line=h.line) from None


def _split_sender(rest: str) -> tuple[str | None, str]:
    # "Name: text". "Name:." and a colon-free line are system lines (joined, left, changed subject…).
    sender, sep, text = rest.partition(": ")
    if not sep:
        if rest.endswith(":") and 0 < len(rest) <= 101 and rest.count(":") == 1:
            return rest[:-1].strip() or None, ""
        return None, rest
    if not sender.strip() or len(sender) > 100:
        return None, rest
    return sender.strip(), text


def _attachments(text: str, media: dict[str, bytes]) -> tuple[list[str], bool, str]:
    """(file names, missing?, caption) for a message body."""
    first, _, more = text.partition("\n")
    stripped = first.strip()
    last = stripped[-1:]
    if last == ")":
        m = _FILE_ATTACHED.match(stripped)
        if m and (m["note"].casefold() in _ATTACHED_NOTES or safe_file_name(m["name"]) in media):
            name = safe_file_name(m["name"])
            return [name], name not in media, more
    elif last == ">":
        m = _IOS_ATTACHED.match(stripped)
        if m:
            name = safe_file_name(m["name"])
            return [name], name not in media, more
    if len(stripped) < 200:
        folded = stripped.casefold()
        if folded in _OMITTED or (not more and folded.endswith(_OMITTED_SUFFIXES)):
            return [], True, more
    return [], False, text


def parse_chat_text(text: str, *, file_name: str, media: dict[str, bytes] | None = None) -> ChatExport:
    """Parse the chat text of an export (already decoded)."""
    media = media or {}
    lines = clean_text(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    headers: list[_Header] = []
    bodies: list[list[str]] = []
    for number, line in enumerate(lines, start=1):
        header = _match_header(number, line)
        if header is not None:
            headers.append(header)
            bodies.append([])
        elif headers:
            bodies[-1].append(line)
        elif line.strip():
            raise IntakeError("unknown date format (no WhatsApp message header)", source=file_name,
                              line=number)
    if not headers:
        raise IntakeError("no WhatsApp messages found", source=file_name)
    order, ambiguous = infer_date_order(headers)
    # A phone set to the Persian calendar writes Solar Hijri dates (۱۴۰۳/۰۹/۱۵): told from the years' range.
    years = [(h.line, year) for h in headers for year, digits in (_year(h, order),) if digits == 4]
    calendar = infer_calendar(years, file_name)
    messages: list[Message] = []
    missing: list[str] = []
    for index, (header, body) in enumerate(zip(headers, bodies, strict=True)):
        sender, first = _split_sender(header.rest)
        # Trailing blank lines belong to the export's layout, not to what was typed.
        while body and not body[-1].strip():
            body.pop()
        full = "\n".join([first, *body])
        names: list[str] = []
        gone = False
        if sender is not None:
            names, gone, full = _attachments(full, media)
            if gone and names:
                missing.extend(n for n in names if n not in media)
        messages.append(Message(index=index, timestamp=_timestamp(header, order, file_name, calendar), sender=sender,
                                text=full, attachments=names, attachment_missing=gone, line=header.line))
    return ChatExport(messages=messages, media=media, file_name=file_name, date_order=order,
                      date_order_ambiguous=ambiguous, missing_media=missing, calendar=calendar)


__all__ = ["ChatExport", "ExtractionResult", "Message", "extract_submissions", "parse_chat", "parse_chat_text",
           "preview_json"]
