"""Linkage against the store: index each record's blocking keys as blind indexes, score a new record
against its candidates with the active model as it arrives, re-score everyone in batch, and keep the
stored models. Only ids and scores are written; plaintext exists in memory while a record is scored."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from amanat.core.audit import Actor, record_event
from amanat.core.crypto import KeyHolder
from amanat.linkage.batch import cluster, predict_pairs, weak_links
from amanat.linkage.batch_features import batch_features
from amanat.linkage.comparisons import SPEC_VERSION
from amanat.linkage.decision import (
    LINKED,
    RELATIVES,
    REVIEW,
    decide_pairs,
    decide_scored,
    phone_holders,
    scoring_floor,
)
from amanat.linkage.dedupe import bundled_model
from amanat.linkage.features import (
    blocking_keys,
    features_from_fields,
    features_from_normalized,
    to_arrow,
)
from amanat.linkage.incremental import ScoredPair, score_candidates
from amanat.linkage.model import TrainedModel, train_model
from amanat.linkage.models import LinkageModel, MatchPair
from amanat.normalize.record import NormalizedRecord
from amanat.records.exact_id import UNCONFIRMED
from amanat.records.models import Record, RecordLookup
from amanat.records.service import get_person_root

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)
BLOCK_KIND = "block"
MAX_CANDIDATES = 500  # a key shared by more records than this (a common name + year) stops being evidence

_models: dict[str, TrainedModel] = {}
_models_lock = threading.Lock()


def active_model(db: Session) -> TrainedModel:
    """The newest active stored model, else the model trained on synthetic data that ships with Amanat."""
    row = db.scalars(select(LinkageModel).where(LinkageModel.active).order_by(LinkageModel.id.desc())).first()
    if row is None:
        key = "bundled"
        loader: Callable[[], TrainedModel] = bundled_model
    else:
        key, text = row.version, row.model_json
        def loader() -> TrainedModel:
            model = TrainedModel.from_json(text)
            if model.spec_version != SPEC_VERSION:
                # this version compares other things: the stored model cannot score them until retrained
                log.warning("the stored linkage model %s was trained for comparison spec %s (this version has "
                            "%s): the bundled model scores until `amanat link train` runs", model.version,
                            model.spec_version, SPEC_VERSION)
                return bundled_model()
            return model
    with _models_lock:
        model = _models.get(key)
        if model is None:
            model = _models[key] = loader()
    return model


def store_model(db: Session, actor: Actor, model: TrainedModel, metrics: dict[str, Any] | None = None) -> str:
    """Store ``model`` as the active one. A model that compares a spreadsheet's extra columns
    (``amanat dedupe --compare``) is refused: stored records have no such columns, so intake's
    scoring would read them as missing everywhere."""
    if model.compare_columns:
        from amanat.errors import InvalidInput

        raise InvalidInput("This model compares spreadsheet columns stored records do not have ("
                           + ", ".join(model.compare_columns) + "); it can only be used with amanat dedupe.",
                           code="model_not_for_store")
    if db.scalar(select(LinkageModel.id).where(LinkageModel.version == model.version)) is None:
        db.execute(update(LinkageModel).values(active=False))
        db.add(LinkageModel(version=model.version, model_json=model.to_json(), record_count=model.record_count,
                            metrics=json.dumps(metrics or {}), active=True))
        db.flush()
    record_event(db, actor, "linkage:model", "linkage_model", model.version, records=model.record_count)
    return model.version


def index_record(db: Session, keys: KeyHolder, record_id: str, features: dict[str, Any]) -> int:
    """Blind-index the record's blocking keys so later records find it as a candidate."""
    digests = keys.blind_indexes(BLOCK_KIND, blocking_keys(features))
    for digest in digests:
        db.add(RecordLookup(record_id=record_id, kind=BLOCK_KIND, digest=digest))
    return len(digests)


def _candidate_records(db: Session, keys: KeyHolder, features: dict[str, Any], person_id: str) -> list[Record]:
    digests = keys.blind_indexes(BLOCK_KIND, blocking_keys(features))
    if not digests:
        return []
    ids = db.scalars(select(RecordLookup.record_id).where(RecordLookup.kind == BLOCK_KIND,
                                                          RecordLookup.digest.in_(digests))
                     .distinct().limit(MAX_CANDIDATES)).all()
    if not ids:
        return []
    return [r for r in db.scalars(select(Record).where(Record.id.in_(ids))) if get_person_root(db, r.person_id)
            != person_id]


# A pair's stored status by decision: "relatives" pairs are proposed household members, never merged.
_STATUS = {LINKED: "auto", REVIEW: "pending", RELATIVES: "relatives"}


@dataclass(frozen=True)
class MatchOutcome:
    candidates: int
    auto_person: str | None  # the person to merge into, when one candidate passes the auto-link threshold
    auto_pair: str | None
    queued: int
    best: ScoredPair | None
    relatives: int = 0


