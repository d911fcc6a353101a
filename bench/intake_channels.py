"""Throughput of whole-file imports through the full path (parse + seal + store + commit), beside peers.

    .venv/bin/python bench/intake_channels.py [--chat-messages 20000] [--rows 20000] [--xlsx-rows 5000]
                                              [--rss-rows 100000] [--repeat 2]

WhatsApp: lines per second of `import_whatsapp` on a Persian-locale Android export zipped with a small photo
for every photo message (one form in ten messages). Tables: rows per second of `import_table` on a CSV and an
XLSX. Each is beside named peers measured in the same run on the same bytes: the parse-only throughput of our
own parsers (`parse_chat_text` + `extract_submissions`, `read_table`), and `pandas.read_csv(dtype=str)`. The
store is SQLite in WAL mode with synchronous=FULL (the embedded default), one transaction per import, public
key only (as on an intake node). OpenRosa submissions per second are measured by the OpenRosa work, not here.

Peak RSS: `amanat intake table` run as a separate process on a fresh database, on a small file and on a
`--rss-rows` file (each child reports its own VmHWM at exit), beside `pandas.read_csv` of the large file in a
process of its own. Flat RSS from the small to the large file is what "streams without holding the file"
means. All data is synthetic and obviously fake. Writes bench/results/intake_channels.json and .png; the
machine is shared and noisy, so compare ratios to the peers rather than absolute figures.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from intake_parsers import synthetic_chat, synthetic_rows  # noqa: E402  (bench/ sibling)
from provenance import add_out, write_json  # noqa: E402

from amanat.core import crypto, migrate  # noqa: E402
from amanat.core.audit import Actor  # noqa: E402
from amanat.core.db import Database  # noqa: E402
from amanat.core.keystore import save_keystore  # noqa: E402
from amanat.intake.consent import ImportConsent  # noqa: E402
from amanat.intake.imports import import_table, import_whatsapp  # noqa: E402
from amanat.intake.tables import read_table  # noqa: E402
from amanat.intake.whatsapp import extract_submissions, parse_chat, parse_chat_text  # noqa: E402

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4   # ~1 KB, obviously not a photo
BENCH = Actor("system:bench")
CONSENT = ImportConsent("paper_intermediary")  # every table or chat import states its consent basis
PASSPHRASE = "bench passphrase, synthetic data only"


def chat_export(messages: int) -> tuple[bytes, int]:
    """(zip bytes, chat text lines): the synthetic chat plus one small JPEG per photo it mentions."""
    text = synthetic_chat(messages)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("WhatsApp Chat with Test Group.txt", text)
        for line in text.split("\n"):
            if line.endswith("(file attached)"):
                zf.writestr(line.split(": ", 1)[1].split(" (", 1)[0], JPEG)
    return buf.getvalue(), text.count("\n")


def write_csv(path: Path, rows: int) -> None:
    header, data = synthetic_rows(rows)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(data)


def write_xlsx(path: Path, rows: int) -> None:
    import openpyxl

    header, data = synthetic_rows(rows)
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(header)
    for r in data:
        ws.append(r)
    wb.save(path)


def fresh_database(path: Path, keystore: crypto.Keystore) -> Database:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    database = Database(url, crypto.KeyHolder(), synchronous="FULL")
    with database.transaction() as db:
        save_keystore(db, keystore, "Bench organisation")
    database.keys.set(crypto.public_ring(keystore))   # sealing needs the public key only
    return database


def best_of(repeat: int, fn: Callable[[], int]) -> tuple[float, int]:
    best, items = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        items = fn()
        best = min(best, time.perf_counter() - start)
    return best, items


def timed_import(repeat: int, db_path: Path, keystore: crypto.Keystore,
                 run: Callable[[Database], int]) -> tuple[float, int]:
    """Best time of a full import (commit included) into a fresh database each time."""
    best, items = float("inf"), 0
    for _ in range(repeat):
        database = fresh_database(db_path, keystore)
        try:
            start = time.perf_counter()
            items = run(database)
            best = min(best, time.perf_counter() - start)
        finally:
            database.dispose()
    return best, items


# The child reports its own peak (VmHWM is per address space and starts afresh at exec). rusage from wait4
# would not do: a child forked from this process carries this process's size in ru_maxrss across the exec.
_REPORT_PEAK = """
import atexit, sys
out = sys.argv[1]
def report():
    with open("/proc/self/status") as fh:
        kib = next(line for line in fh if line.startswith("VmHWM:")).split()[1]
    with open(out, "w") as fh:
        fh.write(kib)
