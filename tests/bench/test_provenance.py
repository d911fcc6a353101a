"""Benchmarks write to a scratch folder unless told otherwise, and every result file says how it was made."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
sys.path.insert(0, str(BENCH))

import provenance  # noqa: E402

WRITERS = sorted(p for p in BENCH.glob("*.py") if "write_json(" in p.read_text(encoding="utf-8")
                 and p.name != "provenance.py")


def test_every_result_writer_goes_through_provenance() -> None:
    assert {p.name for p in WRITERS} >= {"intake.py", "intake_channels.py", "intake_openrosa.py",
                                          "intake_parsers.py", "linkage_febrl.py", "linkage_fields.py",
                                          "linkage_households.py", "linkage_scale.py", "linkage_synth.py",
                                          "normalize.py"}
    for path in BENCH.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        # No script names the committed folder as a default any more (only provenance.COMMITTED does).
        assert not re.search(r'"bench"\s*/\s*"results"|parent\s*/\s*"results"', text) or path.name == "provenance.py", \
            path.name
        for node in ast.walk(ast.parse(text)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "add_argument" and node.args
                    and isinstance(node.args[0], ast.Constant) and node.args[0].value == "--out"):
                default = next((k.value for k in node.keywords if k.arg == "default"), None)
                assert default is not None and "results" not in ast.unparse(default), path.name


def test_result_files_record_commit_machine_and_date(tmp_path: Path) -> None:
    path = provenance.write_json(provenance.result_path(tmp_path / "out", "x.json"), {"rate": 1.5})
    assert path == tmp_path / "out" / "x.json"
    body = json.loads(path.read_text(encoding="utf-8"))
    assert body["rate"] == 1.5
    recorded = body["recorded"]
    assert re.fullmatch(r"[0-9a-f]{40}", recorded["commit"])
    machine = recorded["machine"]
    assert machine["cores"] >= 1 and machine["cpu_model"] and machine["memory_gib"] > 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", recorded["date"])
    assert provenance.result_path(tmp_path / "named.json", "x.json") == tmp_path / "named.json"


def test_a_bench_run_to_look_leaves_the_repository_alone(tmp_path: Path) -> None:
    committed = BENCH / "results" / "normalize.json"
    before = committed.read_bytes()
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    run = subprocess.run([sys.executable, str(BENCH / "normalize.py"), "--records", "200", "--rounds", "1"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert committed.read_bytes() == before
    written = json.loads((tmp_path / "amanat-bench" / "normalize.json").read_text(encoding="utf-8"))
    assert set(written["recorded"]) >= {"commit", "machine", "date"}
