"""PostgreSQL's side of backups: `pg_dump` out, `pg_restore` + `psql` in, each through pipes.

The dump runs on a snapshot exported from our own repeatable-read transaction, so the manifest's migration
head and audit chain head are read from exactly the state pg_dump writes. A restore feeds the archive to
``pg_restore`` (archive → SQL) and its SQL to ``psql`` inside one transaction that we open and only commit
once every chunk was authenticated and the dump's hash matched: a restore that fails at any point leaves
the database as it was. The connection's password goes to the tools in PGPASSWORD, never on a command line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess  # the PostgreSQL client tools, run with argument lists and no shell  # nosec B404
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from amanat.errors import AmanatError

_VERSION = re.compile(r"\b(\d+)(?:\.(\d+))?")


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The libpq connection URI (no password) for the tools, and the environment carrying the password."""
    parsed = make_url(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    conninfo = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return conninfo, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise AmanatError(f"{name} is not installed: PostgreSQL backups need the PostgreSQL client tools of the "
                          "server's major version (Debian: apt-get install postgresql-client).",
                          code="pg_tools_missing")
    return found


def tool_major(name: str) -> int:
    """The major version of a PostgreSQL client tool (``pg_dump (PostgreSQL) 15.20`` → 15)."""
    done = subprocess.run([_tool(name), "--version"], capture_output=True, text=True, check=False, timeout=30)  # noqa: S603 - a tool found on PATH, fixed arguments  # nosec B603
    found = _VERSION.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise AmanatError(f"{name} --version did not answer with a version.", code="pg_tools_missing")
    return int(found.group(1))


def version_problem(tool: str, tool_version: int, server_version: int) -> str | None:
    """Why ``tool`` cannot work with the server, or None. pg_dump refuses a server newer than itself."""
    if tool_version < server_version:
        return (f"{tool} is version {tool_version} but the PostgreSQL server is version {server_version}: "
                f"{tool} must be the server's major version or newer (install postgresql-client-{server_version}).")
    return None


def _stderr_line(stream: IO[bytes]) -> str:
    stream.seek(0)
    lines = [ln.strip() for ln in stream.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower() or "fatal" in ln.lower()]
    return ((errors or lines or ["no message"])[0])[:300]


def is_empty(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return not inspect(conn).get_table_names()
    finally:
        engine.dispose()


@contextmanager
def dump(url: str) -> Iterator[tuple[Iterable[bytes], dict[str, object]]]:
    """pg_dump's custom-format archive as a stream of blocks, and what the manifest needs from the same
    snapshot (``migration_head``, ``audit_seq``, ``audit_head``)."""
    engine = create_engine(url, isolation_level="REPEATABLE READ")
    conninfo, env = _libpq(url)
    try:
        with engine.connect() as conn:
            server = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
            problem = version_problem("pg_dump", tool_major("pg_dump"), server)
            if problem:
                raise AmanatError(problem, code="pg_version_mismatch")
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            facts = _facts(conn)
            with tempfile.TemporaryFile() as err:
                proc = subprocess.Popen(  # noqa: S603 - pg_dump from PATH, arguments are ours  # nosec B603
                    [_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", f"--dbname={conninfo}"],
                    stdout=subprocess.PIPE, stderr=err, env=env)
                assert proc.stdout is not None

                def blocks() -> Iterator[bytes]:
                    yield from iter(lambda: proc.stdout.read(1024 * 1024), b"")  # type: ignore[union-attr]
                    if proc.wait() != 0:
                        raise AmanatError(f"pg_dump failed: {_stderr_line(err)}", code="pg_dump_failed")

                try:
                    yield blocks(), facts
                finally:
                    if proc.poll() is None:
                        proc.kill()
                    proc.wait()
    finally:
        engine.dispose()


def _facts(conn: object) -> dict[str, object]:
    head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()  # type: ignore[attr-defined]
    last = conn.execute(text(  # type: ignore[attr-defined]
        "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")).first()
    return {"migration_head": head, "audit_seq": int(last[0]) if last else 0,
            "audit_head": str(last[1]) if last else "0" * 64}


def check_archive(chunks: Iterable[bytes]) -> None:
    """Read the whole archive with pg_restore (to no database): every data block must decompress."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([_tool("pg_restore"), "--file=/dev/null"],  # noqa: S603 - fixed arguments  # nosec B603
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        assert proc.stdin is not None
        try:
            for block in chunks:
                try:
                    proc.stdin.write(block)
                except BrokenPipeError:
                    break  # pg_restore stopped reading: its exit status says why
            proc.stdin.close()
        except BaseException:
            proc.kill()
            raise
        finally:
            rc = proc.wait()
        if rc != 0:
            raise AmanatError(f"The backup's PostgreSQL archive does not open: {_stderr_line(err)}",
                              code="backup_unreadable")


def restore(url: str, chunks: Iterable[bytes], *, replace: bool, ready: Callable[[], None]) -> None:
    """Load the archive into the database at ``url`` in one transaction. ``ready`` runs after the last chunk
    and before the commit; it raises when the backup must not be committed (its hash did not match).
    ``replace``: drop the public schema first, in the same transaction."""
    server = _server_major(url)
    for tool in ("pg_restore", "psql"):
        problem = version_problem(tool, tool_major(tool), server)
        if problem:
            raise AmanatError(problem, code="pg_version_mismatch")
    conninfo, env = _libpq(url)
    with tempfile.TemporaryFile() as restore_err, tempfile.TemporaryFile() as psql_err:
        loader = subprocess.Popen(  # noqa: S603 - pg_restore from PATH, fixed arguments  # nosec B603
            [_tool("pg_restore"), "--no-owner", "--no-privileges", "--file=-"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=restore_err)
        psql = subprocess.Popen(  # noqa: S603 - psql from PATH, fixed arguments  # nosec B603
            [_tool("psql"), "--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", f"--dbname={conninfo}"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_err, env=env)
        assert loader.stdin is not None and loader.stdout is not None and psql.stdin is not None
        relay_failed: list[BaseException] = []

        def relay() -> None:
            try:
                for block in iter(lambda: loader.stdout.read(1024 * 1024), b""):  # type: ignore[union-attr]
                    psql.stdin.write(block)  # type: ignore[union-attr]
            except BaseException as exc:  # psql stopped on an error: its status names it
                relay_failed.append(exc)

        committed = False
        try:
            # Our transaction: psql ends it with COMMIT only when we write it; at EOF without one the server
            # rolls everything back.
            psql.stdin.write(b"BEGIN;\n")
            if replace:
                psql.stdin.write(b"DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n")
            thread = threading.Thread(target=relay, daemon=True)
            thread.start()
            for block in chunks:
                loader.stdin.write(block)
            loader.stdin.close()
            rc = loader.wait()
            thread.join()
            if rc != 0:
                raise AmanatError(f"pg_restore failed: {_stderr_line(restore_err)}", code="pg_restore_failed")
            if relay_failed or psql.poll() is not None:
                raise AmanatError(f"psql refused the restore: {_stderr_line(psql_err)}", code="pg_restore_failed")
            ready()
            psql.stdin.write(b"COMMIT;\n")
            psql.stdin.close()
            committed = psql.wait() == 0
            if not committed:
                raise AmanatError(f"psql refused the restore: {_stderr_line(psql_err)}", code="pg_restore_failed")
        except BrokenPipeError:
            raise AmanatError(f"The restore stopped: {_stderr_line(psql_err)} / {_stderr_line(restore_err)}",
                              code="pg_restore_failed") from None
        finally:
            if not committed:
                psql.kill()  # first psql, so that no end of input can ever be taken for the end of the script
                loader.kill()
            psql.wait()
            loader.wait()


def _server_major(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    finally:
        engine.dispose()


__all__ = ["check_archive", "dump", "is_empty", "restore", "tool_major", "version_problem"]
