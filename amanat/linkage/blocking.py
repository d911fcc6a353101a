"""Blocking rules over a feature frame, in numpy: how many pairs each rule makes, and the
pairs themselves.

Keys are Arrow's hash codes of the rules' columns, combined as integers; pairs are listed
within each key's group. ``blocked_pairs`` gives the table Splink's own blocking would (every
pair any rule makes, once, keyed by the first rule that makes it), for Splink to score
(``register_blocked_pairs_for_predict``): Splink joins the whole frame once per rule, which
at a million records was a third of predict.

``cap_rule`` keeps a rule with its largest blocks left out (a names-only list's commonest
names): the rule gains a ``Cap`` column, the same restriction in Splink's SQL and here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from amanat.linkage.features import BlockRule


@dataclass
class Codes:
    """What the rules share, kept from rule to rule and from counting pairs to listing them:
    each column's codes (and how many distinct values), each rule's (rows, keys)."""

    columns: dict[str, tuple[np.ndarray, int]] = field(default_factory=dict)
    rules: dict[BlockRule, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


@dataclass(frozen=True)
class DerivedKey:
    """A blocking key made from one feature column, for the standalone dedupe's rules alone
    (never stored, so never in the store's index): ``arrow`` computes it here, ``sql`` is the
    same in DuckDB, for Splink's own blocking (a link of files; the tests' comparison)."""

    column: str
    arrow: Callable[[pa.Array], pa.Array]
    sql: str


# The own name's sound key with its spaces dropped (نثاراحمد / نثار احمد, Sakhizad / Sakhi Zad), and
# its first two parts (Mohammad Nabi / Mohammad Nabi s/o Abdul Karim, Wali Jan / Wali Jan Saberi).
DERIVED_KEYS: dict[str, DerivedKey] = {
    "full_phon_joined": DerivedKey("full_phon", lambda v: pc.replace_substring(v, " ", ""),
                                   "replace(full_phon, ' ', '')"),
    "full_phon_two": DerivedKey("full_phon", lambda v: pc.binary_join(pc.list_slice(pc.split_pattern(v, " "), 0, 2),
                                                                       " "),
                                "array_to_string(string_split(full_phon, ' ')[1:2], ' ')"),
}


class Cap(str):
    """The last column of a rule from cap_rule: its text is SQL that is null on the rows of
    the blocks left out (1 elsewhere), so that Splink, joining on it as on any column, leaves
    them out too; here the blocks of more than ``largest`` entries are left out instead, which
    on the same frame are the blocks the SQL lists (tested against Splink's own blocking)."""

    largest: int

    def __new__(cls, sql: str, largest: int) -> Cap:
        self = super().__new__(cls, sql)
        self.largest = largest
        return self

    def __reduce__(self) -> tuple[type[Cap], tuple[str, int]]:
        return Cap, (str(self), self.largest)


def _one_chunk(column: pd.Series) -> pa.Array:
    values = pa.array(column)
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _values(frame: pd.DataFrame, c: str) -> pa.Array:
    """A column of the frame, or a DERIVED_KEYS key made from one."""
    derived = DERIVED_KEYS.get(c) if c not in frame.columns else None
    if derived is not None:
        return derived.arrow(_one_chunk(frame[derived.column]))
    return _one_chunk(frame[c])


def _codes(values: pa.Array) -> tuple[np.ndarray, int]:
    """Each value's code (-1: none) and how many distinct values there are."""
    encoded = pc.dictionary_encode(values)
    return pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64), len(encoded.dictionary)


