"""Linkage on the lists people really have: names alone (perhaps a gender and a province), or
names, fathers' names and phones, with no ID and no full date of birth (issue #14)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from amanat.linkage import file_blocking
from amanat.linkage.blocking import rule_pairs
from amanat.linkage.dedupe import (
    MIN_TRAIN_ROWS,
    SAME_NAME_REASON,
    SourceRow,
    _features,
    dedupe_files,
    dedupe_rows,
    predict_standalone,
    read_sources,
    train_standalone,
)
from amanat.linkage.file_blocking import NAME_RULES, plan_standalone, standalone_blocking
from amanat.linkage.model import TrainedModel, bundled_model
from amanat.linkage.prior import PRIOR_TIERS, prior_bounds
from amanat.linkage.progress import Progress
from bench.synth import generate_population

THIN = Path("/work/shared/data/thin_lists")
NAMES = ("full_name", "full_name_latin", "gender", "province")
FAMILY = ("full_name", "full_name_latin", "father_name", "father_name_latin", "phone", "whatsapp_phone")


@lru_cache(maxsize=1)
def _population() -> tuple[dict[str, object], ...]:
    return tuple(generate_population(4100, seed=21))  # a little over 5,000 records


def _rows(keep: tuple[str, ...], limit: int | None = None) -> list[SourceRow]:
    people = _population()[:limit]
    return [SourceRow("list.csv", i + 2, {k: r[k] for k in keep if r.get(k)}) for i, r in enumerate(people)]


def _m(model: TrainedModel, comparison: str) -> list[float]:
    comps = {c["output_column_name"]: c for c in model.settings_json["comparisons"]}
    return [lv["m_probability"] for lv in comps[comparison]["comparison_levels"] if not lv.get("is_null_level")]


def _assert_sane_prior(model: TrainedModel, rows: int) -> None:
    prior = model.prior
    lo, hi = prior_bounds(rows, rows * (rows - 1) / 2, PRIOR_TIERS[0][2])
    assert 0 < lo <= prior <= hi < 1, prior


def test_prior_bounds_are_never_0_or_1() -> None:
    for rows in (1, 2, 3, 30, 5000, 1_000_000):
        total = rows * (rows - 1) / 2
        lo, hi = prior_bounds(rows, total, 0.5)
        assert 0 < lo <= hi <= 0.5
    assert prior_bounds(5000, 5000 * 4999 / 2, 0.5)[1] == pytest.approx(1 / 4999)  # one duplicate a record


def test_a_names_only_list_of_5000_rows_trains_without_crashing() -> None:
    rows = _rows(NAMES)
    assert len(rows) >= MIN_TRAIN_ROWS
    result = dedupe_rows(rows)  # enough rows: it trains on them
    assert result.trained
    _assert_sane_prior(result.model, len(rows))
    log = result.model.training_log
    assert any(line.startswith("prior ") and "own name" in line for line in log), log
    # no EM round can run on names alone: the m values are the bundled model's, and the log says so
    assert "full_name: no EM round could train it: m from the bundled model" in log
    assert _m(result.model, "full_name") == _m(bundled_model(), "full_name")
    assert result.pair_count > 0  # the name rules gave candidates, and some reached the review band


def test_names_fathers_and_phones_train_without_crashing() -> None:
    rows = _rows(FAMILY)
    result = dedupe_rows(rows)
    assert result.trained
    _assert_sane_prior(result.model, len(rows))
    log = result.model.training_log
    assert any(line.startswith("prior ") and "father" in line for line in log), log
    # the first EM round (own + father's name) ran: it trained the phones, not the names it blocks on
    assert not any(line.startswith("EM on full_phon+father_phon") for line in log), log
    assert "phones: no EM round could train it: m from the bundled model" not in log
    assert "full_name: no EM round could train it: m from the bundled model" in log
    assert (result.lead["status"] == "linked").sum() > 100


def test_training_on_a_30_row_file() -> None:
    for keep in (NAMES, None):  # names alone, and every field
        people = _population()[:30]
        rows = [SourceRow("small.csv", i + 2, {k: v for k, v in r.items() if v and (keep is None or k in keep)
                                                and k not in ("person_id", "record_id")})
                for i, r in enumerate(people)]
        result = dedupe_rows(rows, train=True)
        assert result.trained
        prior = result.model.prior
        assert 0 < prior < 1


def test_a_link_of_two_names_only_lists_trains() -> None:
    rows = _rows(NAMES, 200)
    frame = _features(rows, Progress(), [])
    frame["source_dataset"] = ["a" if i % 2 else "b" for i in range(len(frame))]
    model = train_standalone(frame, link_type="link_only")  # the prior counted by Splink, between the lists
    assert 0 < model.prior < 1
    assert any(line.startswith("prior ") and "own name" in line for line in model.training_log), model.training_log


@lru_cache(maxsize=1)
def _names_list() -> list[SourceRow]:
    rows = _rows(NAMES, 400)
    # a rare name twice, once in Dari alone and once with its romanisation, in one province; and a
    # common full name twice, in one province too
    rows.append(SourceRow("list.csv", 900, {"full_name": "نثار احمد صافی", "province": "Kunduz"}))
    rows.append(SourceRow("list.csv", 901, {"full_name": "نثار احمد صافی", "full_name_latin": "Nisar Ahmad Safi",
                                            "province": "Kunduz"}))
    rows.append(SourceRow("list.csv", 902, {"full_name": "عبدالله", "province": "Kabul"}))
    rows.append(SourceRow("list.csv", 903, {"full_name": "عبدالله", "province": "Kabul"}))
    return rows


def test_the_bundled_model_finds_candidates_in_a_names_only_list() -> None:
    rows = _names_list()
    frame = _features(rows, Progress(), [])
    rules, _ = standalone_blocking(frame)
    assert {r.name for r in NAME_RULES} <= {r.name for r in rules}
    _, _, pairs = plan_standalone(frame)
    assert len(pairs) > 0  # without the name rules: none (every other rule needs more than a name)
    scored = predict_standalone(bundled_model(), frame, threshold_match_weight=-1e9)
    prob = {frozenset((int(a), int(b))): p
            for a, b, p in zip(scored["unique_id_l"], scored["unique_id_r"], scored["match_probability"], strict=True)}
    n = len(rows)
    rare, common = prob[frozenset((n - 4, n - 3))], prob[frozenset((n - 2, n - 1))]
    # term frequencies on the whole name decide: a rare name reaches review, a common one does not
    assert rare >= 0.5 > common, (rare, common)
    result = dedupe_rows(rows, train=False)
    assert not result.trained and result.pair_count > 0
    assert result.lead["status"].iloc[n - 4] in ("review", "linked")
    # the common name is only a possible group: no score says it is one man, just the same name
    common_row = result.lead.iloc[n - 2]
    assert common_row["status"] == "review" and common_row["reasons"] == SAME_NAME_REASON
    assert common_row["match_probability"] != common_row["match_probability"]  # NaN: not a scored link


def test_a_name_rule_over_the_budget_is_narrowed_to_a_province(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = _features(_names_list(), Progress(), [])
    latin = NAME_RULES[0]
    within = rule_pairs(frame, latin)
    monkeypatch.setattr(file_blocking, "PAIRS_FLOOR", within - 1)  # the romanised name alone just over the budget
    monkeypatch.setattr(file_blocking, "PAIRS_PER_ROW", 0)
    rules, notes = standalone_blocking(frame)
    by_name = {r.name: r for r in rules}
    assert latin.name not in by_name
    assert by_name[f"{latin.name}_p"].columns == (*latin.columns, "province_pcode")
    assert 0 < rule_pairs(frame, by_name[f"{latin.name}_p"]) < within
    assert any(n.startswith("blocking on full_latin narrowed to one province") for n in notes), notes
    monkeypatch.setattr(file_blocking, "PAIRS_FLOOR", 0)  # nothing fits: every name rule is left out, and said
    rules, notes = standalone_blocking(frame)
    assert not {r.name for r in rules} & {r.name for r in NAME_RULES}
    assert sum(n.endswith("over the budget of 0") and "left out" in n for n in notes) >= len(NAME_RULES)


def _warm_up_pairs(rows: list[SourceRow]) -> dict[frozenset[str], float]:
    frame = _features(rows, Progress(), [])
    label = {str(i): f"{Path(r.source_file).stem}{r.source_row - 1}" for i, r in enumerate(rows)}
    scored = predict_standalone(bundled_model(), frame, threshold_match_weight=-1e9)
    return {frozenset((label[a], label[b])): p
            for a, b, p in zip(scored["unique_id_l"], scored["unique_id_r"], scored["match_probability"], strict=True)}


@pytest.mark.skipif(not (THIN / "a.csv").exists(), reason="the warm-up lists are not here")
def test_the_warm_up_lists_give_candidates(tmp_path: Path) -> None:
    paths = [THIN / "a.csv", THIN / "b.csv"]
    pairs = _warm_up_pairs(read_sources(paths))
    for a, b in (("a1", "b1"), ("a3", "b3"), ("a6", "b6")):
        assert frozenset((a, b)) in pairs, (a, b)
    assert pairs[frozenset(("a1", "b1"))] >= 0.5  # the same romanisation, a rare name, one province
    for train in (None, True):  # the bundled model (12 rows), and trained on the 12 rows
        result = dedupe_files(paths, tmp_path / f"out_{train}.csv", train=train)
        assert result.trained is bool(train)
        assert 0 < result.model.prior < 1


def test_own_name_rules_only_where_rows_lack_other_identity() -> None:
    # A list whose rows give a father's name, a date, an ID or a phone is blocked by the store's rules;
    # the own name alone is added for thin lists (the costly rules at a million rich records).
    from amanat.linkage.features import features_frame, features_from_fields
    from amanat.linkage.file_blocking import NAME_RULES, standalone_blocking

    rich = features_frame(features_from_fields(str(i), {"full_name": f"Name {i % 40}", "date_of_birth": "1360",
                                                        "father_name": "Karim"}) for i in range(200))
    thin = features_frame(features_from_fields(str(i), {"full_name": f"Name {i % 40}"}) for i in range(200))
    names = {r.name for r in NAME_RULES}
    assert not names & {r.name.split("_c")[0] for r in standalone_blocking(rich)[0]}
    assert names <= {r.name for r in standalone_blocking(thin)[0]}
