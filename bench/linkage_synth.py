"""Synthetic Afghan records: Amanat against plain Splink, same run, on two populations.

    .venv/bin/python bench/linkage_synth.py --sizes 10000 100000
    .venv/bin/python bench/linkage_synth.py --sizes 10000 --population households --out /tmp/amanat-bench/x.json

``--population`` (default both): ``synth`` is bench/synth.py's population (people with
their own phones, brothers decades apart); ``households`` is bench/households.py's (households
of 2–8 siblings, twins, cousins, fathers and sons, intermediaries' phones shared by 20–200
men, namesakes), generated at about ``size / HOUSEHOLD_RECORDS`` households so the record
count is about the size asked for. The JSON keeps one run per (size, population).

Writes /tmp/amanat-bench/linkage_synth.{json,png} unless --out names another folder or file. Plain Splink
gets the raw columns as typed (trimmed and lower-cased, the usual preparation) with its
standard comparisons: no script folding, no romanisation, no calendar conversion. Both are
trained on the data itself, without labels; neither sees the households' ground-truth
columns. Pairwise precision/recall/F1 are over all true pairs (records of one person_id),
with each side's blocking ceiling. On households, each clustering (at 0.5, and the decided
links) also counts the pairs of each relation (households.CLASSES: brothers, twins, father and
son, intermediary, ...) put in one cluster.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import splink.comparison_library as cl  # noqa: E402
from households import FORM_FIELDS, generate_households, pairs_by_class  # noqa: E402
from provenance import add_out, result_path, write_json  # noqa: E402
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


POPULATIONS = ("synth", "households")
TITLES = {"synth": "synthetic Afghan population", "households": "synthetic households"}
# Records per household from generate_households (cousins' households, registered fathers,
# namesakes, intermediaries and re-registrations counted in): 6.60–6.81 measured at 500–3,000
# households, seed 7.
HOUSEHOLD_RECORDS = 6.7
# The relations printed for the households population (every class is in the JSON).
RELATIVES = ("brothers", "twins", "father_son", "intermediary")


def household_population(n_records: int, seed: int) -> list[dict[str, str]]:
    """About ``n_records`` household records (within 3 %): one correction if the first
    draw misses."""
    n_households = max(2, round(n_records / HOUSEHOLD_RECORDS))
    recs = generate_households(n_households, seed=seed)
    if abs(len(recs) - n_records) > 0.03 * n_records:
        n_households = max(2, round(n_households * n_records / max(1, len(recs))))
        recs = generate_households(n_households, seed=seed)
    return recs


def population_records(kind: str, n_records: int, seed: int) -> list[dict[str, Any]]:
    """About ``n_records`` records of population ``kind`` (POPULATIONS), each with record_id,
    person_id and the form's fields only (the households' other truth columns left out)."""
    return population(n_records, seed) if kind == "synth" else form_only(household_population(n_records, seed))


def form_only(records: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Household records as a dedupe run may see them (FORM_FIELDS), with record_id and person_id."""
    keep = ("record_id", "person_id", *FORM_FIELDS)
    return [{k: r[k] for k in keep if k in r} for r in records]


def relatives_in_one_cluster(cc: pd.DataFrame, position: dict[str, int],
                             by_class: dict[str, np.ndarray]) -> dict[str, dict[str, int]]:
    """Per relation, its true record pairs and how many of them ``cc`` puts in one cluster."""
    label = np.empty(len(position), dtype=np.int64)
    label[[position[str(u)] for u in cc["unique_id"]]] = pd.factorize(cc["cluster_id"])[0]
    return {cls: {"pairs": len(p), "in_one_cluster": int((label[p[:, 0]] == label[p[:, 1]]).sum())}
            for cls, p in by_class.items()}


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


