"""Batch dedupe at scale (wall time, peak memory) against plain Splink, and incremental
matching latency against known populations.

    .venv/bin/python bench/linkage_scale.py --sizes 1000000 --known 100000 1000000
    .venv/bin/python bench/linkage_scale.py --sizes 20000 --known 20000          # quick
    .venv/bin/python bench/linkage_scale.py --sizes 20000 --known 20000 --population households \
        --out /tmp/amanat-bench/linkage_scale.json

``--population``: ``synth`` (default, so the committed figures stay comparable) is
bench/synth.py's population; ``households`` is bench/households.py's (siblings sharing a phone,
twins, fathers and sons, cousins, intermediaries' phone groups, namesakes) at about the same
number of records (bench/linkage_synth.py's household_population; the form's fields only);
``both`` runs each size and each known population on each.

Each batch run is a child process (``--child``) so its peak RSS is its own: the child reads
the records (seeded; generated once by the parent into a private temporary file), resets its
high-water mark (/proc/self/clear_refs), then runs the pipeline and reports VmHWM. Amanat's
time is split into normalisation (done once per record at intake in the product) and linkage
(train, predict, cluster); plain Splink gets the raw columns (bench/linkage_synth.py's model).

The machine's speed drifts by a fifth from minute to minute, so ``amanat dedupe`` and plain
Splink run ``--repeat`` times each, alternately (the order flips each round), and the summary
gives each one's median and the ratio of every adjacent pair. Writes
linkage_scale.{json,png} to /tmp/amanat-bench/, or with --out bench/results to the committed figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from provenance import add_out, result_path, write_json  # noqa: E402


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux ≥ 4.0)
        return True
    except OSError:
        return False


def _stage(name: str, t0: float) -> None:
    print(f"  [{time.perf_counter() - t0:7.1f}s] {name}, peak {_status_kb('VmHWM') // 1024} MB, "
          f"now {_status_kb('VmRSS') // 1024} MB", file=sys.stderr, flush=True)


def child(kind: str, source: Path, seed: int) -> dict[str, Any]:
    """One batch run in this process on the pickled population at ``source``; prints its
    result as JSON."""
    logging.getLogger("splink").setLevel(logging.ERROR)
    from amanat.linkage.evaluation import cluster_pairs, scores, true_pairs

    # Unpickled, the records lie in row order, as reading a file gives them: the generator
    # shuffles its records, which leaves each one's values scattered over the heap, and forked
    # workers reading them then copy nearly every page of it (normalisation half as long again).
    with open(source, "rb") as f:
        records = pickle.load(f)
    gc.collect()
    truth = true_pairs({str(r["record_id"]): r["person_id"] for r in records})
    ids = [str(r["record_id"]) for r in records]
    if kind == "amanat-dedupe":  # one spreadsheet: the record's fields, without the ids the truth uses
        from amanat.linkage.dedupe import SourceRow

        rows = [SourceRow("synthetic.csv", i + 2, r) for i, r in enumerate(records)]
        for r in records:
            del r["record_id"], r["person_id"]
    gc.collect()
    baseline_mb = _status_kb("VmRSS") / 1024
    reset = _reset_peak()
    out: dict[str, Any] = {"pipeline": kind, "records": len(records), "baseline_rss_mb": round(baseline_mb),
                           "peak_reset": reset}
    t0 = time.perf_counter()
    if kind == "amanat-link":  # the engine as `amanat link run` drives it on stored records
        from amanat.linkage.batch import cluster, predict_pairs
        from amanat.linkage.batch_features import batch_features
        from amanat.linkage.decision import decide_pairs, scoring_floor
        from amanat.linkage.model import Thresholds, train_model

        frame = batch_features([str(r["record_id"]) for r in records], records)
        t1 = time.perf_counter()
        _stage("normalised", t0)
        model = train_model(frame, seed=seed)
        t2 = time.perf_counter()
        _stage("trained", t0)
        pairs = predict_pairs(model, frame, threshold_match_weight=Thresholds.weight(scoring_floor(0.5)))
        t3 = time.perf_counter()
        _stage(f"predicted {len(pairs)} pairs", t0)
        n_pairs = len(pairs)
        # as run_batch: own name and birth date decide who is one person (linkage/decision.py)
        decided = decide_pairs(model, frame, pairs, link_at=0.99, review_at=0.5)
        links = pairs.loc[decided.linked(), ["unique_id_l", "unique_id_r"]].assign(
            match_probability=decided.match_probability[decided.linked()])
        cc = cluster(links, frame["unique_id"], 0.99, strict=0.999)
        t4 = time.perf_counter()
        _stage("clustered", t0)
        out.update(seconds_normalise=round(t1 - t0, 1), seconds_train=round(t2 - t1, 1),
                   seconds_predict=round(t3 - t2, 1), seconds_cluster=round(t4 - t3, 1),
                   seconds_linkage=round(t4 - t1, 1), seconds_total=round(t4 - t0, 1))
    elif kind == "amanat-dedupe":  # `amanat dedupe` on one sheet, less reading and writing the files
        import pandas as pd

        from amanat.linkage.dedupe import SourceRow, dedupe_rows
        from amanat.linkage.progress import Progress

        class Stages(Progress):
            def __init__(self) -> None:
                self.times: dict[str, float] = {}
                self.current: str | None = None
                self.since = t0

            def stage(self, name: str, total: int | None = None) -> None:
                now = time.perf_counter()
                if self.current:
                    self.times[self.current] = round(now - self.since, 1)
                    _stage(f"{self.current} done", t0)
                self.current, self.since = name, now

        stages = Stages()
        result = dedupe_rows(rows, seed=seed, threshold=0.99, progress=stages)
        stages.stage("end")
        names = {"normalising": "normalise", "training the model": "train", "scoring candidate pairs": "predict",
                 "clustering": "cluster", "explaining links": "explain"}
        out.update({f"seconds_{names.get(k, k)}": v for k, v in stages.times.items()})
        out["seconds_linkage"] = round(sum(v for k, v in stages.times.items() if k != "normalising"), 1)
        out["seconds_total"] = round(time.perf_counter() - t0, 1)
        n_pairs = result.pair_count  # scored at the model's review band, 0.5
        cc = pd.DataFrame({"unique_id": ids, "cluster_id": result.lead["cluster_id"]})
    else:
        from linkage_synth import plain_splink, raw_frame

        from amanat.linkage.model import Thresholds

        raw = raw_frame(records)
        t1 = time.perf_counter()
        pairs, cc, _ = plain_splink(raw, seed, cluster_at=0.99, predict_weight=Thresholds.weight(0.5))
        t4 = time.perf_counter()
        _stage("plain Splink done", t0)
        n_pairs = len(pairs)
        out.update(seconds_prepare=round(t1 - t0, 1), seconds_linkage=round(t4 - t1, 1),
                   seconds_total=round(t4 - t0, 1))
    out["peak_rss_mb"] = round(_status_kb("VmHWM") / 1024)
    # The largest forked normalisation worker (its RSS counts the parent's pages it shares too).
    out["worker_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    out["pairs_scored_above_0.5"] = n_pairs
    out["clustered_at_0.99"] = scores(cluster_pairs(cc), truth)
    return out


def _run_child(kind: str, size: int, source: Path, seed: int) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", kind, "--source", str(source), "--seed", str(seed)],
                          stdout=subprocess.PIPE, text=True, check=False)  # stderr: live stage log
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    run = json.loads(lines[-1]) if proc.returncode == 0 and lines else {
        "pipeline": kind, "records": size, "error": f"exit {proc.returncode}"}
    print(json.dumps(run), flush=True)
    return run


def batch(size: int, seed: int, repeat: int, population: str = "synth"
          ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every run, and the summary: each pipeline's median and the paired ratios."""
    from linkage_synth import population_records

    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="amanat-bench-") as tmp:  # synthetic records only
        source = Path(tmp) / "population.pickle"
        records = population_records(population, size, seed)
        with open(source, "wb") as f:
            pickle.dump(records, f, protocol=pickle.HIGHEST_PROTOCOL)
        del records
        gc.collect()
        for r in range(max(1, repeat)):
            kinds = ("amanat-dedupe", "plain") if r % 2 == 0 else ("plain", "amanat-dedupe")
            for kind in kinds:
                runs.append({**_run_child(kind, size, source, seed), "round": r + 1, "population": population})
        runs.append({**_run_child("amanat-link", size, source, seed), "round": 1, "population": population})
    return runs, summary(runs)


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if "error" not in r]
    out: dict[str, Any] = {}
    for kind in dict.fromkeys(r["pipeline"] for r in ok):
        totals = [r["seconds_total"] for r in ok if r["pipeline"] == kind]
        out[kind] = {"runs": len(totals), "seconds_total_median": round(statistics.median(totals), 1),
                     "seconds_total_min": min(totals), "seconds_total_max": max(totals),
                     "peak_rss_mb_max": max(r["peak_rss_mb"] for r in ok if r["pipeline"] == kind)}
    rounds = sorted({r["round"] for r in ok})
    paired = []
    for rnd in rounds:
        got = {r["pipeline"]: r["seconds_total"] for r in ok if r["round"] == rnd}
        if "amanat-dedupe" in got and "plain" in got:
            paired.append(round(got["amanat-dedupe"] / got["plain"], 3))
    if paired:
        out["ratio_amanat_to_plain_per_round"] = paired
        out["ratio_amanat_to_plain_median"] = round(statistics.median(paired), 3)
        out["ratio_of_medians"] = round(out["amanat-dedupe"]["seconds_total_median"]
                                        / out["plain"]["seconds_total_median"], 3)
    return out


