"""Settings, training and the stored model object."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from splink import DuckDBAPI, Linker

from amanat.linkage.comparisons import amanat_comparisons, tf_columns
from amanat.linkage.evaluation import pairs_of, scores, true_pairs
from amanat.linkage.features import BLOCKING_RULES, features_frame, to_arrow
from amanat.linkage.model import (
    Thresholds,
    TrainedModel,
    build_settings,
    compute_tf_tables,
    estimate_u,
    linker_for,
    new_connection,
    train_model,
)
from tests.linkage._shared import frame, model, population


def test_settings_build_into_a_linker() -> None:
    settings = build_settings()
    linker = Linker(DuckDBAPI(connection=new_connection()).register(to_arrow(features_frame([]))), settings,
                    log_level=None)
    names = [c.output_column_name for c in linker._settings_obj.comparisons]
    assert names == [s.name for s in amanat_comparisons()]
    assert {"full_name", "paternal", "dob", "tazkira", "passport", "phones", "gender"} <= set(names)
    assert len(linker._settings_obj._blocking_rules_to_generate_predictions) == len(BLOCKING_RULES)
    # Term frequencies on the name keys, the whole-name key included.
    assert {"full_fold", "full_latin", "full_phon", "family_latin"} <= set(tf_columns(amanat_comparisons()))


def test_connection_never_spills_to_disk() -> None:
    con = new_connection()
    assert con.execute("select current_setting('temp_directory')").fetchall() == [("",)]


def test_training_is_seeded_and_learns_the_synthetic_population() -> None:
    trained = model()
    again = train_model(frame(), seed=5, u_max_pairs=3e5)
    assert again.version == trained.version  # same data, same seed: same model
    assert trained.record_count == len(frame())
    truth_prior = len(true_pairs({r["record_id"]: r["person_id"] for r in population()})) / (
        len(frame()) * (len(frame()) - 1) / 2)
    assert truth_prior / 3 < trained.prior < truth_prior * 3
    # Every level has explicit m and u, so the incremental scorer needs no Splink defaults.
    for comp in trained.settings_json["comparisons"]:
        for level in comp["comparison_levels"]:
            assert level.get("is_null_level") or ("m_probability" in level and "u_probability" in level)


def test_one_pass_u_equals_splinks_own_estimate() -> None:
    # The same seeded sample and pairs: every level's u identical, unobserved levels alike.
    specs = amanat_comparisons()
    tf_tables, tf_defaults = compute_tf_tables(frame(), tf_columns(specs))

    def trained_u(one_pass: bool) -> list[object]:
        linker = linker_for(build_settings(specs=specs), frame(), tf_tables, tf_defaults, link_type="dedupe_only")
        if one_pass:
            estimate_u(linker, max_pairs=2e5, seed=11)
        else:
            linker.training.estimate_u_using_random_sampling(max_pairs=2e5, seed=11, num_chunks=1)
        return [(c.output_column_name, lv.comparison_vector_value, lv._u_probability)
                for c in linker._settings_obj.comparisons for lv in c.comparison_levels if not lv.is_null_level]

    ours = trained_u(True)
    assert ours == trained_u(False)
    assert len({u for *_, u in ours}) > 10  # real, varied estimates


def test_prior_counted_in_numpy_equals_splinks_estimate() -> None:
    from splink import block_on

    from amanat.linkage.blocking import union_pair_count
    from amanat.linkage.features import BlockRule
    from amanat.linkage.model import _set_prior
    from amanat.linkage.prior import PRIOR_RULES

    specs = amanat_comparisons()
    tf_tables, tf_defaults = compute_tf_tables(frame(), tf_columns(specs))
    linker = linker_for(build_settings(specs=specs), frame(), tf_tables, tf_defaults, link_type="dedupe_only")
    linker.training.estimate_probability_two_random_records_match([block_on(*c) for c in PRIOR_RULES], recall=0.6)
    splinks = linker._settings_obj._probability_two_random_records_match
    observed = union_pair_count(frame(), [BlockRule(str(i), c) for i, c in enumerate(PRIOR_RULES)], jobs=2)
    _set_prior(linker, observed, len(frame()), 0.6)
    assert linker._settings_obj._probability_two_random_records_match == splinks
    assert observed > 50  # the rules do find pairs here
    with pytest.raises(ValueError, match="recall must be at least"):
        _set_prior(linker, len(frame()) ** 2, len(frame()), 0.6)


def test_model_round_trips_and_refuses_tampering() -> None:
    trained = model()
    text = trained.to_json()
    back = TrainedModel.from_json(text)
    assert back.version == trained.version and back.thresholds == trained.thresholds
    assert back.tf_tables == trained.tf_tables
    doc = json.loads(text)
    doc["settings_json"]["probability_two_random_records_match"] = 0.5
    with pytest.raises(ValueError, match="corrupted"):
        TrainedModel.from_json(json.dumps(doc))
    with pytest.raises(ValueError, match="not an Amanat"):
        TrainedModel.from_json(json.dumps({"format": "something else"}))
    other = TrainedModel.from_json(text)
    other.settings_json["comparisons"] = other.settings_json["comparisons"][:-1]
    with pytest.raises(ValueError, match="retrain"):
        _ = other.specs


def test_term_frequency_tables_keep_only_common_values() -> None:
    trained = model()
    for col, table in trained.tf_tables.items():
        default = trained.tf_defaults[col]
        assert all(v > default for v in table.values()), col
    assert trained.tf("full_latin", None) is None
    assert trained.tf("full_latin", "surely-not-a-name") == trained.tf_defaults["full_latin"]


def test_predictions_on_training_data_are_accurate() -> None:
    from amanat.linkage.batch import predict_pairs

    trained = model()
    pairs = predict_pairs(trained, frame(), threshold_match_weight=Thresholds.weight(0.5))
    truth = true_pairs({r["record_id"]: r["person_id"] for r in population()})
    got = scores(pairs_of(pairs), truth)
    assert got["precision"] > 0.97 and got["recall"] > 0.97, got


def test_the_fallback_em_round_runs_only_when_the_others_leave_something_untrained() -> None:
    from amanat.linkage.dedupe import STANDALONE_EM_FALLBACK, train_standalone

    full = train_standalone(frame(), seed=5)
    assert not any(line.startswith("EM on dob_day") for line in full.training_log)
    # without fathers' names the first round has no pairs and is skipped: the date round trains
    fatherless = frame().copy()
    for c in [c for c in fatherless.columns if c.startswith(("father_", "names_phon"))]:
        fatherless[c] = pd.Series([None] * len(fatherless), dtype=fatherless[c].dtype)
    bare = train_standalone(fatherless, seed=5)
    fallback = "+".join(STANDALONE_EM_FALLBACK[0])
    assert any(line.startswith(f"EM on {fallback} as well") for line in bare.training_log), bare.training_log