def rule_keys(frame: pd.DataFrame, rule: BlockRule, cache: Codes | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(row, key) of every entry of a rule: one per row, or one per element of an exploded list
    (as Splink joins it); key -1 where a column has no value (no pair). ``cache``: as Codes."""
    cache = Codes() if cache is None else cache
    if rule in cache.rules:
        return cache.rules[rule]
    rows: np.ndarray | None = None
    flat: pa.Array | None = None
    if rule.explode:
        lists = _one_chunk(frame[rule.explode])
        rows = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
        flat = pc.list_flatten(lists)
    key: np.ndarray | None = None
    cap: Cap | None = None
    for c in rule.columns:
        if isinstance(c, Cap):
            cap = c
        elif c == rule.explode:
            codes, distinct = _codes(flat)
        else:
            if c not in cache.columns:
                cache.columns[c] = _codes(_values(frame, c))
            codes, distinct = cache.columns[c]
            if rows is not None:
                codes = codes[rows]
        if key is None:
            key = codes
        else:  # a missing value anywhere keeps the row out; codes stay below the row count
            key = np.where((key < 0) | (codes < 0), -1,
                           pd.factorize(key * (distinct + 1) + codes)[0])
    if key is None:
        key = np.full(len(frame), -1, dtype=np.int64)
    if cap is not None:  # the blocks of more than cap.largest entries go
        counts = _block_sizes(key)
        key = np.where((key >= 0) & (counts[np.maximum(key, 0)] <= cap.largest), key, -1)
    cache.rules[rule] = got = (np.arange(len(frame)) if rows is None else rows), key
    return got


def _block_sizes(key: np.ndarray) -> np.ndarray:
    """How many entries hold each key (key -1: none); at least one place."""
    return np.bincount(key[key >= 0], minlength=1).astype(np.int64)


def rule_pairs(frame: pd.DataFrame, rule: BlockRule, cache: Codes | None = None) -> int:
    """Pairs a rule would generate within the frame (every record against every other); an
    exploded list counts per element, as Splink joins it."""
    _, key = rule_keys(frame, rule, cache)
    counts = _block_sizes(key)
    return int((counts * (counts - 1) // 2).sum())


@dataclass(frozen=True)
class Capped:
    """A rule from cap_rule, and what it leaves out: ``keys`` blocks (its commonest values), of
    ``rows`` entries in all, each of more than ``largest`` entries; ``pairs`` it still makes."""

    rule: BlockRule
    largest: int
    keys: int
    rows: int
    pairs: int


def _sql_literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"no SQL literal for a {type(value).__name__} blocking key")


def cap_rule(frame: pd.DataFrame, rule: BlockRule, budget: int, cache: Codes | None = None) -> Capped | None:
    """``rule`` with its largest blocks left out: every key held by more than K entries, K the
    largest block size whose blocks and all smaller ones make at most ``budget`` pairs. None
    when no pairs would be left, or for a rule on an exploded list (not capped).

    The rule (named ``<name>_c``) gains a Cap column: the SQL lists the keys left out, or those
    kept where they are fewer (blocks of one row make no pair either way)."""
    if rule.explode or any(isinstance(c, Cap) for c in rule.columns):
        return None
    rows, key = rule_keys(frame, rule, cache)
    counts = _block_sizes(key)
    sizes, blocks = np.unique(counts[counts >= 2], return_counts=True)
    up_to = np.cumsum(sizes * (sizes - 1) // 2 * blocks)  # pairs of the blocks of at most each size
    fits = int(np.searchsorted(up_to, budget, side="right"))
    if fits == 0:
        return None
    largest = int(sizes[fits - 1])
    out = counts > largest
    if not out.any():  # within the budget as it is
        return Capped(rule, largest, 0, 0, int(up_to[fits - 1]))
    kept = (counts >= 2) & ~out
    listed, leave_out = (np.flatnonzero(out), True) if out.sum() <= kept.sum() else (np.flatnonzero(kept), False)
    # a row of each listed key (any one), and the key's value in each column there
    row_of = np.full(len(counts), -1, dtype=np.int64)
    held = key >= 0
    row_of[key[held]] = rows[held]
    at = pa.array(row_of[listed])
    values = [_values(frame, c).take(at).to_pylist() for c in rule.columns]
    exprs = [DERIVED_KEYS[c].sql if c in DERIVED_KEYS else c for c in rule.columns]
    if len(exprs) == 1:
        whole, items = exprs[0], [_sql_literal(v) for v in values[0]]
    else:
        whole = f"list_value({', '.join(exprs)})"
        items = ["[" + ", ".join(_sql_literal(v) for v in row) + "]" for row in zip(*values, strict=True)]
    within = f"{whole} IN ({', '.join(items)})"
    sql = f"CASE WHEN {within} THEN NULL ELSE 1 END" if leave_out else f"CASE WHEN {within} THEN 1 END"
    capped = BlockRule(f"{rule.name}_c", (*rule.columns, Cap(sql, largest)))
    return Capped(capped, largest, int(out.sum()), int(counts[out].sum()), int(up_to[fits - 1]))


def _encoded(frame: pd.DataFrame, rules: Sequence[BlockRule], threads: ThreadPoolExecutor,
             cache: Codes | None) -> Codes:
    # Arrow's encoding lets go of the GIL: every column on every core
    cache = Codes() if cache is None else cache
    columns = [c for c in dict.fromkeys(c for r in rules for c in r.columns
                                        if c != r.explode and not isinstance(c, Cap))
               if c not in cache.columns]
    cache.columns.update(zip(columns, threads.map(lambda c: _codes(_values(frame, c)), columns), strict=True))
    return cache


def pair_counts(frame: pd.DataFrame, rules: Sequence[BlockRule], jobs: int = 1,
                cache: Codes | None = None) -> dict[str, int]:
    """rule_pairs of each rule, by name, on ``jobs`` threads (pandas' factorize lets go of the
    GIL too: a million records, 16 rules: 2.0 s → 1.4 s on two cores). ``cache``: as Codes."""
    with ThreadPoolExecutor(max(1, jobs)) as threads:
        cache = _encoded(frame, rules, threads, cache)
        return dict(zip((r.name for r in rules), threads.map(lambda r: rule_pairs(frame, r, cache), rules),
                        strict=True))


def _within_groups(rows: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of entries that share a key (key -1: none), as their rows."""
    keep = key >= 0
    rows, key = rows[keep], key[keep]
    order = np.argsort(key, kind="stable")
    rows, key = rows[order], key[order]
    if len(key) < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], len(key)]
    later = np.repeat(ends, ends - starts) - np.arange(len(key)) - 1  # partners after each entry
    first = np.repeat(np.arange(len(key)), later)
    step = np.arange(len(first)) - np.repeat(np.cumsum(later) - later, later)
    return rows[first], rows[first + 1 + step]


