"""Kill the server with SIGKILL while submissions stream in; every receipt must survive, nothing half-written.

A receipt is a promise to someone who may not get a second chance to send their form: it may only be
given once the submission is committed. Several clients post at once and the server is killed twice:
once the instant a receipt arrives (wherever the other requests and the in-process worker happen to
be), once while the test itself holds SQLite's write lock so that no transaction can commit. A server
that answered before writing (or wrote behind its answers) fails both ways: its receipts are missing
after the kill, and it goes on answering while nothing can commit. A server that answered between
its flush and its commit is caught only when the first kill falls into that gap, which a big photo
widens. After each kill the database must hold only whole submissions and whole records; after a
restart on the same data dir the worker drains the rest, and `amanat audit verify` passes. All of it runs
once with one server process and once with `serve --workers 2`, whose processes commit in turn.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.functional import server as srv

SENDERS = 8  # concurrent clients: enough that a commit queue forms behind SQLite's single writer
KILL_AFTER_RECEIPTS = 30
HOLD_SECONDS = 0.5
BIG_PHOTO = srv.synthetic_jpeg(7, 3 * 1024 * 1024)


LETTERS = "بپتجچحخدرزسشصطعغفقکگلمنوهی"
LATIN = "bcdfghjklmnpqrstvwxz"


def _fields(sender: int, n: int) -> dict[str, str]:
    """A distinct synthetic person per submission (linkage should find nobody to compare them with)."""
    rng = random.Random(sender * 100_000 + n)
    dari = ["".join(rng.choice(LETTERS) for _ in range(rng.randint(4, 7))) for _ in range(3)]
    latin = ["".join(rng.choice(LATIN) + rng.choice("aeiou") for _ in range(3)).title() for _ in range(2)]
    return {"full_name": f"{dari[0]} {dari[1]}", "full_name_latin": " ".join(latin), "father_name": dari[2],
            "service_branch": "ana", "consent": "yes", "gender": "male", "province": "AF01",
            "date_of_birth": str(rng.randint(1340, 1380)), "tazkira_number": f"1401-{sender:04d}-{n:05d}"}


def _files(sender: int, n: int) -> dict[str, tuple[str, bytes, str]]:
    files = {"doc_tazkira": ("tazkira.jpg", srv.synthetic_jpeg(sender * 100_000 + n, 20_000 + 997 * (n % 20)),
                             "image/jpeg")}
    if n % 2:
        files["doc_passport"] = ("passport.jpg", srv.synthetic_jpeg(-sender * 100_000 - n, 15_000), "image/jpeg")
    return files


def _stream(server: srv.Server, receipts: list[str], refused: list[int], stop: threading.Event, *,
            first_sender: int, kill_on_receipt: threading.Event) -> list[threading.Thread]:
    lock = threading.Lock()

    def sender(i: int) -> None:
        with srv.browser(server) as client:
            n = 0
            while not stop.is_set():
                # Once armed, one client sends a big photo: its commit takes longest, which widens any gap
                # between an answer and its commit for the kill below to fall into.
                armed = kill_on_receipt.is_set() and i == first_sender
                files = {"doc_tazkira": ("tazkira.jpg", BIG_PHOTO, "image/jpeg")} if armed else _files(i, n)
                try:
                    r = srv.submit(client, _fields(i, n), files)
                except httpx.TransportError:
                    return  # the server is gone: whatever was in flight got no receipt
                with lock:
                    if r.status_code == 201:
                        receipts.append(srv.RECEIPT.search(r.text).group(0))  # type: ignore[union-attr]
                        if armed:
                            os.killpg(server.proc.pid, signal.SIGKILL)  # every process of `serve --workers`
                    else:
                        refused.append(r.status_code)
                n += 1

    threads = [threading.Thread(target=sender, args=(first_sender + i,), daemon=True) for i in range(SENDERS)]
    for t in threads:
        t.start()
    return threads


def _connect(path: Path) -> closing[sqlite3.Connection]:
    # A plain connection, as the next start of the server would open it (WAL recovery included).
    return closing(sqlite3.connect(path, timeout=30))


def _rows(con: sqlite3.Connection, sql: str, *params: object) -> list[tuple]:
    return con.execute(sql, params).fetchall()


def assert_nothing_partial(con: sqlite3.Connection) -> None:
    """Whatever the state, each submission and each record is whole."""
    # A submission row always comes with all its parts, and its receive event.
    assert _rows(con, """SELECT s.receipt FROM submissions s
                         WHERE s.part_count != (SELECT count(*) FROM submission_parts p WHERE p.submission_id = s.id)
                      """) == []
    assert _rows(con, """SELECT s.receipt FROM submissions s WHERE NOT EXISTS (
                           SELECT 1 FROM audit_events e WHERE e.action = 'submission:receive' AND e.subject_id = s.id)
                      """) == []
    # Still sealed: the sealed payload and every sealed part are there.
    assert _rows(con, "SELECT receipt FROM submissions WHERE status = 'sealed' AND sealed IS NULL") == []
    assert _rows(con, """SELECT s.receipt FROM submissions s JOIN submission_parts p ON p.submission_id = s.id
                         WHERE s.status = 'sealed' AND (p.sealed IS NULL OR length(p.sealed) != p.size)""") == []
    # Stored: exactly its record, with all its documents; the sealed copy is gone.
    assert _rows(con, """SELECT s.receipt FROM submissions s
                         WHERE s.status = 'stored' AND (s.sealed IS NOT NULL OR s.record_id IS NULL
                           OR (SELECT count(*) FROM records r WHERE r.submission_id = s.id) != 1
                           OR NOT EXISTS (SELECT 1 FROM records r WHERE r.id = s.record_id AND r.submission_id = s.id))
                      """) == []
    assert _rows(con, """SELECT s.receipt FROM submissions s JOIN records r ON r.id = s.record_id
                         WHERE s.part_count != (SELECT count(*) FROM documents d WHERE d.record_id = r.id)""") == []
    assert _rows(con, """SELECT s.receipt FROM submissions s JOIN submission_parts p ON p.submission_id = s.id
                         WHERE s.status = 'stored' AND p.sealed IS NOT NULL""") == []
    # No record without its submission marked stored, its person, its case and its create event.
    assert _rows(con, """SELECT r.id FROM records r LEFT JOIN submissions s ON s.id = r.submission_id
                         WHERE s.id IS NULL OR s.status != 'stored' OR s.record_id != r.id""") == []
    # Linkage may have merged the record's person into another: the case then belongs to the merged-into one.
    assert _rows(con, """WITH RECURSIVE root(id, top) AS (
                           SELECT id, id FROM persons WHERE merged_into IS NULL
                           UNION ALL SELECT p.id, root.top FROM persons p JOIN root ON p.merged_into = root.id)
                         SELECT r.id FROM records r LEFT JOIN root ON root.id = r.person_id
                         WHERE root.id IS NULL OR NOT EXISTS (
                           SELECT 1 FROM cases c WHERE c.person_id IN (r.person_id, root.top))""") == []
    assert _rows(con, """SELECT r.id FROM records r WHERE NOT EXISTS (
                           SELECT 1 FROM audit_events e WHERE e.action = 'record:create' AND e.subject_id = r.id)
                      """) == []
    assert _rows(con, """SELECT c.id FROM cases c WHERE NOT EXISTS (
                           SELECT 1 FROM audit_events e WHERE e.action = 'case:open' AND e.subject_id = c.id)""") == []
    assert _rows(con, "PRAGMA foreign_key_check") == []
    assert _rows(con, "PRAGMA integrity_check") == [("ok",)]


def _kill_mid_stream(root: Path, round_: int, *, hold_writes: bool, workers: int) -> tuple[list[str], int]:
    """Start the server, stream submissions, SIGKILL it. Returns the receipts and how many came while held.

    Without ``hold_writes`` the kill comes the instant a receipt arrives, while other requests and the
    worker are wherever they happen to be: the receipt's own transaction must already be committed.
    With ``hold_writes`` the test takes SQLite's write lock itself just before the kill: from then on no
    server transaction can commit, so no receipt may arrive beyond the few already committed and on
    their way. A server that answered first and wrote afterwards would hand out receipts all through
    the hold, and every one of them would be lost.
    """
    server = srv.start(root, workers=workers)
    receipts: list[str] = []
    refused: list[int] = []
    stop = threading.Event()
    threads: list[threading.Thread] = []
    locker: sqlite3.Connection | None = None
    while_held = 0
    kill_on_receipt = threading.Event()
    try:
        threads = _stream(server, receipts, refused, stop, first_sender=round_ * SENDERS,
                          kill_on_receipt=kill_on_receipt)
        srv.wait_until(lambda: len(receipts) >= KILL_AFTER_RECEIPTS, 25,
                       f"only {len(receipts)} receipts in 25 s:\n{server.tail()}", interval=0.02)
        if not hold_writes:
            kill_on_receipt.set()
            srv.wait_until(lambda: server.proc.poll() is not None, 30, "no receipt came after arming the kill")
        else:
            locker = sqlite3.connect(server.database, timeout=30, isolation_level=None)
            locker.execute("BEGIN IMMEDIATE")
            before = len(receipts)
            time.sleep(HOLD_SECONDS)
            while_held = len(receipts) - before
        server.kill()
    finally:
        stop.set()
        server.kill()
        if locker is not None:
            locker.execute("ROLLBACK")
            locker.close()
    for t in threads:
        t.join(15)
    assert not any(t.is_alive() for t in threads)
    assert refused == [], f"the server refused submissions before the kill: {refused}"
    return receipts, while_held


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "two-processes"])
def test_sigkill_mid_stream_loses_no_receipt_and_leaves_nothing_partial(tmp_path: Path, workers: int) -> None:
    srv.init(tmp_path)
    database = tmp_path / "data" / "amanat.db"
    receipts: list[str] = []
    stored: set[str] = set()
    # Round 0 kills wherever the stream and the worker happen to be; round 1 kills while the test holds
    # SQLite's write lock, with transactions queued behind it.
    for round_, hold in ((0, False), (1, True)):
        got, while_held = _kill_mid_stream(tmp_path, round_, hold_writes=hold, workers=workers)
        assert while_held <= SENDERS, f"{while_held} receipts while no transaction could commit"
        receipts += got
        # The state the kill left, before anything runs again.
        with _connect(database) as con:
            now = {r[0] for r in _rows(con, "SELECT receipt FROM submissions")}
            lost = set(receipts) - now
            assert not lost, f"receipts given but not stored after kill {round_ + 1}: {sorted(lost)}"
            # Rows without a receipt: committed while their client waited for the answer the kill cut off.
            assert len(now - stored - set(got)) <= SENDERS
            assert_nothing_partial(con)
        stored = now

    # Restart on the same data dir and let the worker drain what was left sealed.
    server = srv.start(tmp_path, workers=workers)
    try:
        srv.wait_until(lambda: server.counts().get("sealed", 0) == 0, 30,
                       f"the worker did not drain after the restart:\n{server.tail()}", interval=0.25)
        assert server.counts().get("failed", 0) == 0, server.tail()
    finally:
        server.stop()
    assert server.proc.returncode == 0, server.tail()

    with _connect(database) as con:
        assert_nothing_partial(con)
        by_receipt = dict(_rows(con, "SELECT receipt, status FROM submissions"))
        assert set(by_receipt) == stored
        assert {by_receipt[r] for r in receipts} == {"stored"}
        assert _rows(con, "SELECT count(*) FROM records")[0][0] == len(stored)

    verify = srv.cli(tmp_path, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "chain unbroken" in verify.stdout + verify.stderr
