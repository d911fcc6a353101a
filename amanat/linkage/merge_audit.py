"""Find what was merged that the identity core now says are different people.

Before linkage read own name and birth date as the identity core, brothers who shared a household
phone and their father's and grandfather's names were merged into one person. This lists every
person whose records disagree on own name or date of birth, with the merges that joined them, for a
caseworker to split (``records.service.unmerge``). Only ids and plain-words reasons are reported.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amanat.core.audit import Actor, record_event
from amanat.linkage.decision import LINKED, decide_scored
from amanat.linkage.features import features_from_fields
from amanat.linkage.incremental import score_pair
from amanat.linkage.model import TrainedModel
from amanat.records.models import PersonMerge, Record


@dataclass(frozen=True)
class MergeConcern:
    person_id: str
    record_ids: tuple[str, ...]  # the records that disagree
    merge_ids: tuple[str, ...]  # merges (not undone) that moved one of them into this person
    relation: str | None  # "likely brothers", … where the household evidence says so
    notes: tuple[str, ...]  # what disagrees, in plain words


def audit_merges(db: Session, actor: Actor, model: TrainedModel) -> list[MergeConcern]:
    """Every person with two or more records of which some pair disagrees on own name or date of
    birth (a pair the decision would not link today). The run is audited with its counts."""
    people = db.scalars(select(Record.person_id).group_by(Record.person_id).having(func.count() > 1)).all()
    th = model.thresholds
    concerns: list[MergeConcern] = []
    for person_id in people:
        records = db.scalars(select(Record).where(Record.person_id == person_id).order_by(Record.created_at)).all()
        rows = {r.id: features_from_fields(r.id, {k: v for k, v in r.data.items() if isinstance(v, str)})
                for r in records}
        flagged: set[str] = set()
        notes: dict[str, None] = {}
        relation: str | None = None
        for a, b in combinations(rows, 2):
            decision, _ = decide_scored(score_pair(model, rows[a], rows[b]), rows[a], rows[b], holders={},
                                        link_at=th.auto_link, review_at=th.review)
            core = [n for n in decision.notes if n.startswith(("own names", "one own name", "dates of birth"))]
            if decision.outcome == LINKED or not core:
                continue
            flagged.update((a, b))
            notes.update(dict.fromkeys(core))
            relation = relation or decision.relation
        if flagged:
            concerns.append(MergeConcern(person_id, tuple(r for r in rows if r in flagged),
                                         _merges_of(db, person_id, flagged), relation, tuple(notes)))
    record_event(db, actor, "linkage:audit_merges", "linkage_model", model.version, persons=len(people),
                 flagged=len(concerns))
    return concerns


def _merges_of(db: Session, person_id: str, record_ids: set[str]) -> tuple[str, ...]:
    """The standing merges into ``person_id`` that moved any of ``record_ids``."""
    found: dict[str, None] = {}
    merges = db.scalars(select(PersonMerge).where(PersonMerge.into_person == person_id,
                                                  PersonMerge.undone_at.is_(None))
                        .order_by(PersonMerge.created_at)).all()
    moved: dict[str, list[str]] = defaultdict(list)
    for m in merges:
        for rid in m.record_ids.split(","):
            moved[rid].append(m.id)
    for rid in sorted(record_ids):
        found.update(dict.fromkeys(moved.get(rid, [])))
    return tuple(found)
