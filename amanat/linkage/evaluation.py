"""Pairwise accuracy against known truth: for benchmarks and for checking a model on a
labelled sample before it goes live."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

Pair = tuple[str, str]


def pair(a: object, b: object) -> Pair:
    x, y = str(a), str(b)
    return (x, y) if x <= y else (y, x)


def true_pairs(entity_of: Mapping[str, Hashable]) -> set[Pair]:
    """All record pairs that share an entity (``entity_of``: record id -> entity id)."""
    groups: dict[Hashable, list[str]] = defaultdict(list)
    for rid, ent in entity_of.items():
        groups[ent].append(str(rid))
    out: set[Pair] = set()
    for members in groups.values():
        out.update(pair(a, b) for a, b in combinations(members, 2))
    return out


def scores(found: Iterable[Pair], truth: set[Pair]) -> dict[str, Any]:
    found_set = {pair(*p) for p in found}
    tp = len(found_set & truth)
    fp = len(found_set) - tp
    fn = len(truth) - tp
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


def pairs_of(df: pd.DataFrame, left: str = "unique_id_l", right: str = "unique_id_r") -> list[Pair]:
    return [pair(a, b) for a, b in zip(df[left], df[right], strict=True)]


def threshold_curve(pred: pd.DataFrame, truth: set[Pair], probabilities: Iterable[float],
                    left: str = "unique_id_l", right: str = "unique_id_r") -> list[dict[str, Any]]:
    """Precision/recall/F1 of the pairs at or above each match-probability threshold."""
    is_true = np.array([k in truth for k in pairs_of(pred, left, right)], dtype=bool)
    prob = pred["match_probability"].to_numpy(dtype=float)
    out = []
    for t in probabilities:
        sel = prob >= t
        tp = int((is_true & sel).sum())
        fp = int(sel.sum()) - tp
        fn = len(truth) - tp
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        out.append({"threshold": float(t), "tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r,
                    "f1": 2 * p * r / (p + r) if p + r else 0.0})
    return out


def cluster_pairs(clusters: pd.DataFrame, id_col: str = "unique_id", cluster_col: str = "cluster_id") -> set[Pair]:
    """Every pair of records put in the same cluster."""
    groups: dict[Any, list[str]] = defaultdict(list)
    for rid, cid in zip(clusters[id_col], clusters[cluster_col], strict=True):
        groups[cid].append(str(rid))
    out: set[Pair] = set()
    for members in groups.values():
        if len(members) > 1:
            out.update(pair(a, b) for a, b in combinations(members, 2))
    return out


def blocking_ceiling(candidate_pairs: Iterable[Pair], truth: set[Pair]) -> float:
    """Share of true pairs that blocking generates at all: the most recall can ever be."""
    found = {pair(*p) for p in candidate_pairs}
    return len(found & truth) / len(truth) if truth else 1.0
