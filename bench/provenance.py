"""Where a benchmark writes, and what every result file records about how it was made.

A benchmark run to look writes to a scratch folder (``/tmp/amanat-bench``), so the repository does not change;
``--out bench/results`` updates the committed figures on purpose. Every result file records the commit, the
machine (cores, CPU model, memory) and the date it was measured on, under ``"recorded"``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = Path(tempfile.gettempdir()) / "amanat-bench"
COMMITTED = ROOT / "bench" / "results"


def add_out(parser: argparse.ArgumentParser, name: str) -> None:
    """``--out``: a folder (or, for one result, a .json path) for ``name`` and its plot; scratch by default."""
    parser.add_argument("--out", type=Path, default=SCRATCH,
                        help=f"folder for {name}.json and its plot (default {SCRATCH}, so the repository does not "
                             "change; --out bench/results updates the committed figures)")


def result_path(out: Path, file_name: str) -> Path:
    """The result file for ``--out``: itself when it names a .json file, else ``file_name`` inside it (created)."""
    path = out if out.suffix == ".json" else out / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def machine() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    memory_gib: float | None = None
    try:
        model = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                      if ln.startswith("model name")), model)
        kib = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
                   if ln.startswith("MemTotal:"))
        memory_gib = round(kib / 1024**2, 1)
    except (OSError, StopIteration, ValueError):
        pass  # not Linux: the model from platform, memory unknown
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu_model": model, "cores": os.cpu_count(), "cores_usable": usable, "memory_gib": memory_gib,
            "python": platform.python_version(), "platform": platform.platform()}


def commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    return {"commit": git("rev-parse", "HEAD") or None,
            "amanat_changed_since": bool(git("status", "--porcelain", "--", "amanat"))}


def recorded() -> dict[str, Any]:
    """How a result was made: commit, machine and date (UTC)."""
    return {**commit(), "machine": machine(),
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def write_json(path: Path, result: Any, **dumps: Any) -> Path:
    """Write one result file with its ``"recorded"`` block (a list of runs is kept under ``"runs"``)."""
    body = dict(result) if isinstance(result, dict) else {"runs": result}
    body["recorded"] = recorded()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, **{"indent": 2, **dumps}) + "\n", encoding="utf-8")
    return path


__all__ = ["COMMITTED", "SCRATCH", "add_out", "commit", "machine", "recorded", "result_path", "write_json"]