def _pair_codes(frame: pd.DataFrame, rules: Sequence[BlockRule], place: np.ndarray, jobs: int,
                cache: Codes | None) -> tuple[np.ndarray, np.ndarray]:
    """Every pair each rule makes as one number, lo * n + hi in ``place`` order (rows' places
    among the n rows), and the rule's position, each rule's pairs in turn."""
    n = len(place)
    found: list[np.ndarray] = []
    rule_of: list[np.ndarray] = []
    with ThreadPoolExecutor(max(1, jobs)) as threads:
        cache = _encoded(frame, rules, threads, cache)
        for i, (a, b) in enumerate(threads.map(lambda r: _within_groups(*rule_keys(frame, r, cache)), rules)):
            pa_, pb = place[a], place[b]
            distinct = pa_ != pb  # a row with the same element twice in an exploded list
            lo, hi = np.minimum(pa_, pb)[distinct], np.maximum(pa_, pb)[distinct]
            found.append(lo * n + hi)
            rule_of.append(np.full(len(lo), i, dtype=np.int64))
    if not found:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(found), np.concatenate(rule_of)


def union_pair_count(frame: pd.DataFrame, rules: Sequence[BlockRule], jobs: int = 1) -> int:
    """How many distinct pairs of a dedupe any of the rules makes: Splink's cumulative
    comparison count, which its prior estimate divides by every pair of the file."""
    everything, _ = _pair_codes(frame, rules, np.arange(len(frame), dtype=np.int64), jobs, None)
    return len(np.unique(everything))


def blocked_pairs(frame: pd.DataFrame, rules: Sequence[BlockRule], jobs: int = 1,
                  cache: Codes | None = None) -> pa.Table:
    """Splink's blocked id pairs of a dedupe (one table, ids in ``unique_id``): columns
    match_key (the first rule's position, as text), join_key_l, join_key_r, with
    join_key_l < join_key_r as text compares, each pair once. ``cache``: as Codes."""
    ids = _one_chunk(frame["unique_id"]).cast(pa.string())
    n = len(ids)
    if n < 2:
        return pa.table({"match_key": pa.array([], pa.string()), "join_key_l": ids[:0], "join_key_r": ids[:0]})
    # each row's place in the ids' text order (UTF-8 byte order, DuckDB's): pairs are put that way round
    place = pc.rank(ids, sort_keys="ascending", tiebreaker="first").to_numpy().astype(np.int64) - 1
    everything, rule_of = _pair_codes(frame, rules, place, jobs, cache)
    # each pair once, with the first rule that makes it (the rules are in order in the list)
    pairs, at = np.unique(everything, return_index=True)
    by_place = np.empty(n, dtype=np.int64)
    by_place[place] = np.arange(n)
    left, right = by_place[pairs // n], by_place[pairs % n]
    match = rule_of[at]
    keys = pa.array([str(i) for i in range(len(rules))], pa.string())
    return pa.table({"match_key": keys.take(pa.array(match)),
                     "join_key_l": ids.take(pa.array(left)), "join_key_r": ids.take(pa.array(right))})
