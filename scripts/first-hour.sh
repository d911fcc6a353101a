#!/usr/bin/env bash
# What the README tells a newcomer, in a fresh venv on a fresh data dir: `amanat demo --no-serve` twice, one
# table import, `amanat worker --once`, then the server answering /healthz. Fails on any failed step and on
# any Python traceback in any output. Run by `make first-hour` (part of `make test`).
#
# Usage: scripts/first-hour.sh PYTHON DEV_VENV_PYTHON
#   PYTHON           the interpreter a newcomer has (python3.11)
#   DEV_VENV_PYTHON  the project's .venv python: its pip installs Amanat (from a copy of the source, as a user
#                    installs it, not editable) and its site-packages lend the dependencies, so this stays fast
#                    (`make package-check` is what proves the declared dependencies install on their own).
set -euo pipefail
PYTHON=${1:?python}
DEV=${2:?dev venv python}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then kill "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

step() { printf 'first-hour: %s\n' "$*" >&2; }
fail() { step "FAILED: $*"; [ -f "$tmp/log" ] && cat "$tmp/log" >&2; exit 1; }
# Run a command with its output in $tmp/log; fail on a non-zero exit or a traceback.
run() {
  "$@" >"$tmp/log" 2>&1 || fail "$* (exit $?)"
  if grep -q "Traceback (most recent call last)" "$tmp/log"; then fail "$* printed a traceback"; fi
}

step "fresh venv with Amanat installed from a copy of the source"
mkdir "$tmp/src"
cp -r "$ROOT/pyproject.toml" "$ROOT/README.md" "$ROOT/amanat" "$tmp/src/"
"$PYTHON" -m venv --without-pip "$tmp/venv"
"$DEV" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' \
  > "$("$tmp/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/dev-dependencies.pth"
run "$DEV" -m pip --python "$tmp/venv/bin/python" install --quiet --disable-pip-version-check --no-deps "$tmp/src"
AMANAT="$tmp/venv/bin/amanat"

cd "$tmp"
unset AMANAT_DATABASE_URL AMANAT_PASSPHRASE AMANAT_ENVIRONMENT AMANAT_BASE_URL
export AMANAT_DATA_DIR="$tmp/data"
step "amanat demo --no-serve, twice on the same data dir"
run "$AMANAT" demo --no-serve --applicants 12
grep -q "Sign in at" "$tmp/log" || fail "the demo did not print where to sign in"
run "$AMANAT" demo --no-serve --applicants 12
grep -q "Using the existing demo organisation" "$tmp/log" || fail "the second demo did not reuse the first"

step "amanat intake table list.csv"
printf 'No.,Full name,Father name,Tazkira number\n1,Ahmad Khan,Mahmud,1399-0101-00001\n2,احمد خان,محمود,1399-0101-00002\n' \
  > "$tmp/list.csv"
run "$AMANAT" intake table "$tmp/list.csv" --preview
run "$AMANAT" intake table "$tmp/list.csv" --consent-basis paper_intermediary
grep -q "2 queued" "$tmp/log" || fail "the import did not say what it queued"

step "amanat worker --once"
export AMANAT_PASSPHRASE="amanat demo passphrase"
run "$AMANAT" worker --once
grep -q "Stored 2, failed 0" "$tmp/log" || fail "the worker did not store the two imported rows"

step "amanat serve answers /healthz"
port=$("$tmp/venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$AMANAT" serve --port "$port" >"$tmp/serve.log" 2>&1 &
server=$!
"$tmp/venv/bin/python" - "$port" <<'EOF' || { cp "$tmp/serve.log" "$tmp/log"; fail "the server did not answer /healthz"; }
import sys, time, urllib.request
deadline = time.monotonic() + 60
while True:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2) as r:
            status, body = r.status, r.read().decode().strip()
        assert status == 200 and body.lower().startswith("ok"), (status, body[:200])
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.3)
EOF
kill -INT "$server"
wait "$server" || true
server=""
cp "$tmp/serve.log" "$tmp/log"
if grep -q "Traceback (most recent call last)" "$tmp/log"; then fail "amanat serve printed a traceback"; fi
step "ok: demo twice, an import, the worker and the server, without a traceback"
