"""The worker: sealed submissions → stored, linked records with their cases, with N people already known.

    .venv/bin/python bench/worker.py --quick                          # 2,000 known, 1,000 new: to try things
    .venv/bin/python bench/worker.py                                  # 20,000 known, 4,000 new
    .venv/bin/python bench/worker.py --known 100000 --new 20000       # the issue's size (a bigger machine)
    .venv/bin/python bench/worker.py --out bench/results              # the figures to keep

A synthetic population (bench/synth.py: re-registrations, script switches, partial dates) is shuffled and
split: the first ``--known`` records are sealed and stored (by the batch worker) as the people already
known, the next ``--new`` are sealed and left waiting, so many of them are re-registrations of someone
known. From that one starting state (an SQLite file copied, a PostgreSQL database cloned from a template)
each run drains the queue in fresh processes: the one-at-a-time worker (``pipeline.process_next``, the
baseline, on the first ``--baseline`` submissions only: it is slow) and the batch worker
(``jobs.worker.run_worker``) in 1 and 2 processes, on SQLite and on PostgreSQL. On SQLite with a core to
spare each worker process has a helper that opens and normalises the next batch (``jobs.batch.Ahead``):
"1 process" is then two busy processes. Each run reports records stored per second (wall clock, all its
processes together, start-up included; and while draining, first batch to last, without starting Python
and loading the libraries and the model), the peak memory of its largest process and of its largest helper.
After the one-process batch run, the people it made are compared pairwise with the synthetic truth and
with `link run`'s clusters of the same records (``linkage.service.batch_clusters``): incremental equals batch.
Writes worker.{json,png} to /tmp/amanat-bench/ unless --out names another folder.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from linkage_households import commit, machine  # noqa: E402
from synth import generate_population  # noqa: E402

SCRATCH = Path("/tmp/amanat-bench")
PASSPHRASE = "bench passphrase, synthetic data only"
PG_ADMIN = os.environ.get("AMANAT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
GOAL_SQLITE_2_CORES = 1000.0
TRUTH_FIELD = "bench_person"

# One measured process: opens the database, drains (batch or one at a time), prints what it did as JSON.
_RUN = """
import json, os, sys, time
from amanat.core import crypto
from amanat.core.db import Database
from amanat.core.keystore import load_keystore
database = Database(os.environ["BENCH_URL"], crypto.KeyHolder(), synchronous="NORMAL")
with database.reading() as db:
    keystore = load_keystore(db)
database.keys.set(crypto.unlock(keystore, os.environ["BENCH_PASSPHRASE"]))
limit = int(os.environ.get("BENCH_LIMIT", "0")) or None
start = time.perf_counter()
if os.environ["BENCH_MODE"] == "one_at_a_time":
    from amanat.jobs.pipeline import drain
    stored = sum(s.ok for s in drain(database, limit=limit))
else:
    from amanat.jobs.worker import run_worker
    stored, _ = run_worker(database, once=True, batch_size=int(os.environ["BENCH_BATCH"]))
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across fork and exec
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
# the helper that opens the next batch (forked, so its figure starts from this process's size at the fork)
import resource
helper = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"stored": stored, "seconds": time.perf_counter() - start, "peak_rss_mib": peak / 1024,
                  "helper_peak_rss_mib": helper / 1024}))
