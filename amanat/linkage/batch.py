"""Batch prediction and clustering with a stored model.

Runs Splink over an in-memory DuckDB connection (model.new_connection: no database
file, spilling disabled), so plaintext never reaches disk. Outputs carry ids, weights
and comparison levels, never the compared values.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from splink.internals.chunking import _blocked_pairs_cache_key

from amanat.linkage.blocking import blocked_pairs
from amanat.linkage.features import BlockRule
from amanat.linkage.model import TrainedModel, model_linker, new_connection
from amanat.linkage.workers import default_jobs

PAIR_ID_COLUMNS = ("unique_id_l", "unique_id_r")


def predict_pairs(
    model: TrainedModel,
    df: pd.DataFrame,
    *,
    threshold_match_weight: float | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    blocking: Sequence[BlockRule] | None = None,
    blocked: pa.Table | None = None,
) -> pd.DataFrame:
    """Score every blocked pair of ``df`` (a features_frame) at or above the threshold.

    Columns: unique_id_l, unique_id_r, match_weight, match_probability, then per
    comparison ``gamma_<c>`` (level), ``mw_<c>`` (log2 Bayes factor) and, for name
    comparisons, ``mw_tf_adj_<c>`` (term-frequency adjustment): a waterfall's bars.
    Default threshold: the model's review band. ``blocking``: the standalone dedupe's rules
    instead of BLOCKING_RULES (see model_linker); never for stored records. ``blocked``: the
    pairs of those rules already listed (blocking.blocked_pairs), for a dedupe; else they are
    listed here.
    """
    if threshold_match_weight is None:
        threshold_match_weight = model.thresholds.weight(model.thresholds.review)
    own = con is None
    con = con or new_connection()
    try:
        linker = model_linker(model, df, con=con, blocking=blocking)
        if blocking is not None and model.link_type == "dedupe_only":
            # the same pairs as Splink's blocking on these rules (tested), listed in numpy
            if blocked is None:
                blocked = blocked_pairs(df, blocking, jobs=default_jobs())
            # Put where Splink keeps the pairs its own blocking lists, so predict scores them as
            # it scores its own (the same SQL: tested equal). Registered for predict instead
            # (register_blocked_pairs_for_predict), Splink first copies the rows they touch out
            # of the frame, once per side: a second of 5 at a million records.
            registered = linker._db_api.register(blocked)
            linker._intermediate_table_cache[_blocked_pairs_cache_key()] = linker._db_api.table_to_splink_dataframe(
                "__splink__blocked_id_pairs", registered.physical_name)
        pred = linker.inference.predict(threshold_match_weight=threshold_match_weight, warning_mode="never")
        # only the columns kept leave DuckDB (the term frequencies were most of the fetch)
        table = con.sql(f"select * from {pred.physical_name} limit 0")  # noqa: S608 (Splink's table name)  # nosec B608
        keep = [c for c in table.columns if not c.startswith("tf_") and c != "match_key"]
        out = con.sql("select " + ", ".join(f'"{c}"' for c in keep)  # noqa: S608 (its column names)
                      + f" from {pred.physical_name}").df()
    finally:
        if own:  # DuckDB's working memory back now, not when the linker is collected
            con.close()
    return scored_pairs(model, out)


def scored_pairs(model: TrainedModel, out: pd.DataFrame) -> pd.DataFrame:
    """Splink's predictions (term frequencies and match_key dropped) as predict_pairs gives them,
    whichever backend scored them: the ids and scores first, then each comparison's columns, its
    level read back as ``gamma_<c>``."""
    out = _with_gamma(model, out)
    lead = [c for c in ("source_dataset_l", "source_dataset_r") if c in out.columns]
    first = [*PAIR_ID_COLUMNS, "match_weight", "match_probability"]
    rest = [c for c in out.columns if c not in first and c not in lead]
    return out[[*first, *lead, *rest]].reset_index(drop=True)


def _with_gamma(model: TrainedModel, out: pd.DataFrame) -> pd.DataFrame:
    """Add ``gamma_<c>`` (Splink's level number) read back from ``mw_<c>``.

    Splink emits gamma only alongside the compared values (retain_matching_columns); the
    level weights of a comparison are distinct, so the weight names the level without
    carrying plaintext into the output.
    """
    gammas: dict[str, np.ndarray] = {}
    for comp in model.settings_json["comparisons"]:
        name = comp["output_column_name"]
        col = f"mw_{name}"
        if col not in out.columns:
            continue
        lookup: dict[float, int] = {}
        n_levels = sum(1 for lv in comp["comparison_levels"] if not lv.get("is_null_level"))
        gamma = n_levels - 1
        for lv in comp["comparison_levels"]:
            if lv.get("is_null_level"):
                lookup.setdefault(0.0, -1)
                continue
            w = math.log2(max(lv["m_probability"], 1e-300) / max(lv["u_probability"], 1e-300))
            lookup[w] = -2 if w in lookup else gamma  # -2: two levels share a weight
            gamma -= 1
        at = pd.Index(list(lookup), dtype="float64").get_indexer(out[col].to_numpy(dtype="float64"))
        levels = np.array(list(lookup.values()), dtype=np.int64)
        gammas[f"gamma_{name}"] = np.where(at >= 0, levels[at] if len(levels) else -2, -2)
    return pd.concat([out, pd.DataFrame(gammas, index=out.index)], axis=1)


@dataclass(frozen=True)
class WeakLink:
    unique_id_l: str
    unique_id_r: str
    match_probability: float
    reason: str


def _bridges(edges: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Bridges of an undirected graph (iterative Tarjan): links whose removal splits a cluster."""
    adj: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for i, (a, b) in enumerate(edges):
        adj[a].append((b, i))
        adj[b].append((a, i))
    disc: dict[str, int] = {}
    low: dict[str, int] = {}
    found: set[tuple[str, str]] = set()
    timer = 0
    for root in adj:
        if root in disc:
            continue
        disc[root] = low[root] = timer
        timer += 1
        stack: list[tuple[str, int, int]] = [(root, -1, 0)]
        while stack:
            node, via, idx = stack[-1]
            if idx < len(adj[node]):
                stack[-1] = (node, via, idx + 1)
                nxt, eid = adj[node][idx]
                if eid == via:
                    continue
                if nxt in disc:
                    low[node] = min(low[node], disc[nxt])
                else:
                    disc[nxt] = low[nxt] = timer
                    timer += 1
                    stack.append((nxt, eid, 0))
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > disc[parent]:
                        found.add(edges[via])
    return found


def weak_links(pairs: pd.DataFrame, *, threshold: float, strict: float) -> list[WeakLink]:
    """Links at or above ``threshold`` that alone hold a cluster together.

    A bridge below ``strict`` is weak in any cluster; in a cluster of three or more a bridge
    is flagged at any strength, because chains (A~B~C with A and C unlike) are how two
    people end up merged.
    """
    kept = pairs[pairs["match_probability"] >= threshold]
    left = kept["unique_id_l"].astype(str).to_numpy(dtype=object)
    right = kept["unique_id_r"].astype(str).to_numpy(dtype=object)
    prob = kept["match_probability"].to_numpy(dtype=float)
    codes, nodes = pd.factorize(np.concatenate([left, right]))
    a, b = codes[: len(left)], codes[len(left):]
    labels = components(len(nodes), a, b)
    nodes_in = np.bincount(labels, minlength=len(nodes))[labels[a]]
    edges_in = np.bincount(labels[a], minlength=len(nodes))[labels[a]]
    out: list[WeakLink] = []
    # A cluster of two held by one link: that link is its bridge (no graph walk needed).
    for i in np.flatnonzero((edges_in == 1) & (prob < strict)):
        out.append(WeakLink(left[i], right[i], float(prob[i]),
                            "held together by a single link below the strict threshold"))
    # Larger clusters without a walk where the answer is known: in a tree (links = records - 1)
    # every link is a bridge; where every pair of records is linked, none is.
    lo, hi = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    once = np.zeros(len(a), dtype=np.int64)  # a pair listed twice is one pair of records
    once[np.unique(lo * len(nodes) + hi, return_index=True)[1]] = 1
    pairs_in = np.bincount(labels[a], weights=once, minlength=len(nodes)).astype(np.int64)[labels[a]]
    big = nodes_in >= 3
    tree = big & (edges_in == nodes_in - 1)
    walk = np.flatnonzero(big & ~tree & (pairs_in < nodes_in * (nodes_in - 1) // 2))
    bridges = _bridges([(left[i], right[i]) for i in walk])
    for i in sorted([*np.flatnonzero(tree).tolist(), *walk.tolist()]):
        e = (left[i], right[i])
        if not tree[i] and e not in bridges:
            continue
        p = float(prob[i])
        if p < strict:
            out.append(WeakLink(e[0], e[1], p, "held together by a single link below the strict threshold"))
        else:
            out.append(WeakLink(e[0], e[1], p, "a single link bridges two groups of records"))
    return sorted(out, key=lambda w: (w.unique_id_l, w.unique_id_r))


def cluster_positions(left: np.ndarray, right: np.ndarray, prob: np.ndarray, n: int, threshold: float, *,
                      strict: float | None = None) -> pd.DataFrame:
    """cluster() for records numbered 0..n-1, the pairs given by those numbers: the same
    clusters, each named by its smallest number, and the same weak links flagged (ids "0",
    "1"… for weak_links' order). No ids to hash and sort: a million records 2.5 s → 0.3 s."""
    keep = prob >= threshold
    a, b = left[keep].astype(np.int64), right[keep].astype(np.int64)
    labels = components(n, a, b)
    weak = np.full(n, "", dtype=object)
    if strict is not None and len(a):
        edges = pd.DataFrame({"unique_id_l": a.astype(str), "unique_id_r": b.astype(str),
                              "match_probability": prob[keep]})
        for wl in weak_links(edges, threshold=threshold, strict=strict):
            for i in (int(wl.unique_id_l), int(wl.unique_id_r)):
                if not weak[i]:
                    weak[i] = wl.reason
    return pd.DataFrame({"unique_id": np.arange(n), "cluster_id": labels,
                         "cluster_size": np.bincount(labels, minlength=n)[labels].astype(int),
                         "weak_link": weak != "", "weak_reason": weak})


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of nodes 0..n-1 joined by edges a[i]-b[i]: each node's label is the
    smallest node in its component. Min-label propagation with pointer jumping, in numpy:
    rounds grow with a cluster's diameter, which for people's records is a few links."""
    labels = np.arange(n, dtype=np.int64)
    while len(a):
        low = np.minimum(labels[a], labels[b])
        np.minimum.at(labels, a, low)
        np.minimum.at(labels, b, low)
        while True:  # point every node at its label's label until nothing moves
            nxt = labels[labels]
            if np.array_equal(nxt, labels):
                break
            labels = nxt
        if np.array_equal(labels[a], labels[b]):
            break
    return labels


def cluster(
    pairs: pd.DataFrame,
    ids: Iterable[str],
    threshold: float,
    *,
    strict: float | None = None,
) -> pd.DataFrame:
    """Connected components of the links with match_probability ≥ ``threshold``, every id
    present (singletons are their own cluster), each cluster named by its smallest id.

    Columns: unique_id, cluster_id, cluster_size, weak_link (bool), weak_reason. With
    ``strict`` given, records on a weak link (see ``weak_links``) are flagged.
    """
    if isinstance(ids, pd.Series) and isinstance(ids.dtype, pd.ArrowDtype) and pa.types.is_string(
            ids.dtype.pyarrow_dtype):  # already text: taken as is (a str() per id took a second at 1M)
        node_ids = pd.Series(ids.to_numpy(dtype=object), dtype=object)
    else:
        node_ids = pd.Series([str(i) for i in ids], dtype=object)
    codes, seen = pd.factorize(node_ids)
    # Each distinct id's place in string order (Arrow sorts strings in C; UTF-8 byte order is
    # code-point order, as Python's), so the smallest node of a component is its smallest id.
    place = pc.rank(pa.array(seen, type=pa.string()), sort_keys="ascending",
                    tiebreaker="first").to_numpy().astype(np.int64) - 1
    names = np.empty(len(seen), dtype=object)
    names[place] = np.asarray(seen, dtype=object)
    edges = pairs.loc[pairs["match_probability"] >= threshold, ["unique_id_l", "unique_id_r", "match_probability"]]
    index = pd.Index(seen)
    a = index.get_indexer(edges["unique_id_l"].astype(str))
    b = index.get_indexer(edges["unique_id_r"].astype(str))
    known = (a >= 0) & (b >= 0)  # a pair naming an id not listed cannot join the list's clusters
    labels = components(len(names), place[a[known]], place[b[known]])
    node = labels[place[codes]]
    out = pd.DataFrame({"unique_id": node_ids, "cluster_id": names[node],
                        "cluster_size": np.bincount(labels, minlength=len(names))[node].astype(int)})
    out["weak_link"] = False
    out["weak_reason"] = ""
    if strict is not None and len(edges):
        reason: dict[str, str] = {}
        for wl in weak_links(edges, threshold=threshold, strict=strict):
            reason.setdefault(wl.unique_id_l, wl.reason)
            reason.setdefault(wl.unique_id_r, wl.reason)
        out["weak_reason"] = out["unique_id"].map(reason).fillna("")
        out["weak_link"] = out["weak_reason"] != ""
    return out.reset_index(drop=True)
