"""Running a batch's work on every core: forked worker processes for Python-heavy rounds,
and progress reported in records."""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
from collections.abc import Callable, Iterable
from typing import Any


def default_jobs() -> int:
    """The cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class ForkPool:
    """Runs a round's tasks in forked workers (or here, with one job), yielding each result
    as it comes. Workers read what they need from the parent's memory (copy-on-write)."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs

    def run(self, fn: Callable[[Any], Any], tasks: list[Any]) -> Iterable[Any]:
        if self.jobs == 1 or len(tasks) < 2:
            yield from map(fn, tasks)
            return
        # The records are the parent's objects: frozen, a worker's collections never walk them
        # (at a million records each full collection touched 2 GB and copied its pages).
        gc.freeze()
        try:
            # Workers live for one round: their collector stays off (it was a quarter of their
            # time, walking the caches they fill); reference counting frees what they drop.
            with mp.get_context("fork").Pool(min(self.jobs, len(tasks)), initializer=gc.disable) as pool:
                yield from pool.imap_unordered(fn, tasks)
        finally:
            gc.unfreeze()


def reported(results: Iterable[Any], note: Callable[[Any], None]) -> Iterable[Any]:
    """The results, each passed to ``note`` as it goes by."""
    for got in results:
        note(got)
        yield got


class Shares:
    """Turns fractions of the work done into record counts that add up to ``total``."""

    def __init__(self, total: int, report: Callable[[int], None] | None) -> None:
        self.total, self.report, self.done, self.sent = total, report, 0.0, 0

    def add(self, fraction: float) -> None:
        self.done = min(1.0, self.done + fraction)
        now = round(self.done * self.total)
        if self.report and now > self.sent:
            self.report(now - self.sent)
        self.sent = max(self.sent, now)

    def finish(self) -> None:
        if self.report and self.total > self.sent:
            self.report(self.total - self.sent)
        self.sent = self.total
