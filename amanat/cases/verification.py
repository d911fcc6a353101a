"""Verification: attestations about a case, the state derived from them, and what the documents say.

An attestation records who checked (a verifier, or a referrer vouching for someone they referred), how
(document check, vouching, interview, records check), what they found (confirmed / not confirmed /
inconclusive), which of the case's documents they looked at, and why (encrypted). Each attester's latest
attestation counts; the case's state is derived from those:

- ``none``: nobody has attested, and the case is not waiting in verification;
- ``pending``: waiting: in verification with no finding yet, only inconclusive findings, or only vouches
  (a vouch is weighed by a verifier, it does not verify on its own);
- ``verified`` / ``not_verified``: a verifier's own finding (not a vouch), with nobody saying otherwise;
- ``conflicting``: one current attestation confirms and another does not; both are flagged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanat.accounts.models import User
from amanat.cases.document_checks import CHECK_LABELS, PART_LABELS, VERDICT_LABELS, case_checks
from amanat.cases.models import Case
from amanat.cases.service import OPEN_STATUSES, case_label, case_records, get_case
from amanat.cases.verification_models import Attestation, AttestationDocument
from amanat.core.audit import Actor, record_event
from amanat.core.db import utcnow
from amanat.errors import InvalidInput, PermissionDenied
from amanat.intake.models import Submission
from amanat.records.models import Document, Record

__all__ = ["CHECK_LABELS", "METHODS", "OUTCOMES", "STATES", "VERDICT_LABELS", "AttestationView", "VoucherRecord",
           "awaiting_verification", "derive_state", "list_attestations", "record_attestation", "referred_by",
           "verification_context", "verification_state", "voucher_record"]


def N_(message: str) -> str:
    """Marks an English label for the catalogs; pages translate it with ``_()``."""
    return message


METHODS = {"document_check": N_("Document check"), "vouching": N_("Vouching"), "interview": N_("Interview"),
           "records_check": N_("Records check")}
OUTCOMES = {"confirmed": N_("Confirmed"), "not_confirmed": N_("Not confirmed"), "inconclusive": N_("Inconclusive")}
STATES = {"none": N_("Not verified yet"), "pending": N_("Verification pending"), "verified": N_("Verified"),
          "not_verified": N_("Could not be verified"), "conflicting": N_("Conflicting attestations")}
MAX_REASON = 2000


@dataclass(frozen=True)
class AttestationView:
    id: str
    attester_id: str
    attester: str
    attester_role: str
    method: str
    outcome: str
    reason: str
    created_at: datetime
    documents: int
    checks: dict[str, str]
    current: bool = True  # the attester's latest on this case
    conflicting: bool = False


@dataclass(frozen=True)
class VoucherRecord:
    """What later checks made of one intermediary's vouches (counts only)."""

    user_id: str
    username: str
    vouches: int
    upheld: int  # a verifier's finding agreed with the vouch
    contradicted: int  # a verifier's finding disagreed
    unchecked: int  # no verifier finding yet (or conflicting)


@dataclass
class _Decided:
    state: str
    conflicting: set[str] = field(default_factory=set)
    current: set[str] = field(default_factory=set)


def _latest_per_attester(rows: Sequence[Attestation]) -> list[Attestation]:
    latest: dict[str, Attestation] = {}
    for a in sorted(rows, key=lambda a: a.created_at):
        latest[a.attester_id] = a
    return list(latest.values())


def derive_state(rows: Sequence[Attestation], case_status: str) -> _Decided:
    current = _latest_per_attester(rows)
    ids = {a.id for a in current}
    if not current:
        return _Decided("pending" if case_status == "verification" else "none")
    yes = {a.id for a in current if a.outcome == "confirmed"}
    no = {a.id for a in current if a.outcome == "not_confirmed"}
    if yes and no:
        return _Decided("conflicting", yes | no, ids)
    decisive = [a for a in current if a.method != "vouching" and a.outcome != "inconclusive"]
    if decisive:
        return _Decided("verified" if decisive[0].outcome == "confirmed" else "not_verified", set(), ids)
    return _Decided("pending", set(), ids)


