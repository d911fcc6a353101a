"""Kill the batch worker with SIGKILL mid-batch, again and again: nothing lost, nothing stored twice.

A data dir holds a few thousand sealed submissions (synthetic people, re-registrations among them, some with
photos). A worker process (``jobs.worker.run_worker``, what `amanat worker` runs) drains it in batches and is
killed at random moments — while it opens, scores, links or commits. After each kill the database must hold
only whole submissions and whole records (test_crash_safety.assert_nothing_partial: each stored submission
has exactly its record, documents, person, case and events), every stored record its linkage row, and
every pair two records that exist. A last worker then drains the rest: one record per submission, and
`amanat audit verify` passes.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.functional import server as srv
from tests.functional.test_crash_safety import _connect, _rows, assert_nothing_partial

SUBMISSIONS = 1500
KILLS = 3

_WORKER = """
import os
from amanat.config import Settings
from amanat.core import crypto
from amanat.core.db import open_database
from amanat.core.keystore import load_keystore
from amanat.jobs.worker import run_worker

database = open_database(Settings())
with database.reading() as db:
    keystore = load_keystore(db)
database.keys.set(crypto.unlock(keystore, os.environ["AMANAT_PASSPHRASE"]))
run_worker(database, once=True, batch_size=int(os.environ["BATCH"]))
"""

_SEAL = """
import os, sys
sys.path.insert(0, os.getcwd())
from amanat.config import Settings
from amanat.core import crypto
from amanat.core.audit import Actor
from amanat.core.db import open_database
from amanat.core.keystore import load_keystore
from amanat.intake.parsed import Attachment, ParsedSubmission
from amanat.intake.service import seal_submission
from bench.synth import generate_population

n = int(os.environ["SUBMISSIONS"])
database = open_database(Settings())
with database.reading() as db:
    keystore = load_keystore(db)
database.keys.set(crypto.public_ring(keystore))
people = generate_population(n, seed=17)[:n]
with database.transaction() as db:
    for i, r in enumerate(people):
        fields = {k: v for k, v in r.items() if k not in ("record_id", "person_id") and v}
        files = [Attachment("tazkira.jpg", "image/jpeg", os.urandom(2000 + i % 500))] if i % 7 == 0 else []
        seal_submission(db, database.keys, ParsedSubmission("web", fields, attachments=files), actor=Actor("test"),
                        form_id="amanat_service_record", form_version="1", language="en")
"""


def _python(root: Path, code: str, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code], env={**srv.environment(root), **env},
                            cwd=Path(__file__).resolve().parents[2], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=(root / "worker.log").open("ab"))


def _stored(database: Path) -> int:
    with _connect(database) as con:
        return _rows(con, "SELECT count(*) FROM submissions WHERE status = 'stored'")[0][0]


def assert_linkage_whole(con: object) -> None:
    import sqlite3

    assert isinstance(con, sqlite3.Connection)
    # every pair names two records that exist; a record's blocking keys are there with it or not at all
    assert _rows(con, """SELECT p.id FROM match_pairs p
                         WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.id = p.record_l)
                            OR NOT EXISTS (SELECT 1 FROM records r WHERE r.id = p.record_r)""") == []
    assert _rows(con, """SELECT r.id FROM records r WHERE NOT EXISTS (
                           SELECT 1 FROM record_lookups l WHERE l.record_id = r.id AND l.kind = 'block')""") == []
    assert _rows(con, "SELECT submission_id FROM records GROUP BY submission_id HAVING count(*) > 1") == []


@pytest.mark.slow
def test_sigkill_mid_batch_loses_nothing_and_stores_nothing_twice(tmp_path: Path) -> None:
    srv.init(tmp_path)
    database = tmp_path / "data" / "amanat.db"
    seal = _python(tmp_path, _SEAL, SUBMISSIONS=str(SUBMISSIONS))
    assert seal.wait(300) == 0, (tmp_path / "worker.log").read_text()
    rng = random.Random(4)
    before = 0
    for kill in range(KILLS):
        worker = _python(tmp_path, _WORKER, BATCH=str(rng.choice((60, 150, 300))))
        # let it commit a batch or two, then kill it wherever it is (opening, scoring, linking, committing)
        srv.wait_until(lambda: _stored(database) > before or worker.poll() is not None, 120,
                       f"kill {kill}: the worker stored nothing", interval=0.05)
        time.sleep(rng.uniform(0.0, 1.5))
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(30)
        with _connect(database) as con:
            assert_nothing_partial(con)
            assert_linkage_whole(con)
            assert _rows(con, "SELECT count(*) FROM submissions")[0][0] == SUBMISSIONS
        now = _stored(database)
        assert now >= before
        before = now
    assert before < SUBMISSIONS, "the kills came too late to interrupt anything"

    last = _python(tmp_path, _WORKER, BATCH="500")
    assert last.wait(600) == 0, (tmp_path / "worker.log").read_text()[-3000:]
    with _connect(database) as con:
        assert_nothing_partial(con)
        assert_linkage_whole(con)
        assert dict(_rows(con, "SELECT status, count(*) FROM submissions GROUP BY status")) == {"stored": SUBMISSIONS}
        assert _rows(con, "SELECT count(*) FROM records")[0][0] == SUBMISSIONS
    verify = srv.cli(tmp_path, "audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "chain unbroken" in verify.stdout + verify.stderr