def _phone_holders(db: Session, keys: KeyHolder, phones: Iterable[str]) -> dict[str, int]:
    """How many stored records give each of ``phones`` (by their blind index; this record included)."""
    out: dict[str, int] = {}
    for phone in phones:
        digests = keys.blind_indexes("phone", [phone])
        if digests:
            out[phone] = int(db.scalar(select(func.count(func.distinct(RecordLookup.record_id)))
                                       .where(RecordLookup.kind == "phone", RecordLookup.digest.in_(digests))) or 0)
    return out


def _save_pair(db: Session, left: str, right: str, *, weight: float, probability: float,
               contributions: dict[str, float], reasons: list[str], status: str, version: str) -> MatchPair:
    l_id, r_id = sorted((left, right))
    pair = db.scalars(select(MatchPair).where(MatchPair.record_l == l_id, MatchPair.record_r == r_id)).first()
    if pair is None:
        pair = MatchPair(record_l=l_id, record_r=r_id, status=status, model_version=version)
        db.add(pair)
    elif pair.status in ("accepted", "rejected", "household"):
        status = pair.status  # a person's decision is remembered across re-scoring
    pair.match_weight, pair.match_probability = weight, probability
    pair.contributions, pair.reasons = json.dumps(contributions), json.dumps(reasons[:6])
    pair.status, pair.model_version = status, version
    db.flush()
    return pair


def _unconfirmed_status(status: str | None, new: dict[str, Any], other: dict[str, Any]) -> str | None:
    """A record whose exact ID came from an untrusted channel with another name or birth date
    (records.exact_id) is never merged on its own: an auto link waits for a person, and so does the record
    sharing its ID even where the model calls the two different."""
    if status == "auto":
        return "pending"
    if status is None and any(new.get(k) and new.get(k) == other.get(k) for k in ("tazkira", "passport")):
        return "pending"
    return status


def match_new_record(db: Session, keys: KeyHolder, record: Record, norm: NormalizedRecord) -> MatchOutcome:
    """Score a just-stored record against everyone it shares a blocking key with (inside intake)."""
    model = active_model(db)
    features = features_from_normalized(record.id, norm)
    person = get_person_root(db, record.person_id)
    candidates = _candidate_records(db, keys, features, person)
    index_record(db, keys, record.id, features)
    if not candidates:
        return MatchOutcome(0, None, None, 0, None)
    rows = [features_from_fields(c.id, {k: v for k, v in c.data.items() if isinstance(v, str)}) for c in candidates]
    scored = score_candidates(model, features, rows)
    by_id = {str(r["unique_id"]): r for r in rows}
    holders = _phone_holders(db, keys, features.get("phones") or ())
    person_of = {c.id: get_person_root(db, c.person_id) for c in candidates}
    th = model.thresholds
    auto_person = auto_pair = None
    queued = relatives = 0
    decided = [decide_scored(s, features, by_id[s.record_id], holders=holders, link_at=th.auto_link,
                             review_at=th.review) for s in scored]
    # a link before anything else, then the heavier (a brother may outweigh the man himself)
    decided.sort(key=lambda d: (d[0].outcome != LINKED, -d[1].match_weight))
    for decision, s in decided:
        status = _STATUS.get(decision.outcome)
        if record.link_reason == UNCONFIRMED:
            status = _unconfirmed_status(status, features, by_id[s.record_id])
        if status is None:
            continue
        pair = _save_pair(db, s.record_id, record.id, weight=s.match_weight, probability=s.match_probability,
                          contributions={c.comparison: round(c.match_weight, 4) for c in s.contributions},
                          reasons=list(s.reasons), status=status, version=model.version)
        if pair.status == "auto" and auto_person is None:
            auto_person, auto_pair = person_of[s.record_id], pair.id
        elif pair.status == "pending":
            queued += 1
        elif pair.status == "relatives":
            relatives += 1
    best = decided[0][1] if decided else None
    return MatchOutcome(len(candidates), auto_person, auto_pair, queued, best, relatives)


@dataclass(frozen=True)
class BatchResult:
    records: int
    pairs_scored: int
    auto: int
    pending: int
    clusters: int
    weak_clusters: int
    model_version: str
    relatives: int = 0


def _all_features(db: Session, progress: Callable[[int, int], None] | None
                  ) -> tuple[pd.DataFrame, dict[str, str]]:
    """Everyone's feature frame, normalised in a batch (batch_features: per distinct value, forked
    workers); the plaintext stays in this process's memory and its children's."""
    recs = db.execute(select(Record.id, Record.person_id, Record.data).order_by(Record.created_at)).all()
    person_of = {rec_id: person_id for rec_id, person_id, _ in recs}
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(done, len(recs))

    frame = batch_features([r[0] for r in recs],
                           [{k: v for k, v in r[2].items() if isinstance(v, str)} for r in recs], progress=advance)
    return frame, person_of


