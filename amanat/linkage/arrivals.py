"""Link a batch of just-stored records against everyone known at once (the batch worker's path).

One query finds every known record sharing a blocking key with any record of the batch (the keys are
blind indexes, as ``service.index_record`` writes them); the candidates' linkage rows come from what
was stored with them (``features_for_storage``, encrypted inside ``Record.normalized``), so nobody
known is normalised again. Every pair is scored at once — by Splink's predict on many pairs, by its
Python twin (``incremental.scored_frame``, the same numbers) on a few, where starting Splink would
cost more than the scoring — and decided by ``decision.decide_pairs``, the identity core ``link run``
and ``dedupe`` use. Records of the batch are then linked in arrival order, as the one-at-a-time worker
did: each against the known and the batch's earlier records, so two submissions of one person in the
same batch still link. Only ids, scores and comparison names are written.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from amanat.core.audit import Actor, record_events
from amanat.core.crypto import KeyHolder
from amanat.core.db import new_id, utcnow
from amanat.linkage.batch import predict_pairs
from amanat.linkage.decision import LINKED, Decision, decide_pairs, reasons_with_core, scoring_floor
from amanat.linkage.features import BLOCKING_RULES, blocking_keys, features_frame, features_from_fields
from amanat.linkage.incremental import reasons_of_level_arrays, scored_frame
from amanat.linkage.models import MatchPair
from amanat.linkage.service import _STATUS, BLOCK_KIND, MAX_CANDIDATES, active_model
from amanat.records.batch_store import merge_new_persons, person_roots
from amanat.records.models import Record, RecordLookup

# The linkage row kept with each record (inside its encrypted ``normalized``), and the version of
# features.py it was built by: a row of another version is built again from the record's fields.
FEATURES_KEY = "linkage_features"
FEATURES_VERSION = 2  # 2: the events columns (dates of entry and of joining service)
# From this many pairs Splink's predict (about half a second to start) is quicker than the Python twin.
SPLINK_FROM_PAIRS = 3000
_CHUNK = 5000  # bound parameters per IN list (SQLite allows 32,766)


def features_for_storage(row: Mapping[str, Any]) -> dict[str, Any]:
    """What ``Record.normalized[FEATURES_KEY]`` holds: the row without its id, and its version."""
    return {"v": FEATURES_VERSION, "row": {k: v for k, v in row.items() if k != "unique_id"}}


def stored_row(record_id: str, normalized: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The record's stored linkage row, or None when it has none of this version."""
    kept = (normalized or {}).get(FEATURES_KEY)
    if not isinstance(kept, dict) or kept.get("v") != FEATURES_VERSION or not isinstance(kept.get("row"), dict):
        return None
    return {"unique_id": str(record_id), **kept["row"]}


@dataclass
class Arrival:
    """A record of the batch, stored in this transaction (its Record is in the session)."""

    record_id: str
    person_id: str  # as stored: an exact ID match may have joined someone known
    new_person: bool
    row: dict[str, Any]  # its linkage row (unique_id = record_id)
    blocks: list[bytes] | None = None  # ``block_digests(keys, row)``, when the caller computed them
    # its exact ID came from an untrusted channel with another name or birth date (records.exact_id): it is
    # never merged on its own, an auto link waits for a person (as service._unconfirmed_status)
    unconfirmed: bool = False


@dataclass
class Linked:
    person_id: str  # the person the record belongs to after linking
    merged: bool  # joined a known person (or an earlier record of the batch) by a probable match
    candidates: int = 0
    queued: int = 0
    relatives: int = 0


@dataclass
class BatchLinkStats:
    candidates_known: int = 0
    pairs_scored: int = 0
    engine: str = "none"
    linked: list[Linked] = field(default_factory=list)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for at in range(0, len(values), _CHUNK):
        yield values[at:at + _CHUNK]


def block_digests(keys: KeyHolder, row: Mapping[str, Any]) -> list[bytes]:
    """The row's blocking keys as blind indexes (``service.index_record`` writes the same)."""
    return keys.blind_indexes(BLOCK_KIND, blocking_keys(row))


