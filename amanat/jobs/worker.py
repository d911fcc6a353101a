"""The worker: in the server process on the embedded default, or as `amanat worker` in production."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable

from amanat.core.db import Database
from amanat.intake.service import count_by_status
from amanat.jobs.batch import BATCH_SIZE, IN_SERVER_BATCH_SIZE, Ahead, process_batch, use_ahead
from amanat.jobs.pipeline import release_incomplete
from amanat.linkage.workers import default_jobs

log = logging.getLogger("amanat.worker")


class Worker:
    # Longest the worker defers to busy intake before taking a turn anyway, so it can never starve.
    MAX_DEFER_SECONDS = 2.0
    # How often it looks for multi-part ODK submissions left incomplete (one indexed query).
    RELEASE_EVERY_SECONDS = 300.0
    # How often it logs its rate and the backlog while there is work.
    REPORT_EVERY_SECONDS = 5.0

    def __init__(self, database: Database, *, poll_seconds: float = 0.2,
                 intake_busy: Callable[[], bool] | None = None, batch_size: int | None = None,
                 ahead: Ahead | None = None) -> None:
        self.database = database
        self.ahead = ahead  # opens the next batch in a helper while this one is stored (`amanat worker`)
        self.poll_seconds = poll_seconds
        # In the server a person waiting for a receipt waits at most one (smaller) batch.
        self.batch_size = batch_size or (IN_SERVER_BATCH_SIZE if intake_busy is not None else BATCH_SIZE)
        # In the server process the worker shares SQLite's one write lock with intake: a person waiting for
        # a receipt goes first, and the worker catches up between requests.
        self.intake_busy = intake_busy
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.processed = 0
        self.failed = 0
        self.released = 0
        self._next_release = 0.0  # at once on start: a server down for days has some waiting
        self._report = _RateReport(database, self.REPORT_EVERY_SECONDS)

    def wake(self) -> None:
        """Intake calls this after a commit so a new submission is picked up at once."""
        self._wake.set()

    def run_forever(self) -> None:
        while not self._stop.is_set():
            self._defer_to_intake()
            self._release_incomplete()
            if not self.step():
                self._wake.wait(self.poll_seconds)
                self._wake.clear()

    def step(self) -> bool:
        """One batch; False when there was nothing to do (or it failed and the worker should pause)."""
        try:
            step = process_batch(self.database, self.batch_size, ahead=self.ahead)
        except Exception:  # keep the worker alive; the failed transaction was rolled back
            log.exception("worker step failed")
            self._stop.wait(1.0)
            return False
        if step is None:
            return False
        self.processed += step.stored
        self.failed += step.failed
        self._report.add(step.stored + step.failed)
        return True

    def _release_incomplete(self) -> None:
        now = time.monotonic()
        if now < self._next_release:
            return
        self._next_release = now + self.RELEASE_EVERY_SECONDS
        try:
            self.released += release_incomplete(self.database)
        except Exception:  # the next round tries again; intake goes on meanwhile
            log.exception("releasing incomplete submissions failed")

    def _defer_to_intake(self) -> None:
        if self.intake_busy is None:
            return
        until = time.monotonic() + self.MAX_DEFER_SECONDS
        while self.intake_busy() and time.monotonic() < until and not self._stop.is_set():
            self._stop.wait(0.01)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="amanat-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)


class _RateReport:
    """Logs, every few seconds while there is work, the rate since the last report and the backlog."""

    def __init__(self, database: Database, every: float) -> None:
        self.database, self.every = database, every
        self.since = time.monotonic()
        self.done = 0

    def add(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.since < self.every:
            return
        rate = self.done / (now - self.since)
        try:
            with self.database.reading() as db:
                waiting = count_by_status(db).get("sealed", 0)
        except Exception:  # a report is not worth stopping for
            waiting = -1
        left = f"about {waiting / rate:.0f} s left" if rate > 0 and waiting > 0 else "queue empty" if waiting == 0 \
            else ""
        log.info("worker: %s stored in %.0f s (%.0f/s); %s waiting; %s", self.done, now - self.since, rate,
                 waiting, left)
        self.since, self.done = now, 0


def run_worker(database: Database, *, once: bool, poll_seconds: float = 0.5, batch_size: int = BATCH_SIZE,
               advance: Callable[[int], None] | None = None, stop: threading.Event | None = None) -> tuple[int, int]:
    """`amanat worker`: batches until the queue is empty (``once``) or ``stop`` is set, logging the rate
    and the backlog every few seconds. Returns (stored, failed). On SQLite with a core to spare, a helper
    process opens and normalises the next batch while this one is stored (``batch.Ahead``)."""
    # Forked here, in the command's main thread, before any other thread could hold a lock.
    ahead = Ahead(database, max(1, default_jobs() - 1)) if use_ahead(database) else None
    worker = Worker(database, poll_seconds=poll_seconds, batch_size=batch_size, ahead=ahead)
    stop = stop or threading.Event()
    frozen = False
    try:
        while not stop.is_set():
            before = worker.processed + worker.failed
            worker._release_incomplete()
            if not worker.step():
                if once:
                    break
                stop.wait(poll_seconds)
                continue
            if not frozen:
                # The model, the libraries and their caches live as long as the process: moved out of the
                # collector's sight after the first batch, so its full passes no longer walk them every batch.
                gc.freeze()
                frozen = True
            if advance is not None:
                advance(worker.processed + worker.failed - before)
    finally:
        if ahead is not None:
            ahead.close()
    return worker.processed, worker.failed
