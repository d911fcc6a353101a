"""Exports of chosen fields for chosen cases: masked by default, encrypted to a recipient, audited, limited.

An export is built in memory and leaves only as an envelope (core/crypto.py) sealed to a registered
partner's public key or to a passphrase the requester types; the plaintext never reaches the disk. Each
role may export at most a set number of people at once (``AMANAT_EXPORT_LIMITS``); above it the export
waits for a second person with ``export:create`` to approve it. Every export is audited with its fields and
the number of people it holds — never a value.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanat.cases.models import Case
from amanat.cases.protection_models import Partner
from amanat.cases.scope import case_condition, current
from amanat.cases.service import STATUSES, case_label
from amanat.core.audit import Actor, record_event
from amanat.core.crypto import seal_to_recipient, seal_with_passphrase
from amanat.core.db import utcnow
from amanat.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from amanat.export.models import ExportRequest
from amanat.export.tabular import write_csv, write_xlsx
from amanat.normalize.places import provinces
from amanat.records.models import Record
from amanat.records.service import CLEAR_FIELDS, MASK, SPECIAL_FIELDS

FORMATS = ("csv", "xlsx")
# Facts about the case, never sensitive: always exported in clear.
CASE_COLUMNS = ("case_number", "status", "risk_level", "pathway", "province_name", "channel", "opened_on")
# Record fields that may be chosen; values are masked unless the export reveals them (record:reveal).
RECORD_COLUMNS = ("full_name", "full_name_latin", "father_name", "father_name_latin", "grandfather_name",
                  "family_name", "gender", "date_of_birth", "place_of_birth", "province", "district",
                  "service_branch", "country_of_refuge", "current_city", "tazkira_number", "passport_number",
                  "phone", "whatsapp_phone", "religion", "ethnicity")
DEFAULT_LIMITS = {"caseworker": 100, "admin": 0, "verifier": 0, "referrer": 0, "auditor": 0}
APPROVAL_HOURS = 24
MAX_CASES = 100_000
_CASE_NUMBER = re.compile(r"^C?-?0*(\d{1,9})$", re.IGNORECASE)


@dataclass(frozen=True)
class Selection:
    case_ids: tuple[str, ...]
    fields: tuple[str, ...]
    format: str
    reveal: bool


@dataclass(frozen=True)
class Recipient:
    """Who can open the file: a registered partner (their public key) or whoever knows the passphrase."""

    partner_id: str | None = None
    passphrase: str | None = None


@dataclass(frozen=True)
class Built:
    filename: str
    blob: bytes  # the envelope; the plaintext is gone when this returns
    people: int


def parse_case_numbers(text: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"[\s,;]+", text.strip()):
        if not part:
            continue
        m = _CASE_NUMBER.match(part)
        if m is None:
            raise InvalidInput("cases: give case numbers such as C-000042, separated by commas.", field="cases")
        out.append(int(m[1]))
    return out


def select_cases(db: Session, *, numbers: Sequence[int] = (), status: str | None = None,
                 pathway: str | None = None, risk: str | None = None) -> list[str]:
    """Case ids chosen by number, or by status / pathway / risk level; at least one criterion."""
    if not (numbers or status or pathway or risk):
        raise InvalidInput("cases: choose cases by number or by a filter.", field="cases")
    if status and status not in STATUSES:
        raise InvalidInput("status: no such status.", field="status")
    q = select(Case.id).where(case_condition(current(db))).order_by(Case.number).limit(MAX_CASES + 1)
    if numbers:
        q = q.where(Case.number.in_(list(dict.fromkeys(numbers))))
    if status:
        q = q.where(Case.status == status)
    if pathway:
        q = q.where(Case.pathway == pathway)
    if risk:
        q = q.where(Case.risk_level == risk)
    ids = list(db.scalars(q))
    if len(ids) > MAX_CASES:
        raise InvalidInput(f"cases: at most {MAX_CASES} cases in one export.", field="cases")
    if numbers and len(ids) < len(set(numbers)):
        raise InvalidInput("cases: some of these case numbers do not exist or do not match the filter.",
                           field="cases")
    return ids


def check_selection(case_ids: Iterable[str], fields: Iterable[str], fmt: str, *, reveal: bool,
                    can_reveal: bool, can_special: bool) -> Selection:
    chosen = tuple(dict.fromkeys(fields))
    unknown = [f for f in chosen if f not in CASE_COLUMNS and f not in RECORD_COLUMNS]
    if unknown:
        raise InvalidInput(f"fields: not exportable: {', '.join(unknown)[:200]}.", field="fields")
    if not chosen:
        raise InvalidInput("fields: choose at least one field.", field="fields")
    if fmt not in FORMATS:
        raise InvalidInput(f"format: choose one of {', '.join(FORMATS)}.", field="format")
    if reveal and not can_reveal:
        raise PermissionDenied("Your role may export masked values only.")
    if any(f in SPECIAL_FIELDS for f in chosen) and not can_special:
        raise PermissionDenied("This field is restricted to protection staff.")
    ids = tuple(dict.fromkeys(case_ids))
    if not ids:
        raise InvalidInput("cases: no case matches.", field="cases")
    return Selection(ids, chosen, fmt, reveal)


AUDIT_CASE_IDS = 200


def people_of(case_ids: Sequence[str]) -> dict[str, object]:
    """Who an export holds, for the audit: the case ids (up to 200) and always a digest of the full list, so
    an auditor can tell which cases a large export held by recomputing it."""
    digest = hashlib.sha256(",".join(sorted(case_ids)).encode()).hexdigest()
    out: dict[str, object] = {"cases_sha256": digest}
    if len(case_ids) <= AUDIT_CASE_IDS:
        out["cases"] = sorted(case_ids)
    return out


def export_limit(limits: Mapping[str, int], role: str) -> int:
    return int(limits.get(role, DEFAULT_LIMITS.get(role, 0)))


# --- building rows -------------------------------------------------------------------------------------
def _province_names() -> dict[str, str]:
    return {p.pcode: p.name_en for p in provinces()}


def _latest_values(records: Sequence[Record]) -> dict[str, Any]:
    """Each field's most recent non-empty value across the person's records."""
    out: dict[str, Any] = {}
    for rec in sorted(records, key=lambda r: r.created_at):
        for k, v in (rec.data or {}).items():
            if v not in (None, "", []) and not isinstance(v, list):
                out[k] = v
    return out


def iter_rows(db: Session, sel: Selection, *, batch: int = 500) -> Iterable[list[object]]:
    names = _province_names()
    for start in range(0, len(sel.case_ids), batch):
        chunk = sel.case_ids[start:start + batch]
        cases = {c.id: c for c in db.scalars(select(Case).where(Case.id.in_(chunk)))}
        persons = [c.person_id for c in cases.values()]
        by_person: dict[str, list[Record]] = {}
        for rec in db.scalars(select(Record).where(Record.person_id.in_(persons))):
            by_person.setdefault(rec.person_id, []).append(rec)
        for cid in chunk:
            case = cases[cid]
            recs = by_person.get(case.person_id, [])
            values = _latest_values(recs)
            first = min(recs, key=lambda r: r.created_at) if recs else None
            clear = {"case_number": case_label(case.number), "status": case.status, "risk_level": case.risk_level,
                     "pathway": case.pathway, "channel": first.channel if first else None,
                     "province_name": names.get(first.province_pcode or "", "") if first else "",
                     "opened_on": case.opened_at.date().isoformat()}
            row: list[object] = []
            for f in sel.fields:
                if f in clear:
                    row.append(clear[f] or "")
                else:
                    value = values.get(f)
                    shown = sel.reveal or f in CLEAR_FIELDS
                    row.append("" if value in (None, "") else (str(value) if shown else MASK))
            yield row


def build_file(db: Session, sel: Selection, *, rtl: bool = False) -> bytes:
    rows = iter_rows(db, sel)
    if sel.format == "csv":
        return write_csv(sel.fields, rows)
    return write_xlsx(sel.fields, rows, sheet="Amanat export", rtl=rtl)


def seal_for(db: Session, recipient: Recipient, plaintext: bytes, content: str, *, kdf_time_cost: int = 3,
             kdf_memory_kib: int = 65536) -> tuple[bytes, dict[str, object]]:
    """The envelope and what the audit says about its recipient (kind and key fingerprint, no secrets)."""
    if recipient.partner_id:
        partner = db.get(Partner, recipient.partner_id)
        if partner is None or not partner.active:
            raise InvalidInput("recipient: no such active partner.", field="recipient")
        return (seal_to_recipient(partner.public_key, plaintext, content=content),
                {"recipient": "partner", "partner": partner.id, "key": partner.fingerprint})
    if recipient.passphrase:
        return (seal_with_passphrase(recipient.passphrase, plaintext, content=content, time_cost=kdf_time_cost,
                                     memory_kib=kdf_memory_kib), {"recipient": "passphrase"})
    raise InvalidInput("recipient: choose a partner's key or give a passphrase.", field="recipient")


@dataclass(frozen=True)
class Outcome:
    built: Built | None = None
    request: ExportRequest | None = None


def create_export(db: Session, actor: Actor, sel: Selection, recipient: Recipient, *, role: str,
                  limits: Mapping[str, int], kdf: tuple[int, int] = (3, 65536), rtl: bool = False) -> Outcome:
    """Build and seal the export, or — above the role's limit — file it for a second person's approval."""
    people = len(sel.case_ids)
    limit = export_limit(limits, role)
    if people > limit:
        req = ExportRequest(requested_by=actor.user_id, format=sel.format, reveal=sel.reveal, people=people,
                            selection={"case_ids": list(sel.case_ids), "fields": list(sel.fields)})
        db.add(req)
        db.flush()
        record_event(db, actor, "export:request", "export", req.id, people=people, limit=limit,
                     fields=list(sel.fields), format=sel.format, reveal=sel.reveal)
        return Outcome(request=req)
    return Outcome(built=_build_and_audit(db, actor, sel, recipient, kdf=kdf, rtl=rtl, request_id=None))


def _build_and_audit(db: Session, actor: Actor, sel: Selection, recipient: Recipient, *, kdf: tuple[int, int],
                     rtl: bool, request_id: str | None) -> Built:
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    content = f"amanat-export-{stamp}.{sel.format}"
    plaintext = build_file(db, sel, rtl=rtl)
    blob, who = seal_for(db, recipient, plaintext, content, kdf_time_cost=kdf[0], kdf_memory_kib=kdf[1])
    del plaintext
    record_event(db, actor, "export:create", "export", request_id, people=len(sel.case_ids),
                 fields=list(sel.fields), format=sel.format, reveal=sel.reveal, **who, **people_of(sel.case_ids))
    return Built(content + ".amanat", blob, len(sel.case_ids))


def get_request(db: Session, request_id: str) -> ExportRequest:
    req = db.get(ExportRequest, request_id)
    if req is None:
        raise NotFound("No such export request.")
    return req


def list_requests(db: Session, *, limit: int = 100) -> list[ExportRequest]:
    return list(db.scalars(select(ExportRequest).order_by(ExportRequest.requested_at.desc()).limit(limit)))


def decide_request(db: Session, actor: Actor, request_id: str, *, approve: bool) -> ExportRequest:
    """A second person approves or refuses. The requester cannot approve their own export."""
    req = get_request(db, request_id)
    if req.status != "pending":
        raise Conflict("This export request was already decided.")
    if req.requested_by == actor.user_id:
        raise PermissionDenied("A second person must approve this export: you asked for it.")
    req.status, req.decided_by, req.decided_at = ("approved" if approve else "refused"), actor.user_id, utcnow()
    record_event(db, actor, "export:approve" if approve else "export:refuse", "export", req.id, people=req.people)
    return req


def download_approved(db: Session, actor: Actor, request_id: str, recipient: Recipient, *,
                      kdf: tuple[int, int] = (3, 65536), rtl: bool = False) -> Built:
    """The requester takes an approved export once, within a day of the approval."""
    req = get_request(db, request_id)
    if req.requested_by != actor.user_id:
        raise PermissionDenied("Only the person who asked for this export can download it.")
    if req.status != "approved":
        raise Conflict("This export is not approved, or was already downloaded.")
    if req.decided_at is None or utcnow() - req.decided_at > timedelta(hours=APPROVAL_HOURS):
        raise Conflict("This approval has expired: ask again.")
    sel = Selection(tuple(req.selection["case_ids"]), tuple(req.selection["fields"]), req.format, req.reveal)
    req.status = "used"
    return _build_and_audit(db, actor, sel, recipient, kdf=kdf, rtl=rtl, request_id=req.id)
