"""Assignment and workflow: assign, reassign and unassign; status changes with a reason; closing only with
a second person's approval (as Primero's approvals); and what a review decision or an undone merge does
to the cases (so the web route and the CLI only call here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanat.accounts.models import User
from amanat.cases.models import Case, CaseApproval, CaseNote
from amanat.cases.service import (
    TRANSITIONS,
    add_system_note,
    case_label,
    get_case,
    note_params,
    reconcile_merge,
    reconcile_unmerge,
)
from amanat.core.audit import Actor, record_event
from amanat.core.db import utcnow
from amanat.core.permissions import Permission, has_permission
from amanat.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from amanat.records import service as records
from amanat.review import service as review

# Reasons, as codes rendered in the reader's language; "other" needs a few words (kept encrypted).
HOLD_REASONS = ("awaiting_documents", "awaiting_applicant", "awaiting_partner", "safety_concern", "other")
CLOSE_REASONS = ("pathway_completed", "duplicate", "withdrawn", "not_eligible", "unreachable", "other")
MAX_REASON = 500


def _reason(code: str | None, text: str | None, allowed: tuple[str, ...], what: str) -> tuple[str, str]:
    if code not in allowed:
        raise InvalidInput(f"reason: choose why the case is {what}.", field="reason")
    text = (text or "").strip()
    if len(text) > MAX_REASON:
        raise InvalidInput(f"reason: at most {MAX_REASON} characters.", field="reason_text")
    if code == "other" and not text:
        raise InvalidInput("reason: say why, in a few words.", field="reason_text")
    return code, text


def assignable_users(db: Session) -> list[tuple[str, str]]:
    """(id, username) of enabled users whose role may work cases."""
    rows = db.execute(select(User.id, User.username, User.role).where(User.disabled.is_(False))
                      .order_by(User.username)).all()
    return [(i, n) for i, n, role in rows if has_permission(role, Permission.CASE_WRITE)]


def assign(db: Session, actor: Actor, case_id: str, user_id: str | None) -> Case:
    """Assign to a colleague (or oneself), reassign, or unassign (``user_id`` None)."""
    case = get_case(db, case_id)
    name = None
    if user_id is not None:
        user = db.get(User, user_id)
        if user is None or user.disabled or not has_permission(user.role, Permission.CASE_WRITE):
            raise InvalidInput("assignee: not a colleague who can work cases.", field="assignee")
        name = user.username
    if case.assigned_to == user_id:
        return case
    previous = case.assigned_to
    case.assigned_to, case.updated_at = user_id, utcnow()
    add_system_note(db, case.id, "assigned" if user_id else "unassigned", author_id=actor.user_id, user=name)
    record_event(db, actor, "case:assign", "case", case.id, assignee=user_id, previous=previous)
    return case


def change_status(db: Session, actor: Actor, case_id: str, new_status: str, *, reason_code: str | None = None,
                  reason_text: str | None = None) -> Case:
    """Move a case on. On hold needs a reason; closing goes through ``request_close``."""
    case = get_case(db, case_id)
    if new_status == "closed":
        raise InvalidInput("status: closing needs a second person's approval: request it.", field="status",
                           code="close_needs_approval")
    if new_status not in TRANSITIONS.get(case.status, ()):
        raise InvalidInput(f"status: a case in '{case.status}' cannot move to that status.", field="status")
    code = text = None
    if new_status == "on_hold":
        code, text = _reason(reason_code, reason_text, HOLD_REASONS, "on hold")
    old, case.status, case.updated_at, case.closed_at = case.status, new_status, utcnow(), None
    add_system_note(db, case.id, "status", author_id=actor.user_id, reason=code, body=text or "", old=old,
                    new=new_status)
    record_event(db, actor, "case:status", "case", case.id, old=old, new=new_status, reason=code)
    return case


def pending_close(db: Session, case_id: str) -> CaseApproval | None:
    return db.scalars(select(CaseApproval).where(CaseApproval.case_id == case_id, CaseApproval.kind == "close",
                                                 CaseApproval.outcome.is_(None))).first()


def request_close(db: Session, actor: Actor, case_id: str, *, reason_code: str | None,
                  reason_text: str | None) -> CaseApproval:
    assert actor.user_id is not None
    case = get_case(db, case_id)
    if "closed" not in TRANSITIONS.get(case.status, ()):
        raise InvalidInput(f"status: a case in '{case.status}' cannot be closed.", field="status")
    if pending_close(db, case.id) is not None:
        raise Conflict("A request to close this case is already waiting for approval.", code="close_pending")
    code, text = _reason(reason_code, reason_text, CLOSE_REASONS, "closed")
    approval = CaseApproval(case_id=case.id, kind="close", reason_code=code, reason=text or None,
                            requested_by=actor.user_id)
    db.add(approval)
    db.flush()
    case.updated_at = utcnow()
    add_system_note(db, case.id, "close_requested", author_id=actor.user_id, reason=code, body=text)
    record_event(db, actor, "case:close_request", "case", case.id, approval=approval.id, reason=code)
    return approval


def decide_close(db: Session, actor: Actor, approval_id: str, *, approve: bool) -> Case:
    """A second person with ``case:approve`` approves (the case closes) or rejects the request."""
    approval = db.get(CaseApproval, approval_id)
    if approval is None or approval.kind != "close":  # an erasure is decided in cases/erasure.py
        raise NotFound("No such approval request.")
    if approval.outcome is not None:
        raise Conflict("This request was already decided.", code="already_decided")
    if approval.requested_by == actor.user_id:
        raise PermissionDenied("A second person must approve: you asked for this yourself.")
    case = get_case(db, approval.case_id)
    approval.decided_by, approval.decided_at = actor.user_id, utcnow()
    approval.outcome = "approved" if approve else "rejected"
    if approve:
        if "closed" not in TRANSITIONS.get(case.status, ()):
            raise InvalidInput(f"status: a case in '{case.status}' cannot be closed.", field="status")
        old, case.status, case.closed_at = case.status, "closed", utcnow()
        record_event(db, actor, "case:status", "case", case.id, old=old, new="closed", reason=approval.reason_code)
    case.updated_at = utcnow()
    add_system_note(db, case.id, "close_approved" if approve else "close_rejected", author_id=actor.user_id,
                    reason=approval.reason_code)
    record_event(db, actor, "case:close_approve" if approve else "case:close_reject", "case", case.id,
                 approval=approval.id)
    return case


def withdraw_close(db: Session, actor: Actor, case_id: str) -> None:
    approval = pending_close(db, case_id)
    if approval is None:
        raise NotFound("No request to close this case is waiting.")
    if approval.requested_by != actor.user_id:
        raise PermissionDenied("Only who asked can withdraw the request.")
    approval.outcome, approval.decided_by, approval.decided_at = "withdrawn", actor.user_id, utcnow()
    add_system_note(db, case_id, "close_withdrawn", author_id=actor.user_id)
    record_event(db, actor, "case:close_withdraw", "case", case_id, approval=approval.id)


@dataclass(frozen=True)
class ApprovalView:
    id: str
    reason_code: str
    reason: str | None
    requested_by: str | None  # username
    requested_by_id: str
    requested_at: datetime


def approval_view(db: Session, a: CaseApproval | None) -> ApprovalView | None:
    """A pending request (to close, to erase) as the case page shows it, with who asked."""
    if a is None:
        return None
    user = db.get(User, a.requested_by)
    return ApprovalView(a.id, a.reason_code, a.reason, user.username if user else None, a.requested_by,
                        a.requested_at)


def close_request_view(db: Session, case_id: str) -> ApprovalView | None:
    return approval_view(db, pending_close(db, case_id))


# --- review decisions and undone merges: what they do to the cases ---


def apply_review_decision(db: Session, actor: Actor, pair_id: str, decision: str) -> review.Decision:
    """Decide a candidate pair and bring the cases in line: a merge closes one case into the other."""
    if decision not in ("accept", "reject", "household"):
        raise InvalidInput("decision: accept, reject or household.", field="decision")
    result = review.decide(db, actor, pair_id, accept=decision == "accept", household=decision == "household")
    if result.merged_from and result.merged_into:
        reconcile_merge(db, actor, result.merged_from, result.merged_into, merge_id=result.merge_id)
    return result


def undo_merge(db: Session, actor: Actor, merge_id: str) -> Case:
    """Undo a merge: the records go back, the restored person's case reopens, and the notes that said
    "merged" are marked undone (they stay: the history shows both)."""
    restored, into = records.unmerge(db, actor, merge_id)
    case = reconcile_unmerge(db, actor, restored)
    void_merge_notes(db, merge_id, persons=(restored, into))
    other = db.scalars(select(Case).where(Case.person_id == into).order_by(Case.opened_at.desc())).first()
    if other is not None:
        add_system_note(db, other.id, "unmerged", author_id=actor.user_id, case=case_label(case.number),
                        merge=merge_id)
        other.updated_at = utcnow()
    record_event(db, actor, "case:unmerge", "case", case.id, merge=merge_id)
    return case


def void_merge_notes(db: Session, merge_id: str, *, persons: tuple[str, ...]) -> int:
    case_ids = list(db.scalars(select(Case.id).where(Case.person_id.in_(persons))))
    notes = db.scalars(select(CaseNote).where(CaseNote.case_id.in_(case_ids),
                                              CaseNote.code.in_(("merged_into", "merged_from")),
                                              CaseNote.voided_at.is_(None))).all()
    n = 0
    for note in notes:
        if note_params(note).get("merge") == merge_id:
            note.voided_at = utcnow()
            n += 1
    return n
