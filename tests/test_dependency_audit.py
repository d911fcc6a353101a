"""The dependency audit CI runs (scripts/dependency_audit.py, `make security`): the installed dependencies of
Amanat match no version in security/known_vulnerable.txt, and the check does catch one that does."""

from __future__ import annotations

import importlib.util
import sys
from importlib import metadata
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "dependency_audit.py"
spec = importlib.util.spec_from_file_location("dependency_audit", SCRIPT)
assert spec is not None and spec.loader is not None
audit = importlib.util.module_from_spec(spec)
sys.modules["dependency_audit"] = audit  # its dataclasses look their module up by name
spec.loader.exec_module(audit)


def test_no_installed_dependency_is_at_a_known_vulnerable_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert audit.main([]) == 0, capsys.readouterr().out
    assert "none at a known-vulnerable version" in capsys.readouterr().out


def test_the_closure_is_what_amanat_and_its_extras_require() -> None:
    closure = audit.dependency_closure()
    for name in ("amanat", "fastapi", "starlette", "cryptography", "jinja2", "markupsafe", "pytest", "pyspark"):
        assert name in closure, name
    assert "pip" not in closure  # the environment's tooling, reported apart


def test_an_installed_version_on_the_list_fails_the_audit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jinja = metadata.version("jinja2")
    listed = tmp_path / "known_vulnerable.txt"
    listed.write_text(f"# a test advisory\njinja2  =={jinja}  GHSA-test-0000-0000  the installed version\n"
                      "starlette  <0.1  GHSA-test-1111-1111  not the installed version\n", encoding="utf-8")
    assert audit.main(["--list", str(listed)]) == 1
    out = capsys.readouterr().out
    assert f"VULNERABLE jinja2 {jinja}: GHSA-test-0000-0000" in out and "starlette" not in out


@pytest.mark.parametrize(("line", "why"), [("jinja2 <3", "expected 'package specifier advisory-id"),
                                           ("jinja2 3.1.x GHSA-x", "is not a version specifier"),
                                           ("jinja2 <3 advisory-1", "is not an advisory id")])
def test_a_malformed_list_is_an_error_naming_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      line: str, why: str) -> None:
    listed = tmp_path / "known_vulnerable.txt"
    listed.write_text(f"# header\n\n{line}\n", encoding="utf-8")
    assert audit.main(["--list", str(listed)]) == 2
    err = capsys.readouterr().err
    assert "line 3:" in err and why in err
