"""Possible groups: the rows a person should look at together, when the evidence cannot say.

A pair the decision sends to review (perhaps one person) links two clusters into one possible group.
On a list that gives nothing but names, every row with the same own name (its cross-script sound key,
spaces dropped) is also in one group: "Masud" written 40 times may be one man or forty, and with names
alone no model can tell — a coordinator asks the intermediary. A name grown by one part (Jawed / Jawed
Hotak) joins its shorter form when that form is not a common name (SHORT_FORM_MAX). Blocking leaves the
commonest names out of pair scoring (file_blocking), so these groups are formed from the keys directly.

Groups are of clusters, never of single rows of a cluster: a linked person stays whole. A cluster with
nothing possible has no group (0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from amanat.linkage.batch import components
from amanat.linkage.decision import REVIEW, PairDecisions
from amanat.linkage.features import phone_lists

# What tells one person from another beyond a name; a row with none of them has only its name.
_IDENTITY = ("father_phon", "dob_day", "tazkira", "passport")


def names_only_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows that give an own name and nothing else that tells a person (no father's name, full date
    of birth, ID or phone)."""
    has = np.zeros(len(frame), dtype=bool)
    for c in _IDENTITY:
        if c in frame.columns:
            has |= frame[c].notna().to_numpy()
    if "phones" in frame.columns and len(frame):
        lengths = pc.list_value_length(phone_lists(frame))
        has |= pc.fill_null(pc.greater(lengths, 0), False).to_numpy(zero_copy_only=False)
    named = frame["full_phon"].notna().to_numpy() if "full_phon" in frame.columns else np.zeros(len(frame), bool)
    return named & ~has


# A name grown by a family or pen name (Jawed / Jawed Hotak) joins the rows of its shorter form when
# that form is written at most this many times: "Mohammad" alone, written 120 times, would join every
# Mohammad of the list into one group no one can use (at 10 on a 10,000-row list, groups chained into one
# of 1,414 rows; at 3, the largest is the commonest name, 121 rows).
SHORT_FORM_MAX = 3


def _same_name_edges(names: np.ndarray, rows: np.ndarray, cluster_of: np.ndarray
                     ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Edges (of clusters) joining names-only ``rows`` (their own names' sound keys ``names``) that
    give the same name, spaces dropped, or a name and the same name grown by one last part."""
    parts = pd.Series(names, dtype=object).str.split(" ")
    key = parts.str.join("").to_numpy(dtype=object)
    codes, uniques = pd.factorize(key)
    first = np.full(len(uniques), -1, dtype=np.int64)
    order = np.arange(len(codes))[::-1]
    first[codes[order]] = rows[order]  # the first row of each name: every other row is joined to it
    edges = [(cluster_of[rows], cluster_of[first[codes]])]
    counts = np.bincount(codes, minlength=len(uniques))
    short = parts.str[:-1].str.join("").to_numpy(dtype=object)
    code_of = pd.Series(np.arange(len(uniques)), index=pd.Index(uniques))
    at = pd.Series(short).map(code_of).to_numpy()
    grown = ~pd.isna(at) & (parts.str.len().to_numpy() > 1)
    if grown.any():
        target = at[grown].astype(np.int64)
        ok = counts[target] <= SHORT_FORM_MAX
        edges.append((cluster_of[rows[grown][ok]], cluster_of[first[target[ok]]]))
    return edges


def possible_groups(frame: pd.DataFrame, pairs: pd.DataFrame, decisions: PairDecisions,
                    cluster_id: np.ndarray) -> np.ndarray:
    """Each row's possible group (1, 2, … in order of first appearance; 0: none), from the review pairs
    and, among names-only rows, the same own name."""
    n = len(frame)
    clusters, cluster_of = np.unique(np.asarray(cluster_id), return_inverse=True)
    edges: list[tuple[np.ndarray, np.ndarray]] = []
    review = np.flatnonzero(decisions.outcome == REVIEW)
    if len(review):
        left = pairs["unique_id_l"].to_numpy()[review].astype(np.int64)
        right = pairs["unique_id_r"].to_numpy()[review].astype(np.int64)
        edges.append((cluster_of[left], cluster_of[right]))
    thin = np.flatnonzero(names_only_rows(frame))
    if len(thin):
        edges.extend(_same_name_edges(frame["full_phon"].to_numpy()[thin], thin, cluster_of))
    if not edges:
        return np.zeros(n, dtype=np.int64)
    a = np.concatenate([e[0] for e in edges])
    b = np.concatenate([e[1] for e in edges])
    k = len(clusters)
    component = components(k, a, b)
    of_row = component[cluster_of]
    sizes = np.bincount(component, minlength=k)  # clusters per component
    grouped = sizes[of_row] > 1
    out = np.zeros(n, dtype=np.int64)
    if grouped.any():
        out[grouped] = pd.factorize(of_row[grouped])[0] + 1
    return out
