"""Erasing a person: on request, with a second person's approval, or by a retention rule.

A request names a case (by number) or a record (by id); either way the whole person is erased: every
record that belongs to them (records.erasure: keys destroyed, blind indexes dropped, documents blanked),
the free text staff wrote on their cases (notes, task titles, attestation and protection notes), and
pending review pairs that name their records. Each of their cases keeps a tombstone ("erased on <date> by
approval <id>"), ids and dates only. The request uses the approvals closing a case uses
(``CaseApproval`` of kind ``erase``): asked by one user, decided by another; both, and the erasure, are
audited with ids and counts only.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, delete, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from amanat.cases.models import Case, CaseApproval, CaseNote
from amanat.cases.protection_models import ProtectionAssessment
from amanat.cases.service import get_case
from amanat.cases.verification_models import Attestation, CaseTask
from amanat.cases.workflow import ApprovalView, approval_view
from amanat.core.audit import Actor, record_event
from amanat.core.crypto import KeyHolder
from amanat.core.db import Base, new_id, utcnow
from amanat.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from amanat.linkage.models import MatchPair
from amanat.records.erasure import ErasedCounts, erase_records, ledger_entries, reapply_ledger
from amanat.records.models import Person, Record
from amanat.records.service import get_person_root

LEDGER_FILE = "erasure-ledger.json"  # in the data dir, rewritten after every erasure (read by `amanat restore`)
ERASE_REASONS = ("applicant_request", "safety_concern", "wrongly_collected", "other")
MAX_REASON = 500
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Erasure(Base):
    """The tombstone of one erased person on one of their cases: when, by which approval or rule."""

    __tablename__ = "erasures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    erasure_id: Mapped[str] = mapped_column(String(36), index=True)  # the ledger's erasure id
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    person_id: Mapped[str] = mapped_column(String(36), index=True)
    approval_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    rule: Mapped[str | None] = mapped_column(String(40), nullable=True)  # e.g. closed_after_365_days
    records: Mapped[int] = mapped_column(Integer, default=0)
    erased_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    erased_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


@dataclass(frozen=True)
class Tombstone:
    erased_at: datetime
    approval_id: str | None
    rule: str | None

    def text(self) -> str:
        how = f"approval #{self.approval_id[:8]}" if self.approval_id else f"rule {self.rule}"
        return f"erased on {self.erased_at.date().isoformat()} by {how}"


def tombstone(db: Session, case_id: str) -> Tombstone | None:
    row = db.scalar(select(Erasure).where(Erasure.case_id == case_id))
    return None if row is None else Tombstone(row.erased_at, row.approval_id, row.rule)


def resolve_case(db: Session, ref: str) -> Case:
    """The case a reference names: a case number ("12" or "#12"), or a record id (the newest case of the
    record's person)."""
    text = ref.strip().lstrip("#")
    if text.isdigit():
        case = db.scalar(select(Case).where(Case.number == int(text)))
        if case is None:
            raise NotFound(f"No case number {text}.")
        return case
    if _UUID.match(text.lower()):
        rec = db.get(Record, text.lower())
        if rec is None:
            raise NotFound("No record with this id.")
        root = get_person_root(db, rec.person_id)
        case = db.scalar(select(Case).where(Case.person_id == root).order_by(Case.opened_at.desc()))
        if case is None:
            raise NotFound("This record's person has no case.")
        return case
    raise InvalidInput("target: give a case number or a record id.", field="target")


def pending_erasure(db: Session, case_id: str) -> CaseApproval | None:
    return db.scalars(select(CaseApproval).where(CaseApproval.case_id == case_id, CaseApproval.kind == "erase",
                                                 CaseApproval.outcome.is_(None))).first()


def request_erasure(db: Session, actor: Actor, ref: str, *, reason_code: str, reason_text: str | None) -> CaseApproval:
    """File a request to erase the person of a case (a number, or a record id); a second person decides it
    (``decide_erasure``)."""
    return _request(db, actor, resolve_case(db, ref), reason_code=reason_code, reason_text=reason_text)


def request_case_erasure(db: Session, actor: Actor, case_id: str, *, reason_code: str | None,
                         reason_text: str | None) -> CaseApproval:
    """``request_erasure`` from the case page (the case as the reader may see it)."""
    return _request(db, actor, get_case(db, case_id), reason_code=reason_code or "", reason_text=reason_text)


def pending_erasure_view(db: Session, case_id: str) -> ApprovalView | None:
    return approval_view(db, pending_erasure(db, case_id))


def _request(db: Session, actor: Actor, case: Case, *, reason_code: str, reason_text: str | None) -> CaseApproval:
    if actor.user_id is None:
        raise PermissionDenied("An erasure is requested by a named user.")
    if reason_code not in ERASE_REASONS:
        raise InvalidInput(f"reason: one of {', '.join(ERASE_REASONS)}.", field="reason")
    text = (reason_text or "").strip()
    if len(text) > MAX_REASON:
        raise InvalidInput(f"reason: at most {MAX_REASON} characters.", field="reason_text")
    if reason_code == "other" and not text:
        raise InvalidInput("reason: say why, in a few words.", field="reason_text")
    if tombstone(db, case.id) is not None:
        raise Conflict("This person is already erased.", code="already_erased")
    if pending_erasure(db, case.id) is not None:
        raise Conflict("A request to erase this person is already waiting for approval.", code="erase_pending")
    approval = CaseApproval(case_id=case.id, kind="erase", reason_code=reason_code, reason=text or None,
                            requested_by=actor.user_id)
    db.add(approval)
    db.flush()
    record_event(db, actor, "person:erase_request", "case", case.id, approval=approval.id, reason=reason_code)
    return approval


def decide_erasure(db: Session, keys: KeyHolder, actor: Actor, approval_id: str, *, approve: bool) -> Erasure | None:
    """A second person approves (the person is erased now) or rejects an erasure request."""
    approval = db.get(CaseApproval, approval_id)
    if approval is None or approval.kind != "erase":
        raise NotFound("No such erasure request.")
    if approval.outcome is not None:
        raise Conflict("This request was already decided.", code="already_decided")
    if actor.user_id is None or approval.requested_by == actor.user_id:
        raise PermissionDenied("A second person must approve: you asked for this yourself.")
    approval.decided_by, approval.decided_at = actor.user_id, utcnow()
    approval.outcome = "approved" if approve else "rejected"
    if not approve:
        record_event(db, actor, "person:erase_reject", "case", approval.case_id, approval=approval.id)
        return None
    record_event(db, actor, "person:erase_approve", "case", approval.case_id, approval=approval.id)
    return erase_person(db, keys, actor, get_case_or_404(db, approval.case_id), approval_id=approval.id)


def approval_case(db: Session, approval_id: str) -> str:
    approval = db.get(CaseApproval, approval_id)
    if approval is None:
        raise NotFound("No such erasure request.")
    return approval.case_id


def get_case_or_404(db: Session, case_id: str) -> Case:
    case = db.get(Case, case_id)
    if case is None:
        raise NotFound("No such case.")
    return case


def _persons_of(db: Session, root: str) -> list[str]:
    """The root and every person merged into it, at any depth."""
    found, frontier = [root], [root]
    while frontier:
        frontier = list(db.scalars(select(Person.id).where(Person.merged_into.in_(frontier))))
        found.extend(p for p in frontier if p not in found)
    return found


def erase_person(db: Session, keys: KeyHolder, actor: Actor, case: Case, *, approval_id: str | None = None,
                 rule: str | None = None) -> Erasure:
    """Erase the person of ``case`` (see the module docstring), in the caller's transaction."""
    if approval_id is None and rule is None:
        raise PermissionDenied("An erasure needs a second person's approval or a retention rule.")
    if tombstone(db, case.id) is not None:
        raise Conflict("This person is already erased.", code="already_erased")
    persons = _persons_of(db, get_person_root(db, case.person_id))
    record_ids = list(db.scalars(select(Record.id).where(Record.person_id.in_(persons))))
    cases = list(db.scalars(select(Case).where(Case.person_id.in_(persons))))
    erasure_id, now = new_id(), utcnow()
    counts = erase_records(db, keys, record_ids, erasure_id=erasure_id, at=now)
    _wipe_case_text(db, [c.id for c in cases], record_ids)
    done = set(db.scalars(select(Erasure.case_id).where(Erasure.case_id.in_([c.id for c in cases]))))
    main = None
    for c in cases:
        if c.id not in done:
            row = Erasure(erasure_id=erasure_id, case_id=c.id, person_id=c.person_id, approval_id=approval_id,
                          rule=rule, records=counts.records, erased_by=actor.user_id, erased_at=now)
            db.add(row)
            main = row if c.id == case.id else main
    db.flush()
    _audit(db, actor, case.id, erasure_id, counts, approval_id, rule, len(cases))
    assert main is not None
    return main


def _audit(db: Session, actor: Actor, case_id: str, erasure_id: str, counts: ErasedCounts, approval_id: str | None,
           rule: str | None, cases: int) -> None:
    record_event(db, actor, "person:erase", "case", case_id, erasure=erasure_id, approval=approval_id, rule=rule,
                 records=counts.records, keys=counts.keys, lookups=counts.lookups, documents=counts.documents,
                 cases=cases)


def _wipe_case_text(db: Session, case_ids: list[str], record_ids: list[str]) -> None:
    """What staff typed about the person on their cases is blanked (ids, codes and dates stay)."""
    sync: dict[str, Any] = {"synchronize_session": False}
    if case_ids:
        db.execute(update(CaseNote).where(CaseNote.case_id.in_(case_ids)).values(body=""), execution_options=sync)
        db.execute(update(CaseTask).where(CaseTask.case_id.in_(case_ids)).values(title="erased"),
                   execution_options=sync)
        db.execute(update(Attestation).where(Attestation.case_id.in_(case_ids)).values(reason="", checks={}),
                   execution_options=sync)
        db.execute(update(ProtectionAssessment).where(ProtectionAssessment.case_id.in_(case_ids))
                   .values(note=None), execution_options=sync)
    for at in range(0, len(record_ids), 5000):
        part = record_ids[at:at + 5000]
        # a pair still waiting for review would show an empty record; decided pairs stay as provenance
        db.execute(delete(MatchPair).where(MatchPair.status == "pending",
                                           or_(MatchPair.record_l.in_(part), MatchPair.record_r.in_(part))))
    db.expire_all()


# --- retention ---------------------------------------------------------------------------------------------


def retention_due(db: Session, closed_days: int, *, now: datetime | None = None) -> list[Case]:
    """One closed case of each person (merged people counted as one) all of whose cases were closed more than
    ``closed_days`` ago and who is not erased yet."""
    if closed_days < 1:
        raise InvalidInput("closed_days: at least 1.", field="closed_days")
    cutoff = (now or utcnow()) - timedelta(days=closed_days)
    erased = select(Erasure.case_id)
    candidates = db.scalars(select(Case).where(Case.status == "closed", Case.closed_at.is_not(None),
                                               Case.closed_at < cutoff, Case.id.not_in(erased))
                            .order_by(Case.closed_at)).all()
    due: list[Case] = []
    seen: set[str] = set()
    for case in candidates:
        root = get_person_root(db, case.person_id)
        if root in seen:
            continue
        seen.add(root)
        # a duplicate's case closed long ago must not erase the person it was merged into, still being helped
        others = db.execute(select(Case.status, Case.closed_at).where(Case.person_id.in_(_persons_of(db, root))))
        if all(status == "closed" and closed is not None and closed < cutoff for status, closed in others):
            due.append(case)
    return due


def apply_retention(db: Session, keys: KeyHolder, actor: Actor, closed_days: int, *, apply: bool,
                    now: datetime | None = None) -> tuple[int, int]:
    """(cases due, records erased): a dry run only counts; ``apply`` erases each due person. Audited."""
    due = retention_due(db, closed_days, now=now)
    rule = f"closed_after_{closed_days}_days"
    records = 0
    if apply:
        for case in due:
            if tombstone(db, case.id) is None:  # a person with two closed cases is erased once
                records += erase_person(db, keys, actor, case, rule=rule).records
    record_event(db, actor, "person:retention", "organisation", None, rule=rule, cases=len(due), records=records,
                 applied=apply)
    return len(due), records


# --- the ledger, for restoring an older backup ---------------------------------------------------------------


def export_ledger(db: Session) -> str:
    """The erasure ledger and tombstones as JSON (ids, dates, counts: no values), to keep beside backups."""
    entries = [[k, e, at.isoformat()] for k, e, at in ledger_entries(db)]
    stones = [[r.erasure_id, r.case_id, r.person_id, r.approval_id, r.rule, r.records, r.erased_by,
               r.erased_at.isoformat()] for r in db.scalars(select(Erasure).order_by(Erasure.erased_at))]
    return json.dumps({"format": "amanat-erasure-ledger-1", "entries": entries, "tombstones": stones}, indent=1)


def save_ledger(db: Session, path: Path) -> None:
    """The ledger written to ``path`` (mode 600, replaced whole: a crash leaves the previous one)."""
    text = export_ledger(db)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(partial, path)


def reapply_erasures(db: Session, keys: KeyHolder, actor: Actor, ledger: str) -> int:
    """After restoring an older backup: erase again every record the ledger (``export_ledger``'s text, read
    before the restore) names, and put back the tombstones. Returns how many records were erased again."""
    try:
        data = json.loads(ledger)
        if data.get("format") != "amanat-erasure-ledger-1":  # not an assert: `python -O` would drop the check
            raise ValueError("not a ledger")
        entries = [(str(k), str(e), datetime.fromisoformat(at)) for k, e, at in data["entries"]]
        stones = data["tombstones"]
    except (ValueError, TypeError, KeyError, AssertionError, AttributeError) as exc:
        raise InvalidInput("ledger: not an Amanat erasure ledger.", field="ledger") from exc
    n = reapply_ledger(db, keys, entries)
    case_ids = []
    for erasure_id, case_id, person_id, approval_id, rule, records, erased_by, at in stones:
        if db.get(Case, case_id) is not None and tombstone(db, case_id) is None:
            db.add(Erasure(erasure_id=erasure_id, case_id=case_id, person_id=person_id, approval_id=approval_id,
                           rule=rule, records=int(records), erased_by=erased_by, erased_at=datetime.fromisoformat(at)))
            case_ids.append(case_id)
    erased_records = [k.removeprefix("rk:") for k, _, _ in entries]
    _wipe_case_text(db, case_ids, erased_records)
    db.flush()
    record_event(db, actor, "person:erasure_reapplied", "organisation", None, records=n, tombstones=len(case_ids))
    return n
