"""Incremental scoring reproduces Splink; cross-script duplicates link, brothers do not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from amanat.linkage.batch import predict_pairs
from amanat.linkage.evaluation import pair
from amanat.linkage.features import features_frame
from amanat.linkage.incremental import (
    CandidateIndex,
    reasons_of_level_arrays,
    reasons_of_levels,
    score_candidates,
    score_pair,
)
from tests.linkage._shared import BROTHER, NABI_DARI, NABI_PASSPORT, NABI_SHEET, frame, model, row


def _crafted() -> list[dict]:
    return [row("nabi-dari", NABI_DARI), row("nabi-passport", NABI_PASSPORT), row("nabi-sheet", NABI_SHEET),
            row("brother", BROTHER),
            row("nabi-again", {**NABI_SHEET, "full_name": "محمد نبي", "phone": "0799123456"}),
            row("nabi-phone", {"full_name": "Mohd Nabi", "phone": "+93 799 123 456"})]


def test_incremental_scores_equal_splink_predict() -> None:
    trained = model()
    base = frame()
    crafted = features_frame(_crafted())
    df = pd.concat([base, crafted], ignore_index=True)
    pairs = predict_pairs(trained, df, threshold_match_weight=-1e9)  # every blocked pair
    assert len(pairs) > 500
    by_id = {r["unique_id"]: r for r in df.to_dict("records")}
    comparisons = [c["output_column_name"] for c in trained.settings_json["comparisons"]]
    for rec in pairs.to_dict("records"):
        got = score_pair(trained, by_id[rec["unique_id_l"]], by_id[rec["unique_id_r"]])
        assert abs(got.match_weight - rec["match_weight"]) < 1e-6, rec["unique_id_l"]
        assert abs(got.match_probability - rec["match_probability"]) < 1e-6
        for c in got.contributions:
            assert c.gamma == rec[f"gamma_{c.comparison}"]
            splink_mw = rec[f"mw_{c.comparison}"] + rec.get(f"mw_tf_adj_{c.comparison}", 0.0)
            assert abs(c.match_weight - splink_mw) < 1e-6
        assert [c.comparison for c in got.contributions] == comparisons
        # The dedupe tool reads the same reasons from Splink's levels and weights.
        weights = [rec[f"mw_{c}"] + rec.get(f"mw_tf_adj_{c}", 0.0) for c in comparisons]
        assert reasons_of_levels(trained, [rec[f"gamma_{c}"] for c in comparisons], weights) == got.reasons
    assert reasons_of_levels(trained, [-2] * len(comparisons), [0.0] * len(comparisons)) is None


def test_reasons_for_many_pairs_equal_reasons_pair_by_pair() -> None:
    trained = model()
    comparisons = trained.settings_json["comparisons"]
    gammas_of = [[lv for lv in range(-1, len(c["comparison_levels"]) - 1)] for c in comparisons]
    rng = np.random.default_rng(7)
    n = 5000
    gammas = np.column_stack([rng.choice(g + [-2] * (len(g) // 8), size=n) for g in gammas_of])
    # weights on a coarse grid so ties happen, both sides of ±1 included
    weights = rng.integers(-12, 13, size=gammas.shape) / 2.0
    got = reasons_of_level_arrays(trained, gammas, weights)
    want = [reasons_of_levels(trained, g.tolist(), w.tolist()) for g, w in zip(gammas, weights, strict=True)]
    assert got == want
    assert any(r is None for r in want) and sum(len(r or ()) == 4 for r in want) > 100
    assert reasons_of_level_arrays(trained, gammas[:0], weights[:0]) == []


def test_one_man_in_three_scripts_links_and_his_brother_does_not() -> None:
    trained = model()
    dari, passport, sheet, brother = _crafted()[:4]
    auto = trained.thresholds.auto_link
    for a, b in ((dari, passport), (dari, sheet), (passport, sheet)):
        scored = score_pair(trained, a, b)
        assert scored.match_probability >= auto, (a["unique_id"], b["unique_id"])
        assert "names agree across scripts" in scored.reasons
        assert "same date of birth" in scored.reasons
    for me in (dari, passport, sheet):
        assert score_pair(trained, me, brother).match_probability < trained.thresholds.review


def test_reasons_name_the_strongest_evidence() -> None:
    trained = model()
    sheet, again = _crafted()[2], _crafted()[4]
    scored = score_pair(trained, sheet, again)
    assert "same tazkira" in scored.reasons
    weight_of = {c.reason: c.match_weight for c in scored.contributions if c.reason}
    assert [weight_of[r] for r in scored.reasons] == sorted((weight_of[r] for r in scored.reasons), reverse=True)
    by_name = {c.comparison: c for c in scored.contributions}
    assert by_name["tazkira"].level == "same tazkira" and by_name["tazkira"].match_weight > 10
    assert by_name["passport"].gamma == -1 and by_name["passport"].match_weight == 0.0


def test_candidate_index_finds_exactly_the_batch_blocked_pairs() -> None:
    trained = model()
    df = pd.concat([frame(), features_frame(_crafted())], ignore_index=True)
    blocked = {pair(a, b) for a, b in zip(*predict_pairs(trained, df, threshold_match_weight=-1e9)[
        ["unique_id_l", "unique_id_r"]].to_numpy().T, strict=True)}
    index = CandidateIndex()
    rows = df.to_dict("records")
    index.add_many(rows)
    from_index = {pair(r["unique_id"], c) for r in rows for c in index.candidate_ids(r)}
    assert from_index == blocked


def test_new_record_matched_against_known_people() -> None:
    trained = model()
    index = CandidateIndex()
    known = _crafted()[:4]
    index.add_many(known)
    new = row("new", {"full_name": "محمد نبي", "father_name": "عبد الكريم", "date_of_birth": "12 Asad 1360",
                      "gender": "M"})
    found = index.match(trained, new)
    assert found and found[0].record_id in {"nabi-dari", "nabi-passport", "nabi-sheet"}
    assert found[0].match_probability >= trained.thresholds.auto_link
    assert "brother" not in [s.record_id for s in found if s.match_probability >= trained.thresholds.review]
    assert score_candidates(trained, new, []) == []
