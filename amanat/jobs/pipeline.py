"""The pipeline step the worker runs for each sealed submission: open → normalise → store → case."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from amanat.cases.service import ensure_case
from amanat.core.audit import Actor
from amanat.core.db import Database
from amanat.errors import AmanatError
from amanat.intake.service import mark_failed, mark_stored, next_sealed, open_submission
from amanat.records.service import store_submission

log = logging.getLogger("amanat.worker")
WORKER = Actor("system:worker")


@dataclass(frozen=True)
class StepResult:
    submission_id: str
    ok: bool
    record_id: str | None = None
    person_id: str | None = None
    error_code: str | None = None


def process_next(database: Database) -> StepResult | None:
    """Process the oldest sealed submission in one transaction. None when the queue is empty.

    Either the record, its documents, the case, the audit events and the dropping of the sealed copy all
    commit together, or none of it does; a submission that cannot be opened is marked failed with a code.
    """
    sub_id: str | None = None
    try:
        with database.transaction() as db:
            sub = next_sealed(db)
            if sub is None:
                return None
            sub_id = sub.id
            opened = open_submission(db, database.keys, sub)
            stored = store_submission(db, database.keys, opened)
            ensure_case(db, WORKER, stored.person_id, record_id=stored.record_id, reason=stored.link_reason)
            mark_stored(db, sub, stored.record_id)
            return StepResult(sub_id, True, stored.record_id, stored.person_id)
    except AmanatError as exc:
        if sub_id is None:
            raise
        # Only the code is logged: messages about a record could carry context we do not want in logs.
        log.warning("submission %s failed: %s", sub_id, exc.code)
        with database.transaction() as db:
            mark_failed(db, sub_id, exc.code)
        return StepResult(sub_id, False, error_code=exc.code)


def drain(database: Database, limit: int | None = None) -> list[StepResult]:
    """Process until the queue is empty (or ``limit`` submissions)."""
    results: list[StepResult] = []
    while limit is None or len(results) < limit:
        step = process_next(database)
        if step is None:
            break
        results.append(step)
    return results
