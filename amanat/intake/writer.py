"""Group commit for intake: one writer thread stores queued submissions in one transaction per batch.

SQLite commits one writer at a time and each commit waits for fsync (synchronous=FULL), so a submission per
commit caps intake at the disk's commit rate and queues everyone behind the lock. Here the callers seal and
validate on their own, hand a job to the writer, and wait for its future. The writer takes every job that is
waiting (up to ``max_batch``), runs them in one transaction, commits once, and only then resolves the
futures: a receipt is never handed out before its rows and audit event are durable. If the commit fails,
every job in the batch gets that error.

A bad job must fail alone. Jobs almost never fail, so a batch first runs without savepoints (a SAVEPOINT and
RELEASE per job, and the audit chain head re-read in each, cost more than the job); if any job raises, that
transaction is rolled back and the batch runs again with each job in its own SAVEPOINT. A job therefore has
to be safe to run twice: it may only write through the session it is given.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from amanat.core.db import Database

log = logging.getLogger("amanat.intake.writer")
T = TypeVar("T")


@dataclass
class _Job:
    run: Callable[[Session], Any]
    future: Future[Any] = field(default_factory=Future)


class IntakeWriter:
    """The one thread that stores intake. ``submit(fn)`` runs ``fn(session)`` in the next batch."""

    def __init__(self, database: Database, *, max_batch: int = 64) -> None:
        self.database = database
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0
        self.jobs = 0

    def submit(self, run: Callable[[Session], T]) -> Future[T]:
        """Queue ``run``; its future resolves with its result (or exception) once its batch has committed."""
        job = _Job(run)
        self.start()  # started by the app's lifespan; started here too so no caller can wait on a missing thread
        self._queue.put(job)
        return job.future

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        with self._lock:
            if not self.running:
                self._thread = threading.Thread(target=self._run_forever, name="amanat-intake-writer", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Store everything already queued, then end the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout)

    def _run_forever(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stopping = False
            while len(batch) < self.max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                    break
                batch.append(job)
            self._store(batch)
            if stopping:
                return

    def _store(self, batch: list[_Job]) -> None:
        jobs = [job for job in batch if job.future.set_running_or_notify_cancel()]
        if not jobs:
            return
        try:
            try:
                outcomes = self._run_batch(jobs, savepoints=False)
            except _JobFailed:  # rolled back; now each job in its own savepoint, so the others still commit
                outcomes = self._run_batch(jobs, savepoints=True)
        except BaseException as exc:  # the transaction or its commit failed: nothing of the batch was stored
            log.error("intake batch of %d failed: %s", len(jobs), type(exc).__name__)
            for job in jobs:
                job.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        self.batches += 1
        self.jobs += len(jobs)
        for job, result, error in outcomes:  # only now, after COMMIT
            if error is None:
                job.future.set_result(result)
            else:
                job.future.set_exception(error)

    def _run_batch(self, jobs: list[_Job], *, savepoints: bool) -> list[tuple[_Job, Any, BaseException | None]]:
        outcomes: list[tuple[_Job, Any, BaseException | None]] = []
        with self.database.transaction() as db:
            for job in jobs:
                if not savepoints:
                    try:
                        outcomes.append((job, job.run(db), None))
                    except Exception as exc:
                        raise _JobFailed from exc
                    continue
                try:
                    with db.begin_nested():
                        result = job.run(db)
                except Exception as exc:  # this job alone: its savepoint is rolled back, the batch goes on
                    outcomes.append((job, None, exc))
                else:
                    outcomes.append((job, result, None))
        return outcomes


class _JobFailed(Exception):
    """A job raised in a batch run without savepoints: roll it all back and run it again with them."""
