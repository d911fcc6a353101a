"""Encrypted, verifiable backups of the organisation's database, and their restore.

A backup is a streamed envelope (core/crypto_stream.py) sealed to the office's backup key (an X25519 public
key whose private half is kept offline) or to a passphrase. Inside: the database's dump — SQLite's online
backup API (a consistent copy while the server writes), or PostgreSQL's ``pg_dump`` custom archive — and, as
the envelope's last chunk, a manifest: format version, kind of database, migration head, when, the audit
chain's head at that moment, and the SHA-256 and size of the dump. The dump is never written to disk in
clear: it goes from the database to the cipher in memory, a chunk at a time (SQLite's copy is built in
memory; PostgreSQL's comes through a pipe). The file is written under a temporary name, 0600, and renamed
only once whole.

``verify_backup`` decrypts to memory, checks every chunk, the hash and the size, and that the dump opens
(SQLite: ``PRAGMA integrity_check`` on a copy in a private 0700 folder, deleted after; PostgreSQL:
``pg_restore`` reads the whole archive). ``restore_backup`` loads into an empty database (or replaces one,
when asked), checking as it goes: nothing is changed unless the whole backup checks out.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from amanat.core import backup_pg
from amanat.core.audit import GENESIS
from amanat.core.crypto_stream import StreamOpener, StreamSealer
from amanat.core.db import utcnow
from amanat.errors import Conflict, CryptoError, InvalidInput

FORMAT = 1
CONTENT = "amanat-backup"
Progress = Callable[[int], None]  # bytes done since the last call


@dataclass(frozen=True)
class Manifest:
    format: int
    backup_id: str
    database: str  # sqlite | postgresql
    migration_head: str | None
    created_at: str  # UTC, ISO
    audit_seq: int  # the audit chain's newest event at the moment of the dump (0: none)
    audit_head: str
    sha256: str  # of the dump as it went into the envelope
    size: int

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            raw = json.loads(data)
            manifest = cls(**{name: raw[name] for name in cls.__dataclass_fields__})
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidInput("The backup's manifest cannot be read.", code="backup_manifest") from exc
        if manifest.format != FORMAT:
            raise InvalidInput(f"This backup is format {manifest.format}; this version of Amanat reads format "
                               f"{FORMAT}.", code="backup_format")
        return manifest


@dataclass(frozen=True)
class SealTo:
    """Whom a new backup is sealed to: the backup key's public half, or a passphrase."""

    public_key: bytes | None = None
    passphrase: str | None = None


@dataclass(frozen=True)
class OpenWith:
    """What opens a backup: the backup key's private half (its text), or the passphrase."""

    secret_key: str | None = None
    passphrase: str | None = None


