"""The batch step: many sealed submissions → stored, linked records with their cases, in one transaction.

Claim the oldest sealed submissions (on PostgreSQL ``FOR UPDATE SKIP LOCKED``, so several workers share
the queue), open and normalise them, then — one batch at a time (``lock_linkage``) — store them with one
query per kind of exact ID, link them all against the known and each other (``linkage.arrivals``: one
lookup per blocking key for the batch, the vectorised scoring and ``decide_pairs``), open or join their
cases, drop the sealed copies, and write the audit events. Either all of it commits or none of it does,
so a kill at any point loses nothing and stores nothing twice. A submission that cannot be opened is
marked failed with a code; a batch that fails as a whole is done again one submission at a time
(``pipeline.process_next``), so one bad submission never holds up the rest.

Opening and normalising run in this process, not in a pool: on the 2-core machine normalising 4,000
synthetic records took 2.02 ms a record here and 2.21 ms in a pool of two (the pickling to and from the
pool costs what the second core gives); more cores are better used by more worker processes, which on
PostgreSQL open and normalise in parallel and take turns only to link and write.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from amanat.cases.batch_open import ensure_cases
from amanat.core.audit import record_events
from amanat.core.db import Database
from amanat.errors import AmanatError
from amanat.intake.service import OpenedSubmission, mark_failed, open_submission, sealed_parts
from amanat.jobs.pipeline import WORKER, process_next
from amanat.linkage.arrivals import (
    FEATURES_KEY,
    Arrival,
    Linked,
    features_for_storage,
    link_arrivals,
    lock_linkage,
)
from amanat.linkage.features import features_from_normalized
from amanat.normalize.record import NormalizedRecord, normalize_record
from amanat.records.batch_store import claim_sealed, mark_stored_many, store_batch
from amanat.records.service import StoreResult

log = logging.getLogger("amanat.worker")

# Submissions per transaction. The server's own worker shares SQLite's one write lock with intake, so it
# takes fewer at a time (a person waiting for a receipt waits at most one batch).
BATCH_SIZE = 500
IN_SERVER_BATCH_SIZE = 100


@dataclass(frozen=True)
class BatchStep:
    claimed: int
    stored: int
    failed: int
    merged: int = 0
    pairs_scored: int = 0
    engine: str = "none"
    seconds: float = 0.0


def _code(exc: Exception) -> str:
    return exc.code if isinstance(exc, AmanatError) else "internal_error"


def process_batch(database: Database, limit: int = BATCH_SIZE) -> BatchStep | None:
    """Process up to ``limit`` of the oldest sealed submissions in one transaction. None when the queue is
    empty. If the batch fails as a whole, the same submissions are processed one at a time instead."""
    started = time.perf_counter()
    claimed = 0
    try:
        with database.transaction() as db:
            subs = claim_sealed(db, limit)
            if not subs:
                return None
            claimed = len(subs)
            opened: list[OpenedSubmission] = []
            norms: list[NormalizedRecord] = []
            failures: list[tuple[str, str]] = []
            parts = sealed_parts(db, [sub.id for sub in subs])  # one query for the batch, not one each
            for sub in subs:
                try:
                    one = open_submission(db, database.keys, sub, parts[sub.id])
                    norm = normalize_record({k: v for k, v in one.parsed.fields.items() if isinstance(v, str)})
                except Exception as exc:  # marked failed with a code, as the one-at-a-time step does
                    code = _code(exc)
                    # Only the code or the exception's type is logged: a message could carry a record's values.
                    log.warning("submission %s failed: %s", sub.id, code if isinstance(exc, AmanatError)
                                else f"unexpected {type(exc).__name__}")
                    failures.append((sub.id, code))
                    continue
                opened.append(one)
                norms.append(norm)
            rows = [features_from_normalized("", n) for n in norms]
            # Workers open and normalise in parallel; from here on they take turns. Failures are marked only
            # now, so the turn is taken before the audit log's own lock (an OpenRosa signature mismatch, noted
            # while opening, is the one exception).
            lock_linkage(db)
            for sub_id, code in failures:
                mark_failed(db, sub_id, code)
            results, events = store_batch(db, database.keys, opened, norms,
                                          extra=[{FEATURES_KEY: features_for_storage(r)} for r in rows])
            record_events(db, WORKER, events)
            arrivals = [Arrival(res.record_id, res.person_id, res.new_person, {**row, "unique_id": res.record_id})
                        for res, row in zip(results, rows, strict=True)]
            linked = link_arrivals(db, database.keys, WORKER, arrivals)
            _cases(db, results, linked.linked)
            mark_stored_many(db, {o.submission_id: r.record_id for o, r in zip(opened, results, strict=True)})
            merged = sum(x.merged for x in linked.linked)
            return BatchStep(claimed, len(results), len(failures), merged, linked.pairs_scored, linked.engine,
                             time.perf_counter() - started)
    except Exception as exc:
        if not claimed:
            raise
        log.warning("a batch of %s failed (%s); processing them one at a time", claimed, type(exc).__name__)
        stored = failed_one = 0
        for _ in range(claimed):
            step = process_next(database)
            if step is None:
                break
            stored += step.ok
            failed_one += not step.ok
        return BatchStep(claimed, stored, failed_one, seconds=time.perf_counter() - started)


def _cases(db: Session, results: Sequence[StoreResult], linked: Sequence[Linked]) -> None:
    """Each record's case, in arrival order, as ``cases.service.ensure_case`` gives it: the person's open
    case with a note that the record joined, or a new case."""
    events = ensure_cases(db, [(res.record_id, link.person_id, "probable_match" if link.merged else res.link_reason)
                               for res, link in zip(results, linked, strict=True)])
    record_events(db, WORKER, events)
