"""serve --workers: write transactions of processes sharing one SQLite file take turns on a lock file."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from amanat.core.crypto import KeyHolder
from amanat.core.db import Database


def _two_processes(tmp_path: Path) -> tuple[Database, Database]:
    # Two Database objects each with its own open lock file behave as two processes do: flock locks belong
    # to an open file, not to a process.
    url = f"sqlite:///{tmp_path / 'turn.db'}"
    first, second = Database(url, KeyHolder()), Database(url, KeyHolder())
    for database in (first, second):
        database.share_write_turn(tmp_path / "write-turn.lock")
    with first.transaction() as db:
        db.execute(text("CREATE TABLE t (n INTEGER)"))
    return first, second


def test_a_second_process_waits_for_the_first_to_commit(tmp_path: Path) -> None:
    first, second = _two_processes(tmp_path)
    inside, release = threading.Event(), threading.Event()
    order: list[str] = []

    def hold() -> None:
        with first.transaction() as db:
            db.execute(text("INSERT INTO t VALUES (1)"))
            inside.set()
            release.wait(10)
            order.append("first commits")

    holder = threading.Thread(target=hold)
    holder.start()
    assert inside.wait(10)

    def write() -> None:
        with second.transaction() as db:
            order.append("second begins")
            db.execute(text("INSERT INTO t VALUES (2)"))

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.3)
    assert order == []  # waiting on the lock file, not inside SQLite
    release.set()
    holder.join(10)
    writer.join(10)
    assert order == ["first commits", "second begins"]
    with second.reading() as db:
        assert db.scalar(text("SELECT count(*) FROM t")) == 2


def test_nested_transactions_in_one_process_take_the_lock_once(tmp_path: Path) -> None:
    first, _ = _two_processes(tmp_path)
    with first.transaction() as outer:
        outer.execute(text("INSERT INTO t VALUES (1)"))
        with first._write_turn():  # re-entrant, as the in-process lock is: no deadlock on itself
            pass
    with first.reading() as db:
        assert db.scalar(text("SELECT count(*) FROM t")) == 1
