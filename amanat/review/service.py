"""The review queue: candidate pairs between the thresholds, decided by a person. Accept merges the two
people (records.merge_persons, reversible); reject is remembered so re-scoring never raises it again."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from amanat.core.audit import Actor, record_event
from amanat.core.db import utcnow
from amanat.errors import Conflict, NotFound
from amanat.linkage.decision import RELATIONS as RELATIONS_
from amanat.linkage.models import MatchPair
from amanat.records.models import Record
from amanat.records.service import get_person_root, merge_persons

# Fields a reviewer compares side by side (values shown only after an audited "compare").
COMPARE_FIELDS = ("full_name", "full_name_latin", "father_name", "father_name_latin", "grandfather_name",
                  "family_name", "gender", "date_of_birth", "place_of_birth", "province", "district",
                  "tazkira_number", "passport_number", "phone", "whatsapp_phone", "rank", "unit", "service_branch")


@dataclass(frozen=True)
class QueueItem:
    id: str
    match_weight: float
    match_probability: float
    reasons: list[str]
    status: str
    created_at: Any


# Pairs linkage proposed as two people of one family ("likely brothers"): never merged by themselves.
RELATIVES = "relatives"
# A reviewer's word that the two are one family, not one person.
HOUSEHOLD = "household"
# The relation linkage names first in a pair's reasons (linkage.decision.RELATIONS).
RELATIONS = frozenset(RELATIONS_)


def list_pending(db: Session, *, limit: int = 50, offset: int = 0, status: str = "pending") -> list[QueueItem]:
    """Pairs waiting for a person, heaviest first: ``pending`` (perhaps one person) or ``relatives``."""
    rows = db.scalars(select(MatchPair).where(MatchPair.status == status)
                      .order_by(MatchPair.match_weight.desc()).limit(limit).offset(offset)).all()
    return [QueueItem(p.id, p.match_weight, p.match_probability, json.loads(p.reasons), p.status, p.created_at)
            for p in rows]


def count_pending(db: Session, status: str = "pending") -> int:
    return db.scalar(select(func.count()).select_from(MatchPair).where(MatchPair.status == status)) or 0


@dataclass(frozen=True)
class Relative:
    pair_id: str
    record_id: str  # this person's record
    other_record_id: str
    other_person_id: str
    relation: str | None  # "likely brothers", … (a code the template translates)
    status: str  # relatives (proposed) | household (a reviewer agreed)


def relatives_of(db: Session, record_ids: list[str]) -> list[Relative]:
    """Family members linkage proposed for these records (and those a reviewer confirmed): ids only."""
    if not record_ids:
        return []
    rows = db.scalars(select(MatchPair).where(MatchPair.status.in_((RELATIVES, HOUSEHOLD)),
                                              MatchPair.record_l.in_(record_ids) | MatchPair.record_r.in_(record_ids))
                      .order_by(MatchPair.match_weight.desc())).all()
    mine = set(record_ids)
    out: list[Relative] = []
    for p in rows:
        own, other = (p.record_l, p.record_r) if p.record_l in mine else (p.record_r, p.record_l)
        if other in mine:
            continue
        rec = db.get(Record, other)
        if rec is None:
            continue
        reasons = json.loads(p.reasons)
        relation = reasons[0] if reasons and reasons[0] in RELATIONS else None
        out.append(Relative(p.id, own, other, get_person_root(db, rec.person_id), relation, p.status))
    return out


@dataclass
class PairView:
    id: str
    status: str
    match_weight: float
    match_probability: float
    contributions: list[tuple[str, float]]
    reasons: list[str]
    left: dict[str, Any]
    right: dict[str, Any]
    same_person: bool


def _side(rec: Record) -> dict[str, Any]:
    return {"record_id": rec.id, "person_id": rec.person_id, "channel": rec.channel, "created_at": rec.created_at,
            "fields": {f: rec.data.get(f) for f in COMPARE_FIELDS if rec.data.get(f) not in (None, "")}}


def open_pair(db: Session, actor: Actor, pair_id: str) -> PairView:
    """Both records in clear, for a reviewer: audited as a reveal of each record."""
    pair = db.get(MatchPair, pair_id)
    if pair is None:
        raise NotFound("No such candidate pair.")
    left, right = db.get(Record, pair.record_l), db.get(Record, pair.record_r)
    if left is None or right is None:
        raise NotFound("A record of this pair no longer exists.")
    for rec in (left, right):
        record_event(db, actor, "record:reveal", "record", rec.id, field="review_compare", pair=pair.id)
    contributions = sorted(json.loads(pair.contributions).items(), key=lambda kv: -abs(kv[1]))
    return PairView(pair.id, pair.status, pair.match_weight, pair.match_probability, contributions,
                    json.loads(pair.reasons), _side(left), _side(right),
                    get_person_root(db, left.person_id) == get_person_root(db, right.person_id))


@dataclass(frozen=True)
class Decision:
    pair_id: str
    status: str
    merged_from: str | None = None
    merged_into: str | None = None
    merge_id: str | None = None


def decide(db: Session, actor: Actor, pair_id: str, accept: bool, *, household: bool = False) -> Decision:
    """Accept (one person: merge), reject (different people), or, with ``household``, different people
    of one family. Relatives pairs can be decided too: a reviewer may find the two are one man."""
    pair = db.get(MatchPair, pair_id)
    if pair is None:
        raise NotFound("No such candidate pair.")
    if pair.status not in ("pending", "auto", RELATIVES):
        raise Conflict("This pair was already decided.", code="already_decided")
    pair.decided_by, pair.decided_at = actor.user_id, utcnow()
    if household and not accept:
        pair.status = HOUSEHOLD
        record_event(db, actor, "review:household", "match_pair", pair.id, weight=round(pair.match_weight, 2))
        return Decision(pair.id, HOUSEHOLD)
    if not accept:
        pair.status = "rejected"
        record_event(db, actor, "review:reject", "match_pair", pair.id, weight=round(pair.match_weight, 2))
        return Decision(pair.id, "rejected")
    left, right = db.get(Record, pair.record_l), db.get(Record, pair.record_r)
    assert left is not None and right is not None
    into, source = get_person_root(db, left.person_id), get_person_root(db, right.person_id)
    pair.status = "accepted"
    record_event(db, actor, "review:accept", "match_pair", pair.id, weight=round(pair.match_weight, 2))
    if into == source:
        return Decision(pair.id, "accepted")
    merge_id = merge_persons(db, actor, source, into, pair_id=pair.id, reason="review")
    return Decision(pair.id, "accepted", source, into, merge_id)
