"""Batch dedupe at scale (wall time, peak memory) against plain Splink, and incremental
matching latency against known populations.

    .venv/bin/python bench/linkage_scale.py --sizes 1000000 --known 100000 1000000
    .venv/bin/python bench/linkage_scale.py --sizes 20000 --known 20000          # quick

Each batch run is a child process (``--child``) so its peak RSS is its own: the child
generates the synthetic population (bench/synth.py, seeded), resets its high-water mark
(/proc/self/clear_refs), then runs the pipeline and reports VmHWM. Amanat's time is split
into normalisation (done once per record at intake in the product) and linkage (train,
predict, cluster); plain Splink gets the raw columns (bench/linkage_synth.py's model).
Writes bench/results/linkage_scale.{json,png}.
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
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

RESULTS = ROOT / "bench" / "results"


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


def child(kind: str, size: int, seed: int) -> dict[str, Any]:
    """One batch run in this process; prints its result as JSON."""
    logging.getLogger("splink").setLevel(logging.ERROR)
    from linkage_synth import population

    from amanat.linkage.evaluation import cluster_pairs, scores, true_pairs

    # Laid out in row order, as reading a file gives them: the generator shuffles its records,
    # which leaves each one's values scattered over the heap, and forked workers reading them
    # then copy nearly every page of it (the tool's normalisation took half as long again).
    records = pickle.loads(pickle.dumps(population(size, seed), protocol=pickle.HIGHEST_PROTOCOL))
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
        from amanat.linkage.model import Thresholds, train_model

        frame = batch_features([str(r["record_id"]) for r in records], records)
        t1 = time.perf_counter()
        _stage("normalised", t0)
        model = train_model(frame, seed=seed)
        t2 = time.perf_counter()
        _stage("trained", t0)
        pairs = predict_pairs(model, frame, threshold_match_weight=Thresholds.weight(0.5))
        t3 = time.perf_counter()
        _stage(f"predicted {len(pairs)} pairs", t0)
        n_pairs = len(pairs)
        cc = cluster(pairs, frame["unique_id"], 0.99, strict=0.999)
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


def batch(size: int, seed: int) -> list[dict[str, Any]]:
    runs = []
    for kind in ("amanat-dedupe", "amanat-link", "plain"):
        proc = subprocess.run([sys.executable, __file__, "--child", kind, "--size", str(size), "--seed", str(seed)],
                              stdout=subprocess.PIPE, text=True, check=False)  # stderr: live stage log
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            runs.append({"pipeline": kind, "records": size, "error": f"exit {proc.returncode}",
                         })
        else:
            runs.append(json.loads(lines[-1]))
        print(json.dumps(runs[-1]), flush=True)
    return runs


def incremental(known: int, seed: int, queries: int) -> dict[str, Any]:
    """p50/p95 of matching one new record against ``known`` people through the index."""
    logging.getLogger("splink").setLevel(logging.ERROR)
    from linkage_synth import population

    from amanat.linkage.batch_features import batch_features
    from amanat.linkage.features import features_from_fields, to_arrow
    from amanat.linkage.incremental import CandidateIndex, score_candidates
    from amanat.linkage.model import train_model

    records = population(known + queries, seed + 1)
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

    return {"known_records": len(base), "queries": len(held),
            "match_ms_p50": pct(match_ms, 50), "match_ms_p95": pct(match_ms, 95),
            "match_ms_max": round(max(match_ms), 2),
            "normalise_ms_p50": pct(norm_ms, 50), "normalise_ms_p95": pct(norm_ms, 95),
            "candidates_p50": pct([float(c) for c in cands], 50), "candidates_p95": pct([float(c) for c in cands], 95),
            "candidates_max": max(cands), "index_rss_mb": round(_status_kb("VmRSS") / 1024)}


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    ok = [r for r in result["batch"] if "error" not in r]
    labels = [f"{r['pipeline']}\n{r['records']:,}\nF1 {r['clustered_at_0.99']['f1']:.3f}" for r in ok]
    a1.bar(labels, [r["seconds_linkage"] for r in ok], label="linkage (train, predict, cluster; dedupe: + reasons)")
    a1.bar(labels, [r.get("seconds_normalise", r.get("seconds_prepare", 0)) for r in ok],
           bottom=[r["seconds_linkage"] for r in ok], label="normalisation (plain: preparing columns)")
    for i, r in enumerate(ok):
        a1.text(i, r["seconds_total"], f"{r['peak_rss_mb'] / 1024:.1f} GiB", ha="center", va="bottom")
    a1.set_ylabel("seconds (label: peak RSS)")
    a1.set_ylim(0, max(r["seconds_total"] for r in ok) * 1.25)
    a1.legend(loc="upper right", fontsize=8)
    a1.set_title("batch dedupe")
    inc = result["incremental"]
    xs = [f"{r['known_records']:,} known" for r in inc]
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
    ap.add_argument("--out", type=Path, default=RESULTS / "linkage_scale.json")
    ap.add_argument("--child", choices=["amanat-dedupe", "amanat-link", "plain"], help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.size, args.seed)), flush=True)
        return
    result: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}, "seed": args.seed, "batch": [],
                              "incremental": []}
    for size in args.sizes:
        result["batch"].extend(batch(size, args.seed))
    for known in args.known:
        result["incremental"].append(incremental(known, args.seed, args.queries))
        print(json.dumps(result["incremental"][-1]), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    plot(result, args.out.with_suffix(".png"))


if __name__ == "__main__":
    main()
