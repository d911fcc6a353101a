"""Relatives kept apart, re-registrations joined: `amanat dedupe` on synthetic households
(bench/households.py) with the model trained on the file and with the bundled model, and plain
Splink on the same raw columns, in one run.

    .venv/bin/python bench/linkage_households.py --quick             # about 1,000 households
    .venv/bin/python bench/linkage_households.py                     # 10,000 households
    .venv/bin/python bench/linkage_households.py --out bench/results # the figures to keep

Per pair class (households.CLASSES: the same person, twins, brothers, a sister and a sibling,
father and son, uncle and nephew, cousins, men sent in from one intermediary's phone,
namesakes; "other" for every remaining pair) it counts the record pairs auto-linked (one
cluster), and for the same person also the pairs shown for review (a row's status "review"
with linked_to naming the other row; a "relatives" status, if the output has one, counted
apart). Plain Splink (bench/linkage_synth.py's model) clusters at the same 0.99; its "review"
is any pair it scored at 0.5 or more, which is more than the one strongest link per row
dedupe shows. Writes linkage_households.{json,png} to /tmp/amanat-bench/ unless --out names
another folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from households import CLASSES, FORM_FIELDS, generate_households, pairs_by_class  # noqa: E402
from provenance import write_json  # noqa: E402

from amanat.linkage.progress import Progress as JobProgress  # noqa: E402

SCRATCH = Path("/tmp/amanat-bench")
SHEET = "households.csv"
LINK_AT = 0.99  # the bundled thresholds' auto-link; plain Splink clusters at the same
# What must not be auto-linked at all, and the recall the true duplicates must keep.
GOALS = {"brothers": 0, "twins": 0, "father_son": 0}
GOAL_RECALL = 0.98
APART = ("twins", "brothers", "sisters", "father_son", "uncle_nephew", "cousins", "intermediary", "namesakes")

console = Console(stderr=True, width=None if sys.stderr.isatty() else 150)
log = logging.getLogger("bench.households")


class _RichStages(JobProgress):
    """dedupe_rows' stages as Rich progress bars (as `amanat dedupe` draws them)."""

    def __init__(self, bar: Progress, label: str) -> None:
        self.bar, self.label = bar, label
        self.task: TaskID | None = None
        self.times: dict[str, float] = {}  # seconds per stage
        self.current: tuple[str, float] | None = None

    def stage(self, name: str, total: int | None = None) -> None:
        self.done()
        self.current = (name, time.perf_counter())
        self.task = self.bar.add_task(f"{self.label}: {name}", total=total)

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.bar.advance(self.task, n)

    def done(self) -> None:
        if self.current is not None:
            name, since = self.current
            self.times[name] = round(time.perf_counter() - since, 2)
            self.current = None
        if self.task is not None:
            t = self.bar.tasks[-1]
            self.bar.update(self.task, total=t.completed or 1, completed=t.completed or 1)
            self.task = None


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


def machine() -> dict[str, Any]:
    model = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                  if ln.startswith("model name")), platform.processor())
    mem_kb = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
                  if ln.startswith("MemTotal"))
    return {"cpu_model": model, "cpus": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)),
            "memory_gib": round(mem_kb / 1024**2, 1), "python": platform.python_version(),
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "amanat_dirty": bool(git("status", "--porcelain", "--", "amanat"))}


def _keys(pairs: np.ndarray, n: int) -> np.ndarray:
    lo, hi = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
    return lo * n + hi


