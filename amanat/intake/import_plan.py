"""One imported file, parsed and sealed in memory (an ImportPlan), then stored as one batch.

Parsing and sealing touch no database, so a big or hostile file never holds the write lock: the plan is
built first, within the upload limits, and only then written. ``store_plan`` writes it in the caller's
transaction (CLI, tests); ``store_plan_bounded`` writes it in transactions of CHUNK submissions each, as a
held batch that no worker takes, and releases it (or leaves it held for the uploader's confirmation) in a
last short transaction. If any step fails, the rows already written are deleted: nothing partial stays.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from amanat.core.audit import Actor, record_event
from amanat.core.crypto import KeyHolder
from amanat.core.db import Database
from amanat.forms.spec import FormSpec
from amanat.intake.errors import IntakeError
from amanat.intake.held_batches import delete_batch_rows, purge_stale_batches
from amanat.intake.models import Submission
from amanat.intake.parsed import ParsedSubmission
from amanat.intake.service import PreparedSubmission, prepare_sealed, store_sealed

CHUNK = 500                # submissions written per transaction (bounded) or between progress reports
SAMPLE_LIMIT = 50          # submissions described one by one in a result; the rest only counted
MAX_ERRORS = 100           # row errors collected before a table is given up

Progress = Callable[[int, int | None], None]   # (done, total or an upper estimate, None when unknown)

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


def guess_language(fields: Mapping[str, object]) -> str:
    """The form-language code the values are written in: Pashto letters, else Arabic script (Dari), else en."""
    text = " ".join(v for v in fields.values() if isinstance(v, str))
    if _PASHTO_LETTERS.search(text):
        return "ps"
    return "prs" if _ARABIC_SCRIPT.search(text) else "en"


def summarise(number: int, parsed: ParsedSubmission) -> SubmissionSummary:
    messages = parsed.provenance.get("messages")
    row = parsed.provenance.get("row")
    return SubmissionSummary(number, tuple(parsed.fields), len(parsed.attachments),
                             tuple(int(n) for n in messages) if isinstance(messages, list) else (),
                             row if isinstance(row, int) else None)


@dataclass(frozen=True)
class PlannedSubmission:
    """One sealed submission of a plan, with what its row in ``submissions`` needs (no values in clear)."""

    prepared: PreparedSubmission
    form_id: str
    form_version: str
    language: str
    instance_id: str | None
    content_sha256: str | None
    ref: dict[str, object]             # where in the file: {"row": n} or {"member": name}
    attachments: int = 0


@dataclass
class ImportPlan:
    """A file parsed and sealed in memory, ready to be stored as one batch."""

    result: ImportResult
    origin: dict[str, object]
    items: list[PlannedSubmission] = field(default_factory=list)
    audit: dict[str, object] = field(default_factory=dict)   # extra counts for the import's audit event
    _fields: Counter[str] = field(default_factory=Counter)

    @property
    def batch_id(self) -> str:
        return str(self.origin["batch"])

    def add_parsed(self, keys: KeyHolder, parsed: ParsedSubmission, spec: FormSpec, *,
                   instance_id: str | None = None, ref: dict[str, object] | None = None) -> None:
        parsed.provenance["import"] = self.origin
        r = self.result
        self.items.append(PlannedSubmission(prepare_sealed(keys, parsed), spec.form_id, spec.version,
                                            guess_language(parsed.fields), instance_id, None, ref or {},
                                            len(parsed.attachments)))
        r.submissions += 1
        r.attachments += len(parsed.attachments)
        self._fields.update(parsed.fields.keys())
        r.field_counts = dict(self._fields.most_common())
        if len(r.samples) < SAMPLE_LIMIT:
            r.samples.append(summarise(r.submissions, parsed))


def _received(db: Session, items: list[PlannedSubmission]) -> set[str]:
    ids = [i.instance_id for i in items if i.instance_id]
    if not ids:
        return set()
    return set(db.scalars(select(Submission.instance_id).where(Submission.instance_id.in_(ids))).all()) - {None}


def _write_chunk(db: Session, plan: ImportPlan, items: list[PlannedSubmission], *, actor: Actor,
                 submitted_by: str | None) -> list[str]:
    """Store ``items`` held under the plan's batch id; skip (and report) instance ids already received."""
    received = _received(db, items)
    r = plan.result
    stored: list[str] = []
    for item in items:
        if item.instance_id is not None and item.instance_id in received:
            r.skipped.append({**item.ref, "reason": "already received (same instance ID)"})
            r.submissions -= 1
            r.attachments -= item.attachments
            continue
        receipt = store_sealed(db, item.prepared, actor=actor, form_id=item.form_id,
                               form_version=item.form_version, language=item.language, submitted_by=submitted_by,
                               instance_id=item.instance_id, status="held", content_sha256=item.content_sha256)
        stored.append(receipt.submission_id)
    if stored:
        db.execute(update(Submission).where(Submission.id.in_(stored)).values(batch_id=plan.batch_id),
                   execution_options={"synchronize_session": False})
    return stored


