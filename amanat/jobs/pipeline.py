"""The pipeline step the worker runs for each sealed submission: open → normalise → store → case."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session

from amanat.cases.service import ensure_case
from amanat.core.audit import Actor
from amanat.core.db import Database
from amanat.errors import AmanatError
from amanat.intake.openrosa import release_stale
from amanat.intake.service import mark_failed, mark_stored, next_sealed, open_submission
from amanat.linkage.models import MatchPair
from amanat.linkage.service import match_new_record
from amanat.records.models import Record
from amanat.records.service import StoreResult, merge_persons, store_submission

log = logging.getLogger("amanat.worker")
WORKER = Actor("system:worker")


@dataclass(frozen=True)
class StepResult:
    submission_id: str
    ok: bool
    record_id: str | None = None
    person_id: str | None = None
    error_code: str | None = None


def release_incomplete(database: Database) -> int:
    """Hand the worker any multi-part ODK submission whose last part never came (see
    intake.openrosa.release_stale); the worker calls this now and then, so it happens even
    when no phone posts again."""
    with database.transaction() as db:
        return release_stale(db)


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
            person_id, reason = link_new_record(db, database, stored)
            ensure_case(db, WORKER, person_id, record_id=stored.record_id, reason=reason)
            mark_stored(db, sub, stored.record_id)
            return StepResult(sub_id, True, stored.record_id, person_id)
    except Exception as exc:
        if sub_id is None:
            raise
        # A submission that cannot be processed must not block the queue: it is marked failed with a code.
        # Only the code or the exception's type is logged: a message could carry a record's values.
        code = exc.code if isinstance(exc, AmanatError) else "internal_error"
        if isinstance(exc, AmanatError):
            log.warning("submission %s failed: %s", sub_id, code)
        else:
            log.error("submission %s failed: unexpected %s", sub_id, type(exc).__name__)
        with database.transaction() as db:
            mark_failed(db, sub_id, code)
        return StepResult(sub_id, False, error_code=code)


def link_new_record(db: Session, database: Database, stored: StoreResult) -> tuple[str, str | None]:
    """Score the new record against everyone known. A new person whose best candidate passes the auto-link
    threshold is merged into that person (reversibly); anything between the thresholds waits for review."""
    record = db.get(Record, stored.record_id)
    assert record is not None and stored.norm is not None
    outcome = match_new_record(db, database.keys, record, stored.norm)
    if outcome.auto_pair is None:
        return stored.person_id, stored.link_reason
    pair = db.get(MatchPair, outcome.auto_pair)
    assert pair is not None and outcome.auto_person is not None
    if not stored.new_person:  # already joined someone by ID: a second person is for a human to judge
        pair.status = "pending"
        return stored.person_id, stored.link_reason
    merge_persons(db, WORKER, stored.person_id, outcome.auto_person, pair_id=pair.id, reason="auto")
    record.link_reason = "probable_match"
    return outcome.auto_person, "probable_match"


def drain(database: Database, limit: int | None = None) -> list[StepResult]:
    """Process until the queue is empty (or ``limit`` submissions)."""
    results: list[StepResult] = []
    while limit is None or len(results) < limit:
        step = process_next(database)
        if step is None:
            break
        results.append(step)
    return results