def _linked_pairs_total(cluster: np.ndarray) -> int:
    sizes = np.unique(cluster, return_counts=True)[1].astype(np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def evaluate(truth: dict[str, np.ndarray], cluster: np.ndarray, *, best: np.ndarray | None = None,
             status: np.ndarray | None = None, reasons: np.ndarray | None = None,
             scored: np.ndarray | None = None) -> dict[str, Any]:
    """Per class: pairs, auto-linked (one cluster), and shown beside each other without a
    link: dedupe's review/relatives (``best``: each row's strongest link, ``status``), or
    for plain Splink any pair ``scored`` (sorted pair keys) at 0.5 or more."""
    n = len(cluster)
    out: dict[str, Any] = {}
    in_classes = 0
    for cls in CLASSES:
        pairs = truth[cls]
        i, j = pairs[:, 0], pairs[:, 1]
        linked = cluster[i] == cluster[j]
        row: dict[str, Any] = {"pairs": len(pairs), "auto_linked": int(linked.sum())}
        in_classes += row["auto_linked"]
        if best is not None and status is not None:
            i_to_j, j_to_i = best[i] == j, best[j] == i
            for kind in ("review", "relatives"):
                shown = ~linked & ((i_to_j & (status[i] == kind)) | (j_to_i & (status[j] == kind)))
                if kind == "review" or shown.any():
                    row[f"{kind}_shown"] = int(shown.sum())
            if reasons is not None and linked.any():
                direct_i, direct_j = linked & i_to_j, linked & ~i_to_j & j_to_i
                said = Counter(reasons[i[direct_i]].tolist()) + Counter(reasons[j[direct_j]].tolist())
                row["linked_directly"] = int(direct_i.sum() + direct_j.sum())
                row["top_reasons"] = [[r, c] for r, c in said.most_common(5)]
        if scored is not None:
            row["scored_0.5_not_linked"] = int((~linked & np.isin(_keys(pairs, n), scored)).sum())
        if len(pairs):
            row["share_auto_linked"] = round(row["auto_linked"] / len(pairs), 5)
        out[cls] = row
    total = _linked_pairs_total(cluster)
    out["other"] = {"auto_linked": total - in_classes}
    dup = out["same_person"]
    dup["recall_linked"] = round(dup["auto_linked"] / max(1, dup["pairs"]), 5)
    shown = dup.get("review_shown", dup.get("scored_0.5_not_linked", 0))
    dup["recall_linked_or_review"] = round((dup["auto_linked"] + shown) / max(1, dup["pairs"]), 5)
    if "relatives_shown" in dup:
        dup["recall_linked_or_review_or_relatives"] = round(
            (dup["auto_linked"] + shown + dup["relatives_shown"]) / max(1, dup["pairs"]), 5)
    sizes = np.unique(cluster, return_counts=True)[1]
    return {"classes": out, "auto_linked_pairs": total, "largest_cluster": int(sizes.max()),
            "clusters_over_8_rows": int((sizes > 8).sum()),
            "precision_auto_linked": round(dup["auto_linked"] / max(1, total), 5),
            "goals_met": goals_met(out)}


def goals_met(classes: dict[str, Any]) -> dict[str, bool]:
    met = {f"{c}_auto_linked_{g}": classes[c]["auto_linked"] <= g for c, g in GOALS.items()}
    met[f"same_person_recall_linked_ge_{GOAL_RECALL}"] = classes["same_person"]["recall_linked"] >= GOAL_RECALL
    return met


def run_dedupe(records: list[dict[str, str]], truth: dict[str, np.ndarray], *, train: bool,
               seed: int) -> dict[str, Any]:
    from amanat.linkage.dedupe import SourceRow, dedupe_rows

    rows = [SourceRow(SHEET, i + 2, {k: r[k] for k in FORM_FIELDS if k in r}) for i, r in enumerate(records)]
    label = "amanat dedupe, " + ("trained on the file" if train else "bundled model")
    with _bar() as bar:
        stages = _RichStages(bar, label)
        t0 = time.perf_counter()
        result = dedupe_rows(rows, train=train, seed=seed, progress=stages)
        secs = time.perf_counter() - t0
        stages.done()
    lead = result.lead
    linked_to = lead["linked_to"].astype(str)
    number = pd.to_numeric(linked_to.str.extract(r" row (\d+)$")[0], errors="coerce")
    best = (number.fillna(1).astype(np.int64) - 2).to_numpy()  # row numbers start at 2 (after the header)
    status = lead["status"].astype(str).to_numpy()
    out = evaluate(truth, lead["cluster_id"].to_numpy(), best=best, status=status,
                   reasons=lead["reasons"].astype(str).to_numpy())
    out.update(pipeline=label, model_trained=result.trained, seconds=round(secs, 1), seconds_per_stage=stages.times,
               candidate_pairs_scored_0_5=result.pair_count,
               status_counts={k: int(v) for k, v in Counter(status.tolist()).items()}, notes=result.notes,
               skipped_rows=len(result.skipped_rows))
    return out


def run_plain(records: list[dict[str, str]], truth: dict[str, np.ndarray], seed: int) -> dict[str, Any]:
    from linkage_synth import plain_splink, raw_frame

    from amanat.linkage.model import Thresholds

    log.info("plain Splink: training, predicting, clustering at %s", LINK_AT)
    t0 = time.perf_counter()
    raw = raw_frame([{**r, "record_id": str(i)} for i, r in enumerate(records)])
    pairs, cc, _ = plain_splink(raw, seed, cluster_at=LINK_AT, predict_weight=Thresholds.weight(0.5))
    secs = time.perf_counter() - t0
    n = len(records)
    cluster = np.empty(n, dtype=np.int64)
    cluster[cc["unique_id"].astype(int).to_numpy()] = pd.factorize(cc["cluster_id"])[0]
    scored = np.sort(_keys(np.column_stack([pairs["unique_id_l"].astype(int).to_numpy(),
                                            pairs["unique_id_r"].astype(int).to_numpy()]), n))
    out = evaluate(truth, cluster, scored=scored)
    out.update(pipeline="plain Splink", seconds=round(secs, 1), candidate_pairs_scored_0_5=len(pairs))
    return out


def report(result: dict[str, Any]) -> None:
    runs = result["runs"]
    table = Table(title=f"{result['records']:,} records, {result['households']:,} households: record pairs "
                        f"auto-linked (one cluster at {LINK_AT})")
    table.add_column("class")
    table.add_column("pairs", justify="right")
    for r in runs:
        table.add_column(r["pipeline"], justify="right")
    table.add_column("goal", justify="right")
    for cls in (*CLASSES, "other"):
        cells = []
        for r in runs:
            row = r["classes"][cls]
            share = f" ({row['share_auto_linked']:.2%})" if "share_auto_linked" in row else ""
            cells.append(f"{row['auto_linked']:,}{share}")
        pairs = result["true_pairs"].get(cls)
        table.add_row(cls, f"{pairs:,}" if pairs is not None else "—", *cells, str(GOALS.get(cls, "")))
    table.add_row("same person: recall linked", "", *(f"{r['classes']['same_person']['recall_linked']:.4f}"
                                                     for r in runs), f"≥ {GOAL_RECALL}")
    table.add_row("… linked or review", "", *(f"{r['classes']['same_person']['recall_linked_or_review']:.4f}"
                                              for r in runs), "")
    if any("recall_linked_or_review_or_relatives" in r["classes"]["same_person"] for r in runs):
        table.add_row("… or relatives", "", *(
            f"{r['classes']['same_person'].get('recall_linked_or_review_or_relatives', float('nan')):.4f}"
            for r in runs), "")
    table.add_row("precision of auto-links", "", *(f"{r['precision_auto_linked']:.4f}" for r in runs), "")
    table.add_row("largest cluster (rows)", "", *(f"{r['largest_cluster']:,}" for r in runs), "")
    table.add_row("seconds", "", *(f"{r['seconds']}" for r in runs), "")
    console.print(table)
    for r in runs:
        for cls in ("brothers", "twins", "father_son", "sisters", "cousins", "intermediary", "namesakes"):
            top = r["classes"][cls].get("top_reasons")
            if top:
                console.print(f"[bold]{r['pipeline']}[/] {cls} linked directly "
                              f"({r['classes'][cls]['linked_directly']} of {r['classes'][cls]['auto_linked']}), "
                              f"top reasons: " + " | ".join(f"{c}× {t}" for t, c in top[:3]))


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = result["runs"]
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(16, 4.6), gridspec_kw={"width_ratios": [4, 1.6, 1.2]})
    x = np.arange(len(APART))
    width = 0.8 / len(runs)
    for k, r in enumerate(runs):
        shares = [100 * r["classes"][c].get("share_auto_linked", 0) for c in APART]
        bars = a1.bar(x + (k - (len(runs) - 1) / 2) * width, shares, width, label=r["pipeline"])
        for b, c in zip(bars, APART, strict=True):
            a1.text(b.get_x() + b.get_width() / 2, b.get_height(), f"{r['classes'][c]['auto_linked']:,}",
                    ha="center", va="bottom", fontsize=6, rotation=90)
    a1.set_xticks(x, [f"{c}\n{result['true_pairs'][c]:,}" for c in APART], fontsize=8)
    a1.set_ylabel("% of true pairs auto-linked (label: pairs)")
    a1.set_title("relatives and strangers wrongly merged (goal 0 for brothers, twins, father–son)", fontsize=9)
    a1.set_ylim(0, max(5.0, a1.get_ylim()[1] * 1.15))
    a1.legend(fontsize=8, loc="upper left")
    labels = [r["pipeline"].replace("amanat dedupe, ", "dedupe\n").replace("trained on the file", "trained")
              for r in runs]
    dup = [r["classes"]["same_person"] for r in runs]
    a2.bar(labels, [d["recall_linked_or_review"] for d in dup], color="lightgray",
           label="linked or review (plain: scored ≥ 0.5)")
    bars = a2.bar(labels, [d["recall_linked"] for d in dup], label="auto-linked")
    for b, d in zip(bars, dup, strict=True):
        a2.text(b.get_x() + b.get_width() / 2, d["recall_linked"] / 2, f"{d['recall_linked']:.4f}\n"
                f"({d['recall_linked_or_review']:.4f})", ha="center", va="center", fontsize=7, color="white")
    a2.axhline(GOAL_RECALL, ls=":", color="red", label=f"goal {GOAL_RECALL}")
    a2.set_ylim(0, 1.05)
    a2.set_title(f"true duplicates ({result['true_pairs']['same_person']:,} pairs): recall", fontsize=9)
    a2.tick_params(axis="x", labelsize=7)
    a2.legend(fontsize=7, loc="lower left")
    a3.bar(labels, [r["seconds"] for r in runs])
    a3.set_title(f"seconds ({result['machine']['cpus_usable']} cores)", fontsize=9)
    a3.tick_params(axis="x", labelsize=7)
    fig.suptitle(f"synthetic households, {result['records']:,} records (seed {result['seed']}, "
                 f"commit {result['commit']['commit'][:8]})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Households: relatives kept apart, re-registrations joined")
    ap.add_argument("--households", type=int, default=10_000)
    ap.add_argument("--quick", action="store_true", help="about 1,000 households, to try things")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=SCRATCH, help="folder for linkage_households.{json,png}")
    ap.add_argument("--skip-plain", action="store_true", help="leave out plain Splink")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[RichHandler(console=console)])
    logging.getLogger("splink").setLevel(logging.ERROR)
    n_households = 1000 if args.quick else args.households
    t0 = time.perf_counter()
    records = generate_households(n_households, seed=args.seed)
    truth = pairs_by_class(records)
    log.info("%s records from %s households (%.1f s): %s", f"{len(records):,}", f"{n_households:,}",
             time.perf_counter() - t0, {c: len(v) for c, v in truth.items()})
    result: dict[str, Any] = {
        "households": n_households, "records": len(records), "people": len({r["person_id"] for r in records}),
        "seed": args.seed, "link_at": LINK_AT, "true_pairs": {c: len(v) for c, v in truth.items()},
        "goals": {**{f"{c}_auto_linked": f"= {g}" for c, g in GOALS.items()},
                  "same_person_recall_linked": f">= {GOAL_RECALL}"},
        "commit": commit(), "machine": machine(), "runs": []}
    for train in (True, False):
        run = run_dedupe(records, truth, train=train, seed=args.seed)
        log.info("%s: %.1f s, %s", run["pipeline"], run["seconds"], run["goals_met"])
        result["runs"].append(run)
    if not args.skip_plain:
        run = run_plain(records, truth, args.seed)
        log.info("plain Splink: %.1f s, %s", run["seconds"], run["goals_met"])
        result["runs"].append(run)
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    report(result)
    path = write_json(args.out / "linkage_households.json", result, ensure_ascii=False)
    plot(result, path.with_suffix(".png"))
    log.info("wrote %s and %s", path, path.with_suffix(".png"))


if __name__ == "__main__":
    main()