def _attestations(db: Session, case_ids: Iterable[str]) -> dict[str, list[Attestation]]:
    out: dict[str, list[Attestation]] = {}
    ids = list(case_ids)
    if not ids:
        return out
    for a in db.scalars(select(Attestation).where(Attestation.case_id.in_(ids)).order_by(Attestation.created_at)):
        out.setdefault(a.case_id, []).append(a)
    return out


def verification_state(db: Session, case: Case) -> str:
    return derive_state(_attestations(db, [case.id]).get(case.id, []), case.status).state


def referred_by(db: Session, user_id: str, case: Case) -> bool:
    """Whether one of the case's records came from a submission this user sent."""
    q = (select(Submission.id).join(Record, Record.submission_id == Submission.id)
         .where(Record.person_id == case.person_id, Submission.submitted_by == user_id).limit(1))
    return db.scalar(q) is not None


def record_attestation(db: Session, actor: Actor, case_id: str, *, role: str, method: str, outcome: str,
                       reason: str, document_ids: Sequence[str] = (), vouch_only: bool = False) -> Attestation:
    """Record one attestation. ``vouch_only``: the actor cannot read cases (a referrer), so they may only
    vouch, and only for a case they referred."""
    if actor.user_id is None:
        raise PermissionDenied(N_("Only a signed-in user can attest."))
    if method not in METHODS:
        raise InvalidInput(N_("method: choose document check, vouching, interview or records check."), field="method")
    if outcome not in OUTCOMES:
        raise InvalidInput(N_("outcome: choose confirmed, not confirmed or inconclusive."), field="outcome")
    reason = reason.strip()
    if not reason:
        raise InvalidInput(N_("reason: say what was checked and what it showed."), field="reason")
    if len(reason) > MAX_REASON:
        raise InvalidInput(N_("reason: at most 2000 characters."), field="reason")
    case = get_case(db, case_id)
    if vouch_only:
        if method != "vouching":
            raise PermissionDenied(N_("Your role may only vouch."))
        if not referred_by(db, actor.user_id, case):
            raise PermissionDenied(N_("You may vouch only for people you referred."))
    wanted = list(dict.fromkeys(document_ids))
    if wanted:
        if vouch_only:
            raise PermissionDenied(N_("Your role may only vouch."))
        record_ids = [r.id for r in case_records(db, case)]
        found = set(db.scalars(select(Document.id).where(Document.id.in_(wanted), Document.record_id.in_(record_ids))))
        if found != set(wanted):
            raise InvalidInput(N_("documents: choose documents of this case."), field="documents")
    checks = {c.code: c.verdict for c in case_checks(db, case)} if method == "document_check" else {}
    att = Attestation(case_id=case.id, attester_id=actor.user_id, attester_role=role, method=method,
                      outcome=outcome, reason=reason, checks=checks)
    db.add(att)
    db.flush()
    for doc_id in wanted:
        db.add(AttestationDocument(attestation_id=att.id, document_id=doc_id))
    case.updated_at = utcnow()
    before = derive_state([a for a in _attestations(db, [case.id]).get(case.id, []) if a.id != att.id], case.status)
    after = derive_state(_attestations(db, [case.id]).get(case.id, []), case.status)
    record_event(db, actor, "attestation:create", "case", case.id, attestation=att.id, method=method,
                 outcome=outcome, documents=len(wanted), state=after.state, previous_state=before.state)
    return att


