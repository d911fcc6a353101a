"""Opening the organisation: its database and its keys, the one way every command does it.

``open_organisation(settings, keys=…)`` opens the database and refuses, in one line, a database that was never
initialised (no file, no schema or no keys: "run `amanat init` first") instead of failing on a missing table.
``keys="private"`` unlocks the private keys with the passphrase (to open, normalise and store); ``"public"``
holds the public keys only (enough to seal intake, as `serve --sealed-only` does); ``"none"`` only checks that
the organisation exists (the audit log needs no key).
"""

from __future__ import annotations

import os
import sys
from typing import Literal

import typer
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from amanat.config import Settings
from amanat.core import crypto
from amanat.core.db import Database, open_database
from amanat.core.keystore import KeystoreMeta, load_keystore, load_public_keys
from amanat.errors import AmanatError

KeyUse = Literal["private", "public", "none"]


def not_initialised() -> AmanatError:
    return AmanatError("This database has no keys yet: run `amanat init` first.", code="not_initialised")


def read_passphrase(settings: Settings, *, confirm: bool = False) -> str:
    """The organisation's passphrase: from the settings (AMANAT_PASSPHRASE), else asked on a terminal."""
    if settings.passphrase is not None:
        return settings.passphrase.get_secret_value()
    env = os.environ.get("AMANAT_PASSPHRASE")
    if env:
        return env
    if not sys.stdin.isatty():
        raise AmanatError("No passphrase: set AMANAT_PASSPHRASE for unattended use.", code="passphrase_missing")
    return str(typer.prompt("Organisation passphrase", hide_input=True, confirmation_prompt=confirm))


def sqlite_file_missing(settings: Settings) -> bool:
    """A SQLite database whose file does not exist yet (opening it would create an empty one)."""
    if not settings.is_sqlite:
        return False
    path = make_url(settings.effective_database_url).database
    return bool(path) and path != ":memory:" and not os.path.exists(path)


def has_schema(db: Session) -> bool:
    return inspect(db.get_bind()).has_table(KeystoreMeta.__tablename__)


def keystore_of(db: Session) -> crypto.Keystore:
    """The organisation's keystore, or the one-line "run `amanat init` first"."""
    keystore = load_keystore(db) if has_schema(db) else None
    if keystore is None:
        raise not_initialised()
    return keystore


def is_initialised(database: Database) -> bool:
    with database.reading() as db:
        return has_schema(db) and load_keystore(db) is not None


def open_organisation(settings: Settings, *, keys: KeyUse = "private", passphrase: str | None = None) -> Database:
    """The organisation's database holding the keys asked for (see the module docstring)."""
    if sqlite_file_missing(settings):
        raise not_initialised()
    database = open_database(settings)
    if keys == "public":  # the public halves alone: no wrapped private key, no KDF salt is read
        with database.reading() as db:
            public = load_public_keys(db) if has_schema(db) else ()
        if not public:
            raise not_initialised()
        database.keys.set(crypto.public_ring(public))
        return database
    with database.reading() as db:
        keystore = keystore_of(db)
    if keys == "private":
        database.keys.set(crypto.unlock(keystore, passphrase or read_passphrase(settings)))
    return database


__all__ = ["is_initialised", "keystore_of", "not_initialised", "open_organisation", "read_passphrase"]
