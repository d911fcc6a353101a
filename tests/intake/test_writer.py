"""The intake writer: many jobs share one commit, a bad job fails alone, no future resolves before COMMIT."""

from __future__ import annotations

import threading
from concurrent.futures import Future, wait
from functools import partial

import pytest
from sqlalchemy import event, func, select

from amanat.core.audit import Actor, AuditEvent, verify_chain
from amanat.core.db import Database
from amanat.errors import Conflict
from amanat.intake.models import Submission, SubmissionPart
from amanat.intake.parsed import ParsedSubmission, make_attachment
from amanat.intake.service import Receipt, prepare_sealed, store_sealed
from amanat.intake.writer import IntakeWriter

ACTOR = Actor("public:intake")


def _store(database: Database, n: int, *, instance_id: str | None = None):  # type: ignore[no-untyped-def]
    parsed = ParsedSubmission("web", {"full_name": f"Person {n}"},
                              [make_attachment("photo.jpg", b"\xff\xd8\xff" + bytes(200 + n))])
    return partial(store_sealed, prepared=prepare_sealed(database.keys, parsed), actor=ACTOR, form_id="service",
                   form_version="1", instance_id=instance_id)


def _count_commits(database: Database) -> list[int]:
    commits = [0]

    @event.listens_for(database.engine, "commit")
    def _on_commit(_conn: object) -> None:
        commits[0] += 1

    return commits


@pytest.fixture
def writer(database: Database):  # type: ignore[no-untyped-def]
    w = IntakeWriter(database)
    w.start()
    yield w
    w.stop()


def test_concurrent_jobs_are_all_stored_in_fewer_commits(database: Database, writer: IntakeWriter) -> None:
    commits = _count_commits(database)
    jobs = 200
    futures: list[Future[Receipt]] = []
    lock = threading.Lock()

    def client(start: int) -> None:
        for n in range(start, start + jobs // 10):
            f = writer.submit(_store(database, n))
            with lock:
                futures.append(f)

    threads = [threading.Thread(target=client, args=(i * jobs // 10,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done, _ = wait(futures, timeout=60)
    receipts = [f.result() for f in done]
    assert len(receipts) == jobs and len({r.receipt for r in receipts}) == jobs
    assert commits[0] < jobs and writer.batches == commits[0]
    with database.reading() as db:
        assert db.scalar(select(func.count()).select_from(Submission)) == jobs
        assert db.scalar(select(func.count()).select_from(SubmissionPart)) == jobs
        assert db.scalar(select(func.count()).select_from(AuditEvent)
                         .where(AuditEvent.action == "submission:receive")) == jobs
        assert verify_chain(db).ok


def test_a_failing_job_fails_alone(database: Database, writer: IntakeWriter) -> None:
    started, gate = threading.Event(), threading.Event()

    def hold(_db: object) -> None:  # keeps the writer busy so the next three queue up as one batch
        started.set()
        gate.wait(10)

    futures: list[Future[Receipt]] = [writer.submit(hold)]  # type: ignore[arg-type]
    assert started.wait(10)
    futures += [writer.submit(_store(database, 1, instance_id="uuid:same")),
                writer.submit(_store(database, 2, instance_id="uuid:same")),  # same batch, duplicate
                writer.submit(_store(database, 3))]
    gate.set()
    wait(futures, timeout=30)
    assert writer.batches == 2  # the gate's batch, then the three together
    assert isinstance(futures[1].result(), Receipt) and isinstance(futures[3].result(), Receipt)
    with pytest.raises(Conflict):
        futures[2].result()
    with database.reading() as db:
        ids = set(db.scalars(select(Submission.id)))
        assert ids == {futures[1].result().submission_id, futures[3].result().submission_id}
        assert db.scalar(select(func.count()).select_from(AuditEvent)
                         .where(AuditEvent.action == "submission:receive")) == 2
        assert verify_chain(db).ok


def test_no_future_resolves_before_the_commit(database: Database, writer: IntakeWriter) -> None:
    at_commit = threading.Event()
    release = threading.Event()

    @event.listens_for(database.engine, "commit")
    def _hold(_conn: object) -> None:
        if threading.current_thread().name == "amanat-intake-writer":
            at_commit.set()
            assert release.wait(10)

    futures = [writer.submit(_store(database, n)) for n in range(5)]
    assert at_commit.wait(10)
    assert not any(f.done() for f in futures)  # the batch is at COMMIT: no receipt yet
    release.set()
    wait(futures, timeout=30)
    assert all(isinstance(f.result(), Receipt) for f in futures)


def test_a_failed_commit_fails_every_job_in_the_batch(database: Database, writer: IntakeWriter) -> None:
    @event.listens_for(database.engine, "commit")
    def _fail(_conn: object) -> None:
        if threading.current_thread().name == "amanat-intake-writer":
            raise OSError("disk full")

    futures = [writer.submit(_store(database, n)) for n in range(3)]
    wait(futures, timeout=30)
    for f in futures:
        with pytest.raises(OSError):
            f.result()
    event.remove(database.engine, "commit", _fail)
    with database.reading() as db:
        assert db.scalar(select(func.count()).select_from(Submission)) == 0
