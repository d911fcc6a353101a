"""Splink 5 settings for Amanat's columns, training, and the stored model object.

Plaintext lives only in an in-memory DuckDB connection made by ``new_connection``: no
database file, and spilling to disk is disabled (``temp_directory = ''``) so no temp file
can hold names or IDs. A run that outgrows memory fails instead of spilling; size the
machine (≈ 6 GB for 1M records) or use the Spark backend.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from importlib import resources
from typing import Any, Literal

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.internals.blocking import _sql_gen_where_condition
from splink.internals.blocking_analysis import _cumulative_comparisons_to_be_scored_from_blocking_rules
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.constants import LEVEL_NOT_OBSERVED_TEXT
from splink.internals.estimate_u import _rows_needed_for_n_pairs
from splink.internals.pipeline import CTEPipeline
from splink.internals.vertically_concatenate import enqueue_df_concat

from amanat.linkage.blocking import DERIVED_KEYS, union_pair_count
from amanat.linkage.comparisons import (
    SPEC_VERSION,
    ComparisonSpec,
    amanat_comparisons,
    compare_feature_names,
    tf_columns,
)
from amanat.linkage.features import BLOCKING_RULES, BlockRule, to_arrow
from amanat.linkage.prior import PRIOR_TIERS, prior_bounds, prior_estimate, prior_tier_count

LinkType = Literal["dedupe_only", "link_only", "link_and_dedupe"]
MODEL_FORMAT = "amanat-linkage-model"


@dataclass(frozen=True)
class Thresholds:
    """Decision bands on match probability.

    ``auto_link``: linked without review. ``review``: from here up to auto_link a person
    decides. ``strict``: a cluster held together by one link below this is flagged weak.
    """

    auto_link: float = 0.99
    review: float = 0.5
    strict: float = 0.999

    @staticmethod
    def weight(probability: float) -> float:
        return math.log2(probability / (1.0 - probability))


def new_connection(*, threads: int | None = None, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that never writes temp files."""
    config: dict[str, Any] = {"temp_directory": ""}
    if threads:
        config["threads"] = threads
    if memory_limit:
        config["memory_limit"] = memory_limit
    con = duckdb.connect(":memory:", config=config)
    con.execute("SET enable_progress_bar = false")  # it draws on the terminal mid-run
    return con


def blocking_rule_creators(rules: Sequence[BlockRule] = BLOCKING_RULES) -> list[BlockingRuleCreator]:
    out: list[BlockingRuleCreator] = []
    for rule in rules:
        # a derived key (the standalone dedupe's) as its SQL expression; Splink puts l. and r. in
        columns = [DERIVED_KEYS[c].sql if c in DERIVED_KEYS else c for c in rule.columns]
        if rule.explode:
            out.append(block_on(*columns, arrays_to_explode=[rule.explode]))
        else:
            out.append(block_on(*columns))
    return out


def build_settings(
    *,
    link_type: LinkType = "dedupe_only",
    specs: tuple[ComparisonSpec, ...] | None = None,
    probability_two_random_records_match: float = 1e-4,
) -> SettingsCreator:
    """Splink settings for Amanat's feature columns (see features.py)."""
    specs = specs or amanat_comparisons()
    return SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=[s.creator() for s in specs],
        blocking_rules_to_generate_predictions=blocking_rule_creators(),
        probability_two_random_records_match=probability_two_random_records_match,
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=False,
    )


# --- term frequencies --------------------------------------------------------------------


