"""Imports of whole files: a WhatsApp chat export, a CSV/XLSX table or a zip of ODK instances becomes one batch
of sealed submissions.

All or nothing, and never inside the write lock. A file is first parsed and sealed in memory, within the
upload limits (upload_limits.py: unpacked size, rows, columns, cell length, lines, messages, attachments,
each counted while reading); a parse error or any row error raises an IntakeError that names the file, line
or row, and column, before anything is written. The sealed plan is then stored (import_plan.py): in the
caller's transaction, or on the web in short transactions as a held batch, deleted again if any step fails.

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
from collections.abc import Mapping
from typing import IO

from sqlalchemy.orm import Session

from amanat.accounts import models as _accounts  # noqa: F401 (submissions.submitted_by refers to users)
from amanat.core.audit import Actor
from amanat.core.crypto import KeyHolder
from amanat.core.db import new_id, utcnow
from amanat.forms.spec import FormSpec, load_form
from amanat.intake.consent import MISSING, ImportConsent
from amanat.intake.errors import IntakeError
from amanat.intake.form_versions import current_form, known_form_ids
from amanat.intake.import_plan import (
    CHUNK,
    MAX_ERRORS,
    SAMPLE_LIMIT,
    ImportPlan,
    ImportRejected,
    ImportResult,
    PlannedSubmission,
    Progress,
    SubmissionSummary,
    store_plan,
    store_plan_bounded,
    summarise,
)
from amanat.intake.labels import CANONICAL_FIELDS, match_label
from amanat.intake.openrosa import MAX_PARTS, UNKNOWN_LANGUAGE, read_submission_meta
from amanat.intake.openrosa_payload import pack_openrosa
from amanat.intake.parsed import ParsedSubmission, safe_file_name
from amanat.intake.service import prepare_sealed
from amanat.intake.tables import TableReader, read_table
from amanat.intake.upload_limits import (
    DEFAULT_LIMITS,
    UnpackBudget,
    UploadLimitExceeded,
    UploadLimits,
    check_count,
    check_table_shape,
    check_xlsx_unpacked,
)
from amanat.intake.whatsapp import ExtractionResult, extract_submissions, parse_chat, preview_json

ORIGINAL_KEPT = False      # see the module docstring

# The export's own id of a submission: a duplicate row (same instance) is skipped, not stored twice.
_INSTANCE_COLUMNS = ("meta/instanceID", "meta-instanceID", "instanceID", "KEY", "_uuid")
_BARE_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


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


def _instance_id(provenance: Mapping[str, object]) -> str | None:
    for column in _INSTANCE_COLUMNS:
        value = provenance.get(column)
        if isinstance(value, str) and value.strip():
            value = value.strip()
            if _BARE_UUID.match(value):
                value = f"uuid:{value}"
            return value if len(value) <= 100 else None
    return None


def _origin(channel: str, file_name: str, digest: str, size: int, batch_id: str, actor: Actor,
            submitted_by: str | None, intermediary: str | None,
            consent: ImportConsent | None = None) -> dict[str, object]:
    origin: dict[str, object] = {
        "channel": channel, "batch": batch_id, "at": utcnow().isoformat(timespec="seconds"),
        "file": file_name, "file_size": size, "file_sha256": digest, "original_kept": ORIGINAL_KEPT,
        "by": submitted_by or actor.label,
    }
    if consent is not None:  # the basis the importer stated for everyone in the file (intake/consent.py)
        origin["consent"] = consent.to_dict()
    if intermediary is not None:
        origin["intermediary"] = intermediary
    return origin


# --- WhatsApp ----------------------------------------------------------------------------------------------

def _extract_whatsapp(data: bytes, file_name: str, intermediary: str, spec: FormSpec,
                      limits: UploadLimits = DEFAULT_LIMITS) -> ExtractionResult:
    export = parse_chat(data, file_name=file_name, limits=limits)
    extraction = extract_submissions(export, intermediary=intermediary, extra_labels=_form_labels(spec))
    check_count("forms", len(extraction.submissions), limits.max_rows, file_name)
    check_count("attachments", sum(len(s.attachments) for s in extraction.submissions), limits.max_attachments,
                file_name)
    return extraction


def _whatsapp_result(data: bytes, file_name: str, extraction: ExtractionResult) -> ImportResult:
    return ImportResult(channel="whatsapp", file_name=file_name, skipped=list(extraction.skipped),
                        messages=len(extraction.messages), file_sha256=hashlib.sha256(data).hexdigest(),
                        file_size=len(data))


def preview_whatsapp(data: bytes, *, file_name: str, intermediary: str,
                     limits: UploadLimits = DEFAULT_LIMITS) -> ImportResult:
    """What `import_whatsapp` would create, and which messages it would skip and why; touches nothing (so labels
    come from the shipped form: a preview opens no database)."""
    name = safe_file_name(file_name)
    extraction = _extract_whatsapp(data, name, intermediary, load_form(), limits)
    result = _whatsapp_result(data, name, extraction)
    counts: Counter[str] = Counter()
    for i, sub in enumerate(extraction.submissions, start=1):
        counts.update(sub.fields.keys())
        result.attachments += len(sub.attachments)
        if i <= SAMPLE_LIMIT:
            result.samples.append(summarise(i, sub))
    result.submissions = len(extraction.submissions)
    result.field_counts = dict(counts.most_common())
    return result


def whatsapp_preview_document(data: bytes, *, file_name: str, intermediary: str,
                              limits: UploadLimits = DEFAULT_LIMITS) -> dict[str, object]:
    """The preview as one JSON-serialisable document: {"messages": […], "submissions": […], "skipped": […]}.

    It holds what the chat says (the person asking holds the file); the edge prints it and stores nothing.
    """
    name = safe_file_name(file_name)
    return preview_json(_extract_whatsapp(data, name, intermediary, load_form(), limits))


def _require_consent(consent: ImportConsent | None, name: str) -> ImportConsent:
    if consent is None:
        raise IntakeError(MISSING, source=name)
    return consent


def _with_consent(plan: ImportPlan, consent: ImportConsent) -> ImportPlan:
    plan.audit["consent_basis"] = consent.basis  # a code: the import's audit event says on what basis
    return plan


def plan_whatsapp(keys: KeyHolder, data: bytes, *, file_name: str, intermediary: str, spec: FormSpec,
                  actor: Actor, consent: ImportConsent | None, submitted_by: str | None = None,
                  limits: UploadLimits = DEFAULT_LIMITS) -> ImportPlan:
    """Parse a chat export and seal every form typed into it, in memory and within ``limits``; opens no
    database. Photos sent just before or after a form are its attachments; the sender's other messages
    around it are its context; every field names its message. ``consent``: the basis the importer states
    (required: refused before the file is read)."""
    name = safe_file_name(file_name)
    stated = _require_consent(consent, name)
    extraction = _extract_whatsapp(data, name, intermediary, spec, limits)
    result = _whatsapp_result(data, name, extraction)
    plan = _with_consent(ImportPlan(result, _origin("whatsapp", name, result.file_sha256, len(data), new_id(),
                                                    actor, submitted_by, intermediary, stated)), stated)
    for sub in extraction.submissions:
        plan.add_parsed(keys, sub, spec)
    return plan


def import_whatsapp(db: Session, keys: KeyHolder, data: bytes, *, file_name: str, intermediary: str, actor: Actor,
                    consent: ImportConsent | None, submitted_by: str | None = None, hold: bool = False,
                    progress: Progress | None = None, limits: UploadLimits = DEFAULT_LIMITS) -> ImportResult:
    """Seal every form typed into a chat export as one batch (held for confirmation when ``hold``), in the
    caller's transaction. A chat without forms stores nothing (submissions == 0)."""
    plan = plan_whatsapp(keys, data, file_name=file_name, intermediary=intermediary, spec=current_form(db),
                         actor=actor, consent=consent, submitted_by=submitted_by, limits=limits)
    return store_plan(db, plan, actor=actor, submitted_by=submitted_by, hold=hold, progress=progress)


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
                spec: FormSpec, limits: UploadLimits) -> tuple[TableReader, ImportResult, int | None]:
    stream, digest, size, lines = _rewindable(stream)
    if stream.read(4) == b"PK\x03\x04":
        stream.seek(0)
        check_xlsx_unpacked(stream, limits, file_name)  # before openpyxl expands a workbook of empty rows
    stream.seek(0)
    reader = read_table(stream, file_name=file_name, mapping=mapping, extra_labels=_form_labels(spec),
                        on_error="collect", max_rows=limits.max_rows, max_cell=limits.max_cell_chars)
    try:
        check_table_shape(len(reader.headers), limits, file_name)
    except UploadLimitExceeded:
        reader.close()
        raise
    result = ImportResult(channel="table", file_name=file_name, columns=dict(reader.columns),
                          unmapped=list(reader.unmapped), warnings=list(reader.warnings), file_sha256=digest,
                          file_size=size)
    estimate = max(lines - 1, 1) if reader.kind == "csv" else None
    return reader, result, estimate


