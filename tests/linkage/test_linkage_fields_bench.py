"""bench/linkage_fields.py: the noise shapes are what they claim, the scoring counts right, and a
small run of every subset finishes (Amanat and the exact-name baseline; plain Splink and
nomenklatura are left to the benchmark)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from amanat.normalize.script import fold
from bench.linkage_fields import (
    NAMES,
    SHAPES,
    SUBSETS,
    YEAR_ONLY,
    Truth,
    population,
    presentation_forms,
    run_exact,
    run_size,
    subset_fields,
)


@lru_cache(maxsize=1)
def _records() -> tuple[dict[str, str], ...]:
    return tuple(population(600, seed=3))


def test_seeded_and_every_shape_present() -> None:
    records = _records()
    again = population(600, seed=3)
    assert [r.get("full_name") for r in records] == [r.get("full_name") for r in again]
    labels = {s.split(":")[0] for r in records for s in r["noise"].split("+") if s}
    assert labels == set(SHAPES)
    for shape in SHAPES:  # every shape on a few percent of records, none on most
        share = sum(shape in r["noise"] for r in records) / len(records)
        assert 0.01 <= share <= 0.15, (shape, share)


def test_shapes_change_the_name_only() -> None:
    records = _records()
    copies = [r for r in records if "exact_copy" in r["noise"]]
    assert copies
    for c in copies:  # the copy has an identical twin row: same person, same fields
        twins = [r for r in records if r is not c and r["person_id"] == c["person_id"]
                 and all(r.get(k) == c.get(k) for k in (*NAMES, "father_name", "date_of_birth", "phone"))]
        assert twins
    fathers = [r for r in records if "father_in_name" in r["noise"]]
    markers = ("s/o", "d/o", "son of", "daughter of", "bin", "bint", "ولد", "فرزند", "بن", "بنت", "دختر")
    # fold: a PDF copy may have damaged the marker's letters after it was written in
    assert all(any(m in fold(" ".join(r.get(k) or "" for k in NAMES)) for m in markers) for r in fathers)
    pdf = [r for r in records if "pdf_damage" in r["noise"]]
    assert any(any("\ufb50" <= ch <= "\ufeff" for ch in r.get("full_name", "")) for r in pdf)


def test_presentation_forms_fold_back() -> None:
    for name in ("محمد نبی", "عبدالرحمن", "گل احمد", "ذبیح الله"):
        damaged = presentation_forms(name)
        assert damaged != name
        assert all(not ("\u0600" <= ch <= "\u06ff") for ch in damaged.replace(" ", ""))
        assert fold(damaged) == fold(name)


def test_subset_fields() -> None:
    r = {"full_name": "محمد نبی", "full_name_latin": "Mohammad Nabi", "father_name": "کریم", "phone": "0700",
         "date_of_birth": "۱۳۶۰/۰۵/۱۲", "gender": "M"}
    assert subset_fields(r, "names") == {"full_name": "محمد نبی", "full_name_latin": "Mohammad Nabi"}
    assert subset_fields(r, YEAR_ONLY)["date_of_birth"] == "۱۳۶۰"
    assert subset_fields({**r, "date_of_birth": "3/8/1981"}, YEAR_ONLY)["date_of_birth"] == "1981"
    assert set(subset_fields(r, "names + father + phone")) == {*NAMES, "father_name", "phone"}


def _truth(people: list[str]) -> Truth:
    records = [{"person_id": p, "household_id": "", "clan_id": f"C{k}", "father_id": f"F{k}", "birth_id": "",
                "generation": "0", "sex": "M", "group_id": "", "namesake_id": "", "noise": "",
                "full_name": "x"} for k, p in enumerate(people)]
    return Truth(records)


def test_scores_linked_and_possible() -> None:
    truth = _truth(["a", "a", "a", "b", "c"])  # true pairs (0,1) (0,2) (1,2)
    perfect = truth.evaluate(np.array([0, 0, 0, 1, 2]))
    assert perfect["linked"]["precision"] == perfect["linked"]["recall"] == 1.0
    # one row apart, offered as possible with a row of its person and a stranger
    got = truth.evaluate(np.array([0, 0, 1, 2, 3]), possible=np.array([[2, 0], [3, 4]]))
    assert got["linked"]["tp"] == 1 and got["linked"]["recall"] == round(1 / 3, 5)
    assert got["linked_or_possible"]["tp"] == 2 and got["possible_pairs"] == 2
    assert got["linked_or_possible"]["precision"] == round(2 / 3, 5)
    # everyone in one cluster: all true pairs, and 7 of 10 pairs wrong
    lump = truth.evaluate(np.zeros(5, dtype=int))
    assert lump["linked"]["recall"] == 1.0 and lump["linked"]["precision"] == 0.3


def test_exact_names_needs_every_shared_column_equal() -> None:
    fields = [{"full_name": "محمد نبی", "phone": "+93 700 123 456"},
              {"full_name": "محمد نبي", "phone": "0700123456"},  # Arabic yeh, same phone
              {"full_name": "محمد  نبی", "phone": "0799999999"},  # another phone
              {"full_name": "MOHAMMAD NABI"},
              {"full_name_latin": "mohammad nabi"}]
    cluster = run_exact(fields, (*NAMES, "phone"))["cluster"]
    assert cluster[0] == cluster[1] != cluster[2]
    assert cluster[3] == cluster[4] != cluster[0]


def test_a_small_run_of_every_subset_finishes() -> None:
    got = run_size(300, 3, nk_python=None, nk_max_pairs=0, noise_rate=0.1, copy_rate=0.05,
                   subsets=list(SUBSETS), skip_plain=True)
    assert list(got["subsets"]) == list(SUBSETS)
    for subset, s in got["subsets"].items():
        assert s["goals"]["amanat_no_crash"], (subset, s["runs"]["Amanat"].get("error"))
        for run in s["runs"].values():
            assert 0.0 <= run["linked"]["precision"] <= 1.0 and 0.0 <= run["linked_or_possible"]["recall"] <= 1.0
    names = got["subsets"]["names"]["runs"]["Amanat"]
    assert set(names["by_shape"]) >= set(SHAPES) and "blocking_ceiling" in names
