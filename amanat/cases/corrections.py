"""Staff corrections and documents. A corrected value replaces the record's answer; the original is kept
in a RecordCorrection with the reason; the record is normalised again, its blind indexes rewritten, and
it is scored again for linkage through the linkage stage's public match function. Staff can also attach
documents to a record, stored encrypted like those that came with the submission."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from amanat.accounts.models import User
from amanat.cases.service import add_system_note, case_records, get_case
from amanat.core.audit import Actor, record_event
from amanat.core.crypto import KeyHolder
from amanat.core.db import utcnow
from amanat.errors import InvalidInput, NotFound, PermissionDenied
from amanat.intake.parsed import make_attachment
from amanat.linkage.service import BLOCK_KIND, match_new_record
from amanat.normalize.record import normalize_record
from amanat.records.models import Document, Record, RecordCorrection, RecordLookup
from amanat.records.search_index import index_names
from amanat.records.service import LOOKUP_KINDS, SPECIAL_FIELDS

CORRECTION_REASONS = ("applicant_request", "document_check", "typing_error", "transliteration", "other")
MAX_VALUE = 500
MAX_REASON = 500
STAFF_DOCUMENT_FIELD = "staff_upload"
DOCUMENT_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "application/pdf")
NOT_CORRECTABLE = frozenset({"consent", "family"})
_FIELD_RE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")


def _record_of_case(db: Session, case_id: str, record_id: str) -> Record:
    case = get_case(db, case_id)
    rec = next((r for r in case_records(db, case) if r.id == record_id), None)
    if rec is None:
        raise NotFound("No such record in this case.")
    return rec


@dataclass(frozen=True)
class CorrectionResult:
    correction_id: str
    candidates: int  # records linkage compared the corrected record with
    queued: int  # pairs it put in the review queue
    relatives: int


def correct_value(db: Session, keys: KeyHolder, actor: Actor, case_id: str, record_id: str, field_name: str,
                  value: str, *, reason_code: str, reason_text: str | None,
                  can_special: bool) -> CorrectionResult:
    rec = _record_of_case(db, case_id, record_id)
    if field_name in SPECIAL_FIELDS and not can_special:
        raise PermissionDenied("This field is restricted to protection staff.")
    if (field_name in NOT_CORRECTABLE or isinstance(rec.data.get(field_name), list)
            or not _FIELD_RE.match(field_name)):
        raise InvalidInput("field: this field cannot be corrected here.", field="field")
    value = (value or "").strip()
    if not value:
        raise InvalidInput("value: type the corrected value.", field="value")
    if len(value) > MAX_VALUE:
        raise InvalidInput(f"value: at most {MAX_VALUE} characters.", field="value")
    if reason_code not in CORRECTION_REASONS:
        raise InvalidInput("reason: choose why the value is corrected.", field="reason")
    text = (reason_text or "").strip() or None
    if text is not None and len(text) > MAX_REASON:
        raise InvalidInput(f"reason: at most {MAX_REASON} characters.", field="reason_text")
    if reason_code == "other" and text is None:
        raise InvalidInput("reason: say why, in a few words.", field="reason_text")
    original = rec.data.get(field_name)
    if isinstance(original, str) and original.strip() == value:
        raise InvalidInput("value: this is the value the record already has.", field="value")
    correction = RecordCorrection(record_id=rec.id, field=field_name[:60],
                                  original=original if isinstance(original, str) else None, corrected=value,
                                  reason_code=reason_code, reason=text, corrected_by=actor.user_id)
    db.add(correction)
    data = dict(rec.data)
    data[field_name] = value
    norm = normalize_record({k: v for k, v in data.items() if isinstance(v, str)})
    rec.data, rec.normalized, rec.issue_count = data, norm.to_dict(), len(norm.issues)
    rec.province_pcode, rec.country_iso2 = norm.province_pcode, norm.country_iso2
    if field_name in ("full_name", "full_name_latin"):
        rec.display_name = next((str(data[k]).strip()[:200] for k in ("full_name", "full_name_latin")
                                 if isinstance(data.get(k), str) and str(data[k]).strip()), None)
    db.execute(delete(RecordLookup).where(RecordLookup.record_id == rec.id,
                                          RecordLookup.kind.in_((*LOOKUP_KINDS, BLOCK_KIND))))
    exact = norm.exact_keys()
    for kind in LOOKUP_KINDS:
        for digest in keys.blind_indexes(kind, exact.get(kind, [])):
            db.add(RecordLookup(record_id=rec.id, kind=kind, digest=digest))
    index_names(db, keys, rec.id, data)
    db.flush()
    outcome = match_new_record(db, keys, rec, norm)  # re-scored; a person decides on any pair it proposes
    add_system_note(db, case_id, "corrected", author_id=actor.user_id, reason=reason_code, field=field_name[:60])
    record_event(db, actor, "record:correct", "record", rec.id, field=field_name[:60], reason=reason_code,
                 correction=correction.id, candidates=outcome.candidates, queued=outcome.queued)
    get_case(db, case_id).updated_at = utcnow()
    return CorrectionResult(correction.id, outcome.candidates, outcome.queued, outcome.relatives)


@dataclass(frozen=True)
class CorrectionView:
    id: str
    record_id: str
    field: str
    reason_code: str
    by: str | None
    at: datetime


def corrections_of(db: Session, record_ids: list[str]) -> list[CorrectionView]:
    """Which fields were corrected, by whom and why (codes): the values stay masked like the record's."""
    if not record_ids:
        return []
    rows = db.execute(select(RecordCorrection, User.username).outerjoin(User, User.id == RecordCorrection.corrected_by)
                      .where(RecordCorrection.record_id.in_(record_ids)).order_by(RecordCorrection.created_at)).all()
    return [CorrectionView(c.id, c.record_id, c.field, c.reason_code, u, c.created_at) for c, u in rows]


def corrected_original(db: Session, actor: Actor, correction_id: str) -> str | None:
    """The value before a correction, audited as a reveal of the record."""
    c = db.get(RecordCorrection, correction_id)
    if c is None:
        raise NotFound("No such correction.")
    record_event(db, actor, "record:reveal", "record", c.record_id, field=f"original.{c.field}", correction=c.id)
    return c.original


def attach_document(db: Session, actor: Actor, case_id: str, record_id: str, filename: str, data: bytes, *,
                    max_bytes: int) -> Document:
    rec = _record_of_case(db, case_id, record_id)
    if not data:
        raise InvalidInput("document: the file is empty.", field="document")
    if len(data) > max_bytes:
        raise InvalidInput(f"document: the file is larger than {max_bytes // (1024 * 1024)} MiB.", field="document",
                           code="too_large")
    att = make_attachment(filename or "document", data)
    if att.content_type not in DOCUMENT_TYPES:
        raise InvalidInput("document: only photos (JPEG, PNG, WebP, HEIC) and PDF files.", field="document",
                           code="document_type")
    doc = Document(record_id=rec.id, field=STAFF_DOCUMENT_FIELD, content_type=att.content_type, size=len(data),
                   filename=att.name, content=att.data)
    db.add(doc)
    db.flush()
    add_system_note(db, case_id, "document_attached", author_id=actor.user_id)
    record_event(db, actor, "document:attach", "record", rec.id, document=doc.id, size=len(data),
                 content_type=att.content_type)
    get_case(db, case_id).updated_at = utcnow()
    return doc
