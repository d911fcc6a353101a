"""Referrals to partner organisations, as Primero models them: sent → accepted / rejected → done; revocable.

A referral needs the person's consent to be referred to that kind of organisation, recorded with the form
version and language it was given on; without it, only someone holding ``consent:override`` may refer, and
must say why (kept encrypted, audited). A consent recorded as "stated by the importer" stands only when one of
the case's records came from a table or chat import whose importer stated a consent basis (intake/consent.py):
it is checked when the consent is recorded and again at each referral. Partners and their public keys are
registered by an admin (``key:manage``); the packet itself is built and sealed to the partner's key by
export/referral_packet.py and arrives here as ciphertext only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from amanat.accounts.models import User
from amanat.cases.protection_models import Consent, Partner, Referral
from amanat.cases.service import case_records, get_case
from amanat.core.audit import Actor, record_event
from amanat.core.crypto import key_fingerprint, parse_public_key
from amanat.core.db import utcnow
from amanat.errors import Conflict, InvalidInput, NotFound, PermissionDenied

CONSENT_BASES = ("signed_form", "verbal_recorded", "import_stated")
IMPORT_STATED = "import_stated"
CONSENT_LANGUAGES = ("en", "fa_AF", "ps_AF")
# Which status may follow which. Revoking withdraws a referral the partner has not finished.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "sent": ("accepted", "rejected", "revoked"),
    "accepted": ("done", "revoked"),
    "rejected": (),
    "done": (),
    "revoked": (),
}
MAX_REASON = 1000


# --- partners -------------------------------------------------------------------------------------------
def register_partner(db: Session, actor: Actor, *, name: str, kind: str, public_key: str,
                     kinds: tuple[str, ...] | list[str]) -> Partner:
    name = " ".join(name.split())
    if not 2 <= len(name) <= 120:
        raise InvalidInput("name: 2 to 120 characters.", field="name")
    if kind not in kinds:
        raise InvalidInput("kind: not a kind of partner organisation in the pathways file.", field="kind")
    raw = parse_public_key(public_key)
    if db.scalar(select(Partner.id).where(Partner.name == name)):
        raise Conflict("name: a partner with this name is already registered.")
    partner = Partner(name=name, kind=kind, public_key=raw, fingerprint=key_fingerprint(raw),
                      registered_by=actor.user_id)
    db.add(partner)
    db.flush()
    record_event(db, actor, "partner:register", "partner", partner.id, kind=kind, key=partner.fingerprint)
    return partner


def set_partner_active(db: Session, actor: Actor, partner_id: str, active: bool) -> Partner:
    partner = get_partner(db, partner_id)
    partner.active = active
    record_event(db, actor, "partner:enable" if active else "partner:disable", "partner", partner.id)
    return partner


def get_partner(db: Session, partner_id: str) -> Partner:
    partner = db.get(Partner, partner_id)
    if partner is None:
        raise NotFound("No such partner.")
    return partner


def list_partners(db: Session, *, active_only: bool = False) -> list[Partner]:
    q = select(Partner).order_by(Partner.name)
    if active_only:
        q = q.where(Partner.active.is_(True))
    return list(db.scalars(q))


# --- consent ---------------------------------------------------------------------------------------------
def record_consent(db: Session, actor: Actor, case_id: str, *, partner_kind: str, form_version: str,
                   language: str, basis: str, kinds: tuple[str, ...] | list[str]) -> Consent:
    case = get_case(db, case_id)
    if partner_kind not in kinds:
        raise InvalidInput("partner_kind: not a kind of partner organisation.", field="partner_kind")
    if basis not in CONSENT_BASES:
        raise InvalidInput(f"basis: choose one of {', '.join(CONSENT_BASES)}.", field="basis")
    if language not in CONSENT_LANGUAGES:
        raise InvalidInput("language: the language the consent form was read in (en, fa_AF, ps_AF).",
                           field="language")
    if basis == IMPORT_STATED and not intake_consents(db, case.id):
        raise InvalidInput("basis: no record of this case came from an import that stated a consent basis.",
                           field="basis")
    form_version = form_version.strip()
    if not form_version or len(form_version) > 40 or not form_version.replace(".", "").replace("-", "").isalnum():
        raise InvalidInput("form_version: the consent form's version, such as 2024-1.", field="form_version")
    consent = Consent(case_id=case.id, partner_kind=partner_kind, form_version=form_version, language=language,
                      basis=basis, recorded_by=actor.user_id)
    db.add(consent)
    db.flush()
    record_event(db, actor, "consent:record", "case", case.id, consent=consent.id, partner_kind=partner_kind,
                 basis=basis, form_version=form_version, language=language)
    return consent


def withdraw_consent(db: Session, actor: Actor, case_id: str, consent_id: str) -> Consent:
    consent = db.get(Consent, consent_id)
    if consent is None or consent.case_id != case_id:
        raise NotFound("No such consent on this case.")
    if consent.withdrawn_at is None:
        consent.withdrawn_at = utcnow()
        record_event(db, actor, "consent:withdraw", "case", case_id, consent=consent.id)
    return consent


def list_consents(db: Session, case_id: str) -> list[Consent]:
    return list(db.scalars(select(Consent).where(Consent.case_id == case_id).order_by(Consent.recorded_at)))


def consent_for(db: Session, case_id: str, partner_kind: str) -> Consent | None:
    return db.scalars(select(Consent).where(Consent.case_id == case_id, Consent.partner_kind == partner_kind,
                                            Consent.withdrawn_at.is_(None))
                      .order_by(Consent.recorded_at.desc())).first()


@dataclass(frozen=True)
class IntakeConsent:
    """The consent basis an importer stated for the file one of the case's records came from."""

    record_id: str
    basis: str  # intake.consent.IMPORT_BASES
    form_version: str | None
    language: str | None


