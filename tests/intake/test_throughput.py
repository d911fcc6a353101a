"""The worker's measured rate and the queue's expected time, from processed_at (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from amanat.intake.models import Submission
from amanat.intake.throughput import backlog, duration_words, measured_rate

START = datetime(2026, 12, 1, 10, 0, 0)
_numbers = itertools.count()


def add(database, times: list[datetime | None], status: str = "stored") -> None:
    with database.transaction() as db:
        for t in times:
            n = next(_numbers)
            db.add(Submission(receipt=f"R{n:08d}", channel="table", form_id="f", form_version="1", status=status,
                              processed_at=t))


def rate(database) -> float | None:
    with database.reading() as db:
        return measured_rate(db)


def test_no_rate_until_the_worker_has_done_enough(database) -> None:
    assert rate(database) is None
    add(database, [START + timedelta(seconds=i) for i in range(5)])  # 5 records: too few to tell
    assert rate(database) is None


def test_one_at_a_time_at_ten_per_second(database) -> None:
    add(database, [START + timedelta(seconds=i / 10) for i in range(100)])
    assert rate(database) == pytest.approx(10, rel=0.02)


def test_a_batch_worker_stamping_whole_batches(database) -> None:
    # 5 batches of 100, 2 s apart: 400 records in the 8 s after the first batch.
    add(database, [START + timedelta(seconds=2 * b) for b in range(5) for _ in range(100)])
    assert rate(database) == pytest.approx(50, rel=0.02)


def test_an_idle_gap_ends_the_stretch_measured(database) -> None:
    add(database, [START + timedelta(seconds=i) for i in range(50)])              # yesterday's slow stretch: 1/s
    later = START + timedelta(hours=3)
    add(database, [later + timedelta(seconds=i / 20) for i in range(100)])        # the latest: 20/s
    assert rate(database) == pytest.approx(20, rel=0.02)


def test_backlog_counts_what_waits_and_how_long(database) -> None:
    add(database, [START + timedelta(seconds=i / 10) for i in range(100)])
    add(database, [None] * 30, status="sealed")
    add(database, [None] * 4, status="held")  # awaiting an uploader's confirmation: not the worker's yet
    with database.reading() as db:
        queue = backlog(db)
    assert queue.waiting == 30
    assert queue.seconds == pytest.approx(3, rel=0.02)


@pytest.mark.parametrize(("seconds", "words"), [(0.2, "under a second"), (40, "40 s"), (89, "89 s"),
                                                (150, "2 min"), (3600, "60 min"), (7800, "2 h 10 min"),
                                                (7200, "2 h")])
def test_duration_words(seconds: float, words: str) -> None:
    assert duration_words(seconds) == words