def compute_tf_tables(
    frame: pd.DataFrame, columns: Sequence[str], *, min_count: int = 5
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Relative frequency of each value, kept only for values seen ``min_count`` times or
    more (population statistics, not records); rarer values share one default frequency."""
    tables: dict[str, dict[str, float]] = {}
    defaults: dict[str, float] = {}
    for col in columns:
        counts = frame[col].dropna().value_counts()
        total = int(counts.sum())
        if total == 0:
            tables[col], defaults[col] = {}, 1.0
            continue
        common = counts[counts >= min_count]
        tables[col] = {str(k): float(v) / total for k, v in common.items()}
        # A value below min_count was seen 1..min_count-1 times: take the middle of that.
        defaults[col] = max(1.0, (min_count - 1) / 2) / total
    return tables, defaults


@dataclass
class TrainedModel:
    """A trained, versioned linkage model: Splink's saved JSON plus what Amanat adds."""

    settings_json: dict[str, Any]
    trained_at: str
    record_count: int
    tf_tables: dict[str, dict[str, float]] = field(default_factory=dict)
    tf_defaults: dict[str, float] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    spec_version: int = SPEC_VERSION
    seed: int | None = None
    training_log: list[str] = field(default_factory=list)
    # Extra columns (headers) a standalone dedupe compared as text (``--compare``); a model
    # with any describes one set of files, not the form, and the store has no such columns.
    compare_columns: tuple[str, ...] = ()

    @property
    def version(self) -> str:
        """Content hash: two models with the same parameters have the same version."""
        parts: list[Any] = [self.spec_version, self.settings_json, self.tf_tables, self.tf_defaults]
        if self.compare_columns:  # only then: older models keep their versions
            parts.append(list(self.compare_columns))
        body = json.dumps(parts, sort_keys=True, ensure_ascii=False)
        return f"{self.spec_version}.{hashlib.sha256(body.encode()).hexdigest()[:12]}"

    @property
    def link_type(self) -> LinkType:
        return self.settings_json.get("link_type", "dedupe_only")  # type: ignore[no-any-return]

    @property
    def prior(self) -> float:
        return float(self.settings_json["probability_two_random_records_match"])

    def tf(self, col: str, val: object) -> float | None:
        if val is None or val is pd.NA or val == "":
            return None
        got = self.tf_tables.get(col, {}).get(str(val))
        return got if got is not None else self.tf_defaults.get(col)

    @cached_property
    def specs(self) -> tuple[ComparisonSpec, ...]:
        if self.spec_version != SPEC_VERSION:
            raise ValueError("model was trained with a different comparison spec version; retrain it")
        specs = amanat_comparisons(self.compare_columns)
        stored = self.settings_json["comparisons"]
        if [s.name for s in specs] != [c["output_column_name"] for c in stored] or any(
            [lv.creator.get_comparison_level("duckdb").sql_condition for lv in s.levels]
            != [sl["sql_condition"] for sl in c["comparison_levels"]]
            for s, c in zip(specs, stored, strict=True)
        ):
            raise ValueError("stored comparisons do not match this version's spec; retrain the model")
        return specs

    def to_json(self) -> str:
        doc = {
            "format": MODEL_FORMAT,
            "version": self.version,
            "spec_version": self.spec_version,
            "trained_at": self.trained_at,
            "record_count": self.record_count,
            "seed": self.seed,
            "thresholds": asdict(self.thresholds),
            "settings_json": self.settings_json,
            "tf_tables": self.tf_tables,
            "tf_defaults": self.tf_defaults,
            "training_log": self.training_log,
            "compare_columns": list(self.compare_columns),
        }
        return json.dumps(doc, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> TrainedModel:
        doc = json.loads(text)
        if doc.get("format") != MODEL_FORMAT:
            raise ValueError("not an Amanat linkage model")
        model = cls(
            settings_json=doc["settings_json"],
            trained_at=doc["trained_at"],
            record_count=int(doc["record_count"]),
            tf_tables=doc.get("tf_tables", {}),
            tf_defaults=doc.get("tf_defaults", {}),
            thresholds=Thresholds(**doc.get("thresholds", {})),
            spec_version=int(doc["spec_version"]),
            seed=doc.get("seed"),
            training_log=list(doc.get("training_log", [])),
            compare_columns=tuple(doc.get("compare_columns", ())),
        )
        if doc.get("version") and doc["version"] != model.version:
            raise ValueError("model file is corrupted: its content does not match its version")
        return model


def bundled_model() -> TrainedModel:
    """The model shipped with Amanat, trained on the synthetic population (docs/linkage.md)."""
    text = resources.files("amanat.linkage").joinpath("default_model.json").read_text(encoding="utf-8")
    return TrainedModel.from_json(text)


# --- running Splink ----------------------------------------------------------------------


def model_table(frame: pd.DataFrame, tf_tables: Mapping[str, Mapping[str, float]],
                tf_defaults: Mapping[str, float], compare: Sequence[str] = ()) -> pa.Table:
    """The feature table plus Splink's ``tf_<col>`` columns from the model's tables; Splink then
    uses them as given instead of computing frequencies from the data (batch == incremental).
    ``compare``: the extra columns' feature names (``cmp_0``…), which the frame must hold."""
    missing = [c for c in compare if c not in frame.columns]
    if missing:
        raise ValueError(f"the frame lacks the model's compared columns {missing}")
    extra = ["source_dataset"] if "source_dataset" in frame.columns else []
    table = to_arrow(frame, [*extra, *compare])
    for col, lookup in tf_tables.items():
        # Looked up in Arrow (a hash join in C): a value the table lacks gets the default, no value none.
        values = table.column(col)
        found = pc.take(pa.array(list(lookup.values()), type=pa.float64()),
                        pc.index_in(values, value_set=pa.array(list(lookup), type=values.type)))
        tf = pc.if_else(pc.is_null(values), pa.scalar(None, pa.float64()),
                        pc.coalesce(found, pa.scalar(float(tf_defaults.get(col, 1.0)))))
        table = table.append_column(f"tf_{col}", tf)
    return table


def register_frames(db_api: DuckDBAPI, table: pa.Table, link_type: LinkType) -> list[Any]:
    """Register the table (split by ``source_dataset`` for linking) with Splink."""
    if link_type == "dedupe_only" or "source_dataset" not in table.column_names:
        return [db_api.register(table)]
    parts = []
    for name in sorted(set(table.column("source_dataset").to_pylist())):
        if not str(name).isidentifier():  # it names a DuckDB table too
            raise ValueError("source_dataset values must be simple identifiers such as 'a' or 'batch_2'")
        part = table.filter(pc.equal(table.column("source_dataset"), name))
        parts.append(db_api.register(part, dataset_display_name=str(name)))
    return parts


def linker_for(settings: SettingsCreator | dict[str, Any], frame: pd.DataFrame, tf_tables: Mapping[str, Any],
               tf_defaults: Mapping[str, float], *, link_type: LinkType,
               con: duckdb.DuckDBPyConnection | None = None, compare: Sequence[str] = ()) -> Linker:
    db_api = DuckDBAPI(connection=con or new_connection())
    sdfs = register_frames(db_api, model_table(frame, tf_tables, tf_defaults, compare), link_type)
    # log_level=None: Splink adds no stdout handler of its own; its warnings go to the
    # "splink" logger like any library's.
    return Linker(sdfs if len(sdfs) > 1 else sdfs[0], settings, log_level=None)


def model_linker(model: TrainedModel, frame: pd.DataFrame, *, con: duckdb.DuckDBPyConnection | None = None,
                 blocking: Sequence[BlockRule] | None = None) -> Linker:
    """A Splink linker over ``frame`` carrying the stored model's parameters.

    Blocking comes from this code's BLOCKING_RULES, not from the rules saved with the model,
    so batch candidates always equal what ``blocking_keys`` gives the store's index.
    ``blocking``: other rules, for the standalone dedupe alone (file_blocking.standalone_blocking):
    the store's index has keys for BLOCKING_RULES only, so stored records must never be
    predicted with anything else."""
    _ = model.specs  # refuse a model from another spec version
    settings = copy.deepcopy(model.settings_json)
    settings["blocking_rules_to_generate_predictions"] = [
        c.create_blocking_rule_dict("duckdb") for c in blocking_rule_creators(
            BLOCKING_RULES if blocking is None else tuple(blocking))
    ]
    return linker_for(settings, frame, model.tf_tables, model.tf_defaults, link_type=model.link_type, con=con,
                      compare=compare_feature_names(model.compare_columns))


M_FLOOR = 1e-6


def _floor_m(linker: Linker, floor: float = M_FLOOR) -> None:
    """Raise trained m below ``floor`` to it. EM drives a level seen only among non-matches
    towards m = 0 (weights of -400 bits); the next EM round then underflows a pair's match
    probability to exactly 0 and Splink 5.0 refuses the resulting m = 0.0. The floor also
    caps how hard one disagreeing field (a mistyped gender) can veto a match: log2(1e-6/u)."""
    for comp in linker._settings_obj.comparisons:
        for lvl in comp.comparison_levels:
            if lvl.is_null_level or not lvl._m_is_trained:
                continue
            m = lvl.m_probability
            if m is not None and m < floor:
                lvl.m_probability = floor


def _resolve_defaults(linker: Linker, settings_json: dict[str, Any]) -> list[str]:
    """Write the m/u Splink would fall back to into the JSON, so every level is explicit
    and the incremental scorer reads the very numbers predict() uses."""
    notes: list[str] = []
    live = linker._settings_obj.comparisons  # private, but the only way to read resolved m/u
    for comp, stored in zip(live, settings_json["comparisons"], strict=True):
        for lvl, sl in zip(comp.comparison_levels, stored["comparison_levels"], strict=True):
            if lvl.is_null_level:
                continue
            if "m_probability" not in sl:
                sl["m_probability"] = lvl.m_probability
                notes.append(f"{comp.output_column_name}: level '{sl.get('label_for_charts')}' m not trained")
            if "u_probability" not in sl:
                sl["u_probability"] = lvl.u_probability
                notes.append(f"{comp.output_column_name}: level '{sl.get('label_for_charts')}' u not trained")
    return notes


def _round_params(settings_json: dict[str, Any], digits: int = 12) -> None:
    """Round m, u and the prior to ``digits`` significant figures: DuckDB's parallel sums
    differ in the last bit from run to run, and a model's version is a hash of its content."""
    def r(x: float) -> float:
        return float(f"{x:.{digits}g}")

    settings_json["probability_two_random_records_match"] = r(settings_json["probability_two_random_records_match"])
    for comp in settings_json["comparisons"]:
        for level in comp["comparison_levels"]:
            for key in ("m_probability", "u_probability"):
                if isinstance(level.get(key), float):
                    level[key] = r(level[key])


# EM blocks that leave every comparison trained by at least one round.
EM_RULES: tuple[tuple[str, ...], ...] = (
    ("full_phon", "father_phon", "names_phon"),
    # Pairs sharing a tazkira are nearly all one person: a block on names, dates or places
    # would be full of brothers and teach the model that a differing given name is common.
    ("tazkira",),
)
def train_model(
    df: pd.DataFrame,
    *,
    seed: int = 42,
    link_type: LinkType = "dedupe_only",
    prior_recall: float = 0.6,
    u_max_pairs: float = 2e6,
    em_max_pairs: float = 1e6,
    tf_min_count: int = 5,
    thresholds: Thresholds | None = None,
    compare: Sequence[str] = (),
    em_rules: Sequence[tuple[str, ...]] = EM_RULES,
    em_fallback: Sequence[tuple[str, ...]] = (),
) -> TrainedModel:
    """Train on a feature frame: prior from deterministic rules, u by seeded random
    sampling (bounded), m by EM on sampled blocking rules (``em_rules``, in order); then
    the ``em_fallback`` rounds, only if a round failed or left a comparison untrained.
    ``compare``: extra columns (headers) compared as text, held in the frame as ``cmp_0``…
    (standalone dedupe only)."""
    specs = amanat_comparisons(compare)
    tf_tables, tf_defaults = compute_tf_tables(df, tf_columns(specs), min_count=tf_min_count)
    con = new_connection()
    try:
        linker = linker_for(build_settings(link_type=link_type, specs=specs), df, tf_tables, tf_defaults,
                            link_type=link_type, compare=compare_feature_names(compare), con=con)
        settings_json, log = _train(linker, df, seed=seed, prior_recall=prior_recall, u_max_pairs=u_max_pairs,
                                    em_max_pairs=em_max_pairs, em_rules=em_rules, em_fallback=em_fallback)
    finally:
        # Closed now, not when the linker is collected: DuckDB's working memory (1.5 GB at a
        # million records) is given back before predict needs its own.
        con.close()
    return TrainedModel(
        settings_json=settings_json,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        record_count=len(df),
        tf_tables=tf_tables,
        tf_defaults=tf_defaults,
        thresholds=thresholds or Thresholds(),
        seed=seed,
        training_log=log,
        compare_columns=tuple(compare),
    )


def estimate_u(linker: Linker, *, max_pairs: float, seed: int) -> None:
    """u by random sampling, as Splink's ``estimate_u_using_random_sampling(num_chunks=1)``
    computes it (the same seeded sample, the same pairs, the same counts: tested equal), in
    one pass: Splink 5 cross-joins the sample once per comparison, which was four fifths of
    training at any size. A link-only model (two tables) goes through Splink itself."""
    settings = linker._settings_obj
    if settings._link_type == "link_only":
        linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed, num_chunks=1)
        return
    db_api = linker._db_api
    pipeline = enqueue_df_concat(linker, CTEPipeline())
    pipeline.enqueue_sql("select count(*) as count from __splink__df_concat", "__splink__df_concat_count")
    counted = db_api.sql_pipeline_to_splink_dataframe(pipeline)
    total = counted.as_record_list()[0]["count"]
    counted.drop_table_from_database_and_remove_from_cache()
    proportion = min(1.0, _rows_needed_for_n_pairs(max_pairs) / max(total, 1))
    uid_cols = settings.column_info_settings.unique_id_input_columns
    comparisons = settings.comparisons
    pipeline = enqueue_df_concat(linker, CTEPipeline())
    # Every piece of SQL here is Splink's own or a column name from the settings: no values.
    sample_filter = linker._proportion_sample_sql(proportion, uid_cols, seed=seed)
    # each sampled row numbered, so the pairs can be listed by number alone
    pipeline.enqueue_sql("select *, row_number() over () as __amanat_k from __splink__df_concat "  # noqa: S608  # nosec B608
                         "where 1=1 " + sample_filter, "__splink__df_concat_sample")
    sample = db_api.sql_pipeline_to_splink_dataframe(pipeline)
    pairs = None
    try:
        # Splink's pairs (its own where), as two numbers each: a cross join runs on one
        # thread, and the comparisons computed in it did too (training's longest step).
        where = _sql_gen_where_condition(settings._link_type, uid_cols, sql_dialect=db_api.sql_dialect)
        pipeline = CTEPipeline(input_dataframes=[sample])
        pipeline.enqueue_sql("select l.__amanat_k as k_l, r.__amanat_k as k_r from __splink__df_concat_sample as l "  # noqa: S608  # nosec B608
                             "inner join __splink__df_concat_sample as r on (1=1) " + where, "__amanat_u_pairs")
        pairs = db_api.sql_pipeline_to_splink_dataframe(pipeline)
        # the comparisons over the stored pairs: a join DuckDB spreads over every core
        pipeline = CTEPipeline(input_dataframes=[sample, pairs])
        cols = [c for u in uid_cols for c in u.l_r_names_as_l_r]
        cols += [c for cc in comparisons for c in cc._columns_to_select_for_blocking()]
        pipeline.enqueue_sql("select " + ", ".join(dict.fromkeys(cols)) + " from __amanat_u_pairs as p "  # noqa: S608  # nosec B608
                             "inner join __splink__df_concat_sample as l on l.__amanat_k = p.k_l "
                             "inner join __splink__df_concat_sample as r on r.__amanat_k = p.k_r", "__splink__pairs")
        # only the levels leave DuckDB: 2M pairs × a byte per comparison
        cases = ", ".join(cc._case_statement for cc in comparisons)
        pipeline.enqueue_sql("select " + cases + " from __splink__pairs", "__splink__u_levels")  # noqa: S608  # nosec B608
        levels = db_api.sql_pipeline_to_splink_dataframe(pipeline)
        try:
            gammas = levels.as_pandas_dataframe()
        finally:
            levels.drop_table_from_database_and_remove_from_cache()
    finally:
        for table in (pairs, sample):
            if table is not None:
                table.drop_table_from_database_and_remove_from_cache()
    for cc in comparisons:
        counts = gammas[cc._gamma_column_name].value_counts()
        observed = {int(k): float(v) for k, v in counts.items() if int(k) != -1}
        denominator = sum(observed.values())
        for cl in cc._comparison_levels_excluding_null:
            got = observed.get(int(cl.comparison_vector_value), 0.0)
            # as Splink: a level no sampled pair reached is "not observed", not u = 0
            cl._add_trained_u_probability(got / denominator if got else LEVEL_NOT_OBSERVED_TEXT,
                                          "estimate u by random sampling")
    linker._populate_m_u_from_trained_values()  # the trained values become the live ones, as in Splink


def _set_prior(linker: Linker, observed: int, rows: int, recall: float) -> None:
    """Splink's estimate_probability_two_random_records_match of a dedupe, from the count of
    pairs its deterministic rules make (tested equal): observed / recall over every pair."""
    total = rows * (rows - 1) / 2
    if observed > total * recall:
        raise ValueError(f"Deterministic matching rules led to more observed matches than is consistent with "
                         f"supplied recall. With these rules, recall must be at least {observed / total:,.2f}.")
    linker._settings_obj._probability_two_random_records_match = prior_estimate(observed, total, recall)


def _link_observed(linker: Linker, rules: Sequence[BlockRule], totals: list[float]) -> int:
    """The distinct pairs of a link the rules make, as Splink's prior estimate counts them; the
    link's every pair is appended to ``totals``."""
    settings = linker._settings_obj
    got = _cumulative_comparisons_to_be_scored_from_blocking_rules(
        splink_df_dict=linker._input_tables_dict,
        blocking_rules=[c.get_blocking_rule(linker._db_api.sql_dialect.sql_dialect_str)
                        for c in blocking_rule_creators(rules)],
        link_type=settings._link_type, db_api=linker._db_api,
        unique_id_input_column=settings.column_info_settings.unique_id_input_column,
        source_dataset_input_column=settings.column_info_settings.source_dataset_input_column,
    )[-1]
    totals.append(float(got["total_possible_comparison_count"]))
    return int(got["cumulative_comparison_count"])


def _em_round(linker: Linker, cols: tuple[str, ...], max_pairs: float, log: list[str]) -> bool:
    """One EM round blocked on ``cols``; False (and a line in the log) if it could not run."""
    saved = copy.deepcopy(linker._settings_obj.core_model_settings)
    try:
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*cols), max_pairs=max_pairs, estimate_without_term_frequencies=True
        )
        _floor_m(linker)
        return True
    except Exception as exc:  # e.g. too few pairs in a small file: keep the other rounds' m
        # A failed round leaves Splink's settings without the comparisons it set aside.
        linker._settings_obj.core_model_settings = saved
        log.append(f"EM on {'+'.join(cols)} skipped: {type(exc).__name__}")
        return False


