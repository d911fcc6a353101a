"""Stored linkage models and the candidate pairs they score. Only ids, numbers and comparison names here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from amanat.core.db import Base, new_id, utcnow


class LinkageModel(Base):
    __tablename__ = "linkage_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    model_json: Mapped[str] = mapped_column(Text)  # Splink settings with trained m/u: parameters, not data
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    metrics: Mapped[str] = mapped_column(Text, default="{}")
    active: Mapped[bool] = mapped_column(Boolean, default=False)


class MatchPair(Base):
    """A scored candidate pair of records: auto-linked above the upper threshold, queued for review between."""

    __tablename__ = "match_pairs"
    __table_args__ = (Index("ix_match_pairs_records", "record_l", "record_r", unique=True),
                      Index("ix_match_pairs_status_weight", "status", "match_weight"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    record_l: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"))
    record_r: Mapped[str] = mapped_column(ForeignKey("records.id", ondelete="CASCADE"), index=True)
    match_weight: Mapped[float] = mapped_column(Float)
    match_probability: Mapped[float] = mapped_column(Float)
    contributions: Mapped[str] = mapped_column(Text, default="{}")  # comparison name → log2 Bayes factor
    reasons: Mapped[str] = mapped_column(Text, default="[]")  # short phrases ("same tazkira"), no values
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | accepted | rejected | auto
    model_version: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
