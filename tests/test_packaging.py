"""What `pip install amanat` gives a user: every module the code imports is a declared dependency and
every data file it reads is in the wheel. (`make package-check` installs it for real; these are the
quick checks.)"""

from __future__ import annotations

import ast
import fnmatch
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Imported only where the extra is installed (linkage/spark.py), or part of another dependency's API
# (FastAPI is built on Starlette and pins it).
NOT_DECLARED = {"pyspark", "starlette"}


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_imported_package_is_a_declared_dependency() -> None:
    declared = {_canonical(re.split(r"[\s<>=!~\[;]", d, maxsplit=1)[0]) for d in _project()["project"]["dependencies"]}
    dists = packages_distributions()
    missing: dict[str, str] = {}
    for path in (ROOT / "amanat").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "amanat" or top in NOT_DECLARED:
                    continue
                if not {_canonical(d) for d in dists.get(top, [top])} & declared:
                    missing[top] = str(path.relative_to(ROOT))
    assert missing == {}, f"imported but not in pyproject.toml's dependencies: {missing}"


def test_every_data_file_is_package_data() -> None:
    patterns = _project()["tool"]["setuptools"]["package-data"]["amanat"]
    left_out = [str(p.relative_to(ROOT)) for p in (ROOT / "amanat").rglob("*")
                if p.is_file() and p.suffix not in {".py", ".pyc", ".pot"} and "__pycache__" not in p.parts
                and not any(fnmatch.fnmatch(p.name, pattern.rsplit("/", 1)[-1]) for pattern in patterns)]
    assert left_out == [], f"not installed with the package: {left_out}"