def _untrained(linker: Linker) -> list[str]:
    """Comparisons no EM round has given an m yet."""
    return [comp.output_column_name for comp in linker._settings_obj.comparisons
            if not any(lvl._m_is_trained for lvl in comp.comparison_levels if not lvl.is_null_level)]


def _bundled_m(linker: Linker, names: Sequence[str]) -> list[str]:
    """Give the comparisons ``names`` (no EM round trained them) the bundled model's m, level by
    level, instead of Splink's defaults; the training log's lines saying so."""
    bundled = {c["output_column_name"]: c for c in bundled_model().settings_json["comparisons"]}
    notes: list[str] = []
    for comp in linker._settings_obj.comparisons:
        if comp.output_column_name not in names:
            continue
        stored = bundled.get(comp.output_column_name)
        levels = {lv["sql_condition"]: lv.get("m_probability") for lv in (stored or {}).get("comparison_levels", ())}
        live = [lvl for lvl in comp.comparison_levels if not lvl.is_null_level]
        if not stored or any(levels.get(lvl.sql_condition) is None for lvl in live):
            notes.append(f"{comp.output_column_name}: no EM round could train it and the bundled model "
                         "has no m for it: Splink's default m used")
            continue
        for lvl in live:
            lvl.m_probability = levels[lvl.sql_condition]
        notes.append(f"{comp.output_column_name}: no EM round could train it: m from the bundled model")
    return notes


