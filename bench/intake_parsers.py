"""Throughput of the intake parsers, each beside a named peer measured in the same run.

    .venv/bin/python bench/intake_parsers.py [--rows 100000] [--chat-messages 100000] [--repeat 3]

WhatsApp: lines per second of `parse_chat_text` against a naive single-regex line splitter (the
kind of parser the common libraries are). Tables: rows per second of `read_table` over a CSV against
`pandas.read_csv(dtype=str)`, and over an XLSX against `pandas.read_excel` (openpyxl engine); plus
the peak Python memory of each CSV reader (tracemalloc). All data is synthetic and obviously fake.
Writes bench/results/intake_parsers.json and bench/results/intake_parsers.png. Ratios (ours / peer)
are what to compare across machines; absolute figures depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from provenance import add_out, write_json

from amanat.intake.tables import read_table
from amanat.intake.whatsapp import extract_submissions, parse_chat_text

PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def synthetic_chat(messages: int) -> str:
    """An Android export in Persian (Persian digits, year first, ب.ظ/ق.ظ) with forms and photos."""
    lines = ["۲۰۲۱/۵/۳۰، ۱۰:۰۰ ق.ظ - پیام‌ها و تماس‌ها رمزگذاری سرتاسری شده‌اند."]
    for i in range(messages):
        day, minute = 1 + (i // 1440) % 28, i % 60
        hour = 1 + (i // 60) % 12
        stamp = f"2021/{1 + i % 12}/{day}، {hour}:{minute:02d}".translate(PERSIAN)
        marker = "ق.ظ" if i % 2 else "ب.ظ"
        sender = f"Test Sender {i % 7}"
        if i % 10 == 0:
            lines.append(f"{stamp} {marker} - {sender}: نام: نمونه {i}")
            lines.append(f"نام پدر: پدر نمونه {i}")
            lines.append("رتبه: نمونه")
        elif i % 10 == 1:
            lines.append(f"{stamp} {marker} - {sender}: IMG-20210530-WA{i:04d}.jpg (file attached)")
        else:
            lines.append(f"{stamp} {marker} - {sender}: test message number {i} with some words")
    return "\n".join(lines) + "\n"


_NAIVE = re.compile(r"^(\S+)، (\S+) (\S+) - ([^:]+): (.*)$")


def naive_chat_parse(text: str) -> list[tuple[str, str, str, str, str]]:
    """The peer: one regex per line, continuation lines appended, no dates interpreted."""
    out: list[tuple[str, str, str, str, str]] = []
    for line in text.split("\n"):
        m = _NAIVE.match(line)
        if m:
            out.append(m.groups())  # type: ignore[arg-type]
        elif out:
            d, t, mk, s, body = out[-1]
            out[-1] = (d, t, mk, s, body + "\n" + line)
    return out


def synthetic_rows(rows: int) -> tuple[list[str], list[list[str]]]:
    header = ["_id", "group_a/full_name", "group_a/father_name", "تاریخ تولد", "Rank", "Unit", "phone",
              "tazkira_number", "province", "notes"]
    data = [
        [str(i), f"Test Person {i}", f"Test Father {i}", str(1340 + i % 60), "Test rank", f"Unit {i % 50}",
         f"+00 000 {i:06d}", f"0000-0000-{i:05d}", "Testprovince", "synthetic row for benchmarking"]
        for i in range(rows)
    ]
    return header, data


def best_of(repeat: int, fn: Callable[[], int]) -> tuple[float, int]:
    """(best seconds, items) over `repeat` runs: the minimum is the least disturbed by the machine."""
    best, items = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        items = fn()
        best = min(best, time.perf_counter() - start)
    return best, items


def peak_memory(fn: Callable[[], int]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--chat-messages", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--xlsx-repeat", type=int, default=1)
    add_out(ap, "intake_parsers")
    args = ap.parse_args()
    import openpyxl
    import pandas as pd

    results: dict[str, object] = {
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(),
                    "cpus": os.cpu_count(), "pandas": pd.__version__, "openpyxl": openpyxl.__version__},
        "parameters": vars(args),
    }

    chat = synthetic_chat(args.chat_messages)
    n_lines = chat.count("\n")
    ours_s, n_msgs = best_of(args.repeat, lambda: len(parse_chat_text(chat, file_name="bench.txt").messages))
    peer_s, n_peer = best_of(args.repeat, lambda: len(naive_chat_parse(chat)))
    # Both found every message; ours also keeps the system line the naive splitter drops.
    assert n_msgs == n_peer + 1 == args.chat_messages + 1, (n_msgs, n_peer)
    results["whatsapp"] = {
        "lines": n_lines, "messages": n_msgs,
        "ours": {"name": "amanat parse_chat_text", "seconds": ours_s, "lines_per_s": n_lines / ours_s},
        "peer": {"name": "naive single-regex line split", "seconds": peer_s, "lines_per_s": n_lines / peer_s},
        "ratio_ours_over_peer": (n_lines / ours_s) / (n_lines / peer_s),
    }
    # Form extraction has no peer to compare with; its figure is for tracking our own changes.
    export = parse_chat_text(chat, file_name="bench.txt")
    ex_s, n_forms = best_of(1, lambda: len(extract_submissions(export, intermediary="bench").submissions))
    results["whatsapp"]["extraction"] = {  # type: ignore[index]
        "forms": n_forms, "seconds": ex_s, "messages_per_s": n_msgs / ex_s}

    header, rows = synthetic_rows(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "bench.csv"
        import csv as csv_module
        with csv_path.open("w", encoding="utf-8", newline="") as fh:
            w = csv_module.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        xlsx_path = Path(tmp) / "bench.xlsx"
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet()
        ws.append(header)
        for r in rows:
            ws.append(r)
        wb.save(xlsx_path)
        del rows

        def ours_csv() -> int:
            return sum(1 for _ in read_table(csv_path, file_name="bench.csv"))

        def pandas_csv() -> int:
            return len(pd.read_csv(csv_path, dtype=str, keep_default_na=False))

        def ours_xlsx() -> int:
            return sum(1 for _ in read_table(xlsx_path, file_name="bench.xlsx"))

        def pandas_xlsx() -> int:
            return len(pd.read_excel(xlsx_path, dtype=str, engine="openpyxl"))

        for kind, ours, peer, peer_name, repeat in (
            ("csv", ours_csv, pandas_csv, "pandas.read_csv(dtype=str)", args.repeat),
            ("xlsx", ours_xlsx, pandas_xlsx, "pandas.read_excel(engine=openpyxl)", args.xlsx_repeat),
        ):
            o_s, o_n = best_of(repeat, ours)
            p_s, p_n = best_of(repeat, peer)
            assert o_n == p_n == args.rows, (o_n, p_n)
            entry: dict[str, object] = {
                "rows": args.rows, "file_bytes": (csv_path if kind == "csv" else xlsx_path).stat().st_size,
                "ours": {"name": "amanat read_table", "seconds": o_s, "rows_per_s": o_n / o_s},
                "peer": {"name": peer_name, "seconds": p_s, "rows_per_s": p_n / p_s},
                "ratio_ours_over_peer": (o_n / o_s) / (p_n / p_s),
            }
            if kind == "csv":
                # Streaming is the point of read_table: peak Python memory while reading the whole file.
                entry["peak_memory_bytes"] = {"ours": peak_memory(ours_csv), "peer": peak_memory(pandas_csv)}
            results[f"table_{kind}"] = entry

    write_json(args.out / "intake_parsers.json", results)
    plot(results, args.out / "intake_parsers.png")
    print(json.dumps({k: v.get("ratio_ours_over_peer") for k, v in results.items()  # type: ignore[union-attr]
                      if isinstance(v, dict) and "ratio_ours_over_peer" in v}, indent=2))


def plot(results: dict[str, object], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("whatsapp", "WhatsApp chat", "lines_per_s", "lines / s"),
              ("table_csv", "CSV table", "rows_per_s", "rows / s"),
              ("table_xlsx", "XLSX table", "rows_per_s", "rows / s")]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    for ax, (key, title, metric, unit) in zip(axes, panels, strict=True):
        entry = results[key]
        assert isinstance(entry, dict)
        names = [entry["ours"]["name"], entry["peer"]["name"]]
        values = [entry["ours"][metric], entry["peer"][metric]]
        bars = ax.bar(range(2), values, color=["#2b6cb0", "#a0aec0"])
        ax.set_xticks(range(2), [n.replace(" ", "\n", 1) for n in names], fontsize=8)
        ax.set_ylabel(unit)
        ax.set_title(f"{title}: ours/peer = {entry['ratio_ours_over_peer']:.2f}", fontsize=10)
        for bar, v in zip(bars, values, strict=True):
            ax.annotate(f"{v:,.0f}", (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom", fontsize=8)
    fig.suptitle("Intake parser throughput (synthetic data; higher is better)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
