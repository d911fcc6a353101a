"""Protection and pathways: risk assessments, a case's pathways, consents, partners and referrals.

What a person told us about their danger (threats, hiding, family left behind) is as sensitive as their name,
so assessment factors, reasons and notes are encrypted. The level and score stay in clear: queues sort by
them and the dashboard counts them. A referral's packet is stored only as ciphertext sealed to the partner's
public key; the server cannot read it back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from amanat.core.db import Base, new_id, utcnow
from amanat.core.types import EncryptedJSON, EncryptedString


class ProtectionAssessment(Base):
    """One assessment of a case's risk. A later one supersedes it; none is edited or deleted."""

    __tablename__ = "protection_assessments"
    __table_args__ = (Index("ix_protection_assessments_case_at", "case_id", "assessed_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    assessed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    assessed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    level: Mapped[str] = mapped_column(String(20))  # low | medium | high
    score: Mapped[int] = mapped_column(Integer)
    factors: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("protection_assessments.factors"))
    reasons: Mapped[list[str]] = mapped_column(EncryptedJSON("protection_assessments.reasons"))
    note: Mapped[str | None] = mapped_column(EncryptedString("protection_assessments.note"), nullable=True)
    supersedes: Mapped[str | None] = mapped_column(ForeignKey("protection_assessments.id"), nullable=True)


class CasePathway(Base):
    """A pathway a case is working toward; the checklist itself is derived, only manual checks are stored."""

    __tablename__ = "case_pathways"
    __table_args__ = (Index("ix_case_pathways_case_code", "case_id", "code", unique=True),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40), index=True)
    added_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | submitted | withdrawn
    # Items a caseworker confirmed by hand (seen on paper): {item code: {"by": user id, "at": iso time}}.
    manual: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("case_pathways.manual"), default=dict)


class Partner(Base):
    """An organisation that receives referrals. Its public key is registered by an admin."""

    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(40))  # resettlement_agency | legal_aid | ... (PARTNER_KINDS)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    fingerprint: Mapped[str] = mapped_column(String(24))
    registered_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    registered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Consent(Base):
    """A person's consent to be referred to one kind of organisation, as given on a form in a language."""

    __tablename__ = "referral_consents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    partner_kind: Mapped[str] = mapped_column(String(40))
    form_version: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(10))
    basis: Mapped[str] = mapped_column(String(20))  # signed_form | verbal_recorded | import_stated
    recorded_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Referral(Base):
    __tablename__ = "referrals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), index=True)
    pathway: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="sent", index=True)  # REFERRAL_TRANSITIONS
    consent_id: Mapped[str | None] = mapped_column(ForeignKey("referral_consents.id"), nullable=True)
    override_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    override_reason: Mapped[str | None] = mapped_column(EncryptedString("referrals.override_reason"),
                                                        nullable=True)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    packet: Mapped[bytes] = mapped_column(LargeBinary)  # an envelope sealed to the partner's key
    packet_sha256: Mapped[str] = mapped_column(String(64))
    fields: Mapped[str] = mapped_column(String(2000))  # comma-separated field names the packet holds
