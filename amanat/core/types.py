"""Encrypted column types. Values are encrypted on the way in and decrypted on the way out with the
organisation's field keys (authenticated encryption, key id stored with the ciphertext). The column's
context (``table.column``) is bound into the ciphertext, so a value copied into another column fails to
decrypt instead of showing up in the wrong place.

A value may name the data key it is to be encrypted under (``keyed``: a dict, str or bytes that behaves
exactly as the plain value and carries the key id); records/data_keys.py tags a record's values so at flush.
Untagged values go under the organisation's active field key, as before.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from amanat.core.crypto import KeyHolder
from amanat.errors import CryptoError


def _keys(dialect: Dialect) -> KeyHolder:
    keys = getattr(dialect, "amanat_keys", None)
    if keys is None:
        raise CryptoError("No key holder is bound to this database.", code="keys_missing")
    return keys


class KeyedDict(dict[str, Any]):
    amanat_key: str = ""


class KeyedList(list[Any]):
    amanat_key: str = ""


class KeyedStr(str):
    amanat_key: str = ""


class KeyedBytes(bytes):
    amanat_key: str = ""


_KEYED: dict[type, type] = {dict: KeyedDict, list: KeyedList, str: KeyedStr, bytes: KeyedBytes}


def keyed(value: Any, key_id: str) -> Any:
    """``value`` tagged with the data key to encrypt it under (a value of another type is left as it is)."""
    for plain, tagged in _KEYED.items():
        if isinstance(value, plain):
            out = tagged(value)
            out.amanat_key = key_id
            return out
    return value


def key_of(value: Any) -> str | None:
    return getattr(value, "amanat_key", None) or None


class _Encrypted(TypeDecorator[Any]):
    impl = LargeBinary
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def _encode(self, value: Any) -> bytes:
        raise NotImplementedError

    def _decode(self, raw: bytes) -> Any:
        raise NotImplementedError

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return _keys(dialect).encrypt_field(self.context, self._encode(value), data_key=key_of(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return self._decode(_keys(dialect).decrypt_field(self.context, bytes(value)))


class EncryptedString(_Encrypted):
    cache_ok = True  # the statement cache keys on the column context; SQLAlchemy asks each subclass

    def _encode(self, value: Any) -> bytes:
        return str(value).encode("utf-8")

    def _decode(self, raw: bytes) -> str:
        return raw.decode("utf-8")


class EncryptedBytes(_Encrypted):
    cache_ok = True  # the statement cache keys on the column context; SQLAlchemy asks each subclass

    def _encode(self, value: Any) -> bytes:
        return bytes(value)

    def _decode(self, raw: bytes) -> bytes:
        return raw


class EncryptedJSON(_Encrypted):
    cache_ok = True  # the statement cache keys on the column context; SQLAlchemy asks each subclass

    def _encode(self, value: Any) -> bytes:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")

    def _decode(self, raw: bytes) -> Any:
        return json.loads(raw)