def preview_table(stream: IO[bytes], *, file_name: str, mapping: Mapping[str, str | None] | None = None,
                  progress: Progress | None = None, limits: UploadLimits = DEFAULT_LIMITS) -> ImportResult:
    """What `import_table` would create, with every row error (up to MAX_ERRORS); touches nothing."""
    name = safe_file_name(file_name)
    reader, result, estimate = _open_table(stream, name, mapping, load_form(), limits)
    counts: Counter[str] = Counter()
    last = 1
    try:
        for row, sub in reader:
            last = row
            counts.update(sub.fields.keys())
            result.submissions += 1
            if result.submissions <= SAMPLE_LIMIT:
                result.samples.append(summarise(result.submissions, sub))
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


def plan_table(keys: KeyHolder, stream: IO[bytes], *, file_name: str, mapping: Mapping[str, str | None] | None,
               spec: FormSpec, actor: Actor, consent: ImportConsent | None, submitted_by: str | None = None,
               limits: UploadLimits = DEFAULT_LIMITS, progress: Progress | None = None) -> ImportPlan:
    """Read and seal one submission per non-blank row, in memory and within ``limits``; opens no database.

    Every row is read before anything is stored: at the first row error sealing stops (parsing goes on to
    collect up to MAX_ERRORS of them) and ImportRejected is raised. A row repeating an export instance id of
    the same file is skipped and reported (ids already received are skipped when the plan is stored).
    """
    name = safe_file_name(file_name)
    stated = _require_consent(consent, name)
    reader, result, estimate = _open_table(stream, name, mapping, spec, limits)
    plan = _with_consent(ImportPlan(result, _origin("table", name, result.file_sha256, result.file_size, new_id(),
                                                    actor, submitted_by, None, stated)), stated)
    row = 1
    seen: set[str] = set()
    pending: list[tuple[ParsedSubmission, str | None, int]] = []
    try:
        for row, sub in reader:
            if reader.errors:
                if len(reader.errors) >= MAX_ERRORS:
                    break
                continue  # nothing will be stored: only look for more errors to report at once
            instance_id = _instance_id(sub.provenance)
            if instance_id is not None:
                if instance_id in seen:
                    result.skipped.append({"row": row, "reason": "already received (same instance ID)"})
                    continue
                seen.add(instance_id)
            pending.append((sub, instance_id, row))
            if progress is not None and len(pending) % CHUNK == 0:
                progress(len(pending), estimate)
    finally:
        reader.close()
    if reader.errors:
        raise ImportRejected(reader.errors[:MAX_ERRORS], more=len(reader.errors) >= MAX_ERRORS)
    # Sealed only once the whole file was read within its limits: a refused file costs no sealing.
    for sub, instance_id, at in pending:
        plan.add_parsed(keys, sub, spec, instance_id=instance_id, ref={"row": at})
    result.rows = row - 1
    return plan


