"""The prior: how likely two random records of a file are one person, counted on the rules the file
can support (an ID, a full date, the paternal line; else names and phones; else names alone), held to a
sane range and never 0 or 1. Pure counting: training (model.py) applies it to Splink.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from amanat.linkage.features import BlockRule

# Deterministic rules (few false positives) for the prior.
PRIOR_RULES: tuple[tuple[str, ...], ...] = (
    ("tazkira", "dob_year"),
    ("passport",),
    ("names_phon", "dob_day"),
    ("full_phon", "father_phon", "grand_phon", "dob_year"),
)
# The prior's rules, strongest first: a tier is used when the file supports one of its rules
# (every column filled in PRIOR_SUPPORT of the rows) and its rules find a pair; else the next.
# Lists often hold names alone (and a province), or names, fathers' names and phones: the
# first tier then finds nothing, and a prior of 0 was log2(0) in predict. Each tier's last
# figure: the most matching pairs per record its estimate is held to (prior_bounds). The
# first tier's rules are precise (FEBRL3: 1.3 true pairs a record, allowed); the name tiers
# count namesakes as well (names only, 5.3k synthetic records: 38k pairs share a romanised
# name, 1.4k are one person), so theirs are held to one duplicate a record.
PRIOR_TIERS: tuple[tuple[str, tuple[BlockRule, ...], float], ...] = (
    ("IDs, full dates of birth or the paternal line",
     tuple(BlockRule(f"p{i}", cols) for i, cols in enumerate(PRIOR_RULES)), 5.0),
    ("own and father's names across scripts, or a shared phone and first name",
     (BlockRule("pnf", ("full_latin", "father_latin")),
      BlockRule("pph", ("phones", "full_first"), explode="phones")), 0.5),
    ("own name across scripts within a province", (BlockRule("pnp", ("full_latin", "province_pcode")),), 0.5),
    ("own name across scripts", (BlockRule("pn", ("full_latin",)),), 0.5),
)
PRIOR_SUPPORT = 0.2


def prior_estimate(observed: float, total: float, recall: float) -> float:
    """Splink's arithmetic: the pairs the deterministic rules find, over their recall, over every pair."""
    return observed / recall / total


def prior_bounds(rows: int, total: float, per_row: float) -> tuple[float, float]:
    """The prior's sane range for ``rows`` records and ``total`` pairs: one matching pair in the
    file at least, ``per_row`` a record at most, and never 0 or 1."""
    if total <= 0:
        return 0.5, 0.5
    hi = min(0.5, max(1.0, per_row * rows) / total)
    return min(1.0 / total, hi), hi


def _supported(frame: pd.DataFrame, rule: BlockRule) -> bool:
    return all(frame[c].notna().mean() >= PRIOR_SUPPORT for c in rule.columns)


def prior_tier_count(frame: pd.DataFrame, count: Callable[[Sequence[BlockRule]], int]
                     ) -> tuple[str, int, float]:
    """The first of PRIOR_TIERS the frame supports whose rules find a pair (``count``: the
    distinct pairs the rules make): its label, that count and its pairs per record at most;
    the last supported tier's (count 0) when none finds one."""
    chosen: tuple[str, int, float] | None = None
    for label, rules, per_row in PRIOR_TIERS:
        if not any(_supported(frame, r) for r in rules):
            continue
        chosen = label, count(rules), per_row
        if chosen[1] > 0:
            break
    return chosen or ("no rule the file supports", 0, PRIOR_TIERS[-1][2])