"""


def _fields(record: dict[str, Any]) -> dict[str, str]:
    # the synthetic truth travels as a field no normaliser reads (stored encrypted with the record)
    return {**{k: v for k, v in record.items() if k not in ("record_id", "person_id") and v},
            TRUTH_FIELD: str(record["person_id"])}


def _pairs(groups: dict[str, str]) -> set[tuple[str, str]]:
    members: dict[str, list[str]] = {}
    for item, group in groups.items():
        members.setdefault(group, []).append(item)
    return {(a, b) if a < b else (b, a) for ids in members.values() for i, a in enumerate(ids) for b in ids[i + 1:]}


def _scores(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, float]:
    both = len(found & truth)
    precision = both / len(found) if found else 1.0
    recall = both / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def quality(url: str) -> dict[str, Any]:
    """Pairwise precision, recall and F1 of the worker's people against the synthetic truth, and the
    pairwise F1 between the worker's people and `link run`'s clusters of the same records."""
    from sqlalchemy import select

    from amanat.linkage.service import batch_clusters
    from amanat.records.models import Record
    from amanat.records.service import get_person_root

    database = _open(url, create=False)
    with database.reading() as db:
        people: dict[str, str] = {}
        truth: dict[str, str] = {}
        for rec_id, person, data in db.execute(select(Record.id, Record.person_id, Record.data)):
            people[rec_id] = get_person_root(db, person)
            truth[rec_id] = str(data.get(TRUTH_FIELD))
        t = time.perf_counter()
        link_run = batch_clusters(db)
        link_run_s = time.perf_counter() - t
    database.dispose()
    ours = _pairs(people)
    return {"records": len(people), "worker_vs_truth": _scores(ours, _pairs(truth)),
            "link_run_vs_truth": _scores(_pairs(link_run), _pairs(truth)),
            "worker_vs_link_run_f1": _scores(ours, _pairs(link_run))["f1"], "link_run_s": round(link_run_s, 1)}


def _open(url: str, *, create: bool) -> Any:
    from amanat.core import crypto, migrate
    from amanat.core.db import Database
    from amanat.core.keystore import load_keystore, save_keystore

    if create:
        migrate.upgrade(url)
    database = Database(url, crypto.KeyHolder(), synchronous="NORMAL")
    if create:
        keystore = crypto.create_keystore(PASSPHRASE, time_cost=1, memory_kib=64)
        with database.transaction() as db:
            save_keystore(db, keystore, "Bench organisation (synthetic data)")
    else:
        with database.reading() as db:
            keystore = load_keystore(db)
    database.keys.set(crypto.unlock(keystore, PASSPHRASE))
    return database


def _seal(database: Any, records: list[dict[str, Any]]) -> None:
    from amanat.core.audit import Actor
    from amanat.intake.parsed import ParsedSubmission
    from amanat.intake.service import seal_submission

    for at in range(0, len(records), 2000):
        with database.transaction() as db:
            for r in records[at:at + 2000]:
                seal_submission(db, database.keys, ParsedSubmission("web", _fields(r)), actor=Actor("bench"),
                                form_id="amanat_service_record", form_version="1", language="en")


def prepare(url: str, known: list[dict[str, Any]], new: list[dict[str, Any]], batch: int) -> dict[str, float]:
    """Known people sealed and stored, the new ones sealed and waiting."""
    from amanat.jobs.worker import run_worker

    database = _open(url, create=True)
    t = time.perf_counter()
    _seal(database, known)
    sealed_known = time.perf_counter() - t
    t = time.perf_counter()
    run_worker(database, once=True, batch_size=batch)
    stored_known = time.perf_counter() - t
    _seal(database, new)
    database.dispose()
    return {"seal_known_s": round(sealed_known, 1), "store_known_s": round(stored_known, 1)}


def _pg(sql: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def _pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def measure(url: str, mode: str, processes: int, batch: int, limit: int | None) -> dict[str, Any]:
    env = {**os.environ, "BENCH_URL": url, "BENCH_PASSPHRASE": PASSPHRASE, "BENCH_MODE": mode,
           "BENCH_BATCH": str(batch), "BENCH_LIMIT": str(limit or 0), "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", _RUN], env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(processes)]
    outs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    wall = time.perf_counter() - start
    stored = sum(o["stored"] for o in outs)
    # the processes' own draining time, without starting Python and loading the libraries and the model
    draining = max(o["seconds"] for o in outs)
    return {"mode": mode, "processes": processes, "batch_size": batch if mode == "batch" else 1, "stored": stored,
            "seconds": round(wall, 2), "records_per_second": round(stored / wall, 1),
            "draining_seconds": round(draining, 2), "records_per_second_draining": round(stored / draining, 1),
            "peak_rss_mib": round(max(o["peak_rss_mib"] for o in outs)),
            "helper_peak_rss_mib": round(max(o["helper_peak_rss_mib"] for o in outs))}


def run_backend(backend: str, work: Path, known: list[dict[str, Any]], new: list[dict[str, Any]],
                args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"backend": backend, "runs": []}
    if backend == "sqlite":
        template = work / "template.db"
        out["prepare"] = prepare(f"sqlite:///{template}", known, new, args.batch)

        def fresh(tag: str) -> str:
            path = work / f"{tag}.db"
            shutil.copy(template, path)
            return f"sqlite:///{path}"
    else:
        name = f"amanat_bench_{os.getpid()}"
        _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _pg(f'CREATE DATABASE "{name}"')
        out["prepare"] = prepare(_pg_url(name), known, new, args.batch)

        def fresh(tag: str) -> str:
            clone = f"{name}_{tag}"
            _pg(f'DROP DATABASE IF EXISTS "{clone}" WITH (FORCE)')
            _pg(f'CREATE DATABASE "{clone}" TEMPLATE "{name}"')
            return _pg_url(clone)
    plan = [("one_at_a_time", 1, args.baseline)] + [("batch", p, None) for p in args.processes]
    for mode, processes, limit in plan:
        url = fresh(f"{mode}_{processes}")
        run = measure(url, mode, processes, args.batch, limit)
        print(f"{backend}: {mode} × {processes}: {run['stored']} in {run['seconds']} s = "
              f"{run['records_per_second']}/s ({run['records_per_second_draining']}/s draining, without the "
              f"start-up), peak {run['peak_rss_mib']} MiB", flush=True)
        if mode == "batch" and processes == 1 and args.quality:
            run["quality"] = quality(url)
            print(f"{backend}: quality {run['quality']}", flush=True)
        out["runs"].append(run)
        if backend == "sqlite":
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        else:
            _pg(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    if backend == "postgres":
        _pg(f'DROP DATABASE IF EXISTS "amanat_bench_{os.getpid()}" WITH (FORCE)')
    return out


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, rates, colours = [], [], []
    for b in result["backends"]:
        for r in b["runs"]:
            labels.append(f"{b['backend']}\n{'one at a time' if r['mode'] == 'one_at_a_time' else 'batch'}"
                          f" × {r['processes']}")
            rates.append(r["records_per_second_draining"])
            colours.append("tab:grey" if r["mode"] == "one_at_a_time" else "tab:green")
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(range(len(rates)), rates, color=colours)
    ax.set_xticks(range(len(rates)), labels, fontsize=8)
    ax.axhline(GOAL_SQLITE_2_CORES, color="tab:red", linestyle="--", linewidth=1, label="goal on SQLite, 2 cores")
    ax.set_ylabel("records stored and linked per second (draining)")
    ax.legend(fontsize=8)
    m = result["machine"]
    ax.set_title(f"worker, {result['known']:,} known + {result['new']:,} new ({m['cpus_usable']} cores; "
                 f"commit {result['commit']['commit'][:8]})", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="The worker: sealed submissions to stored, linked records")
    ap.add_argument("--known", type=int, default=20_000, help="people stored before the run")
    ap.add_argument("--new", type=int, default=4_000, help="sealed submissions each run drains")
    ap.add_argument("--baseline", type=int, default=300, help="submissions the one-at-a-time worker processes")
    ap.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--backends", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    ap.add_argument("--batch", type=int, default=500, help="submissions per batch")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="2,000 known and 1,000 new, to try things")
    ap.add_argument("--no-quality", dest="quality", action="store_false",
                    help="skip comparing the worker's people with the truth and with link run")
    ap.add_argument("--out", type=Path, default=SCRATCH, help="folder for worker.{json,png}")
    args = ap.parse_args(argv)
    if args.quick:
        args.known, args.new, args.baseline = 2_000, 1_000, 100
    records = generate_population(args.known + args.new, seed=args.seed)[:args.known + args.new]
    random.Random(args.seed).shuffle(records)  # the new records then hold re-registrations of known people
    known, new = records[:args.known], records[args.known:]
    result: dict[str, Any] = {"known": len(known), "new": len(new), "baseline_submissions": args.baseline,
                              "batch_size": args.batch, "seed": args.seed,
                              "goal": f">= {GOAL_SQLITE_2_CORES:.0f} records/s on SQLite with 2 cores",
                              "commit": commit(), "machine": machine(), "backends": []}
    with tempfile.TemporaryDirectory(prefix="amanat-bench-worker-") as tmp:
        for backend in args.backends:
            result["backends"].append(run_backend(backend, Path(tmp), known, new, args))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "worker.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    plot(result, path.with_suffix(".png"))
    print(f"wrote {path} and {path.with_suffix('.png')}")


if __name__ == "__main__":
    main()