def train(db: Session, actor: Actor, *, seed: int = 1,
          progress: Callable[[int, int], None] | None = None) -> TrainedModel:
    """Train a new model on everyone known (unsupervised) and make it the active one."""
    frame, _ = _all_features(db, progress)
    if len(frame) < 50:
        from amanat.errors import InvalidInput

        raise InvalidInput("Too few records to train a model (need at least 50); the shipped model stays in use.",
                           code="too_few_records")
    model = train_model(frame, seed=seed)
    store_model(db, actor, model)
    return model


def run_batch(db: Session, keys: KeyHolder, actor: Actor, *,
              progress: Callable[[str, int, int], None] | None = None, spark: SparkSession | None = None
              ) -> BatchResult:
    """Re-score everyone with the active model, refresh the blocking index, store pairs, cluster.
    ``spark``: the pairs are scored there (the store's blocking rules rendered for Spark: the same
    pairs and weights, tests/linkage/test_spark.py)."""
    model = active_model(db)
    frame, person_of = _all_features(db, (lambda i, n: progress("features", i, n)) if progress else None)
    rows = to_arrow(frame).to_pylist()  # one dict per record, as features_from_normalized gives
    db.execute(delete(RecordLookup).where(RecordLookup.kind == BLOCK_KIND))
    for i, row in enumerate(rows):
        index_record(db, keys, str(row["unique_id"]), row)
        if progress:
            progress("index", i + 1, len(rows))
    if len(rows) < 2:
        return BatchResult(len(rows), 0, 0, 0, len(rows), 0, model.version)
    th = model.thresholds
    floor = th.weight(scoring_floor(th.review))
    if spark is not None:
        from amanat.linkage.spark import predict_stored_spark

        pairs = predict_stored_spark(model, frame, spark, threshold_match_weight=floor)
    else:
        pairs = predict_pairs(model, frame, threshold_match_weight=floor)
    decisions = decide_pairs(model, frame, pairs, link_at=th.auto_link, review_at=th.review,
                             holders=phone_holders(frame))
    auto = pending = relatives = 0
    if progress:
        progress("pairs", 0, len(pairs))
    mw_cols = [c for c in pairs.columns if c.startswith("mw_")]
    for i, p in enumerate(pairs.itertuples(index=False)):
        status = _STATUS.get(decisions.outcome[i])
        if status is None:
            continue
        row = p._asdict()
        same = get_person_root(db, person_of[p.unique_id_l]) == get_person_root(db, person_of[p.unique_id_r])
        if same and status == "auto":
            status = "accepted"
        contributions = {c[3:]: round(float(row[c]), 4) for c in mw_cols if row[c] == row[c]}  # skip NaN
        reasons = [r for r in (decisions.relation[i], *decisions.notes[i]) if r]
        pair = _save_pair(db, str(p.unique_id_l), str(p.unique_id_r), weight=float(decisions.match_weight[i]),
                          probability=float(decisions.match_probability[i]), contributions=contributions,
                          reasons=reasons, status=status, version=model.version)
        auto += pair.status == "auto"
        pending += pair.status == "pending"
        relatives += pair.status == "relatives"
        if progress and i % 200 == 0:
            progress("pairs", i + 1, len(pairs))
    linked = decisions.linked()
    links = pairs.loc[linked, ["unique_id_l", "unique_id_r"]].assign(
        match_probability=decisions.match_probability[linked])
    clusters = cluster(links, [r["unique_id"] for r in rows], th.auto_link)
    weak = weak_links(links, threshold=th.auto_link, strict=th.strict)
    record_event(db, actor, "linkage:batch", "linkage_model", model.version, records=len(rows), pairs=len(pairs),
                 auto=auto, pending=pending, relatives=relatives, weak=len(weak))
    return BatchResult(len(rows), len(pairs), auto, pending, int(clusters["cluster_id"].nunique()), len(weak),
                       model.version, relatives)


def pairs_between(db: Session, record_ids: Iterable[str]) -> list[MatchPair]:
    ids = list(record_ids)
    return list(db.scalars(select(MatchPair).where(MatchPair.record_l.in_(ids) | MatchPair.record_r.in_(ids))))


def batch_clusters(db: Session) -> dict[str, str]:
    """The clusters ``run_batch`` (``amanat link run``) makes of everyone known, without writing anything:
    record id -> cluster id. To compare the worker's people with (tests, bench/worker.py)."""
    model = active_model(db)
    th = model.thresholds
    frame, _ = _all_features(db, None)
    ids = [str(i) for i in frame["unique_id"]]
    if len(ids) < 2:
        return {i: i for i in ids}
    pairs = predict_pairs(model, frame, threshold_match_weight=th.weight(scoring_floor(th.review)))
    decisions = decide_pairs(model, frame, pairs, link_at=th.auto_link, review_at=th.review,
                             holders=phone_holders(frame))
    linked = decisions.linked()
    links = pairs.loc[linked, ["unique_id_l", "unique_id_r"]].assign(
        match_probability=decisions.match_probability[linked])
    clusters = cluster(links, ids, th.auto_link)
    return dict(zip(clusters["unique_id"].astype(str), clusters["cluster_id"].astype(str), strict=True))
