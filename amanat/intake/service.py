"""Seal a parsed submission the moment it arrives, and open it again in the worker.

The sealing side needs only the organisation's public key. Nothing a person typed is written anywhere
in clear: the fields, provenance and each attachment are sealed in memory and only ciphertext is stored.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Table, func, select, update
from sqlalchemy.orm import Session

from amanat.core.audit import Actor, record_event
from amanat.core.crypto import KeyHolder
from amanat.core.db import new_id, utcnow
from amanat.errors import Conflict, CryptoError
from amanat.intake.models import Submission, SubmissionPart
from amanat.intake.openrosa_payload import is_openrosa_payload, open_openrosa_payload
from amanat.intake.parsed import Attachment, ParsedSubmission

_SUBMISSIONS: Table = Submission.__table__  # type: ignore[assignment]
_PARTS: Table = SubmissionPart.__table__  # type: ignore[assignment]
_RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L: read aloud over a bad phone line


def new_receipt() -> str:
    body = "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(8))
    return f"AM-{body[:4]}-{body[4:]}"


@dataclass(frozen=True)
class Receipt:
    submission_id: str
    receipt: str


@dataclass(frozen=True)
class PreparedSubmission:
    """A submission sealed in memory and ready to store: ciphertext only, nothing a person typed in clear."""

    channel: str
    sealed: bytes
    parts: tuple[bytes, ...]


def prepare_sealed(keys: KeyHolder, parsed: ParsedSubmission) -> PreparedSubmission:
    """Seal the fields and each attachment. Needs only the public key and touches no database, so it runs
    before the caller queues for the write lock."""
    header = {
        "channel": parsed.channel, "fields": parsed.fields, "provenance": parsed.provenance,
        "field_sources": parsed.field_sources, "context": parsed.context,
        "attachments": [{"name": a.name, "content_type": a.content_type, "size": len(a.data)}
                        for a in parsed.attachments],
    }
    sealed = keys.seal(json.dumps(header, ensure_ascii=False, default=str).encode("utf-8"))
    return PreparedSubmission(parsed.channel, sealed, tuple(keys.seal(att.data) for att in parsed.attachments))


def store_sealed(db: Session, prepared: PreparedSubmission, *, actor: Actor, form_id: str, form_version: str,
                 language: str = "en", submitted_by: str | None = None, instance_id: str | None = None,
                 status: str = "sealed", content_sha256: str | None = None) -> Receipt:
    """Store a prepared submission in the caller's transaction; audited as ``submission:receive``."""
    if instance_id and db.scalar(select(Submission.id).where(Submission.instance_id == instance_id)):
        raise Conflict("A submission with this instanceID was already received.", code="duplicate_instance")
    # Core inserts, not ORM objects: this runs once per submission on the one writer thread, and the unit of
    # work cost more than the statements. Column defaults (received_at, attempts) still apply.
    sub_id, receipt = new_id(), new_receipt()
    conn = db.connection()  # the session's connection: same transaction, without the ORM's execute path
    conn.execute(_SUBMISSIONS.insert(), {
        "id": sub_id, "receipt": receipt, "channel": prepared.channel, "form_id": form_id,
        "form_version": form_version, "language": language, "submitted_by": submitted_by, "instance_id": instance_id,
        "sealed": prepared.sealed, "part_count": len(prepared.parts), "status": status,
        "content_sha256": content_sha256})
    if prepared.parts:
        conn.execute(_PARTS.insert(), [{"submission_id": sub_id, "position": i, "sealed": blob, "size": len(blob)}
                                       for i, blob in enumerate(prepared.parts)])
    record_event(db, actor, "submission:receive", "submission", sub_id, channel=prepared.channel,
                 attachments=len(prepared.parts), form_version=form_version)
    return Receipt(sub_id, receipt)


def seal_submission(db: Session, keys: KeyHolder, parsed: ParsedSubmission, *, actor: Actor, form_id: str,
                    form_version: str, language: str = "en", submitted_by: str | None = None,
                    instance_id: str | None = None, status: str = "sealed",
                    content_sha256: str | None = None) -> Receipt:
    """Seal and store one submission in the caller's transaction; audited as ``submission:receive``.

    ``status="receiving"`` keeps it from the worker until the rest of its parts arrive (OpenRosa).
    """
    return store_sealed(db, prepare_sealed(keys, parsed), actor=actor, form_id=form_id, form_version=form_version,
                        language=language, submitted_by=submitted_by, instance_id=instance_id, status=status,
                        content_sha256=content_sha256)


def add_parts(db: Session, keys: KeyHolder, submission_id: str, attachments: Sequence[Attachment]) -> int:
    """Attach more sealed parts to a submission the worker has not opened yet (OpenRosa sends big ones in
    pieces). The caller audits."""
    sub = db.get(Submission, submission_id)
    if sub is None or sub.status not in ("sealed", "receiving"):
        raise Conflict("That submission is already processed; attachments can no longer be added.")
    start = db.scalar(select(func.coalesce(func.max(SubmissionPart.position), -1))
                      .where(SubmissionPart.submission_id == submission_id)) + 1
    for i, att in enumerate(attachments):
        # The name travels inside the seal so a file name (often a person's name) is never in clear.
        blob = keys.seal(json.dumps({"name": att.name, "content_type": att.content_type}).encode()
                         + b"\n" + att.data)
        db.add(SubmissionPart(submission_id=submission_id, position=start + i, sealed=blob, size=len(blob)))
    sub.part_count = start + len(attachments)
    db.flush()
    return len(attachments)