def incremental(known: int, seed: int, queries: int, population: str = "synth") -> dict[str, Any]:
    """p50/p95 of matching one new record against ``known`` people through the index."""
    logging.getLogger("splink").setLevel(logging.ERROR)
    from linkage_synth import population_records

    from amanat.linkage.batch_features import batch_features
    from amanat.linkage.features import features_from_fields, to_arrow
    from amanat.linkage.incremental import CandidateIndex, score_candidates
    from amanat.linkage.model import train_model

    records = population_records(population, known + queries, seed + 1)
    held, base = records[:queries], records[queries:]
    frame = batch_features([str(r["record_id"]) for r in base], base)
    model = train_model(frame.iloc[:200_000], seed=seed)  # the model is trained offline
    index = CandidateIndex()
    index.add_many(to_arrow(frame).to_pylist())
    del frame
    gc.collect()
    norm_ms, match_ms, cands = [], [], []
    for r in held:
        t0 = time.perf_counter()
        row = features_from_fields(str(r["record_id"]), r)
        t1 = time.perf_counter()
        found = index.candidates(row)
        score_candidates(model, row, found)
        t2 = time.perf_counter()
        norm_ms.append((t1 - t0) * 1000)
        match_ms.append((t2 - t1) * 1000)
        cands.append(len(found))

    def pct(xs: list[float], q: float) -> float:
        return round(statistics.quantiles(xs, n=100, method="inclusive")[int(q) - 1], 2)

    return {"population": population, "known_records": len(base), "queries": len(held),
            "match_ms_p50": pct(match_ms, 50), "match_ms_p95": pct(match_ms, 95),
            "match_ms_max": round(max(match_ms), 2),
            "normalise_ms_p50": pct(norm_ms, 50), "normalise_ms_p95": pct(norm_ms, 95),
            "candidates_p50": pct([float(c) for c in cands], 50), "candidates_p95": pct([float(c) for c in cands], 95),
            "candidates_max": max(cands), "index_rss_mb": round(_status_kb("VmRSS") / 1024)}


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in result["batch"] if "error" not in r]
    wide = len({r.get("population", "synth") for r in ok}) > 1  # both populations: room for twice the bars
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(18, 4.5) if wide else (11, 4))

    def key(r: dict[str, Any]) -> tuple[str, int, str]:  # runs from before --population: synth
        return r.get("population", "synth"), r["records"], r["pipeline"]

    kinds = list(dict.fromkeys(key(r) for r in ok))
    # each pipeline's median run (per population and size) as stacked bars, every run's total as a dot
    median = {k: sorted((r for r in ok if key(r) == k), key=lambda r: r["seconds_total"]) for k in kinds}
    median = {k: v[(len(v) - 1) // 2] for k, v in median.items()}
    shown = [median[k] for k in kinds]
    labels = [f"{r['pipeline']}\n{r['records']:,}" + ("\nhouseholds" if key(r)[0] == "households" else "")
              + f"\nF1 {r['clustered_at_0.99']['f1']:.3f}" for r in shown]
    a1.bar(labels, [r["seconds_linkage"] for r in shown], label="linkage (train, predict, cluster; dedupe: + reasons)")
    a1.bar(labels, [r.get("seconds_normalise", r.get("seconds_prepare", 0)) for r in shown],
           bottom=[r["seconds_linkage"] for r in shown], label="normalisation (plain: preparing columns)")
    for i, k in enumerate(kinds):
        totals = [r["seconds_total"] for r in ok if key(r) == k]
        a1.plot([i] * len(totals), totals, "k.", label="each run" if i == 0 else None)
        a1.text(i, max(totals) * 1.03, f"{median[k]['peak_rss_mb'] / 1024:.1f} GiB", ha="center", va="bottom")
    a1.set_ylabel("seconds, median run (label: peak RSS)")
    a1.set_ylim(0, max(r["seconds_total"] for r in ok) * 1.5)  # room for the legend above the bars
    a1.legend(loc="upper left", fontsize=8)
    ratio = next((s.get("ratio_amanat_to_plain_median") for s in result.get("batch_summary", {}).values()), None)
    a1.set_title("batch dedupe" + (f" (amanat / plain Splink, paired median: {ratio:.2f})" if ratio else ""),
                 fontsize=10)
    inc = result["incremental"]
    xs = [f"{r['known_records']:,} known" + ("\nhouseholds" if r.get("population") == "households" else "")
          for r in inc]
    a2.bar([x + "\np50" for x in xs], [r["match_ms_p50"] for r in inc])
    a2.bar([x + "\np95" for x in xs], [r["match_ms_p95"] for r in inc])
    a2.axhline(50, ls=":", color="red")
    a2.set_ylabel("ms per new record (candidates + scoring)")
    a2.set_title("incremental match (goal p95 ≤ 50 ms)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Linkage at scale: batch time/memory and incremental latency")
    ap.add_argument("--sizes", type=int, nargs="*", default=[1_000_000], help="batch dedupe sizes (records)")
    ap.add_argument("--known", type=int, nargs="*", default=[100_000, 1_000_000], help="known people for incremental")
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--repeat", type=int, default=3, help="rounds of amanat dedupe against plain Splink")
    ap.add_argument("--population", choices=["synth", "households", "both"], default="synth",
                    help="synth (default): bench/synth.py; households: bench/households.py; both: each on each")
    add_out(ap, "linkage_scale")
    ap.add_argument("--child", choices=["amanat-dedupe", "amanat-link", "plain"], help=argparse.SUPPRESS)
    ap.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.source, args.seed)), flush=True)
        return
    populations = ("synth", "households") if args.population == "both" else (args.population,)
    result: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}, "seed": args.seed, "repeat": args.repeat,
                              "population": args.population, "batch": [], "batch_summary": {}, "incremental": []}
    for size in args.sizes:
        for population in populations:
            runs, summed = batch(size, args.seed, args.repeat, population)
            result["batch"].extend(runs)
            # keyed by size as before for synth; "households <size>" for the households
            result["batch_summary"][str(size) if population == "synth" else f"households {size}"] = summed
            print(json.dumps(summed), flush=True)
    for known in args.known:
        for population in populations:
            result["incremental"].append(incremental(known, args.seed, args.queries, population))
            print(json.dumps(result["incremental"][-1]), flush=True)
    path = write_json(result_path(args.out, "linkage_scale.json"), result)
    plot(result, path.with_suffix(".png"))


if __name__ == "__main__":
    main()
