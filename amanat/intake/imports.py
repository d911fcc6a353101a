"""Imports of whole files: a WhatsApp chat export, a CSV/XLSX table or a zip of ODK instances becomes one batch
of sealed submissions.

All or nothing. Every submission of a file is sealed in the caller's transaction under one ``batch_id``; a
parse error or any row error raises an IntakeError that names the file, line or row, and column, and the
caller's rollback leaves nothing behind. Tables are streamed row by row and sealed in chunks, so a large
export is never held in memory whole.

The web edge previews before it stores: an upload is sealed at once with ``status="held"`` (nothing is ever
written in clear, not even to a temp file), the uploader confirms (held → sealed, the worker takes them) or
discards (deleted); see held_batches.py. Stale held batches are deleted when the next web upload arrives.

The original file is not kept. It holds every other applicant in the chat or list, so keeping it beside one
person's record would show all of them to whoever may open that record's documents, and would outlive the
erasure of the others. Instead every submission's provenance (sealed) names the file, its size and its
SHA-256, and points each field at its message or row; a copy the intermediary still holds can be checked
against the digest.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from amanat.accounts import models as _accounts  # noqa: F401 (submissions.submitted_by refers to users)
from amanat.core.audit import Actor, record_event
from amanat.core.crypto import KeyHolder
from amanat.core.db import new_id, utcnow
from amanat.forms.spec import FormSpec, load_form
from amanat.intake.errors import IntakeError
from amanat.intake.form_versions import current_form, known_form_ids
from amanat.intake.held_batches import purge_stale_batches
from amanat.intake.labels import CANONICAL_FIELDS, match_label
from amanat.intake.models import Submission
from amanat.intake.openrosa import MAX_PARTS, UNKNOWN_LANGUAGE, read_submission_meta
from amanat.intake.openrosa_payload import pack_openrosa
from amanat.intake.parsed import ParsedSubmission, safe_file_name
from amanat.intake.service import seal_submission
from amanat.intake.tables import TableReader, read_table
from amanat.intake.whatsapp import ExtractionResult, extract_submissions, parse_chat, preview_json

CHUNK = 500                # submissions sealed between flushes of batch metadata and progress reports
SAMPLE_LIMIT = 50          # submissions described one by one in a result; the rest only counted
MAX_ERRORS = 100           # row errors collected before a table is given up
ORIGINAL_KEPT = False      # see the module docstring

Progress = Callable[[int, int | None], None]   # (done, total or an upper estimate, None when unknown)

# The export's own id of a submission: a duplicate row (same instance) is skipped, not stored twice.
_INSTANCE_COLUMNS = ("meta/instanceID", "meta-instanceID", "instanceID", "KEY", "_uuid")
_BARE_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff]")
_PASHTO_LETTERS = re.compile(r"[ټډړږښګڼېۍځڅ]")


@dataclass(frozen=True)
class SubmissionSummary:
    """One submission of an import, described without its values."""

    number: int                            # 1-based, in file order
    fields: tuple[str, ...]                # field names found
    attachments: int
    messages: tuple[int, ...] = ()         # WhatsApp: the messages the form was typed in
    row: int | None = None                 # tables: the row as the spreadsheet numbers it
    member: str | None = None              # ODK zips: the instance's submission.xml in the archive

    @property
    def ref(self) -> str:
        if self.member is not None:
            return self.member
        return f"row {self.row}" if self.row is not None else "messages " + ", ".join(map(str, self.messages))


@dataclass
class ImportResult:
    """What an import created (or, for a preview, would create). Holds counts and names, never values."""

    channel: str
    file_name: str
    status: str = "preview"                 # preview | held | sealed
    batch_id: str | None = None
    submissions: int = 0
    attachments: int = 0
    field_counts: dict[str, int] = field(default_factory=dict)
    samples: list[SubmissionSummary] = field(default_factory=list)
    skipped: list[dict[str, object]] = field(default_factory=list)
    messages: int = 0                        # WhatsApp: messages in the chat
    rows: int = 0                            # tables: data rows read (blank ones included); ODK zips: instances
    columns: dict[str, str | None] = field(default_factory=dict)   # tables: header → field (None: left out)
    unmapped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # tables: two columns read as one field, no name column
    errors: list[IntakeError] = field(default_factory=list)       # previews only; an import raises instead
    file_sha256: str = ""
    file_size: int = 0

    def __repr__(self) -> str:
        return (f"ImportResult(channel={self.channel!r}, status={self.status!r}, batch_id={self.batch_id!r}, "
                f"submissions={self.submissions}, errors={len(self.errors)})")


class ImportRejected(IntakeError):
    """A table had row errors: nothing is stored. ``errors`` lists them (up to MAX_ERRORS)."""

    code = "import_rejected"

    def __init__(self, errors: list[IntakeError], *, more: bool = False) -> None:
        first = errors[0]
        extra = len(errors) - 1
        problem = first.problem
        if extra or more:
            problem += f" (and {extra}{'+' if more else ''} more row errors)"
        super().__init__(problem, source=first.source, line=first.line, row=first.row, column=first.column,
                         field=first.field)
        self.errors = errors


# --- the form, labels and provenance --------------------------------------------------------------------

def _form_labels(spec: FormSpec) -> dict[str, list[str]]:
    """The form's labels (three languages) for the canonical fields, where they do not collide with a
    built-in label of another field ("Full name" is also the family member's label in the repeat)."""
    out: dict[str, list[str]] = {}
    for name, labels in spec.labels_by_field().items():
        if name not in CANONICAL_FIELDS or name == "family":
            continue
        kept = [lb for lb in labels if match_label(lb) in (None, name)]
        if kept:
            out[name] = kept
    return out


def _guess_language(fields: Mapping[str, object]) -> str:
    """The form-language code the values are written in: Pashto letters, else Arabic script (Dari), else en."""
    text = " ".join(v for v in fields.values() if isinstance(v, str))
    if _PASHTO_LETTERS.search(text):
        return "ps"
    return "prs" if _ARABIC_SCRIPT.search(text) else "en"


def _instance_id(provenance: Mapping[str, object]) -> str | None:
    for column in _INSTANCE_COLUMNS:
        value = provenance.get(column)
        if isinstance(value, str) and value.strip():
            value = value.strip()
            if _BARE_UUID.match(value):
                value = f"uuid:{value}"
            return value if len(value) <= 100 else None
    return None


@dataclass
class _Batch:
    """Seals one file's submissions under one batch id, in chunks, and keeps the counts."""

    db: Session
    keys: KeyHolder
    result: ImportResult
    actor: Actor
    submitted_by: str | None
    hold: bool
    spec: FormSpec
    origin: dict[str, object]
    progress: Progress | None = None
    total: int | None = None
    _pending: list[str] = field(default_factory=list)
    _fields: Counter[str] = field(default_factory=Counter)

    def add(self, parsed: ParsedSubmission, instance_id: str | None = None) -> None:
        parsed.provenance["import"] = self.origin
        receipt = seal_submission(self.db, self.keys, parsed, actor=self.actor, form_id=self.spec.form_id,
                                  form_version=self.spec.version, language=_guess_language(parsed.fields),
                                  submitted_by=self.submitted_by, instance_id=instance_id)
        self._pending.append(receipt.submission_id)
        r = self.result
        r.submissions += 1
        r.attachments += len(parsed.attachments)
        self._fields.update(parsed.fields.keys())
        if len(r.samples) < SAMPLE_LIMIT:
            r.samples.append(_summary(r.submissions, parsed))
        if len(self._pending) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            values: dict[str, object] = {"batch_id": self.result.batch_id}
            if self.hold:
                values["status"] = "held"
            self.db.execute(update(Submission).where(Submission.id.in_(self._pending)).values(**values),
                            execution_options={"synchronize_session": False})
            self._pending.clear()
        self.result.field_counts = dict(self._fields.most_common())
        if self.progress is not None:
            self.progress(self.result.submissions, self.total)

    def finish(self) -> ImportResult:
        self.flush()
        r = self.result
        r.status = "held" if self.hold else "sealed"
        counts: dict[str, object] = {"channel": r.channel, "submissions": r.submissions,
                                     "attachments": r.attachments, "skipped": len(r.skipped),
                                     "messages": r.messages, "rows": r.rows}
        # The file name can carry a person's name: it lives only inside the seals, never in the audit log.
        record_event(self.db, self.actor, "import:preview" if self.hold else "import:store", "import",
                     r.batch_id, **counts)
        self.db.flush()
        return r


def _origin(channel: str, file_name: str, digest: str, size: int, batch_id: str, actor: Actor,
            submitted_by: str | None, intermediary: str | None) -> dict[str, object]:
    origin: dict[str, object] = {
        "channel": channel, "batch": batch_id, "at": utcnow().isoformat(timespec="seconds"),
        "file": file_name, "file_size": size, "file_sha256": digest, "original_kept": ORIGINAL_KEPT,
        "by": submitted_by or actor.label,
    }
    if intermediary is not None:
        origin["intermediary"] = intermediary
    return origin


# --- WhatsApp ----------------------------------------------------------------------------------------------

def _extract_whatsapp(data: bytes, file_name: str, intermediary: str, spec: FormSpec) -> ExtractionResult:
    export = parse_chat(data, file_name=file_name)
    return extract_submissions(export, intermediary=intermediary, extra_labels=_form_labels(spec))


def _whatsapp_result(data: bytes, file_name: str, extraction: ExtractionResult) -> ImportResult:
    return ImportResult(channel="whatsapp", file_name=file_name, skipped=list(extraction.skipped),
                        messages=len(extraction.messages), file_sha256=hashlib.sha256(data).hexdigest(),
                        file_size=len(data))


def _summary(number: int, parsed: ParsedSubmission) -> SubmissionSummary:
    messages = parsed.provenance.get("messages")
    row = parsed.provenance.get("row")
    return SubmissionSummary(number, tuple(parsed.fields), len(parsed.attachments),
                             tuple(int(n) for n in messages) if isinstance(messages, list) else (),
                             row if isinstance(row, int) else None)


def preview_whatsapp(data: bytes, *, file_name: str, intermediary: str) -> ImportResult:
    """What `import_whatsapp` would create, and which messages it would skip and why; touches nothing (so labels
    come from the shipped form: a preview opens no database)."""
    name = safe_file_name(file_name)
    extraction = _extract_whatsapp(data, name, intermediary, load_form())
    result = _whatsapp_result(data, name, extraction)
    counts: Counter[str] = Counter()
    for i, sub in enumerate(extraction.submissions, start=1):
        counts.update(sub.fields.keys())
        result.attachments += len(sub.attachments)
        if i <= SAMPLE_LIMIT:
            result.samples.append(_summary(i, sub))
    result.submissions = len(extraction.submissions)
    result.field_counts = dict(counts.most_common())
    return result


def whatsapp_preview_document(data: bytes, *, file_name: str, intermediary: str) -> dict[str, object]:
    """The preview as one JSON-serialisable document: {"messages": […], "submissions": […], "skipped": […]}.

    It holds what the chat says (the person asking holds the file); the edge prints it and stores nothing.
    """
    name = safe_file_name(file_name)
    return preview_json(_extract_whatsapp(data, name, intermediary, load_form()))


def import_whatsapp(db: Session, keys: KeyHolder, data: bytes, *, file_name: str, intermediary: str, actor: Actor,
                    submitted_by: str | None = None, hold: bool = False,
                    progress: Progress | None = None) -> ImportResult:
    """Seal every form typed into a chat export as one batch (held for confirmation when ``hold``).

    Photos sent just before or after a form are its attachments; the sender's other messages around it are
    its context; every field names its message. A chat without forms stores nothing (submissions == 0).
    """
    if hold:
        purge_stale_batches(db, actor)
    name = safe_file_name(file_name)
    spec = current_form(db)  # the newest uploaded version, else the shipped form
    extraction = _extract_whatsapp(data, name, intermediary, spec)
    result = _whatsapp_result(data, name, extraction)
    if not extraction.submissions:
        return result
    result.batch_id = new_id()
    batch = _Batch(db, keys, result, actor, submitted_by, hold, spec,
                   _origin("whatsapp", name, result.file_sha256, len(data), result.batch_id, actor, submitted_by,
                           intermediary),
                   progress=progress, total=len(extraction.submissions))
    for sub in extraction.submissions:
        batch.add(sub)
    return batch.finish()


# --- tables -------------------------------------------------------------------------------------------------

def _rewindable(stream: IO[bytes]) -> tuple[IO[bytes], str, int, int]:
    """(a stream at its start, SHA-256, size, newline count). One pass of hashing, then back to the start;
    the newline count is an upper estimate of a CSV's rows for the progress bar."""
    if not stream.seekable():
        stream = io.BytesIO(stream.read())
    start = stream.tell()
    digest = hashlib.sha256()
    size = lines = 0
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
        lines += chunk.count(b"\n")
    stream.seek(start)
    return stream, digest.hexdigest(), size, lines


def _open_table(stream: IO[bytes], file_name: str, mapping: Mapping[str, str | None] | None,
                spec: FormSpec) -> tuple[TableReader, ImportResult, int | None]:
    stream, digest, size, lines = _rewindable(stream)
    reader = read_table(stream, file_name=file_name, mapping=mapping, extra_labels=_form_labels(spec),
                        on_error="collect")
    result = ImportResult(channel="table", file_name=file_name, columns=dict(reader.columns),
                          unmapped=list(reader.unmapped), warnings=list(reader.warnings), file_sha256=digest,
                          file_size=size)
    estimate = max(lines - 1, 1) if reader.kind == "csv" else None
    return reader, result, estimate


def preview_table(stream: IO[bytes], *, file_name: str, mapping: Mapping[str, str | None] | None = None,
                  progress: Progress | None = None) -> ImportResult:
    """What `import_table` would create, with every row error (up to MAX_ERRORS); touches nothing."""
    name = safe_file_name(file_name)
    reader, result, estimate = _open_table(stream, name, mapping, load_form())
    counts: Counter[str] = Counter()
    last = 1
    try:
        for row, sub in reader:
            last = row
            counts.update(sub.fields.keys())
            result.submissions += 1
            if result.submissions <= SAMPLE_LIMIT:
                result.samples.append(_summary(result.submissions, sub))
            if progress is not None and result.submissions % CHUNK == 0:
                progress(result.submissions, estimate)
            if len(reader.errors) >= MAX_ERRORS:
                break
    finally:
        reader.close()
    result.rows = max([last, *(e.row or 0 for e in reader.errors)]) - 1  # max(last) alone would fail
    result.errors = reader.errors[:MAX_ERRORS]
    result.field_counts = dict(counts.most_common())
    if progress is not None:
        progress(result.submissions, result.submissions)
    return result


def import_table(db: Session, keys: KeyHolder, stream: IO[bytes], *, file_name: str,
                 mapping: Mapping[str, str | None] | None, actor: Actor, submitted_by: str | None = None,
                 hold: bool = False, progress: Progress | None = None) -> ImportResult:
    """Seal one submission per non-blank row as one batch (held for confirmation when ``hold``).

    Rows are streamed and sealed as they are read. At the first row error sealing stops (parsing goes on
    to collect up to MAX_ERRORS of them) and ImportRejected is raised: the caller rolls back. A row whose
    export instance id was already received is skipped and reported, so a grown export can be imported again.
    """
    if hold:
        purge_stale_batches(db, actor)
    name = safe_file_name(file_name)
    spec = current_form(db)  # the newest uploaded version, else the shipped form
    reader, result, estimate = _open_table(stream, name, mapping, spec)
    result.batch_id = new_id()
    batch = _Batch(db, keys, result, actor, submitted_by, hold, spec,
                   _origin("table", name, result.file_sha256, result.file_size, result.batch_id, actor,
                           submitted_by, None),
                   progress=progress, total=estimate)
    row = 1
    seen: set[str] = set()
    try:
        for row, sub in reader:
            if reader.errors:
                if len(reader.errors) >= MAX_ERRORS:
                    break
                continue  # nothing will be stored: only look for more errors to report at once
            instance_id = _instance_id(sub.provenance)
            if instance_id is not None:
                if instance_id in seen or db.scalar(select(Submission.id)
                                                    .where(Submission.instance_id == instance_id)):
                    result.skipped.append({"row": row, "reason": "already received (same instance ID)"})
                    continue
                seen.add(instance_id)
            batch.add(sub, instance_id)
    finally:
        reader.close()
    if reader.errors:
        raise ImportRejected(reader.errors[:MAX_ERRORS], more=len(reader.errors) >= MAX_ERRORS)
    result.rows = row - 1
    if result.submissions == 0:
        result.batch_id = None
        return result
    return batch.finish()


# --- ODK submissions in a zip (ODK Briefcase, or an intermediary's copy of the phone's instances folder) ------

ODK_ZIP_MAX_BYTES = 1 << 30    # unpacked
ODK_ZIP_MAX_FILES = 20_000
_SUBMISSION_XML = "submission.xml"


def _odk_instances(data: bytes, source: str) -> list[tuple[str, bytes, list[tuple[str, bytes]]]]:
    """(member name of its submission.xml, the XML, [(media name, bytes)]) for each instance folder of the zip,
    in member order. Read in memory only; a folder's other files (media, ``.enc``) belong to its instance."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir() and "__MACOSX" not in i.filename]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise IntakeError("not a readable zip archive (truncated or damaged)", source=source) from exc
    if len(infos) > ODK_ZIP_MAX_FILES:
        raise IntakeError(f"the archive holds more than {ODK_ZIP_MAX_FILES} files", source=source)
    if sum(i.file_size for i in infos) > ODK_ZIP_MAX_BYTES:
        raise IntakeError("the archive unpacks to more than the size limit", source=source)
    folders = {posixpath.dirname(i.filename): i for i in infos
               if posixpath.basename(i.filename) == _SUBMISSION_XML}
    if not folders:
        raise IntakeError("the archive holds no submission.xml (one folder per instance is expected)",
                          source=source)

    def read(info: zipfile.ZipInfo) -> bytes:
        try:
            return archive.read(info)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise IntakeError("cannot be read (damaged or encrypted)", source=f"{source}, {info.filename}") from exc

    media: dict[str, list[tuple[str, bytes]]] = {folder: [] for folder in folders}
    for info in infos:
        folder = posixpath.dirname(info.filename)
        if folder in folders and info is not folders[folder]:
            media[folder].append((posixpath.basename(info.filename), read(info)))
    return [(info.filename, read(info), media[folder])
            for folder, info in sorted(folders.items(), key=lambda kv: kv[1].filename)]


def import_odk_zip(db: Session, keys: KeyHolder, data: bytes, *, file_name: str, actor: Actor,
                   submitted_by: str | None = None, hold: bool = False) -> ImportResult:
    """Seal each ODK instance of a zip (plain XForm instance or encrypted manifest, with its media or ``.enc``
    files) as one batch, each exactly as the OpenRosa endpoint seals a submission (channel ``openrosa``), so
    the worker decrypts and parses it. Only form id, version and instanceID are read here.

    All or nothing: a bad instance raises IntakeError naming its zip member and the caller rolls back. An
    instanceID already received (or repeated in the zip) is skipped and reported.
    """
    if hold:
        purge_stale_batches(db, actor)
    name = safe_file_name(file_name)
    instances = _odk_instances(data, name)
    digest = hashlib.sha256(data).hexdigest()
    result = ImportResult(channel="openrosa", file_name=name, rows=len(instances), file_sha256=digest,
                          file_size=len(data))
    batch_id = new_id()
    origin = _origin("odk_zip", name, digest, len(data), batch_id, actor, submitted_by, None)
    forms = known_form_ids(db)
    seen: set[str] = set()
    stored: list[str] = []
    for member, xml, media in instances:
        where = f"{name}, {member}"
        try:
            meta = read_submission_meta(xml)
        except IntakeError as exc:
            raise IntakeError(exc.problem, source=where, field=exc.field) from None
        if meta.form_id not in forms:
            raise IntakeError("the form is not known to this server", source=where)
        if len(media) > MAX_PARTS:
            raise IntakeError(f"an instance may carry at most {MAX_PARTS} attachments", source=where)
        if meta.instance_id in seen or db.scalar(select(Submission.id)
                                                 .where(Submission.instance_id == meta.instance_id)):
            result.skipped.append({"member": member, "reason": "already received (same instance ID)"})
            continue
        seen.add(meta.instance_id)
        packed = pack_openrosa(xml, media, encrypted=meta.encrypted, device="import")
        openrosa = packed.provenance["openrosa"]
        assert isinstance(openrosa, dict)
        openrosa["import"] = origin  # kept by the worker with the rest of the "openrosa" provenance
        receipt = seal_submission(db, keys, packed, actor=actor, form_id=meta.form_id, form_version=meta.version,
                                  language=UNKNOWN_LANGUAGE, submitted_by=submitted_by,
                                  instance_id=meta.instance_id, status="held" if hold else "sealed",
                                  content_sha256=hashlib.sha256(xml).hexdigest())
        stored.append(receipt.submission_id)
        result.submissions += 1
        result.attachments += len(media)
        if len(result.samples) < SAMPLE_LIMIT:
            result.samples.append(SubmissionSummary(result.submissions, (), len(media), member=member))
    if not stored:
        return result
    result.batch_id = batch_id
    for start in range(0, len(stored), CHUNK):
        db.execute(update(Submission).where(Submission.id.in_(stored[start:start + CHUNK]))
                   .values(batch_id=batch_id), execution_options={"synchronize_session": False})
    result.status = "held" if hold else "sealed"
    record_event(db, actor, "import:preview" if hold else "import:store", "import", batch_id,
                 channel=result.channel, submissions=result.submissions, attachments=result.attachments,
                 skipped=len(result.skipped), instances=result.rows)
    db.flush()
    return result


__all__ = ["CHUNK", "ImportRejected", "ImportResult", "SubmissionSummary", "import_odk_zip", "import_table",
           "import_whatsapp", "preview_table", "preview_whatsapp", "whatsapp_preview_document"]
