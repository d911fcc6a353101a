"""A ledger of another format is refused even under `python -O`, which drops asserts (bandit B101)."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import json
from amanat.cases.erasure import reapply_erasures
from amanat.errors import InvalidInput
try:
    reapply_erasures(None, None, None, json.dumps({"format": "something-else", "entries": [], "tombstones": []}))
except InvalidInput as exc:
    print("refused:", exc.public_message)
"""


def test_a_ledger_of_another_format_is_refused_with_asserts_off() -> None:
    done = subprocess.run([sys.executable, "-O", "-c", PROGRAM], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "refused: ledger: not an Amanat erasure ledger."
