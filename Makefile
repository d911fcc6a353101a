# Development and CI entry points. `make test` is what CI runs (through .ci/run).
SHELL := /bin/bash
.DEFAULT_GOAL := test

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# python3.11, or python3 when it is 3.11 or 3.12 (pyproject: requires-python >=3.11,<3.13).
PYTHON ?= $(shell \
  if command -v python3.11 >/dev/null 2>&1; then echo python3.11; \
  elif command -v python3 >/dev/null 2>&1 && python3 -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 11), (3, 12)))'; \
  then echo python3; fi)

.PHONY: venv demo test lint security migrations-check package-check first-hour

venv: $(STAMP)

# Re-installs only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "error: Python 3.11 or 3.12 is needed (python3.11, or python3 at 3.11/3.12)" >&2; exit 1; fi
	@if [ ! -x $(BIN)/python ]; then echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

demo: venv
	$(BIN)/amanat demo

# Style, the one-way import layers (.importlinter), and translation catalogs in step with the templates.
lint: venv
	$(BIN)/ruff check amanat tests $(wildcard bench)
	$(BIN)/lint-imports
	bash scripts/i18n.sh --check

# Security: bandit over amanat/ (settings in pyproject.toml's [tool.bandit]; a finding is fixed or carries a
# `# nosec BXXX` that says why), and the dependency audit: no installed dependency at a version listed in
# security/known_vulnerable.txt (scripts/dependency_audit.py; docs/operations.md says how to refresh the list).
# Bandit's "nosec encountered, but no failed test" lines (other nodes on a justified line) are left out.
security: venv
	$(BIN)/bandit -c pyproject.toml -r amanat -q 2> >(grep -v 'nosec encountered' >&2)
	$(BIN)/python scripts/dependency_audit.py

# Migrations apply from scratch and match the models, on a throwaway SQLite database.
migrations-check: venv
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	export AMANAT_DATABASE_URL="sqlite:///$$tmp/alembic-check.db"; \
	$(BIN)/alembic upgrade head && $(BIN)/alembic check

# The package as a user installs it: into a fresh venv, without the test extras, then `amanat dedupe` on a
# small CSV. Fails when the code imports something pyproject.toml does not declare. pip takes what it can
# from its cache; the copy keeps build/ out of the checkout.
package-check: venv
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; set -e; \
	mkdir "$$tmp/src" "$$tmp/run"; cp -r pyproject.toml README.md amanat "$$tmp/src/"; \
	$(PYTHON) -m venv --without-pip "$$tmp/venv"; \
	$(BIN)/python -m pip --python "$$tmp/venv/bin/python" install --quiet --disable-pip-version-check "$$tmp/src"; \
	printf 'No.,Name,Father,DOB,record_id\n1,Ahmad Khan,Mahmud,1365,R-1\n2,Ahmad Khan,Mahmood,1365,R-2\n3,Ali,Karim,1370,R-3\n' \
	  > "$$tmp/run/list.csv"; \
	cd "$$tmp/run" && "$$tmp/venv/bin/amanat" dedupe list.csv --out clusters.csv 2> log || { cat log >&2; exit 1; }; \
	if grep -q 'skipped:' log || ! grep -q 'record_id' clusters.csv || ! grep -q 'list.csv row 3' clusters.csv; then \
	  cat log >&2; echo "error: amanat dedupe, freshly installed, did not read, normalise and link list.csv" >&2; \
	  exit 1; fi; \
	echo "package-check: amanat installs without test extras, and amanat dedupe works"

# What the README tells a newcomer, in a fresh venv on a fresh data dir: amanat demo --no-serve twice, one table
# import, amanat worker --once, the server answering /healthz; fails on any traceback (scripts/first-hour.sh).
first-hour: venv
	@if [ -z "$(PYTHON)" ]; then echo "error: Python 3.11 or 3.12 is needed" >&2; exit 1; fi
	bash scripts/first-hour.sh $(PYTHON) $(BIN)/python

# pytest exits 5 when it collected nothing; that is a failure here, never a pass.
test: venv lint security migrations-check package-check first-hour
	@rc=0; $(BIN)/pytest -q || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: pytest collected no tests" >&2; fi; \
	exit $$rc
