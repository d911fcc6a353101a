"""Blocking for one spreadsheet (``amanat dedupe``): the store's rules, each narrowed while it would
pass the file's pair budget, and the broader rules a one-off file can afford, listed with notes on
what was narrowed, capped or left out. Nothing here needs the model; stored records never use it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from amanat.linkage.blocking import Codes, blocked_pairs, cap_rule, pair_counts
from amanat.linkage.comparisons import compare_feature_names
from amanat.linkage.features import BLOCKING_RULES, BlockRule, phone_lists
from amanat.linkage.workers import default_jobs

# Blocking for the standalone dedupe only, on top of features.BLOCKING_RULES. The store's
# index (blocking_keys, HMACs in the database) never holds these keys, so they must not be
# used to predict stored records: batch and incremental candidates would drift apart. They
# are the broad rules a one-off file can afford and the store at a million records cannot:
# own + family name without a year, the two names in either field, the full date of birth,
# the ID's digits in any order, and then the own name alone (NAME_RULES).
#
# NAME_RULES: without them a list of names (perhaps with a province) has no candidates at all,
# as every other rule needs an ID, a date, a phone, a father's or a family name. The romanised
# name (across scripts), the sound key without its spaces, and the sound key's first two parts
# (blocking.DERIVED_KEYS); each narrowed to a province, then a district, while over the budget,
# and then, still over it, kept with its commonest names left out (blocking.cap_rule): a block
# of n rows makes n(n-1)/2 pairs, so a handful of the commonest given names made each rule pass
# the budget of a 10,000-row names-only list (102k-122k pairs against 100k) and go entirely:
# 32 candidate pairs were left, 0.8 % of the true pairs compared; capped (1 to 3 names, 120 to
# 364 rows, left out), 120k pairs, 81 %. A common name is weak evidence anyway (term
# frequencies); the rare names are the pairs such a list can link (bench/linkage_fields.py).
NAME_RULES: tuple[BlockRule, ...] = (
    BlockRule("s_nl", ("full_latin",)),
    BlockRule("s_nj", ("full_phon_joined",)),
    BlockRule("s_n2", ("full_phon_two",)),
)
# each name rule in the notes' words
NAME_WORDS: dict[str, str] = {"s_nl": "the own name, romanised", "s_nj": "the own name's sound key, spaces dropped",
                              "s_n2": "the first two parts of the own name's sound key"}
# The own name's first sound part with the father's name: a name that grew by a family, tribal or pen
# name under one father (محمد ایوب / Mohammad Ayub Shinwari, Karimullah / Karimullah Noori), which
# the store's own + father's name rule cannot pair. It gathers brothers too (Mohammad Nabi / Mohammad
# Wali; the decision keeps them apart), so over the budget it is narrowed and capped as the name
# rules are (NARROWED_RULES).
FIRST_AND_FATHER = BlockRule("s_fn", ("full_first", "father_phon"))
STANDALONE_RULES: tuple[BlockRule, ...] = (
    BlockRule("s_nm", ("full_phon", "family_phon")),
    FIRST_AND_FATHER,
    BlockRule("s_ns", ("names_set",)),
    BlockRule("s_dd", ("dob_day",)),
    BlockRule("s_ts", ("tazkira_sorted",)),
    *NAME_RULES,
)
NARROWED_RULES: tuple[BlockRule, ...] = (*NAME_RULES, FIRST_AND_FATHER)
_NARROWED_WORDS = {**NAME_WORDS, FIRST_AND_FATHER.name: "the own name's first part and the father's name"}
NAME_NARROW_BY: tuple[tuple[str, str], ...] = (("province_pcode", "province"), ("district_pcode", "district"))
# A standalone rule (or one on a --compare column) that would generate more candidate pairs
# than this many per row, plus a floor, is left out for that file (a name rule: kept with its
# commonest names left out, blocking.cap_rule): a column such as "city" with ten values would
# otherwise compare everyone with everyone. A name or date rule's
# blocks grow with the file, so its pairs per row do too (own + family name: 2 a row at
# 200k records, 9 at 1M): past two a row it stops being selective and costs more than it
# finds (at 1M, 20M more pairs, predict 3x slower and 1.3 GB more, for recall 0.989 → 0.992).
PAIRS_PER_ROW = 2
# A store rule over that budget (own + father's name key: 9.4M pairs at 1M records, 82 % of
# all candidates) is kept within one home province for the file: at 197k records recall
# 0.9952 → 0.9948 (dropping the rule instead: 0.9891).
NARROW_BY = "province_pcode"
PAIRS_FLOOR = 100_000  # every rule FEBRL's address columns need stays in (postcode: 53k pairs)


def _label(rule: BlockRule, labels: dict[str, str]) -> str:
    return labels.get(rule.name, "+".join(rule.columns))


def _capped(frame: pd.DataFrame, rule: BlockRule, n: int, budget: int, cache: Codes | None, notes: list[str],
            label: str, *, where: str = "", names: bool = False) -> BlockRule | None:
    """A rule over the budget (``n`` pairs), kept with its largest blocks left out
    (blocking.cap_rule), or left out when none of them fits; said in ``notes`` either way.
    ``where``: how it was narrowed; ``names``: a NAME_RULES rule."""
    capped = cap_rule(frame, rule, budget, cache)
    if capped is None:
        notes.append(f"blocking on {label}{where} left out: {n} pairs, over the budget of {budget}")
        return None
    what, why = (("name", "too common to compare on names alone") if names
                 else ("value", f"{n} pairs with them, over the budget of {budget}"))
    which = (f"the commonest {what} (a block of {capped.rows} rows)" if capped.keys == 1 else
             f"the {capped.keys} commonest {what}s (blocks of more than {capped.largest} rows, "
             f"{capped.rows} rows in all)")
    notes.append(f"blocking on {label}{where}: {which} left out: {why}")
    return capped.rule


def _narrowed_name_rule(frame: pd.DataFrame, rule: BlockRule, n: int, budget: int, cache: Codes | None,
                        notes: list[str]) -> BlockRule | None:
    """A NAME_RULES rule within the budget: as it is, or within one province or district, or
    else (still over it) with its commonest names left out, within the narrowest of those
    places the file has."""
    if n <= budget:
        return rule
    narrowest, where, over = rule, "", n
    for column, place in NAME_NARROW_BY:
        narrow = BlockRule(f"{rule.name}_{place[0]}", (*rule.columns, column))
        got = pair_counts(frame, [narrow], cache=cache)[narrow.name]
        if 0 < got <= budget:
            notes.append(f"blocking on {'+'.join(rule.columns)} narrowed to one {place}: {n} pairs, "
                         f"over the budget of {budget}")
            return narrow
        if got > 0:
            narrowest, where, over = narrow, f" within one {place}", got
    return _capped(frame, narrowest, over, budget, cache, notes, _NARROWED_WORDS[rule.name],
                   where=where, names=rule in NAME_RULES)


# The own name alone is blocked on only while fewer than this share of rows give anything else that
# tells a person (a father's name, a date, an ID, a phone): past it the store's rules find the pairs.
NAME_RULES_UNTIL = 0.8
_IDENTITY_COLUMNS = ("father_phon", "dob_day", "tazkira", "passport", "phones")  # a year alone is not enough


def _identity_share(frame: pd.DataFrame) -> float:
    """Share of rows that give a father's name, a full date of birth, an ID or a phone."""
    if not len(frame):
        return 0.0
    has = np.zeros(len(frame), dtype=bool)
    for c in _IDENTITY_COLUMNS:
        if c in frame.columns:
            if c == "phones":  # a list: given when not empty (Arrow counts in C)
                lengths = pc.list_value_length(phone_lists(frame))
                has |= pc.fill_null(pc.greater(lengths, 0), False).to_numpy(zero_copy_only=False)
            else:
                has |= frame[c].notna().to_numpy()
    return float(has.mean())


