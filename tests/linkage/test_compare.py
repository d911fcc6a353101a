"""Standalone dedupe: extra columns compared as text (``--compare``) and its own blocking rules."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
import pytest

from amanat.errors import InvalidInput
from amanat.linkage import blocking
from amanat.linkage.batch import predict_pairs
from amanat.linkage.batch_features import batch_features
from amanat.linkage.dedupe import (
    DedupeResult,
    SourceRow,
    add_compare_columns,
    compare_values,
    dedupe_rows,
    predict_standalone,
)
from amanat.linkage.evaluation import pairs_of
from amanat.linkage.features import BLOCKING_RULES
from amanat.linkage.file_blocking import NAME_RULES, STANDALONE_RULES, standalone_blocking
from amanat.linkage.incremental import score_pair
from amanat.linkage.model import TrainedModel
from tests.linkage._shared import population


def _address(person_id: str, record_id: str) -> str:
    n = int(person_id[1:])
    text = f"{n % 97} Street {n % 13} Kart-e {person_id[-3:]}"
    # Every other copy has two letters swapped: a typo the text levels must still see.
    return text.replace("Street", "Stteer") if int(record_id[-1]) % 2 else text


@lru_cache(maxsize=1)
def _rows() -> tuple[SourceRow, ...]:
    return tuple(SourceRow("a.csv", i + 2, {**r, "address": _address(r["person_id"], r["record_id"])})
                 for i, r in enumerate(population()))


@lru_cache(maxsize=1)
def _result() -> DedupeResult:
    return dedupe_rows(_rows(), compare=["address"], seed=5)


def test_compare_values_are_folded() -> None:
    assert compare_values(["  Kart-e  SEH ", "", None, 12, "کارته ۳"]) == ["kart-e seh", None, None, None, "کارته 3"]


def test_compared_column_is_trained_shown_and_saved() -> None:
    result = _result()
    model = result.model
    assert result.trained and model.compare_columns == ("address",)
    assert [c["output_column_name"] for c in model.settings_json["comparisons"]][-1] == "cmp_0"
    assert "address" in result.table.columns
    assert result.table["reasons"].str.contains("same address|address nearly the same").any()
    back = TrainedModel.from_json(model.to_json())
    assert back.version == model.version and back.compare_columns == ("address",)
    # Agreeing on the address is evidence for a match, differing is evidence against.
    levels = {lv["label_for_charts"]: lv for lv in model.settings_json["comparisons"][-1]["comparison_levels"]}
    assert levels["same address"]["m_probability"] > levels["same address"]["u_probability"]
    assert levels["address differs"]["m_probability"] < levels["address differs"]["u_probability"]


def test_incremental_scores_equal_splink_with_compared_columns() -> None:
    model = _result().model
    rows = _rows()
    frame = add_compare_columns(batch_features([str(i) for i in range(len(rows))], [r.fields for r in rows]),
                                [r.fields for r in rows], model.compare_columns)
    pairs = predict_standalone(model, frame, threshold_match_weight=-1e9)
    by_id = {r["unique_id"]: r for r in frame.to_dict("records")}
    seen_levels = set()
    for rec in pairs.to_dict("records"):
        got = score_pair(model, by_id[rec["unique_id_l"]], by_id[rec["unique_id_r"]])
        assert abs(got.match_weight - rec["match_weight"]) < 1e-6
        extra = got.contributions[-1]
        assert extra.comparison == "cmp_0" and extra.gamma == rec["gamma_cmp_0"]
        seen_levels.add(extra.gamma)
    assert len(seen_levels) >= 3  # exact, typo and differing addresses all met


def test_standalone_rules_add_candidates_and_keep_the_store_rules() -> None:
    rows = _rows()
    fields = [r.fields for r in rows]
    frame = add_compare_columns(batch_features([str(i) for i in range(len(rows))], fields), fields, ["address"])
    model = _result().model
    store = set(pairs_of(predict_pairs(model, frame, threshold_match_weight=-1e9)))
    both = set(pairs_of(predict_standalone(model, frame, threshold_match_weight=-1e9)))
    assert store < both
    assert not {r.name for r in STANDALONE_RULES} & {r.name for r in BLOCKING_RULES}


def test_a_rule_over_the_pair_budget_is_left_out_and_named() -> None:
    rows = _rows()
    fields = [{**r.fields, "country": "Afghanistan"} for r in rows]
    frame = add_compare_columns(batch_features([str(i) for i in range(len(rows))], fields), fields,
                                ["address", "country"])
    rules, notes = standalone_blocking(frame, ["address", "country"])
    names = [r.name for r in rules]
    # the rows give dates and IDs: the own name alone is not blocked on (NAME_RULES_UNTIL)
    rest = (r.name for r in STANDALONE_RULES if r not in NAME_RULES)
    assert names == [*(r.name for r in BLOCKING_RULES), *rest, "s_cmp_0"]
    assert len(notes) == 1 and notes[0].startswith("blocking on country left out")


def test_blocked_pairs_listed_in_numpy_equal_splinks_blocking() -> None:
    from amanat.linkage.model import model_linker, new_connection

    rows = _rows()
    frame = add_compare_columns(batch_features([str(i) for i in range(len(rows))], [r.fields for r in rows]),
                                [r.fields for r in rows], ["address"])
    model = _result().model
    rules, _ = standalone_blocking(frame, ["address"])
    ours = blocking.blocked_pairs(frame, rules, jobs=2).to_pandas()
    con = new_connection()
    try:
        linker = model_linker(model, frame, con=con, blocking=rules)
        splink = linker.inference.predict(threshold_match_weight=-1e6, warning_mode="never").as_pandas_dataframe()
    finally:
        con.close()
    # the same pairs, put the same way round, once each, under the first rule that makes them
    assert len(ours) == len(splink) > 500
    our_keys = dict(zip(zip(ours["join_key_l"], ours["join_key_r"], strict=True), ours["match_key"], strict=True))
    their_keys = dict(zip(zip(splink["unique_id_l"], splink["unique_id_r"], strict=True),
                          splink["match_key"].astype(str), strict=True))
    assert our_keys.keys() == their_keys.keys()
    # Splink cannot keep an exploding rule's pairs (phones) out of later rules, and keeps such a pair
    # once under min(match_key) compared as text ('13' < '4'): only there may the rule named differ
    exploding = {str(i) for i, rule in enumerate(rules) if rule.explode}
    differ = {p for p, k in our_keys.items() if their_keys[p] != k}
    assert all(our_keys[p] in exploding and int(their_keys[p]) > int(our_keys[p]) and their_keys[p] < our_keys[p]
               for p in differ)
    # predict scores exactly those pairs, as Splink scores the pairs of its own blocking
    scored = predict_pairs(model, frame, threshold_match_weight=-1e6, blocking=rules)
    got = scored.set_index(["unique_id_l", "unique_id_r"])[["match_weight", "match_probability"]].sort_index()
    want = splink.set_index(["unique_id_l", "unique_id_r"])[["match_weight", "match_probability"]].sort_index()
    assert got.equals(want)


def test_a_store_rule_over_the_pair_budget_is_narrowed_to_one_province(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from amanat.linkage import file_blocking

    rows = _rows()
    frame = batch_features([str(i) for i in range(len(rows))], [r.fields for r in rows])
    nf = next(r for r in BLOCKING_RULES if r.name == "nf")
    within = blocking.rule_pairs(frame, nf)
    from collections import Counter

    keys = Counter(k for k in zip(frame["full_phon"], frame["father_phon"], strict=True)
                   if not any(v is pd.NA for v in k))
    assert within == sum(c * (c - 1) // 2 for c in keys.values()) > 0
    monkeypatch.setattr(file_blocking, "PAIRS_FLOOR", within - 1)  # nf alone just over the budget
    monkeypatch.setattr(file_blocking, "PAIRS_PER_ROW", 0)
    rules, notes = standalone_blocking(frame)
    by_name = {r.name: r for r in rules}
    assert "nf" not in by_name
    assert by_name["s_nf_p"].columns == (*nf.columns, "province_pcode")
    assert any(n.startswith("blocking on full_phon+father_phon narrowed to one province") for n in notes)
    assert blocking.rule_pairs(frame, by_name["s_nf_p"]) < within
    # the exploded phone rule is counted per phone, as Splink joins it
    ph = next(r for r in BLOCKING_RULES if r.name == "ph")
    shared = Counter(p for phones in frame["phones"].dropna() for p in phones)
    assert blocking.rule_pairs(frame, ph) == sum(c * (c - 1) // 2 for c in shared.values()) > 0


def test_compare_options_are_checked() -> None:
    rows = _rows()[:50]
    with pytest.raises(InvalidInput, match="--no-train"):
        dedupe_rows(rows, compare=["address"], train=False)
    with pytest.raises(InvalidInput, match="other columns"):
        dedupe_rows(rows, compare=["unit"], model=_result().model)
    with pytest.raises(InvalidInput, match="once"):
        dedupe_rows(rows, compare=["address", "address"])


def test_a_model_with_compared_columns_is_not_stored_for_intake(database) -> None:  # type: ignore[no-untyped-def]
    from amanat.core.audit import Actor
    from amanat.linkage.service import store_model

    with pytest.raises(InvalidInput, match="address") as err, database.transaction() as db:
        store_model(db, Actor("test"), _result().model)
    assert err.value.code == "model_not_for_store"
