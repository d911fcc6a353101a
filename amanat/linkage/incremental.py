"""Score one new record against its candidates in pure Python, as Splink would.

The stored model's m/u per level and its term-frequency tables give the Fellegi–Sunter
weight of each comparison; the level of each comparison comes from the Python twin of
its SQL (comparisons.py). Splink's predict() on the same pair gives the same numbers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from amanat.linkage.comparisons import ComparisonSpec
from amanat.linkage.features import blocking_keys
from amanat.linkage.model import TrainedModel

_CLAMP = 1e-300  # Splink's floor on m and u before taking logs


@dataclass(frozen=True)
class Contribution:
    comparison: str
    level: str
    gamma: int  # Splink's comparison vector value (-1 = null level)
    match_weight: float  # log2 Bayes factor, term-frequency adjustment included
    tf_adjustment: float
    reason: str | None


@dataclass(frozen=True)
class ScoredPair:
    record_id: str  # the candidate's id
    match_weight: float
    match_probability: float
    contributions: tuple[Contribution, ...]
    reasons: tuple[str, ...]  # strongest evidence first, for and against


@dataclass(frozen=True)
class _Level:
    label: str
    gamma: int
    weight: float
    reason: str | None
    tf_col: str | None
    tf_weight: float
    tf_min_u: float
    log2_u_exact: float


@dataclass(frozen=True)
class _Compiled:
    version: str
    prior_weight: float
    specs: tuple[ComparisonSpec, ...]
    levels: tuple[tuple[_Level, ...], ...]


def _compile(model: TrainedModel) -> _Compiled:
    # Compiled once per model object (a stored model is not edited in place; load a new one).
    cached = model.__dict__.get("_amanat_compiled")
    if isinstance(cached, _Compiled):
        return cached
    specs = model.specs
    comps = model.settings_json["comparisons"]
    all_levels: list[tuple[_Level, ...]] = []
    for spec, comp in zip(specs, comps, strict=True):
        stored = comp["comparison_levels"]
        non_null = sum(1 for s in stored if not s.get("is_null_level"))
        gamma = non_null - 1
        levels: list[_Level] = []
        for lv, sl in zip(spec.levels, stored, strict=True):
            if sl.get("is_null_level"):
                levels.append(_Level(lv.label, -1, 0.0, None, None, 0.0, 0.0, 0.0))
                continue
            m = max(float(sl["m_probability"]), _CLAMP)
            u = max(float(sl["u_probability"]), _CLAMP)
            tf_col = sl.get("tf_adjustment_column")
            is_else = sl["sql_condition"].strip().upper() == "ELSE"
            tf_weight = float(sl.get("tf_adjustment_weight", 1.0)) if tf_col else 0.0
            if tf_col and tf_col != lv.tf_col:
                raise ValueError("stored term-frequency column does not match the spec")
            levels.append(_Level(
                label=lv.label, gamma=gamma, weight=math.log2(m / u), reason=lv.reason,
                tf_col=tf_col if tf_col and tf_weight != 0 and not is_else else None,
                tf_weight=tf_weight, tf_min_u=float(sl.get("tf_minimum_u_value", 0.0)),
                # Every tf level in the spec is itself the exact-match level on its column.
                log2_u_exact=math.log2(float(sl["u_probability"])) if tf_col else 0.0,
            ))
            gamma -= 1
        all_levels.append(tuple(levels))
    prior = model.prior
    compiled = _Compiled(model.version, math.log2(prior / (1 - prior)), specs, tuple(all_levels))
    model.__dict__["_amanat_compiled"] = compiled
    return compiled


def _probability(weight: float) -> float:
    if weight >= 0:
        return 1.0 / (1.0 + 2.0 ** (-weight))
    p = 2.0**weight
    return p / (1.0 + p)


def _reasons(contribs: Sequence[Contribution], limit: int = 4) -> tuple[str, ...]:
    """Strongest evidence for the link first, then the strongest against (≥ 1 bit each)."""
    pro = sorted((c for c in contribs if c.reason and c.match_weight >= 1), key=lambda c: -c.match_weight)
    con = sorted((c for c in contribs if c.reason and c.match_weight <= -1), key=lambda c: c.match_weight)
    picked = [c.reason for c in pro[:3]] + [c.reason for c in con[: max(1, limit - min(3, len(pro)))]]
    return tuple(r for r in picked if r)[:limit]


def score_pair(model: TrainedModel, left: Mapping[str, Any], right: Mapping[str, Any]) -> ScoredPair:
    compiled = _compile(model)
    total = compiled.prior_weight
    contribs: list[Contribution] = []
    for spec, levels in zip(compiled.specs, compiled.levels, strict=True):
        lv = levels[spec.level_of(left, right)]
        adj = 0.0
        if lv.tf_col:
            tl, tr = model.tf(lv.tf_col, left.get(lv.tf_col)), model.tf(lv.tf_col, right.get(lv.tf_col))
            a = tl if tl is not None else tr
            if a is not None:
                b = tr if tr is not None else tl
                adj = lv.tf_weight * (lv.log2_u_exact - math.log2(max(a, b or a, lv.tf_min_u)))
        w = lv.weight + adj
        total += w
        contribs.append(Contribution(spec.name, lv.label, lv.gamma, w, adj, lv.reason))
    return ScoredPair(str(right.get("unique_id")), total, _probability(total), tuple(contribs),
                      _reasons(contribs))


def reasons_of_levels(model: TrainedModel, gammas: Sequence[int], weights: Sequence[float]
                      ) -> tuple[str, ...] | None:
    """The reasons ``score_pair`` gives a pair, from the levels and weights Splink's predict
    scored it with (``gamma_<c>``; ``mw_<c>`` + ``mw_tf_adj_<c>``), in the model's comparison
    order, without comparing the records again. None when a level is not known (gamma -2)."""
    compiled = _compile(model)
    contribs: list[Contribution] = []
    for spec, levels, gamma, weight in zip(compiled.specs, compiled.levels, gammas, weights, strict=True):
        lv = next((lv for lv in levels if lv.gamma == gamma), None)
        if lv is None:
            return None
        contribs.append(Contribution(spec.name, lv.label, lv.gamma, float(weight), 0.0, lv.reason))
    return _reasons(contribs)


def reasons_of_level_arrays(model: TrainedModel, gammas: np.ndarray, weights: np.ndarray
                            ) -> list[tuple[str, ...] | None]:
    """``reasons_of_levels`` for many pairs at once: ``gammas`` and ``weights`` are (pairs ×
    comparisons) in the model's comparison order. Equal to it row by row (tested); rows with
    the same reasons share one tuple. Sorting is stable, so ties keep comparison order, as
    ``sorted`` does."""
    compiled = _compile(model)
    n = len(gammas)
    if n == 0:
        return []
    texts: list[str] = []
    reason_id = np.full(gammas.shape, -1, dtype=np.int64)
    known = np.zeros(gammas.shape, dtype=bool)
    for c, levels in enumerate(compiled.levels):
        for lv in levels:
            at = gammas[:, c] == lv.gamma
            known[:, c] |= at
            if lv.reason:
                texts.append(lv.reason)
                reason_id[at, c] = len(texts) - 1
    has = reason_id >= 0
    pro = np.where(has & (weights >= 1), -weights, np.inf)
    con = np.where(has & (weights <= -1), weights, np.inf)
    pro_order = np.argsort(pro, axis=1, kind="stable")[:, :3]
    n_pro = np.minimum(np.isfinite(pro).sum(axis=1), 3)
    con_order = np.argsort(con, axis=1, kind="stable")[:, :4]
    n_con = np.minimum(np.isfinite(con).sum(axis=1), 4 - n_pro)
    # up to four reason ids per row (-1: none), packed into one integer to find the distinct lists
    picked = np.full((n, 4), -1, dtype=np.int64)
    rows = np.arange(n)
    for k in range(3):
        on = n_pro > k
        picked[on, k] = reason_id[rows[on], pro_order[on, k]]
    for k in range(4):
        slot = n_pro + k
        on = n_con > k
        picked[on, slot[on]] = reason_id[rows[on], con_order[on, k]]
    base = len(texts) + 1
    packed = np.zeros(n, dtype=np.int64)
    for k in range(4):
        packed = packed * base + (picked[:, k] + 1)
    distinct, inverse = np.unique(packed, return_inverse=True)
    lists: list[tuple[str, ...]] = []
    for p in distinct.tolist():
        ids = []
        for _ in range(4):
            p, r = divmod(p, base)
            ids.append(r - 1)
        lists.append(tuple(texts[i] for i in reversed(ids) if i >= 0))
    complete = known.all(axis=1)
    return [lists[i] if ok else None for i, ok in zip(inverse.tolist(), complete.tolist(), strict=True)]


def score_candidates(model: TrainedModel, new_row: Mapping[str, Any],
                     candidates: Iterable[Mapping[str, Any]]) -> list[ScoredPair]:
    """Score ``new_row`` against each candidate row, best match first."""
    own = new_row.get("unique_id")
    scored = [score_pair(model, new_row, c) for c in candidates if own is None or c.get("unique_id") != own]
    scored.sort(key=lambda s: -s.match_weight)
    return scored


class CandidateIndex:
    """In-memory blocking index (key -> ids) for the standalone tool and benchmarks. The
    store keeps the same keys HMAC'd in a table instead."""

    def __init__(self) -> None:
        self._ids: dict[str, set[str]] = defaultdict(set)
        self.rows: dict[str, Mapping[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, row: Mapping[str, Any]) -> None:
        rid = str(row["unique_id"])
        self.rows[rid] = row
        for key in blocking_keys(row):
            self._ids[key].add(rid)

    def add_many(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.add(row)

    def candidate_ids(self, row: Mapping[str, Any]) -> set[str]:
        out: set[str] = set()
        for key in blocking_keys(row):
            out |= self._ids.get(key, set())
        out.discard(str(row.get("unique_id")))
        return out

    def candidates(self, row: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        return [self.rows[i] for i in sorted(self.candidate_ids(row))]

    def match(self, model: TrainedModel, row: Mapping[str, Any]) -> list[ScoredPair]:
        return score_candidates(model, row, self.candidates(row))


def scored_frame(model: TrainedModel, pairs: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]], *,
                 floor_weight: float | None = None) -> pd.DataFrame:
    """``score_pair`` for each (left, right) as the frame ``batch.predict_pairs`` gives: ids, weight,
    probability, then ``mw_<c>`` (level weight), ``mw_tf_adj_<c>`` (term-frequency adjustment, for the
    comparisons that have one) and ``gamma_<c>`` per comparison, so ``decision.decide_pairs`` reads it as
    it reads Splink's. Pairs under ``floor_weight`` are left out, as predict's threshold does. For a few
    thousand pairs this is quicker than starting Splink (about half a second per call)."""
    compiled = _compile(model)
    names = [s.name for s in compiled.specs]
    with_tf = [any(lv.tf_col for lv in levels) for levels in compiled.levels]
    cols: dict[str, list[Any]] = {"unique_id_l": [], "unique_id_r": [], "match_weight": [], "match_probability": []}
    for name, tf in zip(names, with_tf, strict=True):
        cols[f"mw_{name}"] = []
        if tf:
            cols[f"mw_tf_adj_{name}"] = []
    for name in names:
        cols[f"gamma_{name}"] = []
    for left, right in pairs:
        s = score_pair(model, left, right)
        if floor_weight is not None and s.match_weight < floor_weight:
            continue
        cols["unique_id_l"].append(str(left.get("unique_id")))
        cols["unique_id_r"].append(s.record_id)
        cols["match_weight"].append(s.match_weight)
        cols["match_probability"].append(s.match_probability)
        for c, tf in zip(s.contributions, with_tf, strict=True):
            cols[f"mw_{c.comparison}"].append(c.match_weight - c.tf_adjustment)
            if tf:
                cols[f"mw_tf_adj_{c.comparison}"].append(c.tf_adjustment)
            cols[f"gamma_{c.comparison}"].append(c.gamma)
    frame = pd.DataFrame(cols)
    for name in names:
        frame[f"gamma_{name}"] = frame[f"gamma_{name}"].astype(np.int64)
    return frame
