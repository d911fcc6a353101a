"""Clustering (connected components at a threshold) and weak-link flags."""

from __future__ import annotations

import numpy as np
import pandas as pd

from amanat.linkage.batch import _bridges, cluster, components, weak_links


def _pairs(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unique_id_l", "unique_id_r", "match_probability"])


def test_connected_components_and_singletons() -> None:
    pairs = _pairs([("a", "b", 0.999), ("b", "c", 0.98), ("d", "e", 0.4), ("f", "g", 0.9999)])
    out = cluster(pairs, ["a", "b", "c", "d", "e", "f", "g", "h"], 0.95)
    cid = dict(zip(out["unique_id"], out["cluster_id"], strict=True))
    assert cid["a"] == cid["b"] == cid["c"]
    assert cid["d"] != cid["e"]  # below the threshold: not linked
    assert cid["f"] == cid["g"] != cid["a"]
    assert len(set(cid.values())) == 5
    assert dict(zip(out["unique_id"], out["cluster_size"], strict=True))["a"] == 3
    assert list(out["unique_id"]) == ["a", "b", "c", "d", "e", "f", "g", "h"]


def test_bridges_found_in_chain_not_in_cycle() -> None:
    assert _bridges([("a", "b"), ("b", "c"), ("c", "a")]) == set()
    assert _bridges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]) == {("c", "d")}
    assert _bridges([("a", "b"), ("b", "c")]) == {("a", "b"), ("b", "c")}


def test_weak_links_single_link_below_strict_and_bridges() -> None:
    pairs = _pairs([
        ("a", "b", 0.96),  # a pair held by one middling link
        ("c", "d", 0.99999),  # a strong pair: fine
        ("e", "f", 0.99999), ("f", "g", 0.99999), ("g", "e", 0.99999),  # a triangle: no bridge
        ("g", "h", 0.99999),  # h hangs on the triangle by one link: a bridge
    ])
    weak = {(w.unique_id_l, w.unique_id_r): w.reason for w in weak_links(pairs, threshold=0.95, strict=0.999)}
    assert set(weak) == {("a", "b"), ("g", "h")}
    assert "below the strict threshold" in weak[("a", "b")]
    assert "bridges" in weak[("g", "h")]

    out = cluster(pairs, list("abcdefgh"), 0.95, strict=0.999).set_index("unique_id")
    assert out.loc["a", "weak_link"] and out.loc["b", "weak_link"]
    assert not out.loc["c", "weak_link"] and not out.loc["e", "weak_link"]
    assert out.loc["h", "weak_link"] and out.loc["g", "weak_link"]
    assert out.loc["a", "weak_reason"]


def test_cluster_with_no_pairs() -> None:
    out = cluster(_pairs([]), ["x", "y"], 0.9, strict=0.99)
    assert list(out["cluster_size"]) == [1, 1]
    assert out["cluster_id"].nunique() == 2


def test_components_match_a_plain_union_find_on_random_graphs() -> None:
    rng = np.random.default_rng(7)
    for n, m in ((1, 0), (50, 10), (400, 380), (300, 900)):
        a, b = rng.integers(0, n, m), rng.integers(0, n, m)
        parent = list(range(n))

        def find(x: int) -> int:
            while parent[x] != x:
                x = parent[x]
            return x

        for x, y in zip(a.tolist(), b.tolist(), strict=True):
            rx, ry = find(x), find(y)
            parent[max(rx, ry)] = min(rx, ry)  # the smallest node is the root, as in components
        assert components(n, a, b).tolist() == [find(x) for x in range(n)]


def test_a_long_chain_is_one_cluster_named_by_its_smallest_id() -> None:
    ids = [f"r{i:04d}" for i in range(1000)]
    pairs = _pairs([(ids[i + 1], ids[i], 0.999) for i in range(999)])
    out = cluster(pairs, ids[::-1], 0.99)
    assert set(out["cluster_id"]) == {"r0000"} and set(out["cluster_size"]) == {1000}


def _weak_by_removal(rows: list[tuple[str, str, float]], strict: float) -> list[tuple[str, str, float, str]]:
    """The reference: a link is a bridge when, taken out (that one listing of it), its two
    records are no longer connected; flagged as weak_links documents."""
    def connected(edges: list[tuple[str, str]], x: str, y: str) -> bool:
        seen, todo = {x}, [x]
        while todo:
            n = todo.pop()
            for u, v in edges:
                for p, q in ((u, v), (v, u)):
                    if p == n and q not in seen:
                        seen.add(q)
                        todo.append(q)
        return y in seen

    edges = [(u, v) for u, v, _ in rows]
    out = []
    for i, (u, v, p) in enumerate(rows):
        rest = edges[:i] + edges[i + 1:]
        size = sum(1 for n in {x for e in edges for x in e} if connected(edges, u, n))
        if connected(rest, u, v):
            continue
        if size == 2 and p >= strict:
            continue
        out.append((u, v, p, "held together by a single link below the strict threshold" if p < strict
                    else "a single link bridges two groups of records"))
    return sorted(out, key=lambda w: (w[0], w[1]))


def test_weak_links_equal_a_bridge_search_by_removal_on_random_graphs() -> None:
    # trees (every link a bridge), complete clusters (none), cycles with tails, pairs listed twice
    rng = np.random.default_rng(3)
    for _ in range(60):
        n = int(rng.integers(2, 9))
        names = [f"r{int(rng.integers(0, 10**6))}_{i}" for i in range(n)]
        rows = []
        for _ in range(int(rng.integers(1, 2 * n))):
            i, j = rng.choice(n, size=2, replace=False)
            rows.append((names[i], names[j], float(rng.choice([0.995, 0.9995]))))
        if rng.random() < 0.3:  # a complete cluster
            rows = [(names[i], names[j], 0.9995) for i in range(min(n, 5)) for j in range(i + 1, min(n, 5))]
        got = [(w.unique_id_l, w.unique_id_r, w.match_probability, w.reason)
               for w in weak_links(_pairs(rows), threshold=0.99, strict=0.999)]
        assert got == _weak_by_removal(rows, 0.999), rows


def test_clusters_of_numbered_records_equal_the_clusters_of_their_ids() -> None:
    from amanat.linkage.batch import cluster_positions

    rng = np.random.default_rng(5)
    n = 400
    left = rng.integers(0, n, 700)
    right = (left + rng.integers(1, 6, 700)) % n  # short chains and small dense groups
    prob = rng.choice([0.5, 0.95, 0.992, 0.9995], 700)
    pairs = pd.DataFrame({"unique_id_l": left.astype(str), "unique_id_r": right.astype(str), "match_probability": prob})
    ids = [str(i) for i in range(n)]
    by_id = cluster(pairs, ids, 0.99, strict=0.999)
    by_number = cluster_positions(left, right, prob, n, 0.99, strict=0.999)
    assert (pd.factorize(by_id["cluster_id"])[0] == pd.factorize(by_number["cluster_id"])[0]).all()
    assert by_id["cluster_size"].tolist() == by_number["cluster_size"].tolist()
    assert by_id["weak_reason"].tolist() == by_number["weak_reason"].tolist()
    assert by_number["weak_link"].sum() > 20 and by_number["cluster_size"].max() > 3
