"""Keys rotated by another process reach a running server: `amanat keys rotate` writes a new field key to the
database; every few seconds the server compares the stored keys with the ones its ring was built from and,
when they differ, rebuilds the ring with the key-encryption key it kept in memory (core/crypto.py)."""

from __future__ import annotations

import asyncio
import logging

from starlette.concurrency import run_in_threadpool

from amanat.core.db import Database
from amanat.core.keystore import load_keystore

log = logging.getLogger("amanat.web.keys")


def refresh_keys(database: Database) -> bool:
    with database.reading() as db:
        keystore = load_keystore(db)
    if keystore is None or not database.keys.refresh(keystore):
        return False
    log.info("keys: took in the stored keys (active field key %s)", database.keys.active_field_key_id)
    return True


async def watch_keys(database: Database, every_seconds: float) -> None:
    while True:
        await asyncio.sleep(every_seconds)
        try:
            await run_in_threadpool(refresh_keys, database)
        except Exception as exc:  # a busy or briefly unreachable database: try again at the next tick
            log.warning("keys: could not check the stored keys (%s)", type(exc).__name__)
