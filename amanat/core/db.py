"""Engine and sessions. SQLite (WAL) by default, PostgreSQL in production.

SQLite gets two kinds of transaction: reads begin DEFERRED so they run beside writers, and writes begin
IMMEDIATE so a read-then-write transaction can never deadlock on upgrading its lock.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from amanat.config import Settings
from amanat.core.crypto import KeyHolder

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_id() -> str:
    return str(uuid.uuid4())


def _sqlite_pragmas(dbapi_conn: Any, synchronous: str) -> None:
    dbapi_conn.isolation_level = None  # SQLAlchemy's begin event below issues BEGIN itself
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA synchronous={synchronous}")  # value comes from a Literal setting, not input
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA temp_store=MEMORY")  # sorts and temp tables never spill to a file
    # A deleted row's bytes are zeroed in its page (an erased record's wrapped data key must not linger in
    # the file's free space); FAST: only where it costs no extra I/O.
    cur.execute("PRAGMA secure_delete=FAST")
    cur.close()


class Database:
    """Holds the engine, the key holder bound to it, and the two session factories."""

    def __init__(self, url: str, keys: KeyHolder, *, synchronous: str = "FULL", echo: bool = False) -> None:
        self.url = url
        self.keys = keys
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo, "future": True, "hide_parameters": True}  # no values in errors
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
            kwargs["pool_size"] = 20
            kwargs["max_overflow"] = 40
        else:
            kwargs["pool_size"] = 10
            kwargs["max_overflow"] = 20
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(url, **kwargs)
        # The encrypted column types find the keys through the dialect (see core/types.py).
        self.engine.dialect.amanat_keys = keys  # type: ignore[attr-defined]
        keys.set_data_key_source(self._fetch_data_keys)
        if self.is_sqlite:
            sync = synchronous

            @event.listens_for(self.engine, "connect")
            def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
                _sqlite_pragmas(dbapi_conn, sync)

            @event.listens_for(self.engine, "begin")
            def _on_begin(conn: Any) -> None:
                if conn.get_execution_options().get("amanat_write"):
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                else:
                    conn.exec_driver_sql("BEGIN")

        # SQLite admits one writer at a time. Threads of this process queue for their turn here, where waiting
        # is a blocking wait, rather than in SQLite's busy handler, which polls with back-off sleeps of up to
        # 100 ms and lets a thread lose the race again and again under load. Re-entrant, so a thread that
        # nests transactions behaves as before; other processes are still held off by SQLite's own lock.
        self._writer: threading.RLock | None = threading.RLock() if self.is_sqlite else None
        self._turn_fd: int | None = None  # see share_write_turn
        self._turn_depth = 0  # nesting of _write_turn; only the thread holding _writer touches it
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False, autoflush=True)
        self._write = sessionmaker(bind=self.engine.execution_options(amanat_write=True),
                                   expire_on_commit=False, autoflush=True)

    def _fetch_data_keys(self, after: int, wanted: Sequence[str]) -> Sequence[tuple[int, str, bytes]]:
        from amanat.core.keystore import fetch_data_keys  # keystore's tables build on this module's Base

        return fetch_data_keys(self.engine, after, wanted)

    def truncate_wal(self) -> None:
        """SQLite: copy the WAL into the database and truncate it to nothing, so the pages an erasure changed
        keep no older image there. Nothing to do on PostgreSQL (see docs/protection.md)."""
        if not self.is_sqlite:
            return
        with self._write_turn():
            raw = self.engine.raw_connection()  # outside any transaction: a checkpoint cannot run in one
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()

    def read_session(self) -> Session:
        return self._read()

    def write_session(self) -> Session:
        return self._write()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One write transaction for a command or job: commits on success, rolls back on error."""
        with self._write_turn():
            session = self._write()
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    def share_write_turn(self, lock_file: Path) -> None:
        """Several processes on this SQLite file (``serve --workers``): their write transactions also take turns
        on an exclusive lock of ``lock_file``, so a waiting process is woken the moment another commits, rather
        than polling in SQLite's busy handler (sleeps of up to 100 ms, while one process wins again and again).
        Call it in each process after the fork: a lock belongs to its open file."""
        if self._writer is not None:
            self._turn_fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o600)

    @contextmanager
    def _write_turn(self) -> Iterator[None]:
        if self._writer is None:
            yield
            return
        # After the busy timeout, go ahead anyway: SQLite's own lock then decides, exactly as without this.
        acquired = self._writer.acquire(timeout=30)
        outermost = acquired and self._turn_fd is not None and self._turn_depth == 0
        if acquired:
            self._turn_depth += 1
        try:
            if outermost:
                import fcntl  # POSIX only, like serve --workers

                fcntl.flock(self._turn_fd, fcntl.LOCK_EX)  # the kernel drops it if the holder dies
            try:
                yield
            finally:
                if outermost:
                    fcntl.flock(self._turn_fd, fcntl.LOCK_UN)
        finally:
            if acquired:
                self._turn_depth -= 1
                self._writer.release()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        session = self._read()
        try:
            yield session
        finally:
            session.close()  # ends the read transaction; loaded objects stay readable (detached, not expired)

    def dispose(self) -> None:
        self.engine.dispose()


def private_sqlite_files(url: str, data_dir: Path) -> None:
    """The data dir 0700 and the database file 0600, created so before SQLite first opens it (its -wal and
    -shm files copy the database file's mode). Someone else's account on the machine reads nothing."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):  # a mount we do not own keeps its mode
        os.chmod(data_dir, 0o700)
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    if not path or path == ":memory:" or url.startswith("sqlite:///:memory:"):
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not os.path.exists(path):
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for name in (path, f"{path}-wal", f"{path}-shm", f"{path}-journal"):
        with contextlib.suppress(OSError):
            os.chmod(name, 0o600)


def open_database(settings: Settings, keys: KeyHolder | None = None) -> Database:
    if settings.is_sqlite:
        private_sqlite_files(settings.effective_database_url, settings.data_dir)
    return Database(settings.effective_database_url, keys or KeyHolder(), synchronous=settings.sqlite_synchronous)
