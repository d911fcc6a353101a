"""What the case page shows, gathered from the cases services for one reader: records masked except what
their grants show (cases.access), family members, workflow, history and notes. Reading only."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from amanat.accounts.models import User
from amanat.accounts.service import CurrentUser
from amanat.cases import access, corrections, erasure, family, history, workflow
from amanat.cases import service as cases
from amanat.core.crypto import KeyHolder
from amanat.core.permissions import Permission
from amanat.intake.form_versions import current_form
from amanat.records import household
from amanat.records import service as records
from amanat.review import service as review
from amanat.web.casework_sections import casework_sections
from amanat.web.i18n import Language


def case_page_context(db: Session, keys: KeyHolder, user: CurrentUser, case_id: str, lang: Language
                      ) -> dict[str, Any]:
    case = cases.get_case(db, case_id)
    spec = current_form(db)  # labels of the form in use; older versions' extra fields show by name
    order = [f.name for f in spec.fields() if not f.is_attachment]
    labels = {f.name: f.label_in(lang.form_lang) for f in spec.fields()}
    labels.pop("consent", None)  # its label is the whole consent text; the template names it briefly
    choice_labels = {f.name: {c.name: c.label_in(lang.form_lang) for c in f.choices}
                     for f in spec.fields() if f.is_select}
    hidden = {f.name for f in spec.fields() if f.is_attachment}
    can_special = user.can(Permission.RECORD_REVEAL_SPECIAL)
    can_reveal = user.can(Permission.RECORD_REVEAL)
    grants = access.current_access(db, user.id, case.id) if can_reveal else access.Access()
    recs = cases.case_records(db, case)
    views = []
    for rec in recs:
        view = records.record_view(db, rec.id, revealed=(), can_special=can_special, field_order=order)
        view.fields = [fv for fv in view.fields if fv.name not in hidden]
        for fv in view.fields:
            if fv.masked and grants.shows(rec.id, fv.name):
                fv.value, fv.masked = records.field_text(rec.data.get(fv.name)), False
        views.append(view)
    members = family.family_of_case(db, keys, case)
    member_values: dict[str, dict[str, str]] = {}
    for m in members:
        row = household.get_member(db, m.id)
        shown = {f: str(row.data[f]) for f in m.present if grants.shows(f"m:{m.id}", f)}
        member_values[m.id] = shown
    relatives = []  # people linkage proposed as this person's family: their cases, never their values
    for rel in review.relatives_of(db, [v.id for v in views]):
        other = cases.open_case_of_person(db, rel.other_person_id)
        if other is not None and other.id != case.id:
            relatives.append({"case_id": other.id, "label": cases.case_label(other.number), "relation": rel.relation,
                              "status": rel.status, "pair_id": rel.pair_id})
    assignee = db.get(User, case.assigned_to) if case.assigned_to else None
    relationship_labels = {c.name: c.label_in(lang.form_lang) for f in spec.fields()
                           if f.name == "member_relationship" for c in f.choices}
    member_labels = {f: labels.get(f, f) for f in household.MEMBER_FIELDS}
    return {
        "case": case, "label": cases.case_label(case.number), "records": views, "labels": labels,
        "choice_labels": choice_labels, "grants": grants, "work_reasons": access.WORK_REASONS,
        "notes": history.case_notes(db, case), "history": history.case_history(db, case),
        "transitions": [t for t in cases.TRANSITIONS.get(case.status, ()) if t != "closed"],
        "can_close": "closed" in cases.TRANSITIONS.get(case.status, ()),
        "can_reveal": can_reveal, "can_write": user.can(Permission.CASE_WRITE),
        "can_assign": user.can(Permission.CASE_ASSIGN), "can_approve": user.can(Permission.CASE_APPROVE),
        "can_docs": user.can(Permission.DOCUMENT_READ), "assignee": assignee.username if assignee else None,
        "assigned_to_me": case.assigned_to == user.id, "colleagues": workflow.assignable_users(db),
        "hold_reasons": workflow.HOLD_REASONS, "close_reasons": workflow.CLOSE_REASONS,
        "close_request": workflow.close_request_view(db, case.id), "me": user.id,
        "erased": erasure.tombstone(db, case.id),  # the person's values are destroyed: say so, show no values
        "erase_request": erasure.pending_erasure_view(db, case.id), "erase_reasons": erasure.ERASE_REASONS,
        "merges": [m for m in records.merges_of_person(db, case.person_id) if m.undone_at is None],
        "can_review": user.can(Permission.REVIEW_DECIDE), "family": relatives, "members": members,
        "member_values": member_values, "member_labels": member_labels, "relationship_labels": relationship_labels,
        "corrections": corrections.corrections_of(db, [r.id for r in recs]),
        "correction_reasons": corrections.CORRECTION_REASONS,
        **casework_sections(db, case, user),  # verification and tasks: cases/_verification.html, _tasks.html
    }