def run(size: int, seed: int, kind: str = "synth") -> dict[str, Any]:
    if kind == "synth":
        records: list[dict[str, Any]] = population(size, seed)
        by_class: dict[str, np.ndarray] | None = None
    else:
        full = household_population(size, seed)
        by_class = pairs_by_class(full)
        records = form_only(full)  # neither pipeline sees the ground-truth columns
    truth = true_pairs({str(r["record_id"]): r["person_id"] for r in records})
    out: dict[str, Any] = {"population": kind, "records": len(records),
                           "people": len({r["person_id"] for r in records}), "true_pairs": len(truth),
                           "seed": seed, "results": []}
    position = {str(r["record_id"]): i for i, r in enumerate(records)}

    def relatives(cc: pd.DataFrame) -> dict[str, dict[str, int]]:
        assert by_class is not None
        return relatives_in_one_cluster(cc, position, by_class)

    if by_class is not None:
        out["households"] = len({r["household_id"] for r in full if r["role"] in ("child", "father")})
        out["true_pairs_by_class"] = {c: len(v) for c, v in by_class.items()}
    pairs, cc, secs, t_norm, decided = amanat(records, seed)
    res = evaluate("Amanat", pairs, cc, truth, secs)
    res["seconds_normalise"] = round(t_norm, 2)
    res["decided"] = {
        "auto_link": decided["auto_link"], "seconds_decide": decided["seconds_decide"],
        "clustered_linked": scores(cluster_pairs(decided["clustered_linked"]), truth),
        "clustered_model_at_auto_link": scores(cluster_pairs(decided["clustered_model_at_auto_link"]), truth),
        "linked_or_review": scores(pairs_of(decided["linked_or_review"]), truth)}
    if by_class is not None:
        res["relatives_clustered_at_0.5"] = relatives(cc)
        res["decided"]["relatives_in_one_cluster"] = {
            "clustered_linked": relatives(decided["clustered_linked"]),
            "clustered_model_at_auto_link": relatives(decided["clustered_model_at_auto_link"])}
    out["results"].append(res)
    pairs, cc, secs = plain_splink(raw_frame(records), seed)
    res = evaluate("plain Splink", pairs, cc, truth, secs)
    if by_class is not None:
        res["relatives_clustered_at_0.5"] = relatives(cc)
    out["results"].append(res)
    return out