@dataclass
class OpenedSubmission:
    submission_id: str
    receipt: str
    channel: str
    form_id: str
    form_version: str
    language: str
    submitted_by: str | None
    parsed: ParsedSubmission


def sealed_parts(db: Session, submission_ids: Sequence[str]) -> dict[str, list[SubmissionPart]]:
    """The sealed parts of many submissions, each in order: one query per few thousand (the batch worker
    opens hundreds at a time, most with no parts at all)."""
    out: dict[str, list[SubmissionPart]] = {s: [] for s in submission_ids}
    for at in range(0, len(submission_ids), 5000):
        for part in db.scalars(select(SubmissionPart).where(SubmissionPart.submission_id.in_(
                submission_ids[at:at + 5000])).order_by(SubmissionPart.submission_id, SubmissionPart.position)):
            out[part.submission_id].append(part)
    return out


def open_payload(keys: KeyHolder, sealed: bytes | None, parts: Sequence[tuple[int, bytes | None]]) -> ParsedSubmission:
    """The seal and its parts ((position, sealed) in order) opened, touching no database: the batch worker
    runs this in a helper process. An OpenRosa payload comes back as sealed (``open_submission`` then
    parses it, on the database). Raises CryptoError if anything was tampered."""
    if sealed is None:
        raise CryptoError("This submission holds no sealed payload.", code="seal_missing", status=409)
    header = json.loads(keys.open_sealed(sealed))
    described = header.get("attachments", [])
    attachments: list[Attachment] = []
    for position, part in parts:
        assert part is not None
        data = keys.open_sealed(part)
        if position < len(described):
            meta = described[position]
            attachments.append(Attachment(meta["name"], meta["content_type"], data))
        else:  # added later: the name is inside the seal, before the first newline
            head, _, body = data.partition(b"\n")
            meta = json.loads(head)
            attachments.append(Attachment(meta["name"], meta["content_type"], body))
    return ParsedSubmission(channel=header["channel"], fields=header["fields"], attachments=attachments,
                            provenance=header.get("provenance", {}),
                            field_sources=header.get("field_sources", {}), context=header.get("context", []))


def opened_submission(db: Session, keys: KeyHolder, sub: Submission, parsed: ParsedSubmission) -> OpenedSubmission:
    """The submission with its opened payload; an OpenRosa payload is decrypted and parsed here."""
    if is_openrosa_payload(parsed):
        # Sealed as the device sent it: decrypt (ODK-encrypted forms) and parse it here, on the worker.
        parsed = open_openrosa_payload(db, sub.id, parsed, keys.odk_unwrap)
    return OpenedSubmission(sub.id, sub.receipt, sub.channel, sub.form_id, sub.form_version, sub.language,
                            sub.submitted_by, parsed)


def open_submission(db: Session, keys: KeyHolder, sub: Submission,
                    parts: Sequence[SubmissionPart] | None = None) -> OpenedSubmission:
    """Open the seal (worker side, needs the private key). Raises CryptoError if anything was tampered.
    ``parts``: the submission's sealed parts in order, when the caller loaded them (``sealed_parts``)."""
    if sub.sealed is None:
        raise CryptoError("This submission holds no sealed payload.", code="seal_missing", status=409)
    if parts is None:
        parts = db.scalars(select(SubmissionPart).where(SubmissionPart.submission_id == sub.id)
                           .order_by(SubmissionPart.position)).all()
    parsed = open_payload(keys, sub.sealed, [(p.position, p.sealed) for p in parts])
    return opened_submission(db, keys, sub, parsed)


def next_sealed(db: Session) -> Submission | None:
    """The oldest submission waiting to be opened. On PostgreSQL, rows other workers hold are skipped."""
    q = (select(Submission).where(Submission.status == "sealed").order_by(Submission.received_at)
         .limit(1))
    if db.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return db.scalars(q).first()


def mark_stored(db: Session, sub: Submission, record_id: str) -> None:
    """Opened and stored as a record: the sealed copy is dropped (the record holds it, encrypted)."""
    sub.status = "stored"
    sub.record_id = record_id
    sub.processed_at = utcnow()
    sub.sealed = None
    db.execute(update(SubmissionPart).where(SubmissionPart.submission_id == sub.id).values(sealed=None))
    db.flush()


def mark_failed(db: Session, submission_id: str, code: str) -> None:
    sub = db.get(Submission, submission_id)
    if sub is None:
        return
    sub.attempts += 1
    sub.status = "failed"
    sub.error_code = code[:60]
    sub.processed_at = utcnow()
    record_event(db, Actor("system:worker"), "submission:fail", "submission", sub.id, code=code[:60])
    db.flush()


def count_by_status(db: Session) -> dict[str, int]:
    rows = db.execute(select(Submission.status, func.count()).group_by(Submission.status)).all()
    return {status: n for status, n in rows}