def _usernames(db: Session, ids: Iterable[str]) -> dict[str, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    return dict(db.execute(select(User.id, User.username).where(User.id.in_(wanted))).all())


def list_attestations(db: Session, case: Case) -> tuple[str, list[AttestationView]]:
    """The case's derived state and its attestations, newest first."""
    rows = _attestations(db, [case.id]).get(case.id, [])
    decided = derive_state(rows, case.status)
    names = _usernames(db, (a.attester_id for a in rows))
    doc_counts: dict[str, int] = {}
    if rows:
        for att_id in db.scalars(select(AttestationDocument.attestation_id)
                                 .where(AttestationDocument.attestation_id.in_([a.id for a in rows]))):
            doc_counts[att_id] = doc_counts.get(att_id, 0) + 1
    views = [AttestationView(a.id, a.attester_id, names.get(a.attester_id, "?"), a.attester_role, a.method, a.outcome,
                             a.reason, a.created_at, doc_counts.get(a.id, 0), dict(a.checks or {}),
                             current=a.id in decided.current, conflicting=a.id in decided.conflicting)
             for a in reversed(rows)]
    return decided.state, views


def voucher_record(db: Session, user_id: str) -> VoucherRecord:
    """How one intermediary's vouches fared: for each case they vouched for (their latest vouch), what the
    verifiers' own findings say."""
    vouches = _latest_per_attester_case(db, user_id)
    cases = {c.id: c for c in db.scalars(select(Case).where(Case.id.in_(list(vouches))))} if vouches else {}
    by_case = _attestations(db, list(vouches))
    upheld = contradicted = unchecked = 0
    for case_id, vouch in vouches.items():
        checks = [a for a in by_case.get(case_id, []) if a.method != "vouching"]
        verdict = derive_state(checks, cases[case_id].status).state if case_id in cases else "none"
        if verdict == "verified":
            upheld += vouch.outcome == "confirmed"
            contradicted += vouch.outcome == "not_confirmed"
            unchecked += vouch.outcome == "inconclusive"
        elif verdict == "not_verified":
            upheld += vouch.outcome == "not_confirmed"
            contradicted += vouch.outcome == "confirmed"
            unchecked += vouch.outcome == "inconclusive"
        else:
            unchecked += 1
    return VoucherRecord(user_id, _usernames(db, [user_id]).get(user_id, "?"), len(vouches), upheld, contradicted,
                         unchecked)


def _latest_per_attester_case(db: Session, user_id: str) -> dict[str, Attestation]:
    latest: dict[str, Attestation] = {}
    for a in db.scalars(select(Attestation).where(Attestation.attester_id == user_id,
                                                  Attestation.method == "vouching").order_by(Attestation.created_at)):
        latest[a.case_id] = a
    return latest


@dataclass(frozen=True)
class AwaitingRow:
    case_id: str
    label: str
    status: str
    state: str
    attestations: int
    updated_at: datetime


def awaiting_verification(db: Session, *, limit: int = 200) -> list[AwaitingRow]:
    """Open cases a verifier should look at: in verification, vouched for but not yet checked, or
    conflicting. Conflicting ones first, then the longest waiting."""
    attested = select(Attestation.case_id).distinct()
    # No limit here: verified cases must not crowd out the waiting ones; the list is cut after deriving.
    cases = list(db.scalars(select(Case).where(Case.status.in_(OPEN_STATUSES))
                            .where((Case.status == "verification") | Case.id.in_(attested))
                            .order_by(Case.updated_at)))
    by_case = _attestations(db, [c.id for c in cases])
    rows = []
    for c in cases:
        state = derive_state(by_case.get(c.id, []), c.status).state
        if state in ("pending", "conflicting"):
            rows.append(AwaitingRow(c.id, case_label(c.number), c.status, state, len(by_case.get(c.id, [])),
                                    c.updated_at))
    rows.sort(key=lambda r: (r.state != "conflicting", r.updated_at))
    return rows[:limit]


def verification_context(db: Session, case: Case, *, can_attest: bool, can_read: bool) -> dict[str, object]:
    """What the case page's verification section shows: the state, the attestations, the document checks,
    each vouching intermediary's record (to those who read cases), and the choices for a new attestation."""
    state, views = list_attestations(db, case)
    vouchers = sorted({v.attester_id for v in views if v.method == "vouching"})
    docs = []
    for rec in case_records(db, case):
        docs += [{"id": d[0], "field": d[1], "content_type": d[2]}
                 for d in db.execute(select(Document.id, Document.field, Document.content_type)
                                     .where(Document.record_id == rec.id).order_by(Document.created_at)).all()]
    return {
        "verification_state": state, "state_labels": STATES, "attestations": views,
        "method_labels": METHODS, "outcome_labels": OUTCOMES, "check_labels": CHECK_LABELS,
        "verdict_labels": VERDICT_LABELS, "part_labels": PART_LABELS,
        "document_checks": case_checks(db, case) if can_read else [],
        "voucher_records": [voucher_record(db, uid) for uid in vouchers] if can_read else [],
        "attest_documents": docs if can_attest else [], "can_attest": can_attest,
    }