def intake_consents(db: Session, case_id: str) -> list[IntakeConsent]:
    """What the imports of the case's records stated about consent (records typed into the web form or sent
    from a phone state it on the form itself, and have none here)."""
    out: list[IntakeConsent] = []
    for rec in case_records(db, get_case(db, case_id)):
        origin = ((rec.provenance or {}).get("provenance") or {}).get("import") or {}
        stated = origin.get("consent") if isinstance(origin, dict) else None
        if isinstance(stated, dict) and stated.get("basis"):
            out.append(IntakeConsent(rec.id, str(stated["basis"]), stated.get("form_version"), stated.get("language")))
    return out


@dataclass(frozen=True)
class Permit:
    """Why this referral may go: a consent, or an override with its reason."""

    consent_id: str | None
    override_reason: str | None


def check_consent(db: Session, case_id: str, partner: Partner, *, override_reason: str | None,
                  can_override: bool) -> Permit:
    consent = consent_for(db, case_id, partner.kind)
    if consent is not None:
        if consent.basis == IMPORT_STATED and not intake_consents(db, case_id):
            raise PermissionDenied("The consent was recorded as stated by the importer, but no import of this "
                                   "case's records stated a consent basis.", code="consent_basis_missing")
        return Permit(consent.id, None)
    reason = (override_reason or "").strip()
    if not reason:
        raise PermissionDenied("No consent to refer this person to this kind of organisation is recorded.",
                               code="consent_missing")
    if not can_override:
        raise PermissionDenied("Referring without consent needs the consent:override permission.",
                               code="consent_override_denied")
    if len(reason) < 10 or len(reason) > MAX_REASON:
        raise InvalidInput(f"reason: say why consent is overridden, 10 to {MAX_REASON} characters.", field="reason")
    return Permit(None, reason)


# --- referrals -------------------------------------------------------------------------------------------
def create_referral(db: Session, actor: Actor, case_id: str, partner: Partner, permit: Permit, *,
                    pathway: str | None, packet: bytes, fields: list[str]) -> Referral:
    """Store a referral whose packet is already sealed to ``partner``'s key."""
    case = get_case(db, case_id)
    if not partner.active:
        raise InvalidInput("partner: this partner is disabled.", field="partner")
    ref = Referral(case_id=case.id, partner_id=partner.id, pathway=pathway, consent_id=permit.consent_id,
                   override_by=actor.user_id if permit.override_reason else None,
                   override_reason=permit.override_reason, created_by=actor.user_id, packet=packet,
                   packet_sha256=hashlib.sha256(packet).hexdigest(), fields=",".join(fields))
    db.add(ref)
    case.updated_at = utcnow()
    db.flush()
    record_event(db, actor, "referral:send", "case", case.id, referral=ref.id, partner=partner.id,
                 pathway=pathway, consent=permit.consent_id, override=permit.override_reason is not None,
                 packet_sha256=ref.packet_sha256, key=partner.fingerprint, fields=fields)
    return ref


def get_referral(db: Session, referral_id: str) -> Referral:
    ref = db.get(Referral, referral_id)
    if ref is None:
        raise NotFound("No such referral.")
    return ref


def set_referral_status(db: Session, actor: Actor, referral_id: str, status: str) -> Referral:
    """Record the partner's answer (accepted, rejected, done) or revoke the referral."""
    ref = get_referral(db, referral_id)
    if status not in TRANSITIONS.get(ref.status, ()):
        raise InvalidInput(f"status: a referral that is '{ref.status}' cannot become that.", field="status")
    old, ref.status, ref.updated_at = ref.status, status, utcnow()
    record_event(db, actor, "referral:status", "case", ref.case_id, referral=ref.id, old=old, new=status)
    return ref


def read_packet(db: Session, actor: Actor, referral_id: str) -> tuple[str, bytes]:
    """The sealed packet, to hand to the partner. Only the partner's private key opens it."""
    ref = get_referral(db, referral_id)
    if ref.status == "revoked":
        raise Conflict("This referral was revoked: its packet is no longer handed out.")
    record_event(db, actor, "referral:packet", "case", ref.case_id, referral=ref.id, packet_sha256=ref.packet_sha256)
    return f"referral-{ref.id[:8]}.json.amanat", ref.packet


@dataclass(frozen=True)
class ReferralView:
    id: str
    partner: str
    partner_kind: str
    pathway: str | None
    status: str
    created_at: datetime
    updated_at: datetime
    by: str | None
    override: bool
    packet_sha256: str


def list_referrals(db: Session, case_id: str) -> list[ReferralView]:
    rows = db.execute(select(Referral, Partner.name, Partner.kind, User.username)
                      .join(Partner, Partner.id == Referral.partner_id)
                      .outerjoin(User, User.id == Referral.created_by)
                      .where(Referral.case_id == case_id).order_by(Referral.created_at.desc())).all()
    return [ReferralView(r.id, name, kind, r.pathway, r.status, r.created_at, r.updated_at, by,
                         r.override_by is not None, r.packet_sha256) for r, name, kind, by in rows]
