"""Dependency audit: no installed dependency of Amanat may match a known-vulnerable version.

Reads security/known_vulnerable.txt (package, PEP 440 specifier, advisory id, what it is) and walks the
installed distributions from ``amanat`` with its extras (runtime, test, spark) through every requirement
whose marker holds here. Prints each match and exits 1; a malformed list is an error too (exit 2), so a
typo never silently passes. Other installed distributions that match (the virtual environment's own pip or
setuptools) are reported as notes: they are the machine's tooling, not what Amanat depends on.

    python scripts/dependency_audit.py [--list security/known_vulnerable.txt]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

LIST = Path(__file__).resolve().parent.parent / "security" / "known_vulnerable.txt"
ROOT, EXTRAS = "amanat", ("test", "spark")


@dataclass(frozen=True)
class Advisory:
    package: str  # canonical name
    affected: SpecifierSet
    advisory: str
    summary: str
    line: int


class ListError(ValueError):
    """The list of known-vulnerable versions cannot be read: names the line and why."""


def read_advisories(text: str) -> list[Advisory]:
    out: list[Advisory] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(None, 3)
        if len(fields) < 3:
            raise ListError(f"line {number}: expected 'package specifier advisory-id [summary]'")
        package, spec, advisory = fields[:3]
        try:
            affected = SpecifierSet(spec)
        except InvalidSpecifier:
            raise ListError(f"line {number}: {spec!r} is not a version specifier") from None
        if not str(affected):
            raise ListError(f"line {number}: the specifier is empty")
        if not advisory.startswith(("GHSA-", "PYSEC-", "CVE-", "OSV-")):
            raise ListError(f"line {number}: {advisory!r} is not an advisory id (GHSA-, PYSEC-, CVE- or OSV-)")
        out.append(Advisory(canonicalize_name(package), affected, advisory, fields[3] if len(fields) > 3 else "",
                            number))
    return out


def dependency_closure(root: str = ROOT, extras: tuple[str, ...] = EXTRAS) -> dict[str, str]:
    """Installed name → version for ``root`` and everything it requires here, with ``extras``."""
    found: dict[str, str] = {}
    wanted: dict[str, set[str]] = {}
    todo: list[tuple[str, frozenset[str]]] = [(root, frozenset(extras))]
    while todo:
        name, with_extras = todo.pop()
        key = canonicalize_name(name)
        if key in found and with_extras <= wanted[key]:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional requirement not installed: nothing here to be vulnerable
        found[key] = dist.version
        wanted[key] = wanted.get(key, set()) | set(with_extras)
        for raw in dist.requires or []:
            try:
                req = Requirement(raw)
            except InvalidRequirement:
                continue
            if req.marker is not None and not any(req.marker.evaluate({"extra": e})
                                                  for e in (sorted(with_extras) or [""])):
                continue
            todo.append((req.name, frozenset(req.extras)))
    return found


def installed() -> dict[str, str]:
    return {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions() if d.metadata["Name"]}


def matches(versions: dict[str, str], advisories: list[Advisory]) -> list[tuple[str, str, Advisory]]:
    hits = []
    for adv in advisories:
        version = versions.get(adv.package)
        if version is None:
            continue
        try:
            parsed = Version(version)
        except InvalidVersion:
            continue
        if adv.affected.contains(parsed, prereleases=True):
            hits.append((adv.package, version, adv))
    return hits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", type=Path, default=LIST)
    args = parser.parse_args(argv)
    try:
        advisories = read_advisories(args.list.read_text(encoding="utf-8"))
    except (OSError, ListError) as exc:
        print(f"dependency audit: {args.list}: {exc}", file=sys.stderr)
        return 2
    closure = dependency_closure()
    if ROOT not in closure:
        print(f"dependency audit: {ROOT} is not installed here; nothing to audit", file=sys.stderr)
        return 2
    hits = matches(closure, advisories)
    for package, version, adv in hits:
        print(f"VULNERABLE {package} {version}: {adv.advisory} ({adv.affected}) {adv.summary}")
    others = {k: v for k, v in installed().items() if k not in closure}
    for package, version, adv in matches(others, advisories):
        print(f"note: {package} {version} (installed here, not a dependency of {ROOT}): {adv.advisory} {adv.summary}")
    if hits:
        print(f"dependency audit: {len(hits)} known-vulnerable versions among {len(closure)} packages: upgrade them "
              "(and the pins in pyproject.toml)", file=sys.stderr)
        return 1
    print(f"dependency audit: {len(closure)} packages, none at a known-vulnerable version "
          f"({len(advisories)} advisories in {args.list.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
