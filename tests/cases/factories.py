"""Cases with records made directly in the database (no web, no worker): factories, not mocks."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from amanat.cases.models import Case
from amanat.cases.service import open_case
from amanat.core.audit import SYSTEM
from amanat.core.db import new_id
from amanat.intake.models import Submission
from amanat.normalize.record import normalize_record
from amanat.records.models import Document, Person, Record

VALID_MRZ = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
BAD_MRZ = VALID_MRZ[:-1] + "9"  # the final (composite) check digit is wrong


def add_record(db: Session, person_id: str, fields: dict[str, Any], *, submitted_by: str | None = None,
               documents: int = 0) -> Record:
    sub_id = None
    if submitted_by:
        sub = Submission(receipt=f"AM-{new_id()[:8].upper()}", channel="web", form_id="service_record",
                         form_version="1", submitted_by=submitted_by, status="stored")
        db.add(sub)
        db.flush()
        sub_id = sub.id
    rec = Record(person_id=person_id, submission_id=sub_id, channel="web", form_version="1", data=dict(fields),
                 normalized=normalize_record(fields).to_dict(), provenance={})
    db.add(rec)
    db.flush()
    if sub_id:
        sub.record_id = rec.id
    for i in range(documents):
        db.add(Document(record_id=rec.id, field="doc_tazkira", content_type="image/jpeg", size=3,
                        filename=f"scan{i}.jpg", content=b"\xff\xd8\xff"))
    db.flush()
    return rec


def make_case(db: Session, fields: dict[str, Any] | None = None, *, submitted_by: str | None = None,
              documents: int = 0) -> Case:
    person = Person()
    db.add(person)
    db.flush()
    add_record(db, person.id, fields if fields is not None else {"full_name": "Mohammad Nabi"},
               submitted_by=submitted_by, documents=documents)
    return open_case(db, SYSTEM, person.id)
