"""bench/households.py: the synthetic households' pair classes say what they claim."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from functools import lru_cache

import numpy as np

from bench.households import (
    CLASSES,
    FORM_FIELDS,
    TRUTH,
    generate_households,
    pairs_by_class,
    relation,
)

SEED = 3


@lru_cache(maxsize=1)
def _data() -> tuple[list[dict[str, str]], dict[str, np.ndarray]]:
    records = generate_households(40, seed=SEED)
    return records, pairs_by_class(records)


def _pairs(cls: str) -> list[tuple[dict[str, str], dict[str, str]]]:
    records, classes = _data()
    return [(records[i], records[j]) for i, j in classes[cls].tolist()]


def _digits(text: str) -> str:
    return "".join(c for c in text.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")) if c.isdigit())


def test_size_and_every_class_present() -> None:
    records, classes = _data()
    assert 200 <= len(records) <= 800
    assert all(len(classes[c]) for c in CLASSES)
    assert not set(FORM_FIELDS) & set(TRUTH)  # a dedupe run sees no truth


def test_seeded() -> None:
    assert generate_households(8, seed=SEED) == generate_households(8, seed=SEED)
    assert generate_households(8, seed=SEED) != generate_households(8, seed=SEED + 1)


def test_classes_partition_the_listed_pairs() -> None:
    records, classes = _data()
    seen: set[tuple[int, int]] = set()
    for cls in CLASSES:
        pairs = {tuple(p) for p in classes[cls].tolist()}
        assert all(i < j for i, j in pairs)
        assert len(pairs) == len(classes[cls])  # no pair twice
        assert not pairs & seen  # nor in two classes
        seen |= pairs
        assert all(relation(records[i], records[j]) == cls for i, j in pairs)
    # every same-person pair, and none missed: persons' records, two by two
    by_person: dict[str, int] = defaultdict(int)
    for r in records:
        by_person[r["person_id"]] += 1
    assert len(classes["same_person"]) == sum(k * (k - 1) // 2 for k in by_person.values())
    # a pair outside the listed ones is "other"
    listed = seen
    for i, j in itertools.combinations(range(0, len(records), 7), 2):
        if (i, j) not in listed:
            assert relation(records[i], records[j]) == "other"


def test_brothers_share_paternal_line_and_differ_in_own_name() -> None:
    pairs = _pairs("brothers")
    for a, b in pairs:
        assert a["sex"] == b["sex"] == "M"
        for col in ("household_id", "true_father", "true_grandfather", "true_family", "true_district"):
            assert a[col] == b[col], col
        assert a["true_name"] != b["true_name"]
        assert a["true_dob"] != b["true_dob"]  # twins are their own class
    # own names sometimes share a part (Gul Ahmad / Gul Nabi)
    assert any(set(a["true_name"].split()) & set(b["true_name"].split()) for a, b in pairs)


def test_siblings_born_one_to_three_years_apart() -> None:
    records, _ = _data()
    births: dict[str, set[dt.date]] = defaultdict(set)
    for r in records:
        if r["role"] == "child":
            births[r["household_id"]].add(dt.date.fromisoformat(r["true_dob"]))
    for dates in births.values():
        ordered = sorted(dates)
        assert all(365 <= (b - a).days <= 3 * 365 for a, b in itertools.pairwise(ordered))


def test_twins_share_birth_date_not_name() -> None:
    pairs = _pairs("twins")
    for a, b in pairs:
        assert a["true_dob"] == b["true_dob"] and a["household_id"] == b["household_id"]
        assert a["true_father"] == b["true_father"]
        assert a["true_name"] != b["true_name"]


def test_son_father_name_is_the_father() -> None:
    pairs = _pairs("father_son")
    for a, b in pairs:
        father, son = (a, b) if a["role"] == "father" else (b, a)
        assert father["role"] == "father" and son["role"] == "child"
        assert son["father_id"] == father["person_id"]
        assert son["true_father"] == father["true_name"]
        assert son["true_grandfather"] == father["true_father"]
        assert father["true_dob"] < son["true_dob"]


def test_cousins_share_grandfather_not_father() -> None:
    for a, b in _pairs("cousins"):
        assert a["true_grandfather"] == b["true_grandfather"]
        assert a["true_father"] != b["true_father"]
        assert a["household_id"] != b["household_id"]


def test_intermediary_group_shares_one_phone_and_province() -> None:
    records, _ = _data()
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in records:
        if r["group_id"]:
            groups[r["group_id"]].append(r)
    assert groups
    for members in groups.values():
        assert 20 <= len({r["person_id"] for r in members}) <= 200
        assert len({r["true_phone"] for r in members}) == 1
        assert len({r["true_province"] for r in members}) == 1
        assert len({r["father_id"] for r in members}) == len({r["person_id"] for r in members})  # unrelated
        national = members[0]["true_phone"]
        for r in members:
            if r["registration"] == "1":  # later ones may come from another phone
                assert _digits(r["phone"]).endswith(national[1:])


def test_household_phone_on_every_siblings_first_record() -> None:
    records, _ = _data()
    shared = [r for r in records if r["role"] in ("child", "father") and r["true_phone"]]
    assert shared
    for r in shared:
        if r["registration"] == "1":
            assert _digits(r["phone"]).endswith(r["true_phone"][1:])


def test_namesakes_share_name_not_father() -> None:
    for a, b in _pairs("namesakes"):
        assert a["true_name"] == b["true_name"]
        assert a["true_father"] != b["true_father"]
        assert a["person_id"] != b["person_id"]


def test_re_registrations_differ_like_real_forms() -> None:
    pairs = _pairs("same_person")
    assert any(a["full_name"] != b["full_name"] for a, b in pairs)
    assert all(a["true_name"] == b["true_name"] and a["true_dob"] == b["true_dob"] for a, b in pairs)
