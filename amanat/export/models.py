"""Exports that hold more people than the requester's role may take alone wait here for a second person.

A request names cases and fields (ids and codes, never values); the file itself is built only when the
approved requester downloads it, encrypted to the recipient chosen then.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from amanat.core.db import Base, new_id, utcnow
from amanat.core.types import EncryptedJSON


class ExportRequest(Base):
    __tablename__ = "export_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    requested_by: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    format: Mapped[str] = mapped_column(String(10))  # csv | xlsx
    reveal: Mapped[bool] = mapped_column(Boolean, default=False)
    people: Mapped[int] = mapped_column(Integer)
    # {"case_ids": [...], "fields": [...]}: which cases is itself sensitive (who is being sent where).
    selection: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("export_requests.selection"))
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending|approved|refused|used
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
