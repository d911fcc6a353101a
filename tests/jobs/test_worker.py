import time

from amanat.jobs.worker import Worker


def test_worker_defers_to_busy_intake_but_never_starves(database, monkeypatch):
    busy = {"on": True}
    worker = Worker(database, intake_busy=lambda: busy["on"])
    monkeypatch.setattr(Worker, "MAX_DEFER_SECONDS", 0.2)
    start = time.monotonic()
    worker._defer_to_intake()
    waited = time.monotonic() - start
    assert 0.18 <= waited < 1.0  # waited while busy, then took its turn anyway
    busy["on"] = False
    start = time.monotonic()
    worker._defer_to_intake()
    assert time.monotonic() - start < 0.05
