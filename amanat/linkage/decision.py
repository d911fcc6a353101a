"""The decision on a scored pair: one person, perhaps one person, relatives, or different people.

The Fellegi–Sunter weight adds up evidence from every field, and a family shares most of it: the
father's and grandfather's names, the family name, the district, often one household phone. A high
weight alone cannot tell a man from his brother. So own name and date of birth are the identity
core: a pair is linked without review only when neither clearly disagrees, and a pair that agrees on
the household but not on the person is proposed as relatives, never merged. The same rules serve the
batch dedupe, ``link run`` and the worker's incremental match.

A phone weighs what it is worth: a number that many records give (an intermediary's, a commander's)
says little about any two of them, so the phone's weight is lowered by how many records give it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from amanat.linkage.comparisons import value
from amanat.linkage.features import phone_lists
from amanat.linkage.incremental import Contribution, ScoredPair, _compile, _probability
from amanat.linkage.own_names import father_son, own_name_relation, same_grandfather, spelt_alike, swapped

# Outcomes, strongest first. "relatives" and "review" both wait for a person; only "linked" merges.
LINKED, REVIEW, RELATIVES, DIFFERENT = "linked", "review", "relatives", "different"

# What the decision says, in plain words (translated on the web: scripts/i18n.sh adds them).
RELATIONS = ("likely brothers", "likely twins", "likely father and son", "likely cousins", "same household phone")
INTERMEDIARY_PHONE = "the phone in common is given by many records (an intermediary's?)"
ONLY_NAMES = "only names to compare"
ONLY_NAMES_FATHER = "only names and fathers' names to compare"
NOTES = (ONLY_NAMES, ONLY_NAMES_FATHER, "own names differ", "own names alike but not the same",
         "one own name is part of the other", "dates of birth more than a year apart", "dates of birth a year apart",
         "fathers' names differ", "genders differ", INTERMEDIARY_PHONE)

# Pairs the model scores below this are different people whatever the rules say: brothers with a
# household phone score 0.1-0.99, so the floor sits well under the review band.
RELATIVES_FLOOR = 0.01
# A number given by more records than this is an intermediary's or an office's, not a household's.
HOUSEHOLD_PHONE_MAX = 12

# Own-name levels (comparisons._name("full", ...)) as the identity core reads them.
_NAME_AGREE = frozenset({"same names as written", "names agree across scripts"})
# One's own name is the other's family name (Aziz / Sayed Nabi Azizi): a swap only when both are.
_NAME_CROSSED = "names written in the other field"
_NAME_SPELT = "names spelt alike"
_NAME_SOUND = "names sound alike"
_NAME_PARTIAL = frozenset({"names share two parts", "names partly agree", "names differ"})
_DOB_SAME = frozenset({"same date of birth", "date of birth agrees read another way", "date of birth one digit apart",
                       "same month of birth"})
# Only the year agrees (a Solar Hijri year spans two Gregorian ones): too little to tell brothers a
# year apart, or a name that grew from a brother's.
_DOB_YEAR = frozenset({"same year of birth (partial date)", "same year, different month"})
_DOB_NEAR = frozenset({"date of birth ±1 year"})
_DOB_DIFFER = frozenset({"dates of birth differ"})
_PATERNAL_AGREE = frozenset({"father's and grandfather's names agree", "father's name agrees (no grandfather)",
                             "father's name agrees, grandfathers' differ", "fathers' names sound or are spelt alike"})
_PATERNAL_DIFFER = frozenset({"fathers' names differ"})
_PHONE_SHARED = frozenset({"a phone number in common"})
_GENDER_DIFFER = "genders differ"
_EXACT_ID = frozenset({"same tazkira", "same passport"})

# The comparisons the core reads, by name (comparisons.amanat_comparisons).
_CORE = ("full_name", "dob", "paternal", "phones", "tazkira", "passport", "gender")


@dataclass(frozen=True)
class Evidence:
    """What the decision reads of one pair, beyond its weight."""

    name: str  # agree | contained | similar | differ | missing
    dob: str  # same (the day or month) | year (the year only) | near | differ | missing
    paternal: str  # agree | differ | missing | partial
    exact_id: bool  # same tazkira or passport
    phone_holders: int  # records giving the phone the two share (0: none shared)
    father_son: bool  # one's father's name is the other's own name
    same_grandfather: bool  # grandfathers' names agree (cousins, when the fathers differ)
    gender_differs: bool = False
    thin: bool = False  # nothing but names (gender, place, a year) to compare: no date, father, ID or phone
    father_only: bool = False  # as thin, but the fathers' names are given and agree


@dataclass(frozen=True)
class Decision:
    outcome: str  # linked | review | relatives | different
    relation: str | None  # "likely brothers", … for relatives and for review pairs with household evidence
    match_weight: float  # the model's weight with the phone's holders taken into account
    match_probability: float
    notes: tuple[str, ...]  # what disagrees on the identity core, in plain words


# A household's number: the records of one family give it (a father, his sons, a re-registration).
HOUSEHOLD_SIZE = 4


def phone_discount(holders: int, weight: float) -> float:
    """Bits taken off a shared phone's weight ``weight``, as a term frequency would: none for a
    household's number (up to HOUSEHOLD_SIZE records; whose person it is, the identity core decides);
    beyond it the evidence is spread over more possible partners; an intermediary's number (more than
    HOUSEHOLD_PHONE_MAX records) is no evidence at all."""
    if holders > HOUSEHOLD_PHONE_MAX:
        return -max(weight, 0.0)
    if holders <= HOUSEHOLD_SIZE:
        return 0.0
    return -min(math.log2((holders - 1) / (HOUSEHOLD_SIZE - 1)), max(weight, 0.0))


# --- the decision ------------------------------------------------------------------------------------


def _shared_holders(left: Mapping[str, Any], right: Mapping[str, Any], holders: Mapping[str, int]) -> int:
    """Records giving the rarest number the two share (at least 2: these two)."""
    a, b = value(left, "phones"), value(right, "phones")
    if a is None or b is None:
        return 0
    shared = set(a) & set(b)  # lists, or numpy arrays from an Arrow-backed frame
    if not shared:
        return 0
    return min(max(int(holders.get(p, 2)), 2) for p in shared)


def _notes(ev: Evidence) -> tuple[str, ...]:
    notes: list[str] = [ONLY_NAMES] if ev.thin else [ONLY_NAMES_FATHER] if ev.father_only else []
    if ev.name == "differ":
        notes.append("own names differ")
    elif ev.name == "similar":
        notes.append("own names alike but not the same")
    elif ev.name == "contained":
        notes.append("one own name is part of the other")
    if ev.dob == "differ":
        notes.append("dates of birth more than a year apart")
    elif ev.dob == "near":
        notes.append("dates of birth a year apart")
    if ev.paternal == "differ":
        notes.append("fathers' names differ")
    if ev.gender_differs:
        notes.append("genders differ")
    if ev.phone_holders > HOUSEHOLD_PHONE_MAX:
        notes.append(INTERMEDIARY_PHONE)
    return tuple(notes)


def _relation(ev: Evidence) -> str | None:
    """What the household evidence says of two people who are not (clearly) one."""
    other_name = ev.name in ("differ", "similar")
    if ev.father_son:
        return "likely father and son"
    if ev.paternal == "agree" and other_name:
        return "likely twins" if ev.dob == "same" else "likely brothers"
    if ev.paternal == "agree" and ev.name == "contained" and ev.dob in ("differ", "near", "year"):
        return "likely brothers"
    if not other_name:
        return None
    if ev.same_grandfather and ev.paternal == "differ":
        return "likely cousins"
    if 2 <= ev.phone_holders <= HOUSEHOLD_PHONE_MAX:
        return "same household phone"
    return None


def decide(weight: float, ev: Evidence, *, link_at: float, review_at: float) -> Decision:
    """The outcome of a pair of model weight ``weight`` (the phone's discount included)."""
    prob = _probability(weight)
    relation = _relation(ev)
    if ev.name == "differ":
        # another person of the family, or (a tazkira in common) a person must look
        outcome = RELATIVES if relation and not ev.exact_id else REVIEW if prob >= review_at else DIFFERENT
    elif ev.name == "similar":
        # حسن / حسین: twins, or one name heard two ways; a person decides
        outcome = REVIEW if prob >= review_at else RELATIVES if relation else DIFFERENT
    elif ev.name == "contained" and relation:
        outcome = REVIEW  # Farid / Farid Ahmad of one household: the same man, or his brother
    elif prob < review_at:
        # A list of names alone: a name this file's model scores from the floor up is a possible match
        # (a rare name scores higher, a common one stays under the floor: term frequencies decide).
        # (and a list of names and fathers' names: the same name under the same father is as much as it
        # can say — "Ghani" / "Ghani Jamali", son of Jamshid)
        outcome = REVIEW if ev.thin or (ev.father_only and ev.name in ("agree", "contained")) else DIFFERENT
    elif (ev.dob == "differ" and not ev.exact_id) or ev.paternal == "differ" or ev.father_son or ev.gender_differs:
        # the same name: a namesake, father and son, a sister, or a wrong date (with the same tazkira
        # or passport and name, a date that differs is a wrong date: 1971 written 1916)
        outcome = REVIEW
    elif ev.name == "contained" and ev.dob != "same":
        outcome = REVIEW  # Farid / Farid Ahmad: the same man, or his brother (a year is not enough)
    else:
        outcome = LINKED if prob >= link_at else REVIEW
    return Decision(outcome, None if outcome == LINKED else relation, weight, prob, _notes(ev))


# --- one pair (the worker's incremental match) ------------------------------------------------------


def _dob_class(label: str) -> str:
    if label in _DOB_YEAR:
        return "year"
    return "same" if label in _DOB_SAME else "near" if label in _DOB_NEAR else "differ" if label in _DOB_DIFFER \
        else "missing"


def _paternal_class(label: str) -> str:
    if label in _PATERNAL_AGREE:
        return "agree"
    if label in _PATERNAL_DIFFER:
        return "differ"
    return "missing" if label.endswith("missing") else "partial"


# The comparisons that tell one person from another beyond names; "missing" on all of them is a thin pair.
_IDENTITY = ("dob", "paternal", "tazkira", "passport", "phones")


def _thin_level(comparison: str, label: str) -> bool:
    """Nothing to tell a person by: missing, or (a date) only a year, and it agrees."""
    return "missing" in label or (comparison == "dob" and label in _DOB_YEAR)


def _thin(labels: Mapping[str, str]) -> bool:
    return all(_thin_level(c, labels.get(c, "missing")) for c in _IDENTITY)


def _father_only(labels: Mapping[str, str]) -> bool:
    """Nothing to tell a person by but the fathers' names, and they agree."""
    return _paternal_class(labels.get("paternal", "")) == "agree" and all(
        _thin_level(c, labels.get(c, "missing")) for c in _IDENTITY if c != "paternal")


def evidence_of(labels: Mapping[str, str], left: Mapping[str, Any], right: Mapping[str, Any],
                holders: Mapping[str, int]) -> Evidence:
    """The evidence of one pair from its comparison levels (label by comparison name) and its rows."""
    name = labels.get("full_name", "")
    if name in _NAME_AGREE or (name == _NAME_CROSSED and swapped(left, right)):
        name_c = "agree"
    elif name in (_NAME_SPELT, _NAME_SOUND):
        name_c = spelt_alike(left, right)
    elif name.endswith("missing"):
        name_c = "missing"
    else:
        name_c = own_name_relation(left, right)
    differ = name_c in ("differ", "similar")
    phone = _shared_holders(left, right, holders) if labels.get("phones") in _PHONE_SHARED else 0
    return Evidence(name_c, _dob_class(labels.get("dob", "")), _paternal_class(labels.get("paternal", "")),
                    labels.get("tazkira") in _EXACT_ID or labels.get("passport") in _EXACT_ID, phone,
                    differ and father_son(left, right), differ and same_grandfather(left, right),
                    labels.get("gender") == _GENDER_DIFFER, _thin(labels), _father_only(labels))


# A model reason that a core note says more plainly.
_SAID_BY = {"names differ": "own names differ", "dates of birth differ": "dates of birth more than a year apart"}


def reasons_with_core(reasons: Iterable[str], decision: Decision, limit: int = 6) -> tuple[str, ...]:
    """The model's reasons with what disagrees on the identity core always stated, and the relation
    first where there is one."""
    out: list[str] = [decision.relation] if decision.relation else []
    given = [r for r in reasons if r and _SAID_BY.get(r) not in decision.notes]
    core = [n for n in decision.notes if n not in given]
    for r in given:
        if len(out) >= limit - len(core):
            break
        if r not in out:
            out.append(r)
    out.extend(n for n in core if n not in out)
    return tuple(out[:limit])


def scoring_floor(review_at: float) -> float:
    """The probability from which pairs are decided at all (batch predict's threshold)."""
    return min(review_at, RELATIVES_FLOOR)


def decide_scored(scored: ScoredPair, left: Mapping[str, Any], right: Mapping[str, Any], *,
                  holders: Mapping[str, int], link_at: float, review_at: float) -> tuple[Decision, ScoredPair]:
    """Decide one pair score_pair scored; the pair comes back with the phone's discount in its weight
    and the identity core in its reasons. Below the scoring floor a pair is different people, as it
    never reaches a batch's decisions."""
    if scored.match_probability < scoring_floor(review_at):
        return Decision(DIFFERENT, None, scored.match_weight, scored.match_probability, ()), scored
    labels = {c.comparison: c.level for c in scored.contributions}
    ev = evidence_of(labels, left, right, holders)
    phone_weight = next((c.match_weight for c in scored.contributions if c.comparison == "phones"), 0.0)
    discount = phone_discount(ev.phone_holders, phone_weight)
    decision = decide(scored.match_weight + discount, ev, link_at=link_at, review_at=review_at)
    contribs = tuple(
        Contribution(c.comparison, c.level, c.gamma, c.match_weight + discount, c.tf_adjustment + discount, c.reason)
        if c.comparison == "phones" and discount else c for c in scored.contributions)
    return decision, ScoredPair(scored.record_id, decision.match_weight, decision.match_probability, contribs,
                                reasons_with_core(scored.reasons, decision))


# --- many pairs (batch dedupe and link run) -----------------------------------------------------------


def phone_holders(frame: pd.DataFrame, lists: pa.ListArray | None = None) -> dict[str, int]:
    """How many records give each phone number (numbers given by two or more only)."""
    if "phones" not in frame.columns or not len(frame):
        return {}
    flat = pc.list_flatten(phone_lists(frame) if lists is None else lists)
    counts = pc.value_counts(flat)
    values, numbers = counts.field("values").to_pylist(), counts.field("counts").to_numpy()
    return {v: int(c) for v, c in zip(values, numbers, strict=True) if c > 1 and v is not None}


class _Levels:
    """The core comparisons' levels of many pairs, as Splink's gamma numbers, with each level's label:
    masks and classes are worked out per level (a handful) and spread with numpy, not per pair."""

    def __init__(self, model: Any, pairs: pd.DataFrame) -> None:
        compiled = _compile(model)
        self.n = len(pairs)
        self.gamma: dict[str, np.ndarray] = {}
        self.label: dict[str, dict[int, str]] = {}
        for spec, levels in zip(compiled.specs, compiled.levels, strict=True):
            if spec.name in _CORE and f"gamma_{spec.name}" in pairs.columns:
                self.gamma[spec.name] = pairs[f"gamma_{spec.name}"].to_numpy(dtype=np.int64)
                self.label[spec.name] = {lv.gamma: lv.label for lv in levels}

    def where(self, comparison: str, test: Any, *, absent: bool = False) -> np.ndarray:
        """Pairs whose level's label passes ``test`` (``absent``: the answer without the comparison)."""
        if comparison not in self.gamma:
            return np.full(self.n, absent, dtype=bool)
        return np.isin(self.gamma[comparison], [g for g, lab in self.label[comparison].items() if test(lab)])

    def classes(self, comparison: str, of: Any) -> np.ndarray:
        """``of(label)`` per pair (a label this model does not know, or no comparison: ``of("")``)."""
        out = np.full(self.n, of(""), dtype=object)
        for g, lab in self.label.get(comparison, {}).items():
            out[self.gamma[comparison] == g] = of(lab)
        return out

    def of_pair(self, i: int) -> dict[str, str]:
        return {c: self.label[c].get(int(g[i]), "") for c, g in self.gamma.items()}


@dataclass
class PairDecisions:
    """Decisions for a frame of scored pairs, aligned with its rows."""

    outcome: np.ndarray  # object: linked | review | relatives | different
    relation: np.ndarray  # object: str or None
    match_weight: np.ndarray
    match_probability: np.ndarray
    notes: list[tuple[str, ...]]

    def linked(self) -> np.ndarray:
        return self.outcome == LINKED


def _pair_holders(lists: pa.ListArray, left_at: np.ndarray, right_at: np.ndarray, at: np.ndarray,
                  holders: Mapping[str, int]) -> np.ndarray:
    """For the pairs ``at`` (positions of their records in ``lists``, the frame's phones),
    ``_shared_holders`` in columns: the records giving the rarest number both give (at least 2), 0
    where they share none."""
    out = np.zeros(len(left_at), dtype=np.int64)
    if not len(at):
        return out

    def exploded(rows: np.ndarray) -> pd.DataFrame:
        taken = lists.take(pa.array(rows))
        return pd.DataFrame({"k": at[pc.list_parent_indices(taken).to_numpy()],
                             "phone": pc.list_flatten(taken).to_numpy(zero_copy_only=False)})

    both = exploded(left_at[at]).merge(exploded(right_at[at]), on=["k", "phone"]).drop_duplicates()
    if len(both):
        count = both["phone"].map(holders).fillna(2).clip(lower=2).astype(np.int64)
        rarest = count.groupby(both["k"].to_numpy()).min()
        out[rarest.index.to_numpy()] = rarest.to_numpy()
    return out


def decide_pairs(model: Any, frame: pd.DataFrame, pairs: pd.DataFrame, *, link_at: float, review_at: float,
                 holders: Mapping[str, int] | None = None, floor: float | None = None) -> PairDecisions:
    """``decide`` for every pair of ``pairs`` (predict_pairs' output on ``frame``, whose ``unique_id``
    names the pairs' ids; ``floor``: the probability the file was scored from, when below the scoring
    floor, for pairs of names alone). Pairs whose own names agree (or one is missing) are decided in numpy, a
    shared phone's holders counted in columns; the others are compared again in Python (tested equal
    to ``decide_scored``)."""
    n = len(pairs)
    weight = pairs["match_weight"].to_numpy(dtype=float).copy() if n else np.zeros(0)
    outcome = np.full(n, DIFFERENT, dtype=object)
    relation = np.full(n, None, dtype=object)
    notes: list[tuple[str, ...]] = [()] * n
    if not n:
        return PairDecisions(outcome, relation, weight, np.zeros(0), notes)
    levels = _Levels(model, pairs)
    dob_c = levels.classes("dob", _dob_class)
    pat_c = levels.classes("paternal", _paternal_class)
    thin = np.ones(n, dtype=bool)
    for c in _IDENTITY:
        if c != "paternal":
            thin &= levels.where(c, lambda lab, c=c: _thin_level(c, lab), absent=True)
    father_only = thin & (pat_c == "agree")  # decided in Python, as decide says
    thin &= levels.where("paternal", lambda lab: _thin_level("paternal", lab), absent=True)
    # below the floor: different people, as decide_scored says; a pair of names and fathers' names alone
    # is decided from the file's lower ``floor`` (the same name under one father scores low, and is still
    # possible). A pair of names alone below the floor is left to the file's possible groups (by name).
    p0 = _probabilities(weight)
    below = p0 < scoring_floor(review_at)
    if floor is not None:
        below &= ~(father_only & (p0 >= floor))

    # the phone's holders and discount, in columns (where a pair shares a number and is decided at all)
    ids = pd.Index(frame["unique_id"].astype(str))
    left_at = ids.get_indexer(pairs["unique_id_l"].astype(str).to_numpy())
    right_at = ids.get_indexer(pairs["unique_id_r"].astype(str).to_numpy())
    shared = np.flatnonzero(levels.where("phones", lambda lab: lab in _PHONE_SHARED) & ~below)
    held = np.zeros(n, dtype=np.int64)
    if "phones" in frame.columns:
        lists = phone_lists(frame)
        holders = phone_holders(frame, lists) if holders is None else holders
        held = _pair_holders(lists, left_at, right_at, shared, holders)
    holders = holders or {}
    phone_weights = pairs["mw_phones"].to_numpy(dtype=float) if "mw_phones" in pairs.columns else np.zeros(n)
    discount = np.zeros(n)
    for k in np.flatnonzero(held > HOUSEHOLD_SIZE).tolist():  # numbers more than a household gives: few
        discount[k] = phone_discount(int(held[k]), float(phone_weights[k]))
    weight = np.where(below, weight, weight + discount)
    prob = _probabilities(weight)

    # own names agree (or one is missing): no relation; decided in numpy
    simple = below | (levels.where("full_name", lambda lab: lab in _NAME_AGREE or lab.endswith("missing"))
                      & ~levels.where("gender", lambda lab: lab == _GENDER_DIFFER) & ~thin & ~father_only)
    exact = levels.where("tazkira", lambda lab: lab in _EXACT_ID) | levels.where("passport",
                                                                              lambda lab: lab in _EXACT_ID)
    s_out = np.where(below | (prob < review_at), DIFFERENT,
                     np.where(((dob_c == "differ") & ~exact) | (pat_c == "differ"), REVIEW,
                              np.where(prob >= link_at, LINKED, REVIEW))).astype(object)
    outcome[simple] = s_out[simple]
    combos: dict[tuple[str, str, bool], tuple[str, ...]] = {}
    many = held > HOUSEHOLD_PHONE_MAX
    noted = simple & ~below & ((dob_c == "differ") | (dob_c == "near") | (pat_c == "differ") | many)
    for i in np.flatnonzero(noted).tolist():
        key = (dob_c[i], pat_c[i], bool(many[i]))
        got = combos.get(key)
        if got is None:
            got = combos[key] = _notes(Evidence("agree", key[0], key[1], False, 13 if key[2] else 0, False, False))
        notes[i] = got

    # the others, compared again
    rest = np.flatnonzero(~simple)
    if len(rest):
        cols = [c for c in ("full_phon", "full_latin", "father_phon", "grand_phon", "family_phon", "family_latin",
                            "phones") if c in frame.columns]
        # only the rows these pairs touch leave Arrow (a million rows' columns as objects took seconds)
        lefts = {c: frame[c].iloc[left_at[rest]].to_numpy(dtype=object) for c in cols}
        rights = {c: frame[c].iloc[right_at[rest]].to_numpy(dtype=object) for c in cols}
        for k, i in enumerate(rest.tolist()):
            lab = levels.of_pair(i)
            left = {c: lefts[c][k] for c in cols}
            right = {c: rights[c][k] for c in cols}
            ev = evidence_of(lab, left, right, holders)
            d = decide(weight[i], ev, link_at=link_at, review_at=review_at)  # the discount is in already
            outcome[i], relation[i], notes[i] = d.outcome, d.relation, d.notes
    return PairDecisions(outcome, relation, weight, prob, notes)


def _probabilities(weight: np.ndarray) -> np.ndarray:
    odds = np.exp2(np.clip(weight, -1000, 1000))
    return odds / (1.0 + odds)
