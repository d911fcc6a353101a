"""People and their records. A Person is who we believe someone is; each Record is one submission's
account of them. Every value a person gave is encrypted; lookups go through blind indexes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from amanat.core.db import Base, new_id, utcnow
from amanat.core.types import EncryptedBytes, EncryptedJSON, EncryptedString


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    merged_into: Mapped[str | None] = mapped_column(ForeignKey("persons.id"), nullable=True, index=True)


class Record(Base):
    __tablename__ = "records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    channel: Mapped[str] = mapped_column(String(20))
    form_version: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(10), default="en")
    # Non-identifying facts kept in clear for queues and the dashboard.
    province_pcode: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    country_iso2: Mapped[str | None] = mapped_column(String(2), nullable=True)
    link_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)  # why it joined its person
    display_name: Mapped[str | None] = mapped_column(EncryptedString("records.display_name"), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("records.data"))  # fields as submitted
    normalized: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("records.normalized"))
    provenance: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("records.provenance"))
    issue_count: Mapped[int] = mapped_column(Integer, default=0)  # fields that did not normalise


class RecordLookup(Base):
    """Blind indexes: HMAC digests of normalised values (tazkira, passport, phone, linkage keys)."""

    __tablename__ = "record_lookups"
    __table_args__ = (Index("ix_record_lookups_kind_digest", "kind", "digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    digest: Mapped[bytes] = mapped_column(LargeBinary(16))


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(60))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(EncryptedString("documents.filename"))
    content: Mapped[bytes] = mapped_column(EncryptedBytes("documents.content"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PersonMerge(Base):
    """One accepted merge: every record of ``from_person`` moved to ``into_person``. Undoing it moves exactly
    those records back (``record_ids``), so unmerge restores what was there."""

    __tablename__ = "person_merges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    from_person: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    into_person: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    record_ids: Mapped[str] = mapped_column(String(4000))  # comma-separated ids: no values
    pair_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    undone_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class RecordCorrection(Base):
    """A value corrected by staff: the record shows the new value; the original is kept here, with why."""

    __tablename__ = "record_corrections"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(60))
    original: Mapped[str | None] = mapped_column(EncryptedString("record_corrections.original"), nullable=True)
    corrected: Mapped[str] = mapped_column(EncryptedString("record_corrections.corrected"))
    reason_code: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(EncryptedString("record_corrections.reason"), nullable=True)
    corrected_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class HouseholdMember(Base):
    """One family member an applicant listed: a person of the household with a record of their own
    (encrypted, revealable field by field), linkable to the person and case of their own, if they have one."""

    __tablename__ = "household_members"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    record_id: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    relationship: Mapped[str | None] = mapped_column(String(30), nullable=True)  # a form choice code
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("household_members.data"))
    person_id: Mapped[str | None] = mapped_column(ForeignKey("persons.id"), nullable=True, index=True)
    linked_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    linked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