atexit.register(report)
"""
_RUN_CLI = _REPORT_PEAK + """
sys.argv = ["amanat", *sys.argv[2:]]
from amanat.cli.main import app
app()
"""
_RUN_PANDAS = _REPORT_PEAK + """
import pandas
pandas.read_csv(sys.argv[2], dtype=str, keep_default_na=False)
"""


def child_peak_rss(code: str, args: list[str], env: dict[str, str], tmp: Path) -> tuple[int, float]:
    """(peak RSS in bytes, seconds) of one child Python process running ``code`` with ``args``."""
    out = tmp / "peak.kib"
    out.unlink(missing_ok=True)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(out), *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{args[:2]} failed: {done.stderr[-2000:]}")
    elapsed = time.perf_counter() - start
    return int(out.read_text()) * 1024, elapsed


def cli_import_rss(tmp: Path, table: Path, name: str) -> tuple[int, float]:
    data_dir = tmp / f"rss-{name}"
    data_dir.mkdir()
    env = {**os.environ, "AMANAT_DATA_DIR": str(data_dir), "AMANAT_PASSPHRASE": PASSPHRASE,
           "AMANAT_KDF_MEMORY_KIB": "64", "AMANAT_KDF_TIME_COST": "1", "AMANAT_LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _RUN_CLI, str(tmp / "init.kib"), "init", "--organisation", "Bench"],
                          env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"amanat init failed: {done.stderr[-2000:]}")
    del env["AMANAT_PASSPHRASE"]   # the import runs with the public key only
    return child_peak_rss(_RUN_CLI, ["intake", "table", str(table), "--consent-basis", "paper_intermediary"], env,
                          tmp)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chat-messages", type=int, default=20_000)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--xlsx-rows", type=int, default=5_000)
    ap.add_argument("--rss-rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=2)
    add_out(ap, "intake_channels")
    args = ap.parse_args()
    import openpyxl
    import pandas as pd

    keystore = crypto.create_keystore(PASSPHRASE, time_cost=1, memory_kib=64)
    results: dict[str, object] = {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_average_at_start": os.getloadavg(), "pandas": pd.__version__,
                    "openpyxl": openpyxl.__version__},
        "parameters": vars(args),
        "store": "SQLite WAL, synchronous=FULL, one transaction per import, public key only",
        "openrosa": {"measured": False,
                     "note": "OpenRosa submissions/s belong to the OpenRosa work's own bench; not measured here"},
    }

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        db_path = tmp / "bench.db"

        # --- WhatsApp ---
        export, lines = chat_export(args.chat_messages)
        text = zipfile.ZipFile(io.BytesIO(export)).read("WhatsApp Chat with Test Group.txt").decode()

        def whatsapp_full(database: Database) -> int:
            with database.transaction() as db:
                result = import_whatsapp(db, database.keys, export, file_name="bench.zip", intermediary="Bench",
                                         actor=BENCH, consent=CONSENT)
            return result.submissions

        def whatsapp_parse() -> int:
            return len(parse_chat_text(text, file_name="bench.txt").messages)

        def whatsapp_parse_extract() -> int:
            exp = parse_chat(export, file_name="bench.zip")
            return len(extract_submissions(exp, intermediary="Bench").submissions)

        full_s, forms = timed_import(args.repeat, db_path, keystore, whatsapp_full)
        parse_s, _ = best_of(args.repeat, whatsapp_parse)
        extract_s, forms_peer = best_of(args.repeat, whatsapp_parse_extract)
        assert forms == forms_peer > 0, (forms, forms_peer)
        results["whatsapp"] = {
            "lines": lines, "messages": args.chat_messages + 1, "submissions": forms, "zip_bytes": len(export),
            "ours": {"name": "import_whatsapp (parse + seal + store)", "seconds": full_s,
                     "lines_per_s": lines / full_s, "submissions_per_s": forms / full_s},
            "peers": [
                {"name": "parse_chat_text only", "seconds": parse_s, "lines_per_s": lines / parse_s},
                {"name": "parse_chat + extract_submissions (unzip, no seal)", "seconds": extract_s,
                 "lines_per_s": lines / extract_s},
            ],
            "ratio_ours_over_parse_extract": extract_s / full_s,
        }
        print(f"whatsapp: {lines / full_s:,.0f} lines/s full import, {lines / extract_s:,.0f} parse+extract",
              flush=True)

        # --- tables ---
        csv_path, xlsx_path = tmp / "bench.csv", tmp / "bench.xlsx"
        write_csv(csv_path, args.rows)
        write_xlsx(xlsx_path, args.xlsx_rows)
        for kind, path, rows in (("csv", csv_path, args.rows), ("xlsx", xlsx_path, args.xlsx_rows)):

            def table_full(database: Database, path: Path = path) -> int:
                with database.transaction() as db, path.open("rb") as fh:
                    result = import_table(db, database.keys, fh, file_name=path.name, mapping=None, actor=BENCH,
                                          consent=CONSENT)
                return result.submissions

            def table_parse(path: Path = path) -> int:
                return sum(1 for _ in read_table(path, file_name=path.name))

            full_s, n = timed_import(args.repeat, db_path, keystore, table_full)
            parse_s, n_parse = best_of(args.repeat, table_parse)
            assert n == n_parse == rows, (n, n_parse, rows)
            peers = [{"name": "read_table only (parse, no seal)", "seconds": parse_s, "rows_per_s": rows / parse_s}]
            if kind == "csv":
                pandas_s, n_pandas = best_of(args.repeat, lambda path=path: len(
                    pd.read_csv(path, dtype=str, keep_default_na=False)))
                assert n_pandas == rows
                peers.append({"name": "pandas.read_csv(dtype=str)", "seconds": pandas_s,
                              "rows_per_s": rows / pandas_s})
            results[f"table_{kind}"] = {
                "rows": rows, "file_bytes": path.stat().st_size,
                "ours": {"name": "import_table (parse + seal + store)", "seconds": full_s, "rows_per_s": rows / full_s},
                "peers": peers,
                "ratio_ours_over_parse": parse_s / full_s,
            }
            print(f"{kind}: {rows / full_s:,.0f} rows/s full import, {rows / parse_s:,.0f} parse only", flush=True)

        # --- peak RSS of the CLI: a small file, then the large one; pandas reading the large one ---
        small, large = tmp / "small.csv", tmp / "large.csv"
        write_csv(small, 1_000)
        write_csv(large, args.rss_rows)
        small_rss, small_s = cli_import_rss(tmp, small, "small")
        large_rss, large_s = cli_import_rss(tmp, large, "large")
        pandas_small, _ = child_peak_rss(_RUN_PANDAS, [str(small)], dict(os.environ), tmp)
        pandas_large, _ = child_peak_rss(_RUN_PANDAS, [str(large)], dict(os.environ), tmp)
        results["peak_rss"] = {
            "how": "VmHWM of each child process, read by the child itself at exit",
            "file_bytes": {"1000": small.stat().st_size, str(args.rss_rows): large.stat().st_size},
            "ours": {"name": "amanat intake table (CLI, full import)",
                     "bytes": {"1000": small_rss, str(args.rss_rows): large_rss},
                     "seconds": {"1000": small_s, str(args.rss_rows): large_s},
                     "rows_per_s_large": args.rss_rows / large_s, "growth_bytes": large_rss - small_rss},
            "peer": {"name": "pandas.read_csv(dtype=str), whole file in memory",
                     "bytes": {"1000": pandas_small, str(args.rss_rows): pandas_large},
                     "growth_bytes": pandas_large - pandas_small},
        }
        print(f"peak RSS: amanat {small_rss / 2**20:.0f} → {large_rss / 2**20:.0f} MiB ({large_s:.0f} s for "
              f"{args.rss_rows} rows), pandas {pandas_small / 2**20:.0f} → {pandas_large / 2**20:.0f} MiB", flush=True)

    write_json(args.out / "intake_channels.json", results)
    plot(results, args.out / "intake_channels.png")


def plot(results: dict[str, object], path: Path) -> None:
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("whatsapp", "WhatsApp export", "lines_per_s", "lines / s"),
              ("table_csv", "CSV table", "rows_per_s", "rows / s"),
              ("table_xlsx", "XLSX table", "rows_per_s", "rows / s")]
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.8))
    for ax, (key, title, metric, unit) in zip(axes[:3], panels, strict=True):
        entry = results[key]
        assert isinstance(entry, dict)
        items = [entry["ours"], *entry["peers"]]
        values = [i[metric] for i in items]
        bars = ax.bar(range(len(items)), values, color=["#2b6cb0"] + ["#a0aec0"] * (len(items) - 1))
        ax.set_xticks(range(len(items)), [textwrap.fill(i["name"], 20) for i in items], fontsize=7)
        ax.set_yscale("log")
        ax.set_ylim(min(values) / 3, max(values) * 3)
        ax.set_ylabel(f"{unit} (log)")
        ax.set_title(title, fontsize=10)
        for bar, v in zip(bars, values, strict=True):
            ax.annotate(f"{v:,.0f}", (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom", fontsize=8)
    rss = results["peak_rss"]
    assert isinstance(rss, dict)
    sizes = list(rss["ours"]["bytes"])
    ax = axes[3]
    width = 0.38
    for offset, (who, colour) in zip((-width / 2, width / 2), (("ours", "#2b6cb0"), ("peer", "#a0aec0")),
                                     strict=True):
        values = [rss[who]["bytes"][n] / 2**20 for n in sizes]
        bars = ax.bar([i + offset for i in range(len(sizes))], values, width, color=colour,
                      label=textwrap.fill(rss[who]["name"], 34))
        for bar, v in zip(bars, values, strict=True):
            ax.annotate(f"{v:,.0f}", (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(sizes)), [f"{int(n):,} rows" for n in sizes], fontsize=8)
    ax.set_ylabel("peak RSS (MiB)")
    ax.set_title("Memory by CSV size: the import streams", fontsize=10)
    ax.set_ylim(0, max(rss[w]["bytes"][n] for w in ("ours", "peer") for n in sizes) / 2**20 * 1.45)
    ax.legend(fontsize=7, loc="upper center")
    fig.suptitle("Whole-file imports: parse + seal + store, beside parse-only peers (synthetic data)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