def _relatives_text(rel: dict[str, dict[str, int]]) -> str:
    return ", ".join(f"{c} {rel[c]['in_one_cluster']:,}/{rel[c]['pairs']:,}" for c in RELATIVES)


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # one row per population, one column per size (runs from before --population: synth)
    kinds = list(dict.fromkeys(r.get("population", "synth") for r in runs))
    sizes = max(sum(r.get("population", "synth") == k for r in runs) for k in kinds)
    fig, axes = plt.subplots(len(kinds), sizes, figsize=(5.5 * sizes, 4 * len(kinds)), squeeze=False)
    for row, kind in zip(axes, kinds, strict=True):
        mine = [r for r in runs if r.get("population", "synth") == kind]
        for ax in row[len(mine):]:
            ax.set_visible(False)
        for ax, run_ in zip(row, mine, strict=False):
            _plot_run(ax, run_, kind)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def _plot_run(ax: Any, run_: dict[str, Any], kind: str) -> None:
    for r in run_["results"]:
        xs = [c["threshold"] for c in r["curve"]]
        ax.plot(xs, [c["f1"] for c in r["curve"]], marker="o", label=f"{r['pipeline']} F1")
        ax.axhline(r["blocking_ceiling"], ls=":", lw=1, color=ax.lines[-1].get_color())
    ax.set_xscale("logit")
    ax.set_ylim(0, 1.01)
    ax.set_title(f"{TITLES[kind]}, {run_['records']:,} records")
    ax.set_xlabel("match probability threshold (dotted: blocking ceiling)")
    ax.set_ylabel("pairwise F1")
    ax.legend(loc="lower left")
    decided = next((r["decided"] for r in run_["results"] if "decided" in r), {})
    rel = decided.get("relatives_in_one_cluster", {}).get("clustered_linked")
    if rel:
        lines = [f"Amanat decided at {decided['auto_link']} (star):", f"clustered F1 "
                 f"{decided['clustered_linked']['f1']:.4f}; relatives'", "pairs in one cluster:"]
        lines += [f"  {c} {rel[c]['in_one_cluster']:,} of {rel[c]['pairs']:,}" for c in RELATIVES]
        ax.plot([decided["auto_link"]], [decided["clustered_linked"]["f1"]], "k*", ms=10,
                label="Amanat decided, clustered")
        ax.legend(loc="lower left")
        ax.text(0.02, 0.95, "\n".join(lines), transform=ax.transAxes, ha="left", va="top", fontsize=7,
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "lightgray"})


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
    ap = argparse.ArgumentParser(description="Amanat vs plain Splink on the synthetic populations")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--population", choices=[*POPULATIONS, "both"], default="both",
                    help="synth: bench/synth.py; households: bench/households.py; both (default): each size on each")
    ap.add_argument("--seed", type=int, default=7)
    add_out(ap, "linkage_synth")
    ap.add_argument("--write-default-model", type=Path, metavar="PATH",
                    help="instead: train on --sizes[0] synthetic records and write the bundled model")
    args = ap.parse_args(argv)
    logging.getLogger("splink").setLevel(logging.ERROR)
    if args.write_default_model:
        write_default_model(args.write_default_model, args.sizes[0], args.seed)
        return
    kinds = POPULATIONS if args.population == "both" else (args.population,)
    runs = []
    for size in args.sizes:
        for kind in kinds:
            runs.append(report(run(size, args.seed, kind)))
    path = write_json(result_path(args.out, "linkage_synth.json"), {"runs": runs})
    plot(runs, path.with_suffix(".png"))


def report(result: dict[str, Any]) -> dict[str, Any]:
    """Prints a run's figures (synth: as before --population; households: each line marked and the
    relatives' pairs in one cluster added); returns the run."""
    households = result["population"] == "households"
    tag = "households " if households else ""
    if households:
        print(f"households: {result['records']:,} records, {result['people']:,} people, "
              f"{result['households']:,} households; true pairs " + ", ".join(
                  f"{c} {n:,}" for c, n in result["true_pairs_by_class"].items()), flush=True)
    for r in result["results"]:
        print(f"{result['records']:>8,} {tag}{r['pipeline']:12s} F1@0.5={r['at_0.5']['f1']:.4f} "
              f"P={r['at_0.5']['precision']:.4f} R={r['at_0.5']['recall']:.4f} best={r['best']['f1']:.4f}"
              f"@{r['best']['threshold']} clustered={r['clustered_at_0.5']['f1']:.4f} "
              f"ceiling={r['blocking_ceiling']:.4f} {r['seconds_train_predict']}s", flush=True)
        if "decided" in r:
            d = r["decided"]
            print(f"{'':>8} decided at {d['auto_link']}: clustered links F1={d['clustered_linked']['f1']:.4f} "
                  f"(P={d['clustered_linked']['precision']:.4f} R={d['clustered_linked']['recall']:.4f}); "
                  f"model alone F1={d['clustered_model_at_auto_link']['f1']:.4f}; linked or review "
                  f"R={d['linked_or_review']['recall']:.4f}; {d['seconds_decide']}s", flush=True)
            if households:
                rel = d["relatives_in_one_cluster"]
                print(f"{'':>8} decided clusters, relatives' pairs in one: "
                      f"{_relatives_text(rel['clustered_linked'])} (model alone at {d['auto_link']}: "
                      f"{_relatives_text(rel['clustered_model_at_auto_link'])})", flush=True)
        if households:
            print(f"{'':>8} clustered at 0.5, relatives' pairs in one: "
                  f"{_relatives_text(r['relatives_clustered_at_0.5'])}", flush=True)
    return result


if __name__ == "__main__":
    main()
