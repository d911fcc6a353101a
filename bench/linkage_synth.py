"""The synthetic Afghan population (bench/synth.py): Amanat against plain Splink, same run.

    .venv/bin/python bench/linkage_synth.py --sizes 10000 100000

Writes bench/results/linkage_synth.{json,png}. Plain Splink gets the raw columns as typed
(trimmed and lower-cased, the usual preparation) with its standard comparisons: no
script folding, no romanisation, no calendar conversion. Both are trained on the data
itself, without labels. Pairwise precision/recall/F1 are over all true pairs (records of
one person_id), with each side's blocking ceiling.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import splink.comparison_library as cl  # noqa: E402
from splink import DuckDBAPI, Linker, SettingsCreator, block_on  # noqa: E402
from synth import generate_population  # noqa: E402

from amanat.linkage.batch import cluster, predict_pairs  # noqa: E402
from amanat.linkage.batch_features import batch_features  # noqa: E402
from amanat.linkage.decision import LINKED, REVIEW, decide_pairs  # noqa: E402
from amanat.linkage.evaluation import (  # noqa: E402
    blocking_ceiling,
    cluster_pairs,
    pairs_of,
    scores,
    threshold_curve,
    true_pairs,
)
from amanat.linkage.model import new_connection, train_model  # noqa: E402

RESULTS = ROOT / "bench" / "results"
GRID = [0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999]
RAW_COLUMNS = ("full_name", "full_name_latin", "father_name", "father_name_latin", "grandfather_name",
               "family_name", "gender", "date_of_birth", "place_of_birth", "province", "district",
               "tazkira_number", "passport_number", "phone")


def population(n_records: int, seed: int) -> list[dict[str, Any]]:
    """About ``n_records`` records: people are generated until the count is reached."""
    people = max(10, int(n_records / 1.3))
    recs = generate_population(people, seed=seed)
    while len(recs) < n_records * 0.97:
        people = int(people * n_records / max(1, len(recs)) + 1)
        recs = generate_population(people, seed=seed)
    return recs


def raw_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for r in records:
        row: dict[str, Any] = {"unique_id": str(r["record_id"])}
        for c in RAW_COLUMNS:
            v = r.get(c)
            v = " ".join(str(v).split()).lower() if v not in (None, "") else None
            row[c] = v or None
        rows.append(row)
    return pd.DataFrame(rows, columns=["unique_id", *RAW_COLUMNS]).astype(object)


PLAIN_BLOCKING = [
    block_on("full_name", "father_name"),
    block_on("full_name_latin", "father_name_latin"),
    block_on("tazkira_number"),
    block_on("passport_number"),
    block_on("phone"),
    block_on("date_of_birth", "district"),
    block_on("full_name", "date_of_birth"),
]


def plain_splink(raw: pd.DataFrame, seed: int, *, cluster_at: float = 0.5,
                 predict_weight: float | None = None) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    t0 = time.perf_counter()
    db_api = DuckDBAPI(connection=new_connection())
    sdf = db_api.register(raw)
    settings = SettingsCreator(
        unique_id_column_name="unique_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=PLAIN_BLOCKING,
        comparisons=[
            cl.NameComparison("full_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("full_name_latin").configure(term_frequency_adjustments=True),
            cl.NameComparison("father_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("grandfather_name"),
            cl.NameComparison("family_name").configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
            cl.ExactMatch("place_of_birth"),
            cl.ExactMatch("district"),
            cl.ExactMatch("province"),
            cl.LevenshteinAtThresholds("tazkira_number", [1, 2]),
            cl.LevenshteinAtThresholds("passport_number", [1]),
            cl.ExactMatch("phone"),
            cl.ExactMatch("gender"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(sdf, settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("tazkira_number"), block_on("full_name", "father_name", "date_of_birth")], recall=0.6)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    for rule in (block_on("full_name", "father_name"), block_on("date_of_birth", "district")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule, max_pairs=1e6)
    pairs = linker.inference.predict(threshold_match_weight=predict_weight).as_pandas_dataframe()
    secs = time.perf_counter() - t0
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    cc = cluster_pairwise_predictions_at_threshold(
        raw[["unique_id"]], pairs[["unique_id_l", "unique_id_r", "match_probability"]], db_api=db_api,
        node_id_column_name="unique_id", threshold_match_probability=cluster_at).as_pandas_dataframe()
    return pairs, cc, secs


def amanat(records: list[dict[str, Any]], seed: int
           ) -> tuple[pd.DataFrame, pd.DataFrame, float, float, dict[str, Any]]:
    t0 = time.perf_counter()
    frame = batch_features([str(r["record_id"]) for r in records], records)
    t_norm = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = train_model(frame, seed=seed)
    pairs = predict_pairs(model, frame, threshold_match_weight=-1e9)  # every blocked pair: the ceiling
    secs = time.perf_counter() - t0
    cc = cluster(pairs, frame["unique_id"], 0.5)
    # What the system does with them: linked without review (own name and birth date the identity
    # core; linkage/decision.py) at the auto-link threshold, clustered; and linked or sent to review.
    t0 = time.perf_counter()
    th = model.thresholds
    decided = decide_pairs(model, frame, pairs, link_at=th.auto_link, review_at=th.review)
    t_decide = time.perf_counter() - t0
    linked = pairs.loc[decided.outcome == LINKED, ["unique_id_l", "unique_id_r"]].assign(match_probability=1.0)
    kept = pairs.loc[(decided.outcome == LINKED) | (decided.outcome == REVIEW), ["unique_id_l", "unique_id_r"]]
    plain_at = pairs.loc[pairs["match_probability"] >= th.auto_link, ["unique_id_l", "unique_id_r"]].assign(
        match_probability=1.0)
    return pairs, cc, secs, t_norm, {
        "seconds_decide": round(t_decide, 2),
        "clustered_linked": cluster(linked, frame["unique_id"], 0.5),
        "clustered_model_at_auto_link": cluster(plain_at, frame["unique_id"], 0.5),
        "linked_or_review": kept, "auto_link": th.auto_link}


def evaluate(name: str, pairs: pd.DataFrame, cc: pd.DataFrame, truth: set[tuple[str, str]],
             secs: float) -> dict[str, Any]:
    curve = threshold_curve(pairs, truth, GRID)
    at_half = next(c for c in curve if c["threshold"] == 0.5)
    return {
        "pipeline": name,
        "seconds_train_predict": round(secs, 2),
        "candidate_pairs": len(pairs),
        "blocking_ceiling": blocking_ceiling(pairs_of(pairs), truth),
        "at_0.5": at_half,
        "best": max(curve, key=lambda c: c["f1"]),
        "clustered_at_0.5": scores(cluster_pairs(cc), truth),
        "curve": curve,
    }


def run(size: int, seed: int) -> dict[str, Any]:
    records = population(size, seed)
    truth = true_pairs({str(r["record_id"]): r["person_id"] for r in records})
    out: dict[str, Any] = {"records": len(records), "people": len({r["person_id"] for r in records}),
                           "true_pairs": len(truth), "seed": seed, "results": []}
    pairs, cc, secs, t_norm, decided = amanat(records, seed)
    res = evaluate("Amanat", pairs, cc, truth, secs)
    res["seconds_normalise"] = round(t_norm, 2)
    res["decided"] = {
        "auto_link": decided["auto_link"], "seconds_decide": decided["seconds_decide"],
        "clustered_linked": scores(cluster_pairs(decided["clustered_linked"]), truth),
        "clustered_model_at_auto_link": scores(cluster_pairs(decided["clustered_model_at_auto_link"]), truth),
        "linked_or_review": scores(pairs_of(decided["linked_or_review"]), truth)}
    out["results"].append(res)
    pairs, cc, secs = plain_splink(raw_frame(records), seed)
    out["results"].append(evaluate("plain Splink", pairs, cc, truth, secs))
    return out


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(runs), figsize=(5.5 * len(runs), 4), squeeze=False)
    for ax, run_ in zip(axes[0], runs, strict=True):
        for r in run_["results"]:
            xs = [c["threshold"] for c in r["curve"]]
            ax.plot(xs, [c["f1"] for c in r["curve"]], marker="o", label=f"{r['pipeline']} F1")
            ax.axhline(r["blocking_ceiling"], ls=":", lw=1, color=ax.lines[-1].get_color())
        ax.set_xscale("logit")
        ax.set_ylim(0, 1.01)
        ax.set_title(f"synthetic Afghan population, {run_['records']:,} records")
        ax.set_xlabel("match probability threshold (dotted: blocking ceiling)")
        ax.set_ylabel("pairwise F1")
        ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write_default_model(path: Path, size: int, seed: int) -> None:
    """The model the dedupe tool uses for files too small to train on: trained on the
    synthetic population (no real person), so its name frequencies are synthetic too."""
    records = population(size, seed)
    frame = batch_features([str(r["record_id"]) for r in records], records)
    model = train_model(frame, seed=seed)
    model.trained_at = "synthetic"  # stable file: the content hash is the version
    path.write_text(model.to_json() + "\n", encoding="utf-8")
    print(f"wrote {path} ({len(records)} synthetic records, version {model.version})")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Amanat vs plain Splink on the synthetic population")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=RESULTS / "linkage_synth.json")
    ap.add_argument("--write-default-model", type=Path, metavar="PATH",
                    help="instead: train on --sizes[0] synthetic records and write the bundled model")
    args = ap.parse_args(argv)
    logging.getLogger("splink").setLevel(logging.ERROR)
    if args.write_default_model:
        write_default_model(args.write_default_model, args.sizes[0], args.seed)
        return
    runs = []
    for size in args.sizes:
        result = run(size, args.seed)
        runs.append(result)
        for r in result["results"]:
            print(f"{result['records']:>8,} {r['pipeline']:12s} F1@0.5={r['at_0.5']['f1']:.4f} "
                  f"P={r['at_0.5']['precision']:.4f} R={r['at_0.5']['recall']:.4f} best={r['best']['f1']:.4f}"
                  f"@{r['best']['threshold']} clustered={r['clustered_at_0.5']['f1']:.4f} "
                  f"ceiling={r['blocking_ceiling']:.4f} {r['seconds_train_predict']}s", flush=True)
            if "decided" in r:
                d = r["decided"]
                print(f"{'':>8} decided at {d['auto_link']}: clustered links F1={d['clustered_linked']['f1']:.4f} "
                      f"(P={d['clustered_linked']['precision']:.4f} R={d['clustered_linked']['recall']:.4f}); "
                      f"model alone F1={d['clustered_model_at_auto_link']['f1']:.4f}; linked or review "
                      f"R={d['linked_or_review']['recall']:.4f}; {d['seconds_decide']}s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"runs": runs}, indent=2))
    plot(runs, args.out.with_suffix(".png"))


if __name__ == "__main__":
    main()
