"""The audit log in words: each action code and detail as a phrase the catalogs translate.

Codes stay codes in the log (they are hashed into the chain); only the page puts them into words. An action
without a phrase here is shown by its subject's name and the code, so a new code is never hidden.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from amanat.cases.service import STATUSES
from amanat.cases.verification import METHODS, OUTCOMES, STATES


def N_(message: str) -> str:
    return message


ACTIONS = {
    "attestation:create": N_("Attestation recorded"),
    "backup:create": N_("Backup made"),
    "backup:restore": N_("Backup restored"),
    "backup:verify": N_("Backup verified"),
    "case:assign": N_("Case assigned"),
    "case:close_approve": N_("Closing approved"),
    "case:close_reject": N_("Closing rejected"),
    "case:close_request": N_("Asked to close the case"),
    "case:close_withdraw": N_("Request to close withdrawn"),
    "case:list_names": N_("Names listed"),
    "case:search": N_("Cases searched"),
    "case:work": N_("Worked on the case (values shown)"),
    "case:work_end": N_("Stopped working on the case"),
    "document:attach": N_("Document attached"),
    "household:link": N_("Family member linked"),
    "household:unlink": N_("Family member's link removed"),
    "record:correct": N_("Value corrected"),
    "team:coverage": N_("Team's provinces changed"),
    "team:create": N_("Team created"),
    "team:delete": N_("Team deleted"),
    "team:member_add": N_("Added to a team"),
    "team:member_remove": N_("Removed from a team"),
    "case:merge": N_("Cases merged"),
    "case:moved": N_("Case moved to another person"),
    "case:note": N_("Note added"),
    "case:open": N_("Case opened"),
    "case:record_attached": N_("Record joined the case"),
    "case:reopen": N_("Case reopened"),
    "case:status": N_("Case status changed"),
    "device:create": N_("Device login created"),
    "device:revoke": N_("Device login revoked"),
    "document:read": N_("Document opened"),
    "form:activate": N_("Form version activated"),
    "form:retire": N_("Form version retired"),
    "form:upload": N_("Form version uploaded"),
    "import:confirm": N_("Import confirmed"),
    "import:discard": N_("Import discarded"),
    "import:expire": N_("Import expired"),
    "import:preview": N_("Import previewed"),
    "import:store": N_("Import stored"),
    "keys:create": N_("Keys created"),
    "keys:reencrypt": N_("Records moved onto their own keys"),
    "keys:rotate": N_("Keys rotated"),
    "linkage:audit_merges": N_("Automatic merges checked"),
    "linkage:batch": N_("Linkage batch run"),
    "linkage:model": N_("Linkage model trained"),
    "person:create": N_("Person created"),
    "person:erase": N_("Person erased"),
    "person:erase_approve": N_("Erasure approved"),
    "person:erase_reject": N_("Erasure rejected"),
    "person:erase_request": N_("Erasure requested"),
    "person:erasure_reapplied": N_("Erasures applied again after a restore"),
    "person:retention": N_("Retention rule applied"),
    "person:merge": N_("People merged"),
    "person:unmerge": N_("Merge undone"),
    "record:conflict": N_("Record matched several people"),
    "record:create": N_("Record stored"),
    "record:reveal": N_("Field revealed"),
    "review:accept": N_("Duplicate accepted"),
    "review:household": N_("Recorded as one family"),
    "review:reject": N_("Duplicate rejected"),
    "session:login": N_("Signed in"),
    "session:login_failed": N_("Failed sign-in"),
    "session:logout": N_("Signed out"),
    "submission:add_parts": N_("Submission attachments received"),
    "submission:edit": N_("Submission edited"),
    "submission:fail": N_("Submission could not be stored"),
    "submission:receive": N_("Submission received"),
    "submission:release_incomplete": N_("Incomplete submission released"),
    "submission:signature_mismatch": N_("Submission signature does not match"),
    "system:worker": N_("Worker event"),
    "task:create": N_("Task added"),
    "task:done": N_("Task done"),
    "task:reopen": N_("Task reopened"),
    "user:create": N_("User created"),
    "user:disable": N_("User disabled"),
    "user:enable": N_("User enabled"),
    "session:revoke": N_("Sessions ended"),
    "user:role_change": N_("Role changed"),
    "user:role_requested": N_("Role requested (waits for a second admin)"),
    "user:role_approved": N_("Role approved by a second admin"),
    "user:role_refused": N_("Role request refused"),
    "user:role_cancelled": N_("Role request withdrawn"),
    "user:reset_requested": N_("Password reset requested (waits for a second admin)"),
    "user:reset_approved": N_("Password reset approved by a second admin"),
    "user:reset_refused": N_("Password reset refused"),
    "user:reset_cancelled": N_("Password reset withdrawn"),
    "user:password_reset": N_("Password reset by an admin"),
    "user:password_change": N_("Password changed"),
    "user:totp_enable": N_("Two-factor sign-in turned on"),
    "user:totp_remove": N_("Two-factor sign-in removed"),
    "user:recovery_code_used": N_("Recovery code used"),
    "user:recovery_codes_new": N_("New recovery codes"),
}
SUBJECTS = {
    "attestation": N_("Attestation"), "case": N_("Case"), "device": N_("Device"), "document": N_("Document"),
    "form": N_("Form"), "import": N_("Import"), "keys": N_("Keys"), "linkage": N_("Linkage"),
    "person": N_("Person"), "record": N_("Record"), "review": N_("Review"), "session": N_("Session"),
    "submission": N_("Submission"), "system": N_("System"), "task": N_("Task"), "user": N_("User"),
    "team": N_("Team"), "case_search": N_("Search"), "household": N_("Family"),
}
DETAILS = {
    "username": N_("Username tried"), "client": N_("Address"), "field": N_("Field"), "method": N_("Method"),
    "outcome": N_("Outcome"), "state": N_("Verification state"), "previous_state": N_("Before"),
    "old": N_("From"), "new": N_("To"), "reason": N_("Reason"), "due": N_("Due"), "documents": N_("Documents"),
    "records": N_("Records"), "role": N_("Role"), "number": N_("Case number"), "assignee": N_("Assignee"),
    "task": N_("Task"), "attestation": N_("Attestation"), "person": N_("Person"), "record": N_("Record"),
    "submission": N_("Submission"), "issues": N_("Values that could not be normalised"),
    "link": N_("Why it was linked"),
    "attachments": N_("Attachments"), "channel": N_("Channel"), "form_version": N_("Form version"),
    "source": N_("Source"), "target": N_("Target"), "merge": N_("Merge"), "pair": N_("Pair"),
    "note": N_("Note"), "persons": N_("People"),
    "request": N_("Request"), "requested_by": N_("Asked by"), "sessions": N_("Sessions"),
    "recovery_codes": N_("Recovery codes"), "left": N_("Left"), "previous": N_("Before"),
    "approval": N_("Approval"), "correction": N_("Correction"), "candidates": N_("Possible matches re-scored"),
    "queued": N_("Queued for linkage"), "minutes": N_("Minutes"), "reason_text": N_("Reason in words"),
    "member": N_("Family member"), "access": N_("Access"), "grants": N_("Access ended"), "kind": N_("Kind"),
    "results": N_("Results"), "shown": N_("Names shown"), "view": N_("View"), "user": N_("User"),
    "provinces": N_("Provinces"), "intake": N_("Intake team"),
}
# A reason code (why a case was worked on, held, closed or corrected), in the words the case page uses.
REASONS = {
    "applicant_contact": N_("The applicant contacted us"), "verification": N_("Verification"),
    "pathway": N_("Pathway or referral"), "correction": N_("Correcting the record"),
    "safeguarding": N_("Safeguarding concern"), "other": N_("Other reason"),
    "awaiting_documents": N_("Waiting for documents"), "awaiting_applicant": N_("Waiting for the applicant"),
    "awaiting_partner": N_("Waiting for a partner organisation"), "safety_concern": N_("Safety concern"),
    "pathway_completed": N_("Pathway completed"), "duplicate": N_("Duplicate of another case"),
    "withdrawn": N_("The applicant withdrew"), "not_eligible": N_("Not eligible"),
    "unreachable": N_("Applicant unreachable"), "applicant_request": N_("At the applicant's request"),
    "document_check": N_("Checked against a document"), "typing_error": N_("Typing error"),
    "transliteration": N_("Spelling or transliteration"),
}
# Details whose value is a code the catalogs know (case statuses, channels, link reasons): shown translated.
CODED = {"old", "new", "status", "channel", "link"}
VALUES: dict[str, str] = {**METHODS, **OUTCOMES, **STATES}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Detail:
    key: str
    label: str | None  # an English phrase to translate, or None: show the key
    value: str
    translate: bool  # the value is a phrase (or a code the catalogs know), not an id


def action_words(action: str) -> tuple[str, str | None]:
    """(phrase, None) for a known action; (subject's name, the code) for one without a phrase."""
    if action in ACTIONS:
        return ACTIONS[action], None
    subject = action.split(":", 1)[0]
    return SUBJECTS.get(subject, N_("Other")), action


USER_KEYS = ("assignee", "user")  # details that name a user by id: shown by username


def parse_details(raw: str) -> dict[str, object]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def details_of(raw: str, users: dict[str, str] | None = None, fields: dict[str, str] | None = None) -> list[Detail]:
    """``users``: id → username; ``fields``: a form field's name → its label in the reader's language (a
    revealed or corrected field is named by its question: ``family.member_name`` → its label)."""
    data = parse_details(raw)
    out = []
    for key, value in sorted(data.items()):
        if value is None or value == []:
            continue
        text = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        if key == "number" and isinstance(value, int):
            text = f"C-{value:06d}"
        if key == "field" and fields and isinstance(value, str) and value.rsplit(".", 1)[-1] in fields:
            out.append(Detail(key, DETAILS.get(key), fields[value.rsplit(".", 1)[-1]], False))
            continue
        if key in USER_KEYS and isinstance(value, str) and users and value in users:
            out.append(Detail(key, DETAILS.get(key), users[value], False))
            continue
        if key == "reason" and isinstance(value, str) and value in REASONS:
            out.append(Detail(key, DETAILS.get(key), REASONS[value], True))
        elif isinstance(value, str) and value in VALUES:
            out.append(Detail(key, DETAILS.get(key), VALUES[value], True))
        elif isinstance(value, str) and key in CODED and (value in STATUSES or key in {"channel", "link"}):
            out.append(Detail(key, DETAILS.get(key), value, True))
        else:
            out.append(Detail(key, DETAILS.get(key), text[:8] if _UUID.match(text) else text, False))
    return out
