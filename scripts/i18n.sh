#!/usr/bin/env bash
# Keep the interface catalogs in step with the code.
#
#   scripts/i18n.sh          extract messages into amanat/i18n/messages.pot and update the en, fa_AF and
#                            ps_AF catalogs (new messages arrive untranslated, changed ones fuzzy)
#   scripts/i18n.sh --check  change nothing; exit 1 when a catalog lacks messages the code now has
#
# Messages come from two places: `_('…')` in templates and Python (babel.cfg), and codes that Python hands
# to templates, which translate them with `_(value)`: case statuses, intake channels, link reasons, roles,
# the web form's error texts and the fixed error messages shown on web pages. Extraction cannot see those,
# so they are added to the template here, read from the code that defines them.
# After updating, translate the empty and fuzzy entries; tests/web/test_i18n.py fails until every one is.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
LOCALES=(en fa_AF ps_AF)
POT=amanat/i18n/messages.pot
CHECK=0
case "${1:-}" in
  --check) CHECK=1 ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

# Extract into a scratch file first: when nothing but the date would change, nothing is written.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
out=$tmp/messages.pot

"$PYBABEL" -q extract -F babel.cfg --add-location=file --no-wrap --project=Amanat \
  --copyright-holder="Amanat contributors" -o "$out" .

"$PYTHON" - "$out" <<'PY'
"""Add the codes that templates translate with `_(value)` to the message template."""
import sys
from itertools import combinations

from babel.messages.pofile import read_po, write_po

from amanat.cases.service import STATUSES
from amanat.core.permissions import Role
from amanat.intake.parsed import CHANNELS
from amanat.linkage.comparisons import amanat_comparisons
from amanat.linkage.decision import NOTES, RELATIONS
from amanat.records.service import EXACT_MATCH_KINDS
from amanat.web.routes.public import ERROR_TEXT

# A record's link_reason: the exact-ID kinds that matched, joined with "+" in EXACT_MATCH_KINDS order.
link_reasons = ["+".join(f"{k}_exact" for k in combo)
                for n in range(1, len(EXACT_MATCH_KINDS) + 1) for combo in combinations(EXACT_MATCH_KINDS, n)]
link_reasons.append("conflicting_exact_matches")

# Fixed messages that reach error.html, login.html or admin/users.html through `_(message)` / `_(error)`.
# Messages built with values (f-strings) cannot be catalogued and stay in English.
ERROR_MESSAGES = {
    "amanat/web/app.py": ["Not found.", "The request could not be handled.",
                          "Something went wrong. It has been logged."],
    "amanat/web/deps.py": ["Please sign in.", "Your role does not allow this.",
                           "This form has expired or was sent from another site. Reload the page and try again.",
                           "This form was sent from another site. Reload the page and try again."],
    "amanat/web/routes/cases.py": ["No such record in this case."],
    "amanat/accounts/service.py": ["Wrong username, password or code.",
                                   "Too many failed sign-in attempts. Try again later.",
                                   "username: use 2–63 lowercase letters, digits, '.', '_' or '-'.",
                                   "username: already taken.", "No user with that username."],
    "amanat/cases/service.py": ["No such case.", "note: empty.", "note: at most 5000 characters.",
                                "assignee: no such user."],
    "amanat/records/service.py": ["No such record.", "No such document.",
                                  "This field is restricted to protection staff.",
                                  "field: this record has no such field."],
    "amanat/core/crypto.py": ["The organisation's keys are locked on this node."],
    "amanat/core/passwords.py": [
        "password: at least 12 characters.", "password: at most 200 characters.",
        "password: spaces alone are not a password.", "password: must not contain the username.",
        "password: too easy to guess (a common password, a word with digits, a pattern or a repetition). "
        "Use several unrelated words."],
    "amanat/accounts/throttle.py": [
        "Too many failed sign-in attempts. Try again later. An authenticator code lets you sign in now."],
    "amanat/accounts/totp.py": [
        "Start the set-up again: there is no authenticator waiting to be confirmed.",
        "code: that code is not right. Check the phone's clock and enter the current code.",
        "code: that code is not right.",
        "Two-factor sign-in is already on. An administrator can reset it after a lost phone."],
    "amanat/accounts/user_admin.py": [
        "current password: not right.", "password: choose a new password, not the current one.",
        "A request for this account is already waiting for a second admin.", "You cannot change your own role.",
        "role: the account already has this role.", "Change your own password on your account page.",
        "No such request waiting.", "No such user.", "That account is not disabled.", "No such session.",
        "A second admin must approve this: not the one who asked, nor the account itself.",
        "An account cannot decide a request about itself."],
    "amanat/web/routes/admin.py": [
        "Requested: a second admin must approve this.", "Account enabled.", "Role changed.", "Password reset.",
        "The account's sessions were ended.", "Approved.", "Refused.", "You cannot disable your own account."],
    "amanat/web/routes/account.py": ["The two new passwords differ."],
    "amanat/web/routes/health.py": ["Wrong monitor token.", "Please sign in, or send the monitor token."],
    "amanat/accounts/teams.py": ["provinces: use province codes, AF01 to AF34.", "No such team.",
                                 "name: 2 to 80 characters, without < or >.", "A team with that name exists.",
                                 "This user is already in this team.", "This user is not in this team."],
    "amanat/web/routes/teams.py": ["Team created.", "Team updated.", "Team deleted."],
}

