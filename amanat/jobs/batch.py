"""The batch step: many sealed submissions → stored, linked records with their cases, in one transaction.

Claim the oldest sealed submissions (on PostgreSQL ``FOR UPDATE SKIP LOCKED``, so several workers share
the queue), open and normalise them, then — one batch at a time (``lock_linkage``) — store them with one
query per kind of exact ID, link them all against the known and each other (``linkage.arrivals``: one
lookup per blocking key for the batch, the vectorised scoring and ``decide_pairs``), open or join their
cases, drop the sealed copies, and write the audit events. Either all of it commits or none of it does,
so a kill at any point loses nothing and stores nothing twice. A submission that cannot be opened is
marked failed with a code; a batch that fails as a whole is done again one submission at a time
(``pipeline.process_next``), so one bad submission never holds up the rest.

Opening, normalising and the blind indexes (``prepare``) touch no database. With ``Ahead`` (`amanat worker`
on SQLite, more than one core) they run in a forked helper for the *next* batch while this process stores
the current one, so the two overlap; the batch is then claimed by id, and what another worker took
meanwhile is dropped.
Without it (the server's own worker, PostgreSQL's several processes) they run here, inside the
transaction: a pool used in turn gained nothing (the pickling cost what the second core gave).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing as mp
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.pool import AsyncResult
from typing import Any

from sqlalchemy.orm import Session

from amanat.cases.batch_open import ensure_cases
from amanat.core.audit import record_events
from amanat.core.crypto import KeyHolder
from amanat.core.db import Database
from amanat.errors import AmanatError
from amanat.intake.openrosa_payload import is_openrosa_payload
from amanat.intake.parsed import ParsedSubmission
from amanat.intake.service import OpenedSubmission, mark_failed, open_payload, opened_submission, sealed_parts
from amanat.jobs.pipeline import WORKER, process_next
from amanat.linkage.arrivals import (
    FEATURES_KEY,
    Arrival,
    Linked,
    block_digests,
    features_for_storage,
    link_arrivals,
    lock_linkage,
)
from amanat.linkage.features import features_from_normalized
from amanat.linkage.workers import default_jobs
from amanat.normalize.record import NormalizedRecord, normalize_record
from amanat.records.batch_store import claim_sealed, mark_stored_many, peek_sealed, record_digests, store_batch
from amanat.records.exact_id import UNCONFIRMED
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


@dataclass(frozen=True)
class Prepared:
    """One submission opened and normalised (or the code it failed with), before it is claimed."""

    submission_id: str
    parsed: ParsedSubmission | None = None
    norm: NormalizedRecord | None = None  # None for an OpenRosa payload: parsed on the database, then normalised
    row: dict[str, Any] | None = None  # its linkage row
    digests: dict[str, list[bytes]] | None = None  # its blind indexes (batch_store.record_digests)
    blocks: list[bytes] | None = None  # its blocking keys' (arrivals.block_digests)
    error: str | None = None


def _code(exc: Exception) -> str:
    return exc.code if isinstance(exc, AmanatError) else "internal_error"


def _failed(sub_id: str, exc: Exception) -> Prepared:
    # Only the code or the exception's type is kept: a message could carry a record's values. The helper
    # logs nothing (the worker logs each failure as it marks it).
    return Prepared(sub_id, error=_code(exc) if isinstance(exc, AmanatError) else f"unexpected {type(exc).__name__}")


def _normalised(keys: KeyHolder, sub_id: str, parsed: ParsedSubmission) -> Prepared:
    norm = normalize_record({k: v for k, v in parsed.fields.items() if isinstance(v, str)})
    row = features_from_normalized("", norm)
    return Prepared(sub_id, parsed, norm, row, record_digests(keys, norm, parsed.fields), block_digests(keys, row))


def prepare(keys: KeyHolder, sub_id: str, sealed: bytes | None, parts: Sequence[tuple[int, bytes | None]]) -> Prepared:
    """Open and normalise one submission, touching no database; a failure comes back as its code."""
    try:
        parsed = open_payload(keys, sealed, parts)
        if is_openrosa_payload(parsed):  # parsed on the database (open_openrosa_payload), then normalised
            return Prepared(sub_id, parsed)
        return _normalised(keys, sub_id, parsed)
    except Exception as exc:  # marked failed with a code, as the one-at-a-time step does
        return _failed(sub_id, exc)


# The helper's keys: set before the fork, so the private key reaches the helper through the copied memory
# and never through a pipe.
_HELPER_KEYS: KeyHolder | None = None


def _helper_start() -> None:
    # Its collector stays off: reference counting frees what a batch drops. Ctrl-C at a terminal reaches
    # the whole process group: the worker stops its helper, which must not print a traceback of its own.
    gc.disable()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _prepare_chunk(tasks: list[tuple[str, bytes | None, list[tuple[int, bytes | None]]]]) -> list[Prepared]:
    assert _HELPER_KEYS is not None
    return [prepare(_HELPER_KEYS, *task) for task in tasks]


class Ahead:
    """Opens and normalises the next batch in forked helpers while this process stores the one before.
    Fork before any thread starts (``amanat worker`` runs its loop in the main thread)."""

    def __init__(self, database: Database, jobs: int) -> None:
        global _HELPER_KEYS
        _HELPER_KEYS = database.keys
        self.database, self.jobs = database, jobs
        self.pool = mp.get_context("fork").Pool(jobs, initializer=_helper_start)
        self.pending: AsyncResult[list[list[Prepared]]] | None = None

    def begin(self, limit: int, exclude: Sequence[str] = ()) -> None:
        """Read the next ``limit`` sealed submissions (not those in ``exclude``) and start opening them."""
        with self.database.reading() as db:
            subs = peek_sealed(db, limit, exclude)
            parts = sealed_parts(db, [s for s, _ in subs])
        tasks = [(sub_id, sealed, [(p.position, p.sealed) for p in parts[sub_id]]) for sub_id, sealed in subs]
        if not tasks:
            self.pending = None
            return
        size = -(-len(tasks) // self.jobs)
        self.pending = self.pool.map_async(_prepare_chunk, [tasks[at:at + size] for at in range(0, len(tasks), size)])

    def take(self, limit: int) -> list[Prepared]:
        """The batch begun before (or begun now), opened and normalised; empty when the queue is."""
        if self.pending is None:
            self.begin(limit)
        if self.pending is None:
            return []
        chunks, self.pending = self.pending.get(), None
        return [p for chunk in chunks for p in chunk]

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()


def use_ahead(database: Database) -> bool:
    """Opening ahead pays on the embedded default with a core to spare. On PostgreSQL several worker
    processes share the queue instead (one reading ahead would take rows another is about to claim)."""
    return database.is_sqlite and default_jobs() > 1


def process_batch(database: Database, limit: int = BATCH_SIZE, ahead: Ahead | None = None) -> BatchStep | None:
    """Process up to ``limit`` of the oldest sealed submissions in one transaction. None when the queue is
    empty. If the batch fails as a whole, the same submissions are processed one at a time instead."""
    started = time.perf_counter()
    claimed = 0
    ready: dict[str, Prepared] | None = None
    if ahead is not None:
        taken = ahead.take(limit)
        if not taken:
            return None
        ready = {p.submission_id: p for p in taken}
        ahead.begin(limit, exclude=list(ready))  # the next batch opens while this one is stored
    try:
        with database.transaction() as db:
            subs = claim_sealed(db, limit, ids=None if ready is None else list(ready))
            if not subs:
                # None: the queue is empty; a batch read ahead that others took meanwhile is an empty step
                return None if ready is None else BatchStep(0, 0, 0, seconds=time.perf_counter() - started)
            claimed = len(subs)
            if ready is None:
                parts = sealed_parts(db, [sub.id for sub in subs])  # one query for the batch, not one each
                ready = {sub.id: prepare(database.keys, sub.id, sub.sealed, [(p.position, p.sealed)
                                                                             for p in parts[sub.id]])
                         for sub in subs}
            opened: list[OpenedSubmission] = []
            norms: list[NormalizedRecord] = []
            rows: list[dict[str, Any]] = []
            digests: list[dict[str, list[bytes]]] = []
            blocks: list[list[bytes]] = []
            failures: list[tuple[str, str]] = []
            for sub in subs:
                got = ready[sub.id]
                if got.parsed is not None and (got.norm is None or got.row is None):
                    try:  # an OpenRosa payload: parsed on the database, then normalised
                        one = opened_submission(db, database.keys, sub, got.parsed)
                        got = _normalised(database.keys, sub.id, one.parsed)
                    except Exception as exc:
                        got = _failed(sub.id, exc)
                if got.error is not None or got.parsed is None or got.norm is None or got.row is None \
                        or got.digests is None or got.blocks is None:
                    error = got.error or "internal_error"
                    log.warning("submission %s failed: %s", sub.id, error)
                    failures.append((sub.id, "internal_error" if error.startswith("unexpected ") else error))
                    continue
                opened.append(OpenedSubmission(sub.id, sub.receipt, sub.channel, sub.form_id, sub.form_version,
                                               sub.language, sub.submitted_by, got.parsed))
                norms.append(got.norm)
                rows.append(got.row)
                digests.append(got.digests)
                blocks.append(got.blocks)
            # Workers open and normalise in parallel; from here on they take turns. Failures are marked only
            # now, so the turn is taken before the audit log's own lock (an OpenRosa signature mismatch, noted
            # while opening, is the one exception).
            lock_linkage(db)
            for sub_id, code in failures:
                mark_failed(db, sub_id, code)
            results, events = store_batch(db, database.keys, opened, norms,
                                          extra=[{FEATURES_KEY: features_for_storage(r)} for r in rows],
                                          digests=digests)
            record_events(db, WORKER, events)
            arrivals = [Arrival(res.record_id, res.person_id, res.new_person, {**row, "unique_id": res.record_id},
                                block, res.link_reason == UNCONFIRMED)
                        for res, row, block in zip(results, rows, blocks, strict=True)]
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