def _finish(db: Session, plan: ImportPlan, *, actor: Actor, hold: bool, stored: int) -> ImportResult:
    r = plan.result
    if not stored:
        r.batch_id = None
        return r
    r.batch_id = plan.batch_id
    if not hold:
        db.execute(update(Submission).where(Submission.batch_id == plan.batch_id, Submission.status == "held")
                   .values(status="sealed"), execution_options={"synchronize_session": False})
    r.status = "held" if hold else "sealed"
    counts: dict[str, object] = {"channel": r.channel, "submissions": r.submissions, "attachments": r.attachments,
                                 "skipped": len(r.skipped), "messages": r.messages, "rows": r.rows, **plan.audit}
    # The file name can carry a person's name: it lives only inside the seals, never in the audit log.
    record_event(db, actor, "import:preview" if hold else "import:store", "import", r.batch_id, **counts)
    db.flush()
    return r


def store_plan(db: Session, plan: ImportPlan, *, actor: Actor, submitted_by: str | None = None, hold: bool = False,
               progress: Progress | None = None) -> ImportResult:
    """Store the plan as one batch in the caller's transaction (held for confirmation when ``hold``)."""
    if hold:
        purge_stale_batches(db, actor)
    stored = 0
    total = len(plan.items)
    for start in range(0, total, CHUNK):
        stored += len(_write_chunk(db, plan, plan.items[start:start + CHUNK], actor=actor, submitted_by=submitted_by))
        if progress is not None:
            progress(min(start + CHUNK, total), total)
    return _finish(db, plan, actor=actor, hold=hold, stored=stored)


def store_plan_bounded(database: Database, plan: ImportPlan, *, actor: Actor, submitted_by: str | None = None,
                       hold: bool = False, progress: Progress | None = None) -> ImportResult:
    """Store the plan in transactions of CHUNK submissions, so intake's other writers take turns between them.

    The rows are held (no worker takes them) until the last transaction releases them, or keeps them held for
    the uploader when ``hold``. On any error the batch's rows are deleted in a transaction of their own.
    """
    if hold:
        with database.transaction() as db:
            purge_stale_batches(db, actor)
    stored = 0
    total = len(plan.items)
    try:
        for start in range(0, total, CHUNK):
            with database.transaction() as db:
                stored += len(_write_chunk(db, plan, plan.items[start:start + CHUNK], actor=actor,
                                           submitted_by=submitted_by))
            if progress is not None:
                progress(min(start + CHUNK, total), total)
        with database.transaction() as db:
            return _finish(db, plan, actor=actor, hold=hold, stored=stored)
    except BaseException:
        if stored:
            with database.transaction() as db:
                delete_batch_rows(db, plan.batch_id)
        raise


__all__ = ["CHUNK", "ImportPlan", "ImportRejected", "ImportResult", "PlannedSubmission", "SubmissionSummary",
           "guess_language", "store_plan", "store_plan_bounded", "summarise"]
