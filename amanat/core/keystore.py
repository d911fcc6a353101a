"""Storage of the organisation's keystore: public halves in clear, private halves wrapped (see crypto.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, LargeBinary, String, Text, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from amanat.core.crypto import KdfParams, Keystore, StoredKey
from amanat.core.db import Base, utcnow


class KeystoreMeta(Base):
    __tablename__ = "keystore_meta"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation: Mapped[str] = mapped_column(String(200))
    kdf: Mapped[str] = mapped_column(Text)
    check: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class OrgKey(Base):
    __tablename__ = "org_keys"

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    wrapped_private: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DataKey(Base):
    """A record's data key, wrapped by a field key (whose id the wrapped blob names). Erasure deletes the row."""

    __tablename__ = "data_keys"

    # BigInteger on PostgreSQL, INTEGER on SQLite (only an INTEGER PRIMARY KEY autoincrements there)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                     autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(40), unique=True)
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


def fetch_data_keys(engine: Engine, after: int, wanted: Sequence[str]) -> list[tuple[int, str, bytes]]:
    """Wrapped data keys stored after sequence ``after`` and those named in ``wanted`` (crypto.DataKeySource),
    read on a connection of their own: a value is decrypted while its own query's rows are being read."""
    ids = list(wanted)
    q = select(DataKey.seq, DataKey.key_id, DataKey.wrapped)
    rows = []
    with engine.connect() as conn:
        rows.extend(conn.execute(q.where(or_(DataKey.seq > after, DataKey.key_id.in_(ids[:5000])))))
        for at in range(5000, len(ids), 5000):  # bound parameters per IN list
            rows.extend(conn.execute(q.where(DataKey.key_id.in_(ids[at:at + 5000]))))
    return [(int(seq), str(key_id), bytes(wrapped)) for seq, key_id, wrapped in rows]


def save_keystore(db: Session, keystore: Keystore, organisation: str) -> None:
    db.add(KeystoreMeta(id=1, organisation=organisation, kdf=json.dumps(keystore.kdf.to_dict()),
                        check=keystore.check))
    for k in keystore.keys:
        db.add(OrgKey(key_id=k.key_id, purpose=k.purpose, public_key=k.public, wrapped_private=k.wrapped,
                      active=k.active))
    db.flush()


def load_keystore(db: Session) -> Keystore | None:
    meta = db.get(KeystoreMeta, 1)
    if meta is None:
        return None
    rows = db.scalars(select(OrgKey).order_by(OrgKey.created_at, OrgKey.key_id)).all()
    keys = tuple(StoredKey(r.key_id, r.purpose, r.public_key, r.wrapped_private, r.active) for r in rows)
    return Keystore(KdfParams.from_dict(json.loads(meta.kdf)), meta.check, keys)


def load_public_keys(db: Session) -> tuple[StoredKey, ...]:
    """The public halves only: never the wrapped private halves nor the KDF parameters, so a sealed-only
    node (and its database role, see core/sealed_role.py) never holds what an offline guess would need."""
    rows = db.execute(select(OrgKey.key_id, OrgKey.purpose, OrgKey.public_key, OrgKey.active)
                      .order_by(OrgKey.created_at, OrgKey.key_id)).all()
    return tuple(StoredKey(key_id, purpose, public, None, active) for key_id, purpose, public, active in rows)


def organisation_name(db: Session) -> str | None:
    return db.scalar(select(KeystoreMeta.organisation).where(KeystoreMeta.id == 1))  # that column only


def store_rotated_key(db: Session, new: StoredKey, retired: tuple[StoredKey, ...]) -> None:
    for k in retired:
        row = db.get(OrgKey, k.key_id)
        if row is not None:
            row.active = False
    db.add(OrgKey(key_id=new.key_id, purpose=new.purpose, public_key=new.public, wrapped_private=new.wrapped,
                  active=True))
    db.flush()
