"""Find the forms typed into a WhatsApp chat: `label: value` lines in English, Dari or Pashto.

A form may be split over several messages of one sender; photos that sender sent just before or after
belong to it; the sender's other messages around it travel along as context. Every field says which
message it came from, so a caseworker can check it against the chat.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from amanat.intake.labels import FAMILY_MEMBER_FIELDS, NAME_FIELDS, LabelMatcher, strip_enumeration
from amanat.intake.parsed import ParsedSubmission, make_attachment
from amanat.intake.whatsapp_chat import ChatExport, Message

MIN_FIELDS = 3
MERGE_WINDOW = timedelta(minutes=15)     # a form typed in several messages arrives within minutes
PHOTO_WINDOW = timedelta(minutes=10)     # "here is his tazkira" photos, just before or after
CONTEXT_WINDOW = timedelta(hours=2)      # the sender's chat around a form that may explain it

# "label: value", also "label - value" and "label = value"; the label must be short.
_SEPARATORS = re.compile(r"\s*(?::|：|\s[-–=]\s|=)\s*")
_MAX_LABEL_WORDS = 6


@dataclass
class ExtractionResult:
    submissions: list[ParsedSubmission]
    skipped: list[dict[str, object]]
    messages: list[Message]


@dataclass
class _Form:
    sender: str
    messages: list[Message] = field(default_factory=list)
    fields: dict[str, object] = field(default_factory=dict)
    sources: dict[str, tuple[Message, int]] = field(default_factory=dict)
    unmatched: list[tuple[Message, int]] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return self.messages[0].timestamp

    @property
    def end(self) -> datetime:
        return self.messages[-1].timestamp


def parse_form_lines(text: str, matcher: LabelMatcher) -> tuple[list[tuple[str, str, int]], list[int]]:
    """([(field, value, line number in message)], [line numbers that held no label]).

    Empty when the text does not look like a form: it needs one `label: value` line, or two lines
    that start with a label, so that chat prose ("name is on the tazkira") is not taken for a form.
    """
    found: list[tuple[str, str, int]] = []
    unmatched: list[int] = []
    separated = 0
    pending: tuple[str, int] | None = None   # a label on its own line; its value is on the next line
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        hit = _label_value(line, matcher)
        if hit is None:
            if pending is not None:
                found.append((pending[0], line, pending[1]))
                pending = None
            else:
                unmatched.append(number)
            continue
        label_field, value, with_separator = hit
        separated += with_separator
        if pending is not None:
            found.append((pending[0], "", pending[1]))
        pending = None
        if value:
            found.append((label_field, value, number))
        else:
            pending = (label_field, number)
    if pending is not None:
        found.append((pending[0], "", pending[1]))
    if not separated and len(found) < 2:
        return [], []
    return found, unmatched


def _label_value(line: str, matcher: LabelMatcher) -> tuple[str, str, bool] | None:
    body = strip_enumeration(line)
    m = _SEPARATORS.search(body)
    if m and m.start() > 0:
        label = body[: m.start()]
        if len(label.split()) <= _MAX_LABEL_WORDS:
            hit = matcher.match(label)
            if hit is not None:
                return hit, body[m.end():].strip(), True
    # "۱- نام احمد": no separator; the longest run of leading words that is a label.
    if not matcher.first_word_known(body):
        return None
    words = body.split()
    for n in range(min(len(words), _MAX_LABEL_WORDS), 0, -1):
        hit = matcher.match(" ".join(words[:n]))
        if hit is not None:
            return hit, " ".join(words[n:]), False
    return None


def _where(message: Message, sender_id: int, line: int | None = None) -> str:
    at = f", line {line}" if line is not None else ""
    return f"message {message.index}{at} ({message.timestamp.isoformat(timespec='minutes')}, sender {sender_id})"


def extract_submissions(export: ChatExport, *, intermediary: str,
                        extra_labels: Mapping[str, Iterable[str]] | None = None,
                        min_fields: int = MIN_FIELDS) -> ExtractionResult:
    """The forms in a chat as submissions, the messages that looked like forms but were not, and all
    messages."""
    matcher = LabelMatcher(extra_labels)
    sender_ids: dict[str, int] = {}
    for m in export.messages:
        if m.sender is not None and m.sender not in sender_ids:
            sender_ids[m.sender] = len(sender_ids) + 1
    skipped: list[dict[str, object]] = []
    parsed: dict[int, tuple[list[tuple[str, str, int]], list[int]]] = {}
    for m in export.messages:
        if m.sender is not None and m.text.strip():
            lines, unmatched = parse_form_lines(m.text, matcher)
            if lines:
                parsed[m.index] = (lines, unmatched)
        for name in m.attachments:
            if name not in export.media:
                skipped.append(_skip(m, "attachment not in the export", sender_ids))
                break
        else:
            if m.attachment_missing:
                skipped.append(_skip(m, "media omitted from the export", sender_ids))

    forms = _group_forms(export.messages, parsed)
    submissions: list[ParsedSubmission] = []
    kept: list[_Form] = []
    for form in forms:
        names = NAME_FIELDS & form.fields.keys()
        recognised = [f for f in form.fields if f != "notes"]
        if len(recognised) >= min_fields and names:
            kept.append(form)
        else:
            reason = "no name field" if not names else f"fewer than {min_fields} recognised fields"
            skipped.extend(_skip(m, reason, sender_ids) for m in form.messages)
    in_form = {m.index for f in kept for m in f.messages}
    photos = _assign_photos(export.messages, kept, in_form)
    # A photo that went with one form is not context for another.
    photo_owner = {m.index: number for number, ms in photos.items() for m in ms}
    for number, form in enumerate(kept):
        context = _context(export.messages, form, number, in_form, photo_owner)
        submissions.append(_to_submission(form, number, export, intermediary, sender_ids, photos, context))
    skipped.sort(key=lambda s: int(s["message"]))  # type: ignore[call-overload]
    return ExtractionResult(submissions=submissions, skipped=skipped, messages=export.messages)


def _skip(m: Message, reason: str, sender_ids: Mapping[str, int]) -> dict[str, object]:
    return {"message": m.index, "timestamp": m.timestamp.isoformat(), "line": m.line,
            "sender": sender_ids.get(m.sender or "", None), "reason": reason}


def _group_forms(messages: list[Message],
                 parsed: Mapping[int, tuple[list[tuple[str, str, int]], list[int]]]) -> list[_Form]:
    open_forms: dict[str, _Form] = {}     # per sender: the form their next message may continue
    forms: list[_Form] = []
    for m in messages:
        if m.index not in parsed or m.sender is None:
            continue
        lines, unmatched = parsed[m.index]
        form = open_forms.get(m.sender)
        starts_new = any(f in NAME_FIELDS and f in form.fields for f, _, _ in lines) if form else True
        if form is None or starts_new or m.timestamp - form.end > MERGE_WINDOW:
            form = _Form(sender=m.sender)
            forms.append(form)
            open_forms[m.sender] = form
        form.messages.append(m)
        form.unmatched.extend((m, n) for n in unmatched)
        _add_fields(form, m, lines)
    return forms


def _add_fields(form: _Form, m: Message, lines: list[tuple[str, str, int]]) -> None:
    member: dict[str, str] | None = None
    for fld, value, line in lines:
        where = (m, line)
        if fld in FAMILY_MEMBER_FIELDS:
            family = form.fields.setdefault("family", [])
            assert isinstance(family, list)
            if member is None or fld == "member_name" or fld in member:
                member = {}
                family.append(member)
            member[fld] = value
            form.sources.setdefault("family", where)
            continue
        if fld == "family":
            continue  # a heading ("Family members:"); the members follow
        if form.fields.get(fld):
            # The same label twice: keep both rather than guess which one is right.
            form.fields[fld] = f"{form.fields[fld]}\n{value}" if value else form.fields[fld]
            continue
        form.fields[fld] = value
        form.sources[fld] = where


def _assign_photos(messages: list[Message], forms: list[_Form], in_form: set[int]) -> dict[int, list[Message]]:
    """Form number → the sender's photo messages that belong to it: just after a form goes to that
    form, else just before one goes to the next; whichever is nearer when both are in reach."""
    result: dict[int, list[Message]] = {i: [] for i in range(len(forms))}
    by_sender: dict[str, list[int]] = {}
    for i, f in enumerate(forms):
        by_sender.setdefault(f.sender, []).append(i)   # in chat order, as forms are
    starts = {sender: [forms[i].messages[0].index for i in ids] for sender, ids in by_sender.items()}
    for m in messages:
        if not m.attachments or m.index in in_form or m.sender not in by_sender:
            continue
        ids = by_sender[m.sender]
        pos = bisect.bisect_left(starts[m.sender], m.index)
        before = forms[ids[pos - 1]] if pos > 0 else None
        after = forms[ids[pos]] if pos < len(ids) else None
        gap_before = m.timestamp - before.end if before else None
        gap_after = after.start - m.timestamp if after else None
        if gap_before is not None and gap_before <= PHOTO_WINDOW and (
                gap_after is None or gap_after > PHOTO_WINDOW or gap_before <= gap_after):
            result[ids[pos - 1]].append(m)
        elif gap_after is not None and gap_after <= PHOTO_WINDOW:
            result[ids[pos]].append(m)
    return result


def _context(messages: list[Message], form: _Form, number: int, in_form: set[int],
             photo_owner: Mapping[int, int]) -> list[dict[str, object]]:
    """The sender's other messages within CONTEXT_WINDOW of the form, not part of any form and not
    another form's photos. Walks outwards from the form (chat order is time order), so a long chat
    costs only the messages near each form. Message indexes are list positions (parse_chat_text)."""
    first, last = form.messages[0].index, form.messages[-1].index
    lo, hi = first, last
    while lo > 0 and messages[lo - 1].timestamp >= form.start - CONTEXT_WINDOW:
        lo -= 1
    while hi + 1 < len(messages) and messages[hi + 1].timestamp <= form.end + CONTEXT_WINDOW:
        hi += 1
    return [
        {"index": m.index, "timestamp": m.timestamp.isoformat(), "sender": m.sender, "text": m.text,
         "attachments": list(m.attachments)}
        for m in messages[lo:hi + 1]
        if m.sender == form.sender and m.index not in in_form and photo_owner.get(m.index, number) == number
    ]


def _to_submission(form: _Form, number: int, export: ChatExport, intermediary: str,
                   sender_ids: Mapping[str, int], photos: Mapping[int, list[Message]],
                   context: list[dict[str, object]]) -> ParsedSubmission:
    sid = sender_ids[form.sender]
    field_sources = {f: _where(m, sid, line) for f, (m, line) in form.sources.items()}
    fields = dict(form.fields)
    if form.unmatched:
        # Lines without a label are usually explanations ("he served in Helmand until 1399"): keep them.
        texts = [m.text.split("\n")[n - 1].strip() for m, n in form.unmatched]
        extra = "\n".join(t for t in texts if t)
        if extra:
            fields["notes"] = f"{fields['notes']}\n{extra}" if fields.get("notes") else extra
            field_sources.setdefault("notes", _where(form.unmatched[0][0], sid, form.unmatched[0][1]))
    attachments = []
    missing: list[str] = []
    photo_messages = photos.get(number, [])
    for m in photo_messages:
        for name in m.attachments:
            if name in export.media:
                attachments.append(make_attachment(name, export.media[name]))
            else:
                missing.append(name)
    provenance: dict[str, object] = {
        "source": export.file_name, "intermediary": intermediary, "sender_id": sid,
        "messages": [m.index for m in form.messages],
        "timestamps": [m.timestamp.isoformat() for m in form.messages],
        "lines": [m.line for m in form.messages],
        "photo_messages": [m.index for m in photo_messages],
        "date_order": export.date_order, "date_order_ambiguous": export.date_order_ambiguous,
    }
    if missing:
        provenance["missing_attachments"] = missing
    return ParsedSubmission(channel="whatsapp", fields=fields, attachments=attachments, provenance=provenance,
                            field_sources=field_sources, context=context)


def preview_json(result: ExtractionResult) -> dict[str, object]:
    """What the intake review page shows before anything is stored (JSON-serialisable)."""
    return {
        "messages": [
            {"timestamp": m.timestamp.isoformat(), "sender": m.sender, "text": m.text,
             "attachments": list(m.attachments)}
            for m in result.messages
        ],
        "submissions": [
            {"channel": s.channel, "fields": s.fields, "field_sources": s.field_sources,
             "attachments": [{"name": a.name, "content_type": a.content_type, "size": len(a.data)}
                             for a in s.attachments],
             "provenance": s.provenance, "context": s.context}
            for s in result.submissions
        ],
        "skipped": list(result.skipped),
    }