def _train(linker: Linker, frame: pd.DataFrame, *, seed: int, prior_recall: float, u_max_pairs: float,
           em_max_pairs: float, em_rules: Sequence[tuple[str, ...]], em_fallback: Sequence[tuple[str, ...]] = ()
           ) -> tuple[dict[str, Any], list[str]]:
    """Prior, u and m on the linker (see train_model); the settings JSON and training log."""
    log: list[str] = []
    dedupe = linker._settings_obj._link_type == "dedupe_only"
    with ThreadPoolExecutor(1) as side:
        # A dedupe's prior counts the deterministic rules' pairs in numpy while DuckDB samples u
        # (neither needs the other; EM, next, needs both).
        counted = side.submit(prior_tier_count, frame, lambda rules: union_pair_count(frame, rules)) if dedupe else None
        # One pass over the sample: chunked early stopping never fires when a level is rare
        # (tazkira two typos apart) and then costs ten passes per comparison.
        estimate_u(linker, max_pairs=u_max_pairs, seed=seed)
        if counted is not None:
            total = len(frame) * (len(frame) - 1) / 2
            tier, observed, per_row = counted.result()
        else:
            totals: list[float] = []
            tier, observed, per_row = prior_tier_count(frame, lambda rules: _link_observed(linker, rules, totals))
            total = totals[-1] if totals else 0.0
    # observed / recall over every pair, as Splink estimates it (tested equal), then clamped:
    # a tier that finds nothing (or, in a tiny file, nearly every pair) must not give 0 or 1.
    lo, hi = prior_bounds(len(frame), total, per_row)
    estimate = prior_estimate(min(observed, total * prior_recall), total, prior_recall) if total else hi
    prior = min(max(estimate, lo), hi)
    linker._settings_obj._probability_two_random_records_match = prior
    if tier != PRIOR_TIERS[0][0] or prior != estimate:
        log.append(f"prior {prior:.3g} from {observed} pairs on {tier}"
                   + (f" (estimate {estimate:.3g} held within {lo:.3g}..{hi:.3g})" if prior != estimate else ""))
    failed = [cols for cols in em_rules if not _em_round(linker, cols, em_max_pairs, log)]
    # The fallback (the file's full date of birth) is for files the rounds above cannot train,
    # such as one without fathers' names; on a file they do train it changed no figure (F1 at
    # 197k records 0.9968 either way) and cost 4 s at a million.
    untrained = _untrained(linker)
    if em_fallback and (failed or untrained):
        why = "untrained: " + ", ".join(untrained) if untrained else "a round could not run"
        for cols in em_fallback:
            if _em_round(linker, cols, em_max_pairs, log):
                log.append(f"EM on {'+'.join(cols)} as well ({why})")
    untrained = _untrained(linker)
    if untrained:  # Splink's defaults (m 0.95 for the first level…) would say nothing about the data
        log.extend(_bundled_m(linker, untrained))
    linker._settings_obj._probability_two_random_records_match = prior
    _floor_m(linker)
    settings_json = linker.misc.save_model_to_json()
    log.extend(_resolve_defaults(linker, settings_json))
    _round_params(settings_json)
    settings_json.pop("linker_uid", None)  # a random per-run id, not part of the model
    return settings_json, log
