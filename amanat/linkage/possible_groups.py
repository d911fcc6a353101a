"""Possible groups: the rows a person should look at together, when the evidence cannot say.

A pair the decision sends to review (perhaps one person) links two clusters into one possible group.
On a list that gives nothing but names, every row with the same own name (its cross-script sound key,
spaces dropped) is also in one group: "Masud" written 40 times may be one man or forty, and with names
alone no model can tell — a coordinator asks the intermediary. So is every row with the same given name
once the family, tribal and pen names that end it are set aside (Bushra / Bushra Balkhi Safi, Anwar /
Anwar Karimi: own_names.family_like), and a name grown by any other one part joins its shorter form when
that form is not a common name (SHORT_FORM_MAX). A row that gives a father's name and nothing more (a
father written into the name field) joins a names-only row's group: nothing of that row disagrees. A
row giving a name and a phone and nothing more counts as names only: one man sent again from another
phone, or two men of one name.
Blocking leaves the commonest names out of pair scoring (file_blocking), so these groups are formed from
the keys directly.

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
from amanat.linkage.own_names import family_like

# What tells one person from another beyond a name; a row with none of them has only its name.
_IDENTITY = ("father_phon", "dob_day", "tazkira", "passport")


def _has(frame: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    has = np.zeros(len(frame), dtype=bool)
    for c in columns:
        if c in frame.columns:
            has |= frame[c].notna().to_numpy()
    return has


def names_only_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows that give an own name and nothing else that tells a person (no father's name, full date
    of birth, ID or phone)."""
    return _named(frame) & ~_has(frame, _IDENTITY) & ~_phoned(frame)


def _named(frame: pd.DataFrame) -> np.ndarray:
    return frame["full_phon"].notna().to_numpy() if "full_phon" in frame.columns else np.zeros(len(frame), bool)


def _phoned(frame: pd.DataFrame) -> np.ndarray:
    if "phones" not in frame.columns or not len(frame):
        return np.zeros(len(frame), dtype=bool)
    lengths = pc.list_value_length(phone_lists(frame))
    return pc.fill_null(pc.greater(lengths, 0), False).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def thin_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows that give names, perhaps a father's name, and nothing else that tells a person."""
    return _named(frame) & ~_has(frame, _IDENTITY[1:]) & ~_phoned(frame)


def _father_only_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose name and father's name are all they give ("Anwar s/o Mohammad Yousuf" in a list of
    names): one of them may be a names-only row's man, as nothing of the names-only row disagrees."""
    return thin_rows(frame) & _has(frame, ("father_phon",))


# A name grown by another part (Mohammad / Mohammad Nabi) joins the rows of its shorter form when that
# form is written at most this many times: "Mohammad" alone, written 120 times, would join every
# Mohammad of the list into one group no one can use (at 10 on a 10,000-row list, groups chained into one
# of 1,414 rows; at 3, the largest is the commonest name, 121 rows). Family, tribal and pen names added
# (Anwar / Anwar Karimi, Bushra / Bushra Balkhi Safi) join whatever the count (_given_keys): it is how
# one man's name grows between registrations, and it chains nothing (each row has one given name).
SHORT_FORM_MAX = 3


def _given_keys(parts: pd.Series, latins: np.ndarray) -> np.ndarray:
    """Each name's sound key, spaces dropped, without the family, tribal or pen names that end it
    (own_names.family_like, read on the romanisation; the first part always stays)."""
    def given(phon: tuple[str, ...], latin: object) -> str:
        words = latin.split() if isinstance(latin, str) else []
        keep = len(phon)
        if len(words) == keep:
            while keep > 1 and family_like(words[keep - 1]):
                keep -= 1
        return "".join(phon[:keep])

    combos = pd.Series(list(zip(parts.map(tuple), latins, strict=True)), dtype=object)
    codes, uniques = pd.factorize(combos)
    return np.array([given(p, lat) for p, lat in uniques], dtype=object)[codes]


def _first_of(keys: np.ndarray, rows: np.ndarray, eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each key's code, the first eligible row of each code, -1 where none)."""
    codes, uniques = pd.factorize(keys)
    first = np.full(len(uniques), -1, dtype=np.int64)
    order = np.flatnonzero(eligible)[::-1]
    first[codes[order]] = rows[order]
    return codes, first


def _same_name_edges(names: np.ndarray, latins: np.ndarray, rows: np.ndarray, plain: np.ndarray,
                     cluster_of: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Edges (of clusters) joining ``rows`` (their own names' sound keys ``names``, romanisations
    ``latins``) that give the same name, spaces dropped, or the same given name (_given_keys), or a name
    and the same name grown by one last part. Rows that are not ``plain`` (names only) join only a plain
    row's name."""
    parts = pd.Series(names, dtype=object).str.split(" ")
    key = parts.str.join("").to_numpy(dtype=object)
    edges: list[tuple[np.ndarray, np.ndarray]] = []
    by_name = _first_of(key, rows, plain)
    for codes, first in (by_name, _first_of(_given_keys(parts, latins), rows, plain)):
        to = first[codes]
        ok = to >= 0
        edges.append((cluster_of[rows[ok]], cluster_of[to[ok]]))
    codes, first = by_name
    counts = np.bincount(codes[plain], minlength=len(first))
    code_of = pd.Series(np.arange(len(first)), index=pd.Index(pd.unique(key)))
    at = pd.Series(parts.str[:-1].str.join("").to_numpy(dtype=object)).map(code_of).to_numpy()
    grown = ~pd.isna(at) & (parts.str.len().to_numpy() > 1)
    if grown.any():
        target = at[grown].astype(np.int64)
        ok = (counts[target] <= SHORT_FORM_MAX) & (first[target] >= 0)
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
    # a name and a phone alone are as thin as a name: one man registered again from another phone, or
    # two men of one name (a list of names and phones; a household's rows give more)
    plain = names_only_rows(frame) | (_named(frame) & ~_has(frame, _IDENTITY) & _phoned(frame))
    thin = np.flatnonzero(plain | _father_only_rows(frame)) if plain.any() else np.zeros(0, dtype=np.int64)
    if len(thin):
        latins = frame["full_latin"].to_numpy(dtype=object)[thin] if "full_latin" in frame.columns \
            else np.full(len(thin), None, dtype=object)
        edges.extend(_same_name_edges(frame["full_phon"].to_numpy()[thin], latins, thin, plain[thin], cluster_of))
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
