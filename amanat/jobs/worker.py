"""The worker: in the server process on the embedded default, or as `amanat worker` in production."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from amanat.core.db import Database
from amanat.jobs.pipeline import process_next, release_incomplete

log = logging.getLogger("amanat.worker")


class Worker:
    # Longest the worker defers to busy intake before taking a turn anyway, so it can never starve.
    MAX_DEFER_SECONDS = 2.0
    # How often it looks for multi-part ODK submissions left incomplete (one indexed query).
    RELEASE_EVERY_SECONDS = 300.0

    def __init__(self, database: Database, *, poll_seconds: float = 0.2,
                 intake_busy: Callable[[], bool] | None = None) -> None:
        self.database = database
        self.poll_seconds = poll_seconds
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

    def wake(self) -> None:
        """Intake calls this after a commit so a new submission is picked up at once."""
        self._wake.set()

    def run_forever(self) -> None:
        while not self._stop.is_set():
            self._defer_to_intake()
            self._release_incomplete()
            try:
                step = process_next(self.database)
            except Exception:  # keep the worker alive; the failed transaction was rolled back
                log.exception("worker step failed")
                step = None
                self._stop.wait(1.0)
            if step is None:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
            elif step.ok:
                self.processed += 1
            else:
                self.failed += 1

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