def standalone_blocking(frame: pd.DataFrame, compare: Sequence[str] = (), cache: Codes | None = None) -> tuple[
        list[BlockRule], list[str]]:
    """The rules to predict this file with, and notes on what was left out or narrowed.

    The store's BLOCKING_RULES, each narrowed to one province (``NARROW_BY``) when it alone
    would pass the pair budget; then STANDALONE_RULES and one per compared column, each as
    it is within the budget, else left out; NAME_RULES first narrowed to one province or
    district while over it (NAME_NARROW_BY), then kept with their commonest names left out
    (blocking.cap_rule).
    ``cache``: what the rules share, kept for blocked_pairs."""
    budget = max(PAIRS_FLOOR, PAIRS_PER_ROW * len(frame))
    labels = {f"s_{c}": h for c, h in zip(compare_feature_names(compare), compare, strict=True)}
    rules: list[BlockRule] = []
    notes: list[str] = []
    extra = [*STANDALONE_RULES, *(BlockRule(f"s_{c}", (c,)) for c in compare_feature_names(compare))]
    counts = pair_counts(frame, [*BLOCKING_RULES, *extra], jobs=default_jobs(), cache=cache)
    for rule in BLOCKING_RULES:
        n = counts[rule.name]
        if n > budget and NARROW_BY not in rule.columns:
            narrow = BlockRule(f"s_{rule.name}_p", (*rule.columns, NARROW_BY), rule.explode)
            notes.append(f"blocking on {_label(rule, labels)} narrowed to one province: {n} pairs, "
                         f"over the budget of {budget}")
            rules.append(narrow)
        else:
            rules.append(rule)
    rich = _identity_share(frame)
    for rule in extra:
        n = counts[rule.name]
        if rule in NAME_RULES and rich >= NAME_RULES_UNTIL:
            continue  # the store's rules find these rows' pairs (at 985k records: predict 6.5 → 3.7 s)
        if rule in NARROWED_RULES:
            kept = _narrowed_name_rule(frame, rule, n, budget, cache, notes)
            rules.extend([kept] if kept is not None else [])
        elif n > budget:
            # Left out, not capped: at a million records the own + family name, names-set, date and
            # ID-digit rules capped to the budget made 9.1M pairs instead of 1.3M (predict 3.7 → 18 s,
            # peak 3.8 → 5.0 GB) for recall 0.98528 → 0.98560. A name is all a names-only list has.
            notes.append(f"blocking on {_label(rule, labels)} left out: {n} pairs, over the budget of {budget}")
        else:
            rules.append(rule)
    return rules, notes


Plan = tuple[list[BlockRule], list[str], pa.Table]


def plan_standalone(frame: pd.DataFrame, compare: Sequence[str] = ()) -> Plan:
    """The file's blocking rules (standalone_blocking), the notes on them, and their pairs
    (blocking.blocked_pairs): none of it needs the model."""
    codes = Codes()
    rules, notes = standalone_blocking(frame, compare, codes)
    return rules, notes, blocked_pairs(frame, rules, jobs=default_jobs(), cache=codes)
