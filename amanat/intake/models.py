"""Sealed submissions: what intake stores. Everything a person wrote is inside ``sealed``, encrypted to
the organisation's public key; the columns beside it are routing metadata (no values)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from amanat.core.db import Base, new_id, utcnow


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_status_received", "status", "received_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    receipt: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    form_id: Mapped[str] = mapped_column(String(80))
    form_version: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(10), default="en")
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    submitted_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    instance_id: Mapped[str | None] = mapped_column(String(100), nullable=True, unique=True)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # emptied once opened and stored
    part_count: Mapped[int] = mapped_column(Integer, default=0)
    # receiving (OpenRosa parts still coming) | held (import awaiting confirmation) | sealed | stored | failed
    status: Mapped[str] = mapped_column(String(20), default="sealed")
    batch_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)  # one import, all-or-nothing
    content_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)  # OpenRosa: same XML or not
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    record_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)


class SubmissionPart(Base):
    """One sealed attachment. Sealed separately so a large photo never has to sit in one huge blob."""

    __tablename__ = "submission_parts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    size: Mapped[int] = mapped_column(Integer)  # sealed size; the plaintext size is inside the seal


class FormVersion(Base):
    """An uploaded XLSForm version (the shipped form is used until one is uploaded). Holds no personal data."""

    __tablename__ = "form_versions"
    __table_args__ = (Index("ix_form_versions_form_version", "form_id", "version", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    form_id: Mapped[str] = mapped_column(String(80))
    version: Mapped[str] = mapped_column(String(40))
    xlsx: Mapped[bytes] = mapped_column(LargeBinary)
    md5: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