# The evidence a scored pair shows on review pages (each comparison level's reason), and what the
# family-aware decision adds (linkage/decision.py).
evidence = sorted({lv.reason for spec in amanat_comparisons() for lv in spec.levels if lv.reason})

GROUPS = [
    ("amanat/linkage/comparisons.py", "evidence for or against two records being one person", evidence),
    ("amanat/linkage/decision.py", "what a pair's family evidence says (RELATIONS, NOTES)", [*RELATIONS, *NOTES]),
    ("amanat/cases/service.py", "case status code (STATUSES); en gives its label", STATUSES),
    ("amanat/intake/parsed.py", "intake channel code (CHANNELS); en gives its label", CHANNELS),
    ("amanat/records/service.py", "why a record joined its person (link_reason); en gives its label",
     link_reasons),
    ("amanat/core/permissions.py", "role code (Role); en gives its label", [r.value for r in Role]),
    ("amanat/web/routes/public.py", "web form error (ERROR_TEXT)", list(ERROR_TEXT.values())),
    *((path, "error message shown on a web page", msgs) for path, msgs in ERROR_MESSAGES.items()),
]

path = sys.argv[1]
with open(path, "rb") as fh:
    catalog = read_po(fh)
for source, comment, ids in GROUPS:
    for msgid in ids:
        catalog.add(msgid, locations=[(source, None)], auto_comments=[comment])
with open(path, "wb") as fh:
    write_po(fh, catalog, width=None, include_lineno=False)
PY

undated() { grep -v '^"POT-Creation-Date: ' "$1"; }
if [ "$CHECK" = 0 ]; then
  if [ -f "$POT" ] && cmp -s <(undated "$out") <(undated "$POT") \
     && "$0" --check >/dev/null 2>&1; then
    echo "catalogs are up to date"
    exit 0
  fi
  cp "$out" "$POT"
elif ! cmp -s <(undated "$out") <(undated "$POT"); then
  echo "$POT is out of date: run $0, then translate" >&2
  exit 1
fi

for locale in "${LOCALES[@]}"; do
  if [ "$CHECK" = 1 ]; then
    if ! log=$("$PYBABEL" -q update --check --ignore-pot-creation-date --no-wrap --ignore-obsolete \
               -i "$out" -d amanat/i18n -l "$locale" 2>&1); then
      case "$log" in
        *"out of date"*) echo "$locale: catalog is out of date: run $0, then translate" >&2 ;;
        *) echo "$log" >&2 ;;
      esac
      exit 1
    fi
  else
    "$PYBABEL" -q update --init-missing --no-wrap --ignore-obsolete -i "$out" -d amanat/i18n -l "$locale"
  fi
done
