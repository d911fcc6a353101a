"""Verification and follow-up: attestations about a case and the tasks that keep it moving.

An attestation is one person's finding about who a case's person is: a verifier's document check,
interview or records check, or a referrer vouching for someone they served with. Its reason is free
text that can name people and places, so it is encrypted. The case's verification state is derived
from its attestations, never stored beside them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from amanat.core.db import Base, new_id, utcnow
from amanat.core.types import EncryptedJSON, EncryptedString


class Attestation(Base):
    __tablename__ = "attestations"
    __table_args__ = (Index("ix_attestations_attester_created", "attester_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    attester_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    attester_role: Mapped[str] = mapped_column(String(20))  # the role they held when they attested
    method: Mapped[str] = mapped_column(String(20))  # document_check | vouching | interview | records_check
    outcome: Mapped[str] = mapped_column(String(20))  # confirmed | not_confirmed | inconclusive
    reason: Mapped[str] = mapped_column(EncryptedString("attestations.reason"))
    # A document check's automatic findings when it was recorded, as codes ({"mrz": "valid", …}).
    checks: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("attestations.checks"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AttestationDocument(Base):
    """A document the attester looked at: one of the case's existing (encrypted) documents."""

    __tablename__ = "attestation_documents"

    attestation_id: Mapped[str] = mapped_column(ForeignKey("attestations.id", ondelete="CASCADE"),
                                                primary_key=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)


class CaseTask(Base):
    __tablename__ = "case_tasks"
    __table_args__ = (Index("ix_case_tasks_assignee_open", "assignee_id", "done_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(EncryptedString("case_tasks.title"))  # may name a person or a place
    assignee_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    done_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