def database_kind(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def sqlite_path(url: str) -> Path:
    path = make_url(url).database
    if not path or path == ":memory:":
        raise InvalidInput("Backups need a SQLite database in a file.", code="backup_unsupported")
    return Path(path)


def _private_file(path: Path, *, force: bool) -> int:
    """A new file, 0600 from its first byte; an existing one only with ``force``."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        return os.open(path, flags, 0o600)
    except FileExistsError:
        raise Conflict(f"{path.name} exists: refusing to overwrite it (use --force).", code="file_exists") from None
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}.", code="file_unwritable") from None


# --- making a backup ---------------------------------------------------------------------------------------

def available_memory() -> int | None:
    """Bytes of memory the system can give without swapping (Linux's MemAvailable); None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def _sqlite_image(url: str) -> tuple[bytes, dict[str, object]]:
    """The database as one consistent image, through SQLite's online backup API into memory (in one step:
    the copy holds a read snapshot, and the server's writers carry on beside it in WAL mode). Taking the
    image out of SQLite copies it twice more, so it needs about three times the database's size in memory:
    refused, clearly, where the machine has less."""
    path = sqlite_path(url)
    if not path.exists():
        raise InvalidInput(f"There is no database at {path}.", code="not_initialised")
    size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    free = available_memory()
    if free is not None and 3 * size > free:
        raise InvalidInput(f"The SQLite database is {size // 2**20:,} MiB and a backup holds it in memory (about "
                           f"{3 * size // 2**20:,} MiB); this machine has {free // 2**20:,} MiB free. Free memory, "
                           "or move the office to PostgreSQL, whose backups stream.", code="backup_memory")
    source = sqlite3.connect(str(path), timeout=30)
    copy = sqlite3.connect(":memory:")
    try:
        source.backup(copy)
        head = copy.execute("SELECT version_num FROM alembic_version").fetchone()
        last = copy.execute("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
        facts: dict[str, object] = {"migration_head": head[0] if head else None,
                                    "audit_seq": int(last[0]) if last else 0,
                                    "audit_head": str(last[1]) if last else GENESIS}
        return copy.serialize(), facts
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"The database cannot be copied: {exc}.", code="backup_failed") from None
    finally:
        source.close()
        copy.close()


def _image_blocks(image: bytes, block: int = 1024 * 1024) -> Iterator[memoryview]:
    view = memoryview(image)
    for start in range(0, len(view), block):
        yield view[start:start + block]


def make_backup(url: str, out: Path, seal_to: SealTo, *, force: bool = False,
                progress: Progress | None = None, kdf: tuple[int, int] = (3, 65536),
                size_known: Progress | None = None) -> Manifest:
    """Dump the database at ``url`` into an encrypted backup file ``out`` and return its manifest.
    ``size_known`` hears the dump's size once it is known (SQLite's; a pg_dump archive's only at its end)."""
    kind = database_kind(url)
    partial = out.with_name(out.name + ".partial")
    if out.exists() and not force:
        raise Conflict(f"{out.name} exists: refusing to overwrite it (use --force).", code="file_exists")
    fd = _private_file(partial, force=True)
    try:
        with os.fdopen(fd, "wb") as fh, contextlib.ExitStack() as stack:
            if kind == "sqlite":
                image, facts = _sqlite_image(url)
                blocks: Iterable[bytes | memoryview] = _image_blocks(image)
                if size_known:
                    size_known(len(image))
            else:
                blocks, facts = stack.enter_context(backup_pg.dump(url))
            sealer = StreamSealer(fh, content=CONTENT, public_key=seal_to.public_key, passphrase=seal_to.passphrase,
                                  time_cost=kdf[0], memory_kib=kdf[1])
            digest, size = hashlib.sha256(), 0
            for block in blocks:
                digest.update(block)
                sealer.write(block)
                size += len(block)
                if progress:
                    progress(len(block))
            manifest = Manifest(FORMAT, str(uuid.uuid4()), kind, facts["migration_head"],  # type: ignore[arg-type]
                                utcnow().isoformat(timespec="seconds"), int(facts["audit_seq"]),  # type: ignore[call-overload]
                                str(facts["audit_head"]), digest.hexdigest(), size)
            sealer.finish(manifest.to_bytes())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, out)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    return manifest


# --- reading one back --------------------------------------------------------------------------------------

class _Reader:
    """Decrypted chunks of a backup, hashed as they pass; ``check`` once they are all read."""

    def __init__(self, path: Path, key: OpenWith, progress: Progress | None) -> None:
        try:
            self._fh = path.open("rb")
        except OSError as exc:
            raise InvalidInput(f"cannot read {path.name}: {exc.strerror}.", code="file_unreadable") from None
        try:
            self._opener = StreamOpener(self._fh, secret_key=key.secret_key, passphrase=key.passphrase)
        except BaseException:
            self._fh.close()
            raise
        if self._opener.content != CONTENT:
            self._fh.close()
            raise InvalidInput(f"{path.name} is an Amanat file, but not a backup ({self._opener.content}).",
                               code="backup_format")
        self._progress = progress
        self._digest = hashlib.sha256()
        self.size = 0

    def chunks(self) -> Iterator[bytes]:
        last = 0
        for chunk in self._opener.chunks():
            self._digest.update(chunk)
            self.size += len(chunk)
            if self._progress:
                now = self._fh.tell()
                self._progress(now - last)
                last = now
            yield chunk
        if self._progress:
            self._progress(self._fh.tell() - last)  # the manifest, the last chunk

    def check(self) -> Manifest:
        """The manifest, once the hash and size of what was read match it."""
        if self._opener.trailer is None:
            raise CryptoError("The backup is cut off: its manifest is missing.", code="stream_truncated", status=422)
        manifest = Manifest.from_bytes(self._opener.trailer)
        if manifest.sha256 != self._digest.hexdigest() or manifest.size != self.size:
            raise CryptoError("The backup's dump does not match its manifest's hash.", code="backup_hash_mismatch",
                              status=422)
        return manifest

    def close(self) -> None:
        self._fh.close()


@contextlib.contextmanager
def _reading(path: Path, key: OpenWith, progress: Progress | None) -> Iterator[_Reader]:
    reader = _Reader(path, key, progress)
    try:
        yield reader
    finally:
        reader.close()


def _sqlite_problem(path: Path) -> str | None:
    """Why the SQLite file at ``path`` is not a sound database, or None."""
    try:
        # Read-write, so that closing it (the only connection) removes the -wal and -shm files it made.
        con = sqlite3.connect(str(path))
        try:
            rows = [r[0] for r in con.execute("PRAGMA integrity_check").fetchall()]
            con.execute("SELECT count(*) FROM alembic_version").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        for extra in (f"{path}-wal", f"{path}-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(extra)
    return None if rows == ["ok"] else "; ".join(str(r) for r in rows[:3])


def _write_chunks(target: Path, chunks: Iterable[bytes]) -> None:
    fd = _private_file(target, force=False)
    with os.fdopen(fd, "wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
        fh.flush()
        os.fsync(fh.fileno())


def _dump_kind(first: bytes) -> str:
    """Which kind of dump a backup holds, from its first bytes (SQLite's header string, pg_dump's magic)."""
    if first.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    if first.startswith(b"PGDMP"):
        return "postgresql"
    raise InvalidInput("The backup holds neither a SQLite database nor a PostgreSQL archive.", code="backup_format")


def _opened(reader: _Reader) -> tuple[str, Iterator[bytes]]:
    chunks = reader.chunks()
    first = next(chunks, b"")
    return _dump_kind(first), _chain([first], chunks)


def verify_backup(path: Path, key: OpenWith, *, progress: Progress | None = None,
                  workdir: Path | None = None) -> Manifest:
    """Decrypt, check every chunk and the manifest's hash, and that the dump opens; return the manifest."""
    with _reading(path, key, progress) as reader:
        kind, chunks = _opened(reader)
        problem = None
        if kind == "sqlite":
            with tempfile.TemporaryDirectory(prefix="amanat-verify-", dir=workdir) as tmp:  # made 0700
                copy = Path(tmp) / "check.db"
                _write_chunks(copy, chunks)
                manifest = reader.check()
                problem = _sqlite_problem(copy)
        else:
            backup_pg.check_archive(chunks)
            manifest = reader.check()
        if manifest.database != kind:
            raise InvalidInput("The backup's manifest names another kind of database than its dump.",
                               code="backup_manifest")
        if problem:
            raise InvalidInput(f"The backup's database does not open cleanly: {problem}.", code="backup_unreadable")
    return manifest


def _chain(*parts: Iterable[bytes]) -> Iterator[bytes]:
    for part in parts:
        yield from part


# --- restoring ---------------------------------------------------------------------------------------------

def target_is_empty(url: str) -> bool:
    """Whether the database at ``url`` holds nothing (a missing or zero-length SQLite file, no tables)."""
    if database_kind(url) == "postgresql":
        return backup_pg.is_empty(url)
    path = sqlite_path(url)
    if not path.exists() or path.stat().st_size == 0:
        return True
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    except sqlite3.DatabaseError:
        return False  # something that is not an empty database: never overwritten without --force
    finally:
        con.close()


def restore_backup(path: Path, key: OpenWith, url: str, *, force: bool = False,
                   progress: Progress | None = None) -> Manifest:
    """Load the backup into the database at ``url``: an empty one, or with ``force`` in place of what is there.
    Every chunk is authenticated before it is used and nothing is kept unless the manifest's hash matches at the
    end (SQLite: a new file renamed into place; PostgreSQL: one transaction, committed last). Migrations and the
    audit check are the caller's next steps (see cli/backup.py)."""
    kind = database_kind(url)
    if not force and not target_is_empty(url):
        where = sqlite_path(url) if kind == "sqlite" else make_url(url).render_as_string(hide_password=True)
        raise Conflict(f"The database at {where} is not empty: refusing to overwrite it. Restore into a new data "
                       "dir or an empty database, or pass --force to replace what is there.", code="target_not_empty")
    with _reading(path, key, progress) as reader:
        found, chunks = _opened(reader)
        if found != kind:
            raise InvalidInput(f"This is a {found} backup; the database to restore into is {kind}.",
                               code="backup_kind_mismatch")
        if kind == "postgresql":
            backup_pg.restore(url, chunks, replace=force, ready=reader.check)
        else:
            _restore_sqlite(sqlite_path(url), chunks, reader)
        manifest = reader.check()
    if manifest.database != kind:
        raise InvalidInput("The backup's manifest names another kind of database than its dump.",
                           code="backup_manifest")
    return manifest


def _restore_sqlite(target: Path, chunks: Iterable[bytes], reader: _Reader) -> None:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    incoming = target.with_name(target.name + ".restoring")
    with contextlib.suppress(FileNotFoundError):
        incoming.unlink()  # left by a restore that was killed: never a database anyone uses
    try:
        _write_chunks(incoming, chunks)
        reader.check()
        problem = _sqlite_problem(incoming)
        if problem:
            raise InvalidInput(f"The restored database does not open cleanly: {problem}.", code="backup_unreadable")
        # The old database's WAL and shared-memory files must go with it: SQLite would replay them onto the new one.
        for stale in (f"{target}-wal", f"{target}-shm", f"{target}-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(stale)
        os.replace(incoming, target)
    except BaseException:
        with contextlib.suppress(OSError):
            incoming.unlink()
        raise


__all__ = ["Manifest", "OpenWith", "SealTo", "database_kind", "make_backup", "restore_backup", "target_is_empty",
           "verify_backup"]
