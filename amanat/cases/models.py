"""Cases: the work of moving one person toward a safe pathway."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from amanat.core.db import Base, new_id, utcnow
from amanat.core.types import EncryptedString


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    assigned_to: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    risk_level: Mapped[str | None] = mapped_column(String(20), nullable=True)
    pathway: Mapped[str | None] = mapped_column(String(30), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class CaseNote(Base):
    __tablename__ = "case_notes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(20), default="note")  # note | system
    body: Mapped[str] = mapped_column(EncryptedString("case_notes.body"))
    # A system note is a code and its parameters (case labels, status codes: never a record's values),
    # rendered in the reader's language; ``body`` then holds only what a person typed as the reason.
    code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    params: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    # Set when what the note says was undone (a merge reversed): the note stays, marked as undone.
    voided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class CaseAccess(Base):
    """A time-limited grant to see a case's values: "work on this case" (every record, every field the role
    may see) or one field of one record (a quick reveal). Only which fields, never their values."""

    __tablename__ = "case_access"
    __table_args__ = (Index("ix_case_access_case_user", "case_id", "user_id", "expires_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # None: every record of the case; "m:<member id>": a family member listed in one of them.
    record_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    field: Mapped[str | None] = mapped_column(String(80), nullable=True)  # None: every field the role may see
    reason_code: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(EncryptedString("case_access.reason"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class CaseApproval(Base):
    """A request that needs a second person (closing a case): asked by one user, decided by another."""

    __tablename__ = "case_approvals"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="close")
    reason_code: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(EncryptedString("case_approvals.reason"), nullable=True)
    requested_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(12), nullable=True)  # approved | rejected | withdrawn


class CaseSearch(Base):
    """One search's answer, as case ids, so the results page is a plain GET (the term is never kept)."""

    __tablename__ = "case_searches"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    case_ids: Mapped[str] = mapped_column(Text, default="")  # comma-separated ids
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
