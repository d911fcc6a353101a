"""Normalisation throughput on one core, against a naive normaliser on the same data in the same run.

    .venv/bin/python bench/normalize.py                    # 100k records; writes /tmp/amanat-bench/normalize.{json,png}
    .venv/bin/python bench/normalize.py --out bench/results  # the same, updating the committed figures
    .venv/bin/python bench/normalize.py --records 20000 --rounds 2

The synthetic population (bench/synth.py) is written to a CSV file and read back, so both normalisers
see exactly what an import would. The process is pinned to one CPU. Each round times, back to back:

* **peer** — what a team writes first: per field NFKC, case-fold, Persian/Arabic digits to ASCII,
  hazm-style shape folding of Pashto letters, whitespace collapsed. No dates, IDs, places or keys.
* **amanat cold** — ``normalize_record`` on every record with all per-value caches emptied first;
  repeats within the file (common names, dates, places) hit the caches as they would in an import.
* **amanat warm** — the same records again with the caches full.

The amanat/peer ratio of the same round is the figure that survives a noisy machine. The JSON also
carries the key-agreement measurement of the name keys on the compiled name lists in
tests/normalize/data/ (in-sample and held-out, with and without the lexicon).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from provenance import add_out, write_json  # noqa: E402
from synth import generate_population, write_csv  # noqa: E402

from amanat.normalize import clear_caches, normalize_record  # noqa: E402
from amanat.normalize.names import lexicon_disabled, normalize_name  # noqa: E402

NAME_LISTS = {"in_sample": ROOT / "tests/normalize/data/afghan_name_pairs.tsv",
              "held_out": ROOT / "tests/normalize/data/afghan_name_pairs_heldout.tsv"}
GOAL = 20_000

# hazm-style: Pashto letters folded by shape, Arabic letters to Persian, digits to ASCII.
_PEER_TABLE = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩ګښږځڅټډړڼېۍيكة", "01234567890123456789کسرحچتدرنییيکه")


def peer_normalize(record: dict[str, str]) -> dict[str, str]:
    return {k: " ".join(unicodedata.normalize("NFKC", v).casefold().translate(_PEER_TABLE).split())
            for k, v in record.items() if v}


def pin_one_core() -> int | None:
    if hasattr(os, "sched_setaffinity"):
        cpu = sorted(os.sched_getaffinity(0))[0]
        os.sched_setaffinity(0, {cpu})
        return cpu
    return None


def population(n_records: int, seed: int) -> list[dict[str, str]]:
    people = int(n_records / 1.28)
    recs = generate_population(people, seed=seed)
    while len(recs) < n_records:
        people = int(people * n_records / len(recs)) + 50
        recs = generate_population(people, seed=seed)
    return recs[:n_records]


def read_back(records: list[dict[str, str]]) -> list[dict[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "population.csv"
        write_csv(records, path)
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))


def calibration_us() -> float:
    """Best-of-5 time of ``sum(range(1000))`` in µs: how fast this core is right now; compare runs by it."""
    import timeit

    return round(min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6, 2)


def timed(fn: Callable[[dict[str, str]], object], rows: list[dict[str, str]]) -> float:
    start = time.process_time()
    for row in rows:
        fn(row)
    return len(rows) / (time.process_time() - start)


def _pairs(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            dari, latin = line.split("\t")[:2]
            rows.append((dari, latin))
    return rows


def agreement(pairs: list[tuple[str, str]]) -> dict[str, float | int]:
    """Share of (Dari, Latin) pairs whose keys agree, and how often different names collide."""
    phon = latin = overlap = 0
    for dari, lat in pairs:
        a, b = normalize_name(dari), normalize_name(lat)
        phon += a.phonetic == b.phonetic
        latin += a.latin == b.latin
        overlap += bool(set(a.tokens) & set(b.tokens))
    # Different names (distinct folded Dari forms) that share a phonetic key: the price of recall.
    keys = {normalize_name(d).folded: normalize_name(d).phonetic for d, _ in pairs}
    distinct = list(keys.items())
    colliding = sum(1 for (_, k1), (_, k2) in combinations(distinct, 2) if k1 == k2)
    n_pairs = len(distinct) * (len(distinct) - 1) // 2
    n = len(pairs)
    return {"pairs": n, "phonetic_agree": round(phon / n, 4), "latin_agree": round(latin / n, 4),
            "token_overlap": round(overlap / n, 4), "distinct_names": len(distinct),
            "distinct_name_pairs_sharing_phonetic_key": colliding,
            "collision_rate": round(colliding / n_pairs, 5) if n_pairs else 0.0}


def key_agreement() -> dict[str, dict[str, dict[str, float | int]]]:
    out: dict[str, dict[str, dict[str, float | int]]] = {}
    for label, path in NAME_LISTS.items():
        pairs = _pairs(path)
        out[label] = {"with_lexicon": agreement(pairs)}
        with lexicon_disabled():
            out[label]["rules_only"] = agreement(pairs)
    return out


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    labels = ["peer (naive)", "amanat cold", "amanat warm"]
    values = [result["peer_records_per_s"], result["amanat_cold_records_per_s"], result["amanat_warm_records_per_s"]]
    ax1.bar(labels, values, color=["#999999", "#2b6cb0", "#90cdf4"])
    ax1.axhline(GOAL, color="#c53030", linestyle="--", label=f"goal {GOAL:,}/s")
    ax1.set_ylabel("records / s (one core, median of rounds)")
    ax1.set_title(f"{result['records']:,} synthetic records")
    ax1.legend()
    for i, v in enumerate(values):
        ax1.text(i, v, f"{v:,.0f}", ha="center", va="bottom", fontsize=9)
    agree = result["key_agreement"]
    groups = [(f"{lst}\n{mode.replace('_', ' ')}", agree[lst][mode]) for lst in agree for mode in agree[lst]]
    xs = range(len(groups))
    ax2.bar([x - 0.2 for x in xs], [g[1]["phonetic_agree"] for g in groups], width=0.4, label="phonetic key")
    ax2.bar([x + 0.2 for x in xs], [g[1]["latin_agree"] for g in groups], width=0.4, label="romanisation")
    ax2.set_xticks(list(xs), [g[0] for g in groups], fontsize=8)
    ax2.set_ylim(0, 1.05)
    ax2.set_ylabel("Dari/Latin pairs whose keys agree")
    ax2.set_title("cross-script key agreement")
    ax2.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Normalisation throughput vs a naive peer, one core.")
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2021)
    add_out(parser, "normalize")
    args = parser.parse_args(argv)
    cpu = pin_one_core()
    rows = read_back(population(args.records, args.seed))
    calibration = [calibration_us()]
    rounds = []
    for i in range(args.rounds):
        peer = timed(peer_normalize, rows)
        clear_caches()
        cold = timed(normalize_record, rows)
        warm = timed(normalize_record, rows)
        rounds.append({"peer": round(peer), "amanat_cold": round(cold), "amanat_warm": round(warm),
                       "cold_over_peer": round(cold / peer, 3)})
        calibration.append(calibration_us())
        print(f"round {i + 1}: peer {peer:,.0f}/s  amanat cold {cold:,.0f}/s  warm {warm:,.0f}/s", file=sys.stderr)
    clear_caches()
    issues = sum(len(normalize_record(r).issues) for r in rows)
    result = {
        "benchmark": "normalize_record throughput, one core",
        "records": len(rows), "rounds": rounds, "seed": args.seed, "pinned_cpu": cpu,
        "peer": "per field: NFKC + casefold + digits to ASCII + hazm-style shape folding + whitespace",
        "peer_records_per_s": statistics.median(r["peer"] for r in rounds),
        "amanat_cold_records_per_s": statistics.median(r["amanat_cold"] for r in rounds),
        "amanat_warm_records_per_s": statistics.median(r["amanat_warm"] for r in rounds),
        "amanat_cold_over_peer": statistics.median(r["cold_over_peer"] for r in rounds),
        "goal_records_per_s": GOAL,
        "issues_per_record": round(issues / len(rows), 4),
        "key_agreement": key_agreement(),
        "calibration_sum_range_1000_us": calibration,
        "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    write_json(args.out / "normalize.json", result)
    plot(result, args.out / "normalize.png")
    print(json.dumps({k: result[k] for k in ("peer_records_per_s", "amanat_cold_records_per_s",
                                             "amanat_warm_records_per_s", "amanat_cold_over_peer")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
