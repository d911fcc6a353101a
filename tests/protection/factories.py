"""Cases with records and documents made directly in the database, for protection, pathway and export tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from amanat.cases.models import Case
from amanat.cases.service import open_case
from amanat.core.audit import SYSTEM
from amanat.normalize.record import normalize_record
from amanat.records.models import Document, Person, Record

DARI_NAME = "محمد نبی احمدزی"


def make_case(db: Session, fields: dict[str, Any] | None = None, *, documents: tuple[str, ...] = (),
              channel: str = "web", province: str | None = "AF01") -> Case:
    person = Person()
    db.add(person)
    db.flush()
    data = fields if fields is not None else {"full_name": DARI_NAME, "full_name_latin": "Mohammad Nabi Ahmadzai",
                                              "phone": "+93 70 123 4567", "rank": "colonel", "unit": "215 corps"}
    rec = Record(person_id=person.id, channel=channel, form_version="1", data=dict(data), province_pcode=province,
                 normalized=normalize_record(data).to_dict(), provenance={})
    db.add(rec)
    db.flush()
    for name in documents:
        db.add(Document(record_id=rec.id, field=name, content_type="image/jpeg", size=3, filename=f"{name}.jpg",
                        content=b"\xff\xd8\xff"))
    db.flush()
    return open_case(db, SYSTEM, person.id)
