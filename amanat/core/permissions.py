"""Permissions and roles. Deny by default: a role has exactly the permissions listed here."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    SUBMISSION_CREATE = "submission:create"
    SUBMISSION_READ = "submission:read"
    RECORD_READ = "record:read"  # masked view: ids, status, non-sensitive fields
    RECORD_REVEAL = "record:reveal"  # one sensitive field in clear, audited
    RECORD_REVEAL_SPECIAL = "record:reveal_special"  # religion, ethnicity: protection claims only
    DOCUMENT_READ = "document:read"
    CASE_READ = "case:read"
    CASE_WRITE = "case:write"
    CASE_ASSIGN = "case:assign"
    CASE_LIST_NAMES = "case:list_names"  # a display name in queues and search results (audited as a list view)
    CASE_APPROVE = "case:approve"  # approve or reject another user's request to close a case
    ATTESTATION_WRITE = "attestation:write"
    REVIEW_DECIDE = "review:decide"
    AUDIT_READ = "audit:read"
    USER_MANAGE = "user:manage"
    KEY_MANAGE = "key:manage"
    FORM_MANAGE = "form:manage"
    EXPORT_CREATE = "export:create"
    DASHBOARD_READ = "dashboard:read"
    CONSENT_OVERRIDE = "consent:override"  # refer without recorded consent, with a reason (audited)


class Role(StrEnum):
    ADMIN = "admin"
    CASEWORKER = "caseworker"
    VERIFIER = "verifier"
    REFERRER = "referrer"
    AUDITOR = "auditor"


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # Admins run the system; they do not read applicants' data.
    Role.ADMIN: frozenset({P.USER_MANAGE, P.KEY_MANAGE, P.FORM_MANAGE, P.DASHBOARD_READ, P.SUBMISSION_CREATE}),
    Role.CASEWORKER: frozenset({P.SUBMISSION_CREATE, P.SUBMISSION_READ, P.RECORD_READ, P.RECORD_REVEAL,
                                P.RECORD_REVEAL_SPECIAL, P.DOCUMENT_READ, P.CASE_READ, P.CASE_WRITE,
                                P.CASE_ASSIGN, P.CASE_LIST_NAMES, P.CASE_APPROVE, P.REVIEW_DECIDE,
                                P.EXPORT_CREATE, P.DASHBOARD_READ, P.CONSENT_OVERRIDE}),
    Role.VERIFIER: frozenset({P.RECORD_READ, P.RECORD_REVEAL, P.DOCUMENT_READ, P.CASE_READ, P.CASE_LIST_NAMES,
                              P.ATTESTATION_WRITE}),
    # Referrers submit and vouch; they see receipts of what they sent, never others' records.
    Role.REFERRER: frozenset({P.SUBMISSION_CREATE, P.ATTESTATION_WRITE}),
    Role.AUDITOR: frozenset({P.AUDIT_READ, P.DASHBOARD_READ}),
}


def has_permission(role: str, permission: Permission) -> bool:
    try:
        return permission in ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return False


def permissions_for(role: str) -> frozenset[Permission]:
    try:
        return ROLE_PERMISSIONS[Role(role)]
    except ValueError:
        return frozenset()