def import_table(db: Session, keys: KeyHolder, stream: IO[bytes], *, file_name: str,
                 mapping: Mapping[str, str | None] | None, actor: Actor, consent: ImportConsent | None,
                 submitted_by: str | None = None, hold: bool = False, progress: Progress | None = None,
                 limits: UploadLimits = DEFAULT_LIMITS) -> ImportResult:
    """Seal one submission per non-blank row as one batch (held for confirmation when ``hold``) in the
    caller's transaction; see plan_table. A row whose export instance id was already received is skipped and
    reported, so a grown export can be imported again."""
    plan = plan_table(keys, stream, file_name=file_name, mapping=mapping, spec=current_form(db), actor=actor,
                      consent=consent, submitted_by=submitted_by, limits=limits, progress=progress)
    return store_plan(db, plan, actor=actor, submitted_by=submitted_by, hold=hold, progress=progress)


# --- ODK submissions in a zip (ODK Briefcase, or an intermediary's copy of the phone's instances folder) ------

_SUBMISSION_XML = "submission.xml"


def _odk_instances(data: bytes, source: str,
                   limits: UploadLimits) -> list[tuple[str, bytes, list[tuple[str, bytes]]]]:
    """(member name of its submission.xml, the XML, [(media name, bytes)]) for each instance folder of the zip,
    in member order. Read in memory only, each member through the counting reader (the per-file limit and
    the archive's unpacked limit); a folder's other files (media, ``.enc``) belong to its instance."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir() and "__MACOSX" not in i.filename]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise IntakeError("not a readable zip archive (truncated or damaged)", source=source) from exc
    folders = {posixpath.dirname(i.filename): i for i in infos
               if posixpath.basename(i.filename) == _SUBMISSION_XML}
    if not folders:
        raise IntakeError("the archive holds no submission.xml (one folder per instance is expected)",
                          source=source)
    check_count("instances", len(folders), limits.max_rows, source)
    check_count("files", len(infos), limits.max_attachments + len(folders), source)
    budget = UnpackBudget(limits, source)

    def read(info: zipfile.ZipInfo) -> bytes:
        return budget.read_member(archive, info, label=info.filename)

    media: dict[str, list[tuple[str, bytes]]] = {folder: [] for folder in folders}
    for info in infos:
        folder = posixpath.dirname(info.filename)
        if folder in folders and info is not folders[folder]:
            media[folder].append((posixpath.basename(info.filename), read(info)))
    return [(info.filename, read(info), media[folder])
            for folder, info in sorted(folders.items(), key=lambda kv: kv[1].filename)]


def plan_odk_zip(keys: KeyHolder, data: bytes, *, file_name: str, forms: set[str], actor: Actor,
                 submitted_by: str | None = None, limits: UploadLimits = DEFAULT_LIMITS) -> ImportPlan:
    """Read and seal each ODK instance of a zip (plain XForm instance or encrypted manifest, with its media or
    ``.enc`` files) exactly as the OpenRosa endpoint seals a submission (channel ``openrosa``), so the worker
    decrypts and parses it; opens no database. Only form id, version and instanceID are read here. A bad
    instance raises IntakeError naming its zip member; an instanceID repeated in the zip is skipped."""
    name = safe_file_name(file_name)
    instances = _odk_instances(data, name, limits)
    return plan_odk_instances(keys, instances, file_name=name, digest=hashlib.sha256(data).hexdigest(),
                              size=len(data), kind="odk_zip", forms=forms, actor=actor, submitted_by=submitted_by)


def plan_odk_instances(keys: KeyHolder, instances: list[tuple[str, bytes, list[tuple[str, bytes]]]], *,
                       file_name: str, digest: str, size: int, kind: str, forms: set[str], actor: Actor,
                       submitted_by: str | None = None, progress: Progress | None = None) -> ImportPlan:
    """Seal ODK instances, each ``(name, instance or manifest XML, [(media name, bytes)])``, as one plan: a zip's
    (plan_odk_zip) or a phone's instances folder's (odk_folder.py). ``kind`` names the source in provenance."""
    name = file_name
    result = ImportResult(channel="openrosa", file_name=name, rows=len(instances), file_sha256=digest,
                          file_size=size)
    origin = _origin(kind, name, digest, size, new_id(), actor, submitted_by, None)
    plan = ImportPlan(result, origin, audit={"instances": len(instances)})
    seen: set[str] = set()
    for number, (member, xml, media) in enumerate(instances, start=1):
        if progress is not None:
            progress(number - 1, len(instances))
        where = f"{name}, {member}"
        try:
            meta = read_submission_meta(xml)
        except IntakeError as exc:
            raise IntakeError(exc.problem, source=where, field=exc.field) from None
        if meta.form_id not in forms:
            raise IntakeError("the form is not known to this server", source=where)
        if len(media) > MAX_PARTS:
            raise IntakeError(f"an instance may carry at most {MAX_PARTS} attachments", source=where)
        if meta.instance_id in seen:
            result.skipped.append({"member": member, "reason": "already received (same instance ID)"})
            continue
        seen.add(meta.instance_id)
        packed = pack_openrosa(xml, media, encrypted=meta.encrypted, device="import")
        openrosa = packed.provenance["openrosa"]
        assert isinstance(openrosa, dict)
        openrosa["import"] = origin  # kept by the worker with the rest of the "openrosa" provenance
        plan.items.append(PlannedSubmission(prepare_sealed(keys, packed), meta.form_id, meta.version,
                                            UNKNOWN_LANGUAGE, meta.instance_id, hashlib.sha256(xml).hexdigest(),
                                            {"member": member}, len(media)))
        result.submissions += 1
        result.attachments += len(media)
        if len(result.samples) < SAMPLE_LIMIT:
            result.samples.append(SubmissionSummary(result.submissions, (), len(media), member=member))
    return plan


def import_odk_zip(db: Session, keys: KeyHolder, data: bytes, *, file_name: str, actor: Actor,
                   submitted_by: str | None = None, hold: bool = False,
                   limits: UploadLimits = DEFAULT_LIMITS) -> ImportResult:
    """Seal each ODK instance of a zip as one batch in the caller's transaction; see plan_odk_zip. All or
    nothing; an instanceID already received is skipped and reported."""
    plan = plan_odk_zip(keys, data, file_name=file_name, forms=known_form_ids(db), actor=actor,
                        submitted_by=submitted_by, limits=limits)
    return store_plan(db, plan, actor=actor, submitted_by=submitted_by, hold=hold)


__all__ = ["CHUNK", "ImportPlan", "ImportRejected", "ImportResult", "SubmissionSummary", "import_odk_zip",
           "import_table", "import_whatsapp", "plan_odk_instances", "plan_odk_zip", "plan_table", "plan_whatsapp",
           "preview_table", "preview_whatsapp", "store_plan", "store_plan_bounded", "whatsapp_preview_document"]