def _known_holders(db: Session, digests: Sequence[bytes]) -> dict[bytes, list[str]]:
    """Known records by blocking key, one query per few thousand keys; a key more than MAX_CANDIDATES
    records give (a common name and year) is no evidence and finds nobody."""
    out: dict[bytes, list[str]] = defaultdict(list)
    for part in _chunks(digests):
        for rec_id, digest in db.execute(select(RecordLookup.record_id, RecordLookup.digest)
                                         .where(RecordLookup.kind == BLOCK_KIND, RecordLookup.digest.in_(part))):
            out[bytes(digest)].append(rec_id)
    return {d: ids for d, ids in out.items() if len(ids) <= MAX_CANDIDATES}


def _known_rows(db: Session, ids: Sequence[str]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The linkage rows and persons of known records: stored rows as they are; a record stored before
    rows were kept (or by another version) is normalised from its fields once more."""
    rows: dict[str, dict[str, Any]] = {}
    person_of: dict[str, str] = {}
    missing: list[str] = []
    for part in _chunks(list(ids)):
        for rec_id, person_id, normalized in db.execute(
                select(Record.id, Record.person_id, Record.normalized).where(Record.id.in_(part))):
            person_of[rec_id] = person_id
            row = stored_row(rec_id, normalized)
            if row is None:
                missing.append(rec_id)
            else:
                rows[rec_id] = row
    for part in _chunks(missing):
        for rec_id, data in db.execute(select(Record.id, Record.data).where(Record.id.in_(part))):
            rows[rec_id] = features_from_fields(rec_id, {k: v for k, v in data.items() if isinstance(v, str)})
    return rows, person_of


def phone_counts(db: Session, keys: KeyHolder, phones: Iterable[str]) -> dict[str, int]:
    """How many stored records give each phone (blind index; this batch's records included)."""
    by_digest = {keys.blind_index("phone", p): p for p in dict.fromkeys(phones) if p}
    out: dict[str, int] = {}
    digests = list(by_digest)
    for part in _chunks(digests):
        for digest, n in db.execute(select(RecordLookup.digest, func.count(func.distinct(RecordLookup.record_id)))
                                    .where(RecordLookup.kind == "phone", RecordLookup.digest.in_(part))
                                    .group_by(RecordLookup.digest)):
            out[by_digest[bytes(digest)]] = int(n)
    return out


def score_pairs(model: Any, rows: Mapping[str, Mapping[str, Any]], pairs: Sequence[tuple[str, str]],
                floor_weight: float) -> tuple[pd.DataFrame, str]:
    """The pairs scored as ``predict_pairs`` would (ids ordered as text, left < right), and the engine."""
    if len(pairs) >= SPLINK_FROM_PAIRS:
        ids = sorted({i for p in pairs for i in p})
        frame = features_frame(rows[i] for i in ids)
        blocked = pa.table({"match_key": pa.array(["0"] * len(pairs), pa.string()),
                            "join_key_l": pa.array([p[0] for p in pairs], pa.string()),
                            "join_key_r": pa.array([p[1] for p in pairs], pa.string())})
        return predict_pairs(model, frame, threshold_match_weight=floor_weight, blocking=BLOCKING_RULES,
                             blocked=blocked), "splink"
    return scored_frame(model, [(rows[a], rows[b]) for a, b in pairs], floor_weight=floor_weight), "python"


def lock_linkage(db: Session) -> None:
    """Batches link one at a time, each seeing every record the ones before it stored: on PostgreSQL an
    advisory lock until the transaction ends (workers open and normalise in parallel, then take turns);
    SQLite's single writer already is one."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(7263003)"))


def index_rows(db: Session, rows: Sequence[Mapping[str, Any]], digests: Sequence[Sequence[bytes]]) -> None:
    """Write each row's blocking-key digests (``keys.blind_indexes(BLOCK_KIND, blocking_keys(row))``) as
    ``service.index_record`` does, in one insert for all."""
    values = [{"record_id": str(row["unique_id"]), "kind": BLOCK_KIND, "digest": d}
              for row, ds in zip(rows, digests, strict=True) for d in ds]
    if values:
        db.execute(insert(RecordLookup.__table__), values)  # Core: the ORM's bulk path cost more than the insert


def link_arrivals(db: Session, keys: KeyHolder, actor: Actor, arrivals: Sequence[Arrival]) -> BatchLinkStats:
    """Score the batch against the known and each other, save the pairs, merge probable matches (in
    arrival order, each record against the known and the batch's earlier records)."""
    stats = BatchLinkStats()
    if not arrivals:
        return stats
    model = active_model(db)
    th = model.thresholds
    digests = [a.blocks if a.blocks is not None else block_digests(keys, a.row) for a in arrivals]
    known = _known_holders(db, sorted({d for ds in digests for d in ds}))
    index_rows(db, [a.row for a in arrivals], digests)
    known_ids = sorted({i for ids in known.values() for i in ids})
    rows, person_of = _known_rows(db, known_ids)
    stats.candidates_known = len(known_ids)
    position = {a.record_id: k for k, a in enumerate(arrivals)}
    for a in arrivals:
        rows[a.record_id] = a.row
        person_of[a.record_id] = a.person_id

    # each arrival's candidates: the known sharing a key, and the batch's earlier records sharing one
    earlier: dict[bytes, list[str]] = defaultdict(list)
    candidates: list[set[str]] = []
    for a, ds in zip(arrivals, digests, strict=True):
        found: set[str] = set()
        for d in ds:
            found.update(known.get(d, ()))
            found.update(earlier[d])
            earlier[d].append(a.record_id)
        found.discard(a.record_id)
        candidates.append(found)
    pairs = sorted({(min(a.record_id, c), max(a.record_id, c)) for a, cs in zip(arrivals, candidates, strict=True)
                    for c in cs})
    stats.pairs_scored = len(pairs)
    if not pairs:
        stats.linked = [Linked(a.person_id, False) for a in arrivals]
        return stats
    floor = th.weight(scoring_floor(th.review))
    version = model.version  # a hash of the whole model: once per batch, not per pair
    scored, stats.engine = score_pairs(model, rows, pairs, floor)
    involved = sorted(set(scored["unique_id_l"]) | set(scored["unique_id_r"])) if len(scored) else []
    frame = features_frame(rows[i] for i in involved)
    holders = phone_counts(db, keys, [p for a in arrivals for p in (a.row.get("phones") or ())])
    decisions = decide_pairs(model, frame, scored, link_at=th.auto_link, review_at=th.review, holders=holders)
    reasons, contributions = _reasons_and_contributions(model, scored, decisions)

    # the decided pairs of each arrival, with the partner it was compared with
    by_arrival: dict[int, list[tuple[int, str]]] = defaultdict(list)
    lefts, rights = scored["unique_id_l"].tolist(), scored["unique_id_r"].tolist()
    for k, (left, right) in enumerate(zip(lefts, rights, strict=True)):
        if decisions.outcome[k] not in _STATUS:
            continue
        pl, pr = position.get(left, -1), position.get(right, -1)
        later, other = (left, right) if pl > pr else (right, left)
        by_arrival[position[later]].append((k, other))

    roots = person_roots(db, set(person_of.values()))
    merged: dict[str, str] = {}
    merges: list[tuple[str, str, str]] = []  # (from, into, pair): applied in order once every pair is decided
    probable: list[str] = []  # records that joined by a probable match
    pair_rows: list[dict[str, Any]] = []
    weight, probability = decisions.match_weight, decisions.match_probability
    now = utcnow()
    for i, a in enumerate(arrivals):
        root = _root_now(roots, merged, a.person_id)
        mine = [(k, other) for k, other in by_arrival.get(i, ()) if _root_now(roots, merged, person_of[other]) != root]
        mine.sort(key=lambda x: (decisions.outcome[x[0]] != LINKED, -float(weight[x[0]])))
        auto_person: str | None = None
        auto_pair: dict[str, Any] | None = None
        queued = relatives = 0
        for k, other in mine:
            status = _STATUS[decisions.outcome[k]]
            if a.unconfirmed and status == "auto":
                status = "pending"
            pair = {"id": new_id(), "record_l": min(a.record_id, other), "record_r": max(a.record_id, other),
                    "match_weight": float(weight[k]), "match_probability": float(probability[k]),
                    "contributions": json.dumps(contributions[k]), "reasons": json.dumps(list(reasons[k])[:6]),
                    "status": status, "model_version": version, "created_at": now}
            pair_rows.append(pair)
            if status == "auto" and auto_pair is None:
                auto_person, auto_pair = _root_now(roots, merged, person_of[other]), pair
            elif status == "pending":
                queued += 1
            elif status == "relatives":
                relatives += 1
        linked = Linked(root, False, len(mine), queued, relatives)
        if auto_pair is not None and auto_person is not None:
            if not a.new_person:  # already joined someone by ID: a second person is for a human to judge
                auto_pair["status"] = "pending"
            else:
                merges.append((root, auto_person, auto_pair["id"]))
                merged[root] = auto_person
                probable.append(a.record_id)
                linked = Linked(auto_person, True, len(mine), queued, relatives)
        stats.linked.append(linked)
    if pair_rows:  # Core, as the blocking keys: a unit of work per pair cost more than the insert
        db.execute(insert(MatchPair.__table__), pair_rows)
    members: dict[str, list[str]] = defaultdict(list)
    for a in arrivals:
        members[a.person_id].append(a.record_id)
    record_events(db, actor, merge_new_persons(db, merges, members, probable))
    return stats


def _root_now(roots: dict[str, str], merged: dict[str, str], person_id: str) -> str:
    """The person's root as the batch's own merges left it (nobody else merges meanwhile: batches link
    one at a time)."""
    at = roots.get(person_id, person_id)
    for _ in range(len(merged) + 1):
        if at not in merged:
            return at
        at = merged[at]
    return at


def _reasons_and_contributions(model: Any, scored: pd.DataFrame, decisions: Any
                               ) -> tuple[list[tuple[str, ...]], list[dict[str, float]]]:
    """Per pair, the reasons and per-comparison weights a reviewer sees, as the one-at-a-time match
    stored them: the model's reasons with the identity core's notes, and the phone's discount in the
    phone's weight."""
    names = [c[6:] for c in scored.columns if c.startswith("gamma_")]
    n = len(scored)
    weights = np.column_stack([
        scored[f"mw_{c}"].to_numpy(dtype=float) + (scored[f"mw_tf_adj_{c}"].fillna(0.0).to_numpy(dtype=float)
                                                   if f"mw_tf_adj_{c}" in scored.columns else 0.0)
        for c in names]) if n else np.zeros((0, len(names)))
    gammas = np.column_stack([scored[f"gamma_{c}"].to_numpy(dtype=np.int64) for c in names]) if n else \
        np.zeros((0, len(names)), dtype=np.int64)
    discount = decisions.match_weight - scored["match_weight"].to_numpy(dtype=float)
    model_reasons = reasons_of_level_arrays(model, gammas, weights)
    reasons: list[tuple[str, ...]] = []
    contributions: list[dict[str, float]] = []
    for k in range(n):
        if decisions.outcome[k] not in _STATUS:
            reasons.append(())
            contributions.append({})
            continue
        d = Decision(decisions.outcome[k], decisions.relation[k], float(decisions.match_weight[k]),
                     float(decisions.match_probability[k]), decisions.notes[k])
        reasons.append(reasons_with_core(model_reasons[k] or (), d))
        row = {c: round(float(weights[k, j]) + (float(discount[k]) if c == "phones" else 0.0), 4)
               for j, c in enumerate(names)}
        contributions.append(row)
    return reasons, contributions
