"""Field-subset matrix (issue #14): what each pipeline does with only some of the form's fields.

    .venv/bin/python bench/linkage_fields.py --quick               # about 2,000 records
    .venv/bin/python bench/linkage_fields.py --sizes 10000         # one size
    .venv/bin/python bench/linkage_fields.py --out bench/results   # 10k and 100k, the figures to keep

Population: bench/households.py's households (siblings, twins, fathers and sons, cousins,
intermediaries' phones, namesakes, re-registrations), with more namesakes (NAMESAKE_RATE), and
then the name-field noise real lists carry, each shape on a share of records (``noise_rate``,
default 8 %) of full_name or full_name_latin, seeded (``add_name_noise``):

- title_glued: a title written onto the name (داکترمحمد نبی, Eng.Ahmad);
- compound_split: a compound split or joined another way (عبد الرحمن / عبدالرحمن, نجیب الله /
  نجیبالله, محمدنبی, Abdulrahman / Abdur Rahman, Najib Ullah, Mohammad-Nabi);
- grown_name: the name grown by a family or pen name (احمد شاه احمدزی, Ahmad Shah Saqib);
- father_in_name: the father's name in the name field (s/o, son of, bin, ولد, فرزند, بن; d/o, دختر);
- pdf_damage: text copied out of a PDF (presentation forms ﻣﺤﻤﺪ, the ﷲ ligature, a lost lam-alef
  or عبدا for عبدالله, stray tanween or shadda), Arabic-script fields only;
- exact_copy: one person twice in a list, row copied as it is (``copy_rate``, default 3 %).

Subsets (SUBSETS): names only; names + gender; + province; + father; + phone; + birth year (the
year only, as typed, of date_of_birth); names + father + phone; all form fields. "Names" is the
person's own name (full_name, full_name_latin).

Pipelines, all on the same rows in one run:

- Amanat: ``amanat.linkage.dedupe.dedupe_rows`` (trains on the rows from 5,000 of them, else the
  bundled model). Linked = one cluster; possible = two rows of one possible group (its column
  possible_group: clusters joined by review pairs and, on names-only rows, by the same name), which
  holds every row whose status is "review" and the row its linked_to names; relatives (status
  "relatives", or the relatives column) are counted apart and never as links.
- plain Splink: bench/linkage_synth.py's plain_splink on the subset's columns as typed (trimmed,
  lower-cased): its standard comparisons and blocking rules for the columns present, plus
  blocking on each name column alone (else a names-only list has no candidates), trained on the
  data; linked = clustered at 0.99, possible = any pair scored 0.5 or more. A failure to train or
  predict is reported, not raised.
- exact names: rows linked when an own name (full_name or full_name_latin) is equal after
  ``amanat.normalize.script.fold`` (case, Arabic/Persian letter forms, digits, spaces), and every
  other column of the subset that both rows give is equal after folding (phone: its last nine
  digits); clustered (connected components). No "possible".
- nomenklatura (OpenSanctions, ``logic-v2``), names only and names + father, when a Python with
  nomenklatura installed is given (``--nomenklatura-python``; default /tmp/nk-venv/bin/python if it
  exists). It is not in the project's venv: installing it there would downgrade DuckDB (2.0.1 to
  1.5.6) under Splink. Each record is a followthemoney Person (name: the own names; fatherName:
  the father's); only Amanat's candidate pairs are compared (all pairs is n²/2); linked =
  clustered at yente's match threshold 0.7, possible = scored at yente's cutoff 0.5 or more.

Measured per subset and pipeline: pairwise precision, recall and F1 of linked pairs and of
"linked or possible", seconds, and per pair class (households.CLASSES) the pairs linked. For
Amanat also its blocking ceiling (share of true pairs among its candidate pairs) and, per noise
shape and script combination, the recall of the true pairs that carry it (which shapes it misses).

Goals (GOALS): Amanat never crashes; names only: recall of linked-or-possible ≥ 0.95 with linked
precision ≥ 0.99; every other subset: Amanat ahead of every peer (linked F1 above each peer's,
and linked-or-possible recall at least each peer's).

Writes linkage_fields.{json,png} to /tmp/amanat-bench/ unless --out names another folder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
import traceback
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from afghan_names import FAMILY  # noqa: E402
from households import FORM_FIELDS, generate_households, pairs_by_class  # noqa: E402
from linkage_households import commit, machine  # noqa: E402
from provenance import write_json  # noqa: E402

from amanat.normalize.script import ARABIC_RE, fold  # noqa: E402

SCRATCH = Path("/tmp/amanat-bench")
SHEET = "list.csv"
NAMES = ("full_name", "full_name_latin")
FATHER = ("father_name", "father_name_latin")
SUBSETS: dict[str, tuple[str, ...]] = {
    "names": NAMES,
    "names + gender": (*NAMES, "gender"),
    "names + province": (*NAMES, "province"),
    "names + father": (*NAMES, *FATHER),
    "names + phone": (*NAMES, "phone"),
    "names + birth year": (*NAMES, "date_of_birth"),  # the year only
    "names + father + phone": (*NAMES, *FATHER, "phone"),
    "all": FORM_FIELDS,
}
YEAR_ONLY = "names + birth year"
NK_SUBSETS = ("names", "names + father")
SHAPES = ("title_glued", "compound_split", "grown_name", "father_in_name", "pdf_damage", "exact_copy")
NAMESAKE_RATE = 0.05  # households' default is 0.02
HOUSEHOLD_RECORDS = 6.7  # records per household (bench/linkage_synth.py), before the exact copies
LINK_AT = 0.99  # plain Splink clusters at the bundled auto-link threshold
PLAIN_POSSIBLE = 0.5
NK_LINK, NK_POSSIBLE = 0.7, 0.5  # yente's match threshold and cutoff
NK_DEFAULT = Path("/tmp/nk-venv/bin/python")
GOAL_NAMES_RECALL, GOAL_NAMES_PRECISION = 0.95, 0.99
QUICK_SIZE = 2_000

console = Console(stderr=True, width=None if sys.stderr.isatty() else 170)
log = logging.getLogger("bench.fields")


# ---------------------------------------------------------------------------------------------
# The noise shapes

_TITLES_DARI = (("داکتر", 3), ("انجنیر", 3), ("حاجی", 3), ("الحاج", 2), ("مولوی", 2), ("استاد", 1), ("قاری", 1),
                ("ملا", 1))
_TITLES_LATIN = (("Dr.", 3), ("Eng.", 3), ("Haji", 1), ("Alhaj", 1), ("Dr", 1))
_PEN_NAMES = (("ساقب", "Saqib"), ("حیران", "Hairan"), ("ساحل", "Sahil"), ("مجروح", "Majrooh"), ("پیکار", "Paikar"),
              ("رهیاب", "Rahyab"), ("شینواری", "Shinwari"), ("صافی", "Safi"), ("هوتک", "Hotak"), ("وردک", "Wardak"))
_FAMILY_BY_LATIN = {spec.latin[0]: spec for spec in FAMILY}
_MARKERS_LATIN = {"M": (("s/o", 4), ("S/O", 2), ("son of", 2), ("bin", 1), ("S/o.", 1)),
                  "F": (("d/o", 4), ("D/O", 2), ("daughter of", 2), ("bint", 1))}
_MARKERS_DARI = {"M": (("ولد", 4), ("فرزند", 3), ("بن", 1)), "F": (("بنت", 1), ("دختر", 2))}
_LATE = re.compile(r"^\s*(?:مرحوم|late)\s+", re.IGNORECASE)
_TWO_HEADS_LATIN = ("mohammad", "muhammad", "mohammed", "mohamad", "gul", "gol", "ghulam", "gholam", "gulam", "noor",
                    "nur", "mir", "shah", "sayed", "syed", "sayyid", "khan", "jan", "dost")
_TWO_HEADS_DARI = ("محمد", "گل", "غلام", "نور", "میر", "شاه", "سید", "دوست", "خان", "جان", "ګل")
# Tanween and shadda, combining and in their spacing (presentation) forms.
_STRAY_MARKS = ("\u064b", "\u064c", "\u064d", "\u0651", "\ufe70", "\ufe72", "\ufe74", "\ufe7c", "\ufc5e", "\ufc60")
_RIGHT_JOINING = set("اآأإدذرزژوؤۀةڈډړږۍ")  # join only to the letter before them


def _pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    return rng.choices([w for w, _ in weighted], weights=[k for _, k in weighted])[0]


def _is_arabic(text: str) -> bool:
    return bool(ARABIC_RE.search(text))


def _forms(ch: str) -> dict[str, str]:
    """A letter's presentation forms (isolated, final, initial, medial) that Unicode names."""
    try:
        base = unicodedata.name(ch)
    except ValueError:
        return {}
    out = {}
    for form in ("isolated", "final", "initial", "medial"):
        with contextlib.suppress(KeyError):
            out[form] = unicodedata.lookup(f"{base} {form.upper()} FORM")
    return out


def presentation_forms(text: str) -> str:
    """``text`` as a PDF copy gives it: each Arabic letter in its contextual presentation form."""
    letters = [c for c in text]
    out = []
    for k, ch in enumerate(letters):
        forms = _forms(ch) if _is_arabic(ch) else {}
        if not forms:
            out.append(ch)
            continue
        prev = letters[k - 1] if k else ""
        nxt = letters[k + 1] if k + 1 < len(letters) else ""
        joins_prev = bool(prev) and _is_arabic(prev) and prev not in _RIGHT_JOINING and bool(_forms(prev))
        joins_next = (ch not in _RIGHT_JOINING and bool(nxt) and _is_arabic(nxt) and bool(_forms(nxt)))
        form = {(False, False): "isolated", (True, False): "final", (False, True): "initial",
                (True, True): "medial"}[(joins_prev, joins_next)]
        out.append(forms.get(form) or forms.get("isolated") or ch)
    return "".join(out)


def _title_glued(rng: random.Random, text: str, r: Mapping[str, str]) -> str | None:
    if _is_arabic(text):
        for title, _ in _TITLES_DARI:  # a title already there is glued on
            if text.startswith(title + " "):
                return title + text[len(title) + 1:]
        return _pick(rng, _TITLES_DARI) + text
    for title, _ in _TITLES_LATIN:
        t = title.rstrip(".")
        if text.lower().startswith(t.lower() + " ") or text.lower().startswith(t.lower() + ". "):
            return text[:len(t)] + "." + text[len(t):].lstrip(". ")
    title = _pick(rng, _TITLES_LATIN)
    return (title.upper() if text.isupper() else title) + text


def _compound_split(rng: random.Random, text: str, r: Mapping[str, str]) -> str | None:
    options: list[str] = []
    if _is_arabic(text):
        if re.search(r"عبد[ \u200c]\S", text):
            options.append(re.sub(r"عبد[ \u200c](\S)", r"عبد\1", text, count=1))
        elif re.search(r"عبدال\S", text):
            options.append(re.sub(r"عبدال(\S)", r"عبد ال\1", text, count=1))
            options.append(re.sub(r"عبدال(\S)", r"عبدال \1", text, count=1))
        if re.search(r"\S[ \u200c]الله", text):
            options.append(re.sub(r"(\S)[ \u200c]الله", r"\1الله", text, count=1))
        elif re.search(r"[^\sد]الله", text):
            options.append(re.sub(r"([^\sد])الله", r"\1 الله", text, count=1))
        words = text.split()
        for k in range(len(words) - 1):
            if words[k] in _TWO_HEADS_DARI:
                options.append(" ".join([*words[:k], words[k] + words[k + 1], *words[k + 2:]]))
                break
    else:
        upper = text.isupper()
        low = text.lower()
        m = re.search(r"\babd(?:ul|ur|ur-|ul-|-ul-|-ur-)?[ -]?([a-z]+)", low)
        if m and m.group(1) not in ("lah", "llah", "ullah", "ulla"):
            tail = m.group(1)
            for head in ("abdul ", "abdul", "abdur ", "abd-ul-", "abd ul ", "abdul-"):
                cand = low[:m.start()] + head + tail + low[m.end():]
                if cand != low:
                    options.append(cand)
        m = re.search(r"([a-z])(ullah|ulla|ollah|ulah)\b", low)
        if m:
            options.append(low[:m.start() + 1] + " " + m.group(2) + low[m.end():])
            options.append(low[:m.start() + 1] + "-" + m.group(2) + low[m.end():])
        m = re.search(r"([a-z]) (ullah|ulla)\b", low)
        if m:
            options.append(low[:m.start() + 1] + m.group(2) + low[m.end():])
        words = low.split()
        if len(words) >= 2 and words[0] in _TWO_HEADS_LATIN:
            options.append(" ".join([words[0] + words[1], *words[2:]]))
            options.append(" ".join([words[0] + "-" + words[1], *words[2:]]))
        options = [o.upper() if upper else o.title() for o in options]
    options = [o for o in options if o.strip() and o != text]
    return rng.choice(options) if options else None


def _grown_name(rng: random.Random, text: str, r: Mapping[str, str]) -> str | None:
    family = _FAMILY_BY_LATIN.get(r.get("true_family", ""))
    if family is not None and rng.random() < 0.6:
        dari, latin = family.dari, rng.choice(family.latin)
    else:
        dari, latin = rng.choice(_PEN_NAMES)
    if _is_arabic(text):
        return f"{text} {dari}"
    latin = latin.upper() if text.isupper() else latin
    return f"{text} '{latin}'" if rng.random() < 0.2 else f"{text} {latin}"


def _father_in_name(rng: random.Random, text: str, r: Mapping[str, str]) -> str | None:
    sex = "F" if r.get("sex") == "F" else "M"
    fathers = [_LATE.sub("", r.get(k) or "").strip() for k in FATHER]
    if _is_arabic(text):
        father = next((f for f in fathers if f and _is_arabic(f)), None)
        return f"{text} {_pick(rng, _MARKERS_DARI[sex])} {father}" if father else None
    father = next((f for f in fathers if f and not _is_arabic(f)), None) or r.get("true_father") or None
    if not father:
        return None
    father = father.upper() if text.isupper() else father
    return f"{text} {_pick(rng, _MARKERS_LATIN[sex])} {father}"


def _pdf_damage(rng: random.Random, text: str, r: Mapping[str, str]) -> str | None:
    if not _is_arabic(text):
        return None
    kinds = []  # what only some names allow goes first, when it can
    if "الله" in text:
        kinds.append("ligature")
    if "لا" in text or "عبدالله" in text:
        kinds.append("lam_alef")
    kind = rng.choice(kinds) if kinds and rng.random() < 0.6 else rng.choice(["marks", "forms"])
    if kind == "ligature":
        text = text.replace("الله", "ﷲ")
    elif kind == "lam_alef":
        text = text.replace("عبدالله", "عبدا") if "عبدالله" in text and rng.random() < 0.6 else text.replace("لا", "")
    elif kind == "marks":
        letters = [k for k, c in enumerate(text) if _is_arabic(c)]
        for at in sorted(rng.sample(letters, min(len(letters), rng.choice((1, 1, 2)))), reverse=True):
            text = text[:at + 1] + rng.choice(_STRAY_MARKS) + text[at + 1:]
    if kind == "forms" or rng.random() < 0.3:
        text = presentation_forms(text)
    return text


_NOISE: tuple[tuple[str, Callable[[random.Random, str, Mapping[str, str]], str | None]], ...] = (
    ("compound_split", _compound_split),
    ("grown_name", _grown_name),
    ("title_glued", _title_glued),
    ("father_in_name", _father_in_name),
    ("pdf_damage", _pdf_damage),  # last: the PDF damages whatever the field holds
)


def add_name_noise(records: list[dict[str, str]], *, seed: int, noise_rate: float = 0.08,
                   copy_rate: float = 0.03) -> list[dict[str, str]]:
    """Copies of ``records`` with each shape of _NOISE applied to ``noise_rate`` of them (those it
    can apply to: pdf_damage needs Arabic script, father_in_name a father's name in the field's
    script), on full_name or full_name_latin (full_name 3 times in 4 where both would do), and
    ``copy_rate`` of them listed twice as they are. Each record's ``noise`` says what it got
    ("+"-joined, pdf_damage with its kind). Shuffled; record_id renumbered."""
    rng = random.Random(seed * 7919 + 14)
    out = [dict(r, noise="") for r in records]
    n = len(out)
    for shape, apply in _NOISE:
        order = rng.sample(range(n), n)
        want, done = round(noise_rate * n), 0
        for i in order:
            if done >= want:
                break
            r = out[i]
            fields = [f for f in NAMES if r.get(f)]
            if len(fields) == 2 and rng.random() < 0.75:
                fields = fields[:1]
            rng.shuffle(fields)
            for f in fields:
                before = r[f]
                got = apply(rng, before, r)
                if got and got != before:
                    r[f] = got
                    label = shape
                    if shape == "pdf_damage":
                        label += ":" + ("ligature" if "ﷲ" in got else "lam_alef" if len(fold(got)) < len(fold(before))
                                        else "marks" if any(m in got for m in _STRAY_MARKS) else "forms")
                    r["noise"] = f"{r['noise']}+{label}" if r["noise"] else label
                    done += 1
                    break
    for i in rng.sample(range(n), round(copy_rate * n)):
        copy = dict(out[i])
        copy["noise"] = f"{copy['noise']}+exact_copy" if copy["noise"] else "exact_copy"
        out.append(copy)
    rng.shuffle(out)
    for k, r in enumerate(out):
        r["record_id"] = f"R{k:08d}"
    return out


def population(n_records: int, seed: int, *, noise_rate: float = 0.08,
               copy_rate: float = 0.03) -> list[dict[str, str]]:
    """About ``n_records`` noisy household records (within 3 %), truth columns kept."""
    target = n_records / (1 + copy_rate)
    n_households = max(2, round(target / HOUSEHOLD_RECORDS))
    recs = generate_households(n_households, seed=seed, namesake_rate=NAMESAKE_RATE)
    if abs(len(recs) - target) > 0.03 * target:
        n_households = max(2, round(n_households * target / max(1, len(recs))))
        recs = generate_households(n_households, seed=seed, namesake_rate=NAMESAKE_RATE)
    return add_name_noise(recs, seed=seed, noise_rate=noise_rate, copy_rate=copy_rate)


_YEAR = re.compile(r"\d{4}")


def subset_fields(r: Mapping[str, str], subset: str) -> dict[str, str]:
    """The fields of ``subset`` the record gives (date_of_birth as its year only in YEAR_ONLY)."""
    out = {c: r[c] for c in SUBSETS[subset] if r.get(c)}
    if subset == YEAR_ONLY and "date_of_birth" in out:
        m = _YEAR.search(out["date_of_birth"])
        if m:
            out["date_of_birth"] = m.group(0)
        else:
            del out["date_of_birth"]
    return out


# ---------------------------------------------------------------------------------------------
# Scoring

def _keys(pairs: np.ndarray, n: int) -> np.ndarray:
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    lo, hi = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
    return lo * n + hi


def _prf(tp: int, found: int, truth: int) -> dict[str, float]:
    p = tp / found if found else 1.0
    r = tp / truth if truth else 1.0
    return {"precision": round(p, 5), "recall": round(r, 5), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 5)}


class Truth:
    """The run's true pairs (positions), each pair's noise shapes and scripts, and the relations."""

    def __init__(self, records: Sequence[Mapping[str, str]]) -> None:
        self.n = len(records)
        self.by_class = pairs_by_class(records)
        self.pairs = self.by_class["same_person"]
        self.keys = _keys(self.pairs, self.n)
        order = np.argsort(self.keys)
        self.pairs, self.keys = self.pairs[order], self.keys[order]
        i, j = self.pairs[:, 0], self.pairs[:, 1]
        noise = [r["noise"] for r in records]
        self.shape_of: dict[str, np.ndarray] = {}
        for shape in SHAPES:
            has = np.array([shape in x for x in noise], dtype=bool)
            self.shape_of[shape] = has[i] | has[j]
        self.shape_of["none (both rows clean)"] = np.array([not noise[a] and not noise[b] for a, b in
                                                            zip(i.tolist(), j.tolist(), strict=True)], dtype=bool)
        script = np.array([_script(r) for r in records], dtype=object)
        si, sj = script[i], script[j]
        apart = ((si == "dari") & (sj == "latin")) | ((si == "latin") & (sj == "dari"))
        self.script_of = {"one in Dari only, one in Latin only": apart, "a script in common": ~apart}

    def evaluate(self, cluster: np.ndarray, possible: np.ndarray | None = None,
                 relatives: np.ndarray | None = None, group: np.ndarray | None = None) -> dict[str, Any]:
        """Linked (one ``cluster``) and linked-or-possible (``possible``: (k, 2) row pairs, or
        ``group``: each row's possible group, 0 for none, every pair of one group possible) against
        the truth; ``relatives``: pairs said to be relatives, counted apart."""
        cluster = np.asarray(cluster)
        n = self.n
        i, j = self.pairs[:, 0], self.pairs[:, 1]
        linked = cluster[i] == cluster[j]
        sizes = np.unique(cluster, return_counts=True)[1].astype(np.int64)
        total = int((sizes * (sizes - 1) // 2).sum())
        tp = int(linked.sum())
        out: dict[str, Any] = {"true_pairs": len(self.pairs), "linked_pairs": total,
                               "largest_cluster": int(sizes.max()),
                               "linked": {"tp": tp, **_prf(tp, total, len(self.pairs))}}
        either = linked.copy()
        extra_total = 0
        if possible is not None and len(possible):
            possible = np.asarray(possible, dtype=np.int64).reshape(-1, 2)
            keep = cluster[possible[:, 0]] != cluster[possible[:, 1]]
            extra = np.unique(_keys(possible[keep], n))
            extra_total = len(extra)
            either |= np.isin(self.keys, extra)
        in_group = np.zeros(len(self.pairs), dtype=bool)
        if group is not None:
            group = np.asarray(group, dtype=np.int64)
            in_group = (group[i] == group[j]) & (group[i] > 0) & ~linked
            either |= in_group
            # every pair of a group, less the pairs already linked (one cluster)
            g = pd.DataFrame({"g": group, "c": cluster})[group > 0]
            gs = g.groupby("g").size().to_numpy(dtype=np.int64)
            cs = g.groupby(["g", "c"]).size().to_numpy(dtype=np.int64)
            extra_total = int((gs * (gs - 1) // 2).sum() - (cs * (cs - 1) // 2).sum())
            out["possible_groups"] = len(gs)
            out["largest_possible_group"] = int(gs.max()) if len(gs) else 0
        tp2 = int(either.sum())
        out["possible_pairs"] = extra_total
        out["linked_or_possible"] = {"tp": tp2, **_prf(tp2, total + extra_total, len(self.pairs))}
        classes: dict[str, dict[str, int]] = {}
        for cls, p in self.by_class.items():
            if cls == "same_person" or not len(p):
                continue
            row = {"pairs": len(p), "linked": int((cluster[p[:, 0]] == cluster[p[:, 1]]).sum())}
            if group is not None:
                row["possible"] = int(((group[p[:, 0]] == group[p[:, 1]]) & (group[p[:, 0]] > 0)
                                       & (cluster[p[:, 0]] != cluster[p[:, 1]])).sum())
            elif possible is not None and extra_total:
                row["possible"] = int(np.isin(_keys(p, n), extra).sum())
            classes[cls] = row
        out["relations"] = classes
        if relatives is not None:
            rel = np.unique(_keys(relatives, n)) if len(relatives) else np.array([], dtype=np.int64)
            fam = [c for c in ("twins", "brothers", "sisters", "father_son", "uncle_nephew", "cousins")
                   if len(self.by_class[c])]
            in_family = sum(int(np.isin(_keys(self.by_class[c], n), rel).sum()) for c in fam)
            out["relatives"] = {"pairs": len(rel), "same_person": int(np.isin(self.keys, rel).sum()),
                                "true_relatives": in_family}
        out["_found"] = (linked, either)  # dropped before writing; for by_shape
        return out

    def by_shape(self, linked: np.ndarray, either: np.ndarray,
                 blocked: np.ndarray | None = None) -> dict[str, dict[str, Any]]:
        """Per noise shape (and script combination): its true pairs, their recall, and (``blocked``:
        per true pair, among the candidate pairs) the share ever compared."""
        out = {}
        for name, mask in (*self.shape_of.items(), *self.script_of.items()):
            k = int(mask.sum())
            row: dict[str, Any] = {
                "pairs": k, "recall_linked": round(float(linked[mask].mean()), 4) if k else None,
                "recall_linked_or_possible": round(float(either[mask].mean()), 4) if k else None,
                "missed": int((~either & mask).sum())}
            if blocked is not None:
                row["blocked"] = round(float(blocked[mask].mean()), 4) if k else None
            out[name] = row
        return out


def _script(r: Mapping[str, str]) -> str:
    full, latin = r.get("full_name") or "", r.get("full_name_latin") or ""
    if _is_arabic(full):
        return "both" if latin else "dari"
    return "latin"


# ---------------------------------------------------------------------------------------------
# Pipelines

_ROW = re.compile(r" row (\d+)")


def run_amanat(fields: list[dict[str, str]], seed: int, *, candidates: bool) -> dict[str, Any]:
    """dedupe_rows on the rows; its candidate pairs too (``candidates``: the blocking, as dedupe
    plans it, run a second time apart)."""
    from amanat.linkage.dedupe import SourceRow, dedupe_rows

    rows = [SourceRow(SHEET, k + 2, f) for k, f in enumerate(fields)]
    t0 = time.perf_counter()
    result = dedupe_rows(rows, seed=seed)
    secs = time.perf_counter() - t0
    lead = result.lead
    n = len(rows)
    status = lead["status"].astype(str).to_numpy()
    best = pd.to_numeric(lead["linked_to"].astype(str).str.extract(r" row (\d+)$")[0], errors="coerce")
    best = (best.fillna(1).astype(np.int64) - 2).to_numpy()
    me = np.arange(n)
    review = (status == "review") & (best >= 0)
    rel_rows = (status == "relatives") & (best >= 0)
    relatives = [np.column_stack([me[rel_rows], best[rel_rows]])]
    for k, text in enumerate(lead["relatives"].astype(str).tolist()):
        if text:
            others = [int(x) - 2 for x in _ROW.findall(" " + text.replace("; ", " ; "))]
            if others:
                relatives.append(np.column_stack([np.full(len(others), k), others]))
    out: dict[str, Any] = {
        "cluster": lead["cluster_id"].to_numpy(), "possible": np.column_stack([me[review], best[review]]),
        "group": lead["possible_group"].to_numpy(),
        "relatives": np.concatenate(relatives) if relatives else np.empty((0, 2), np.int64),
        "seconds": round(secs, 2), "trained": bool(result.trained), "scored_pairs": int(result.pair_count),
        "notes": list(result.notes), "skipped_rows": len(result.skipped_rows),
        "status_counts": dict(Counter(status.tolist())), "_status": status}
    if candidates:
        out["candidates"] = amanat_candidates(fields)
    return out


def amanat_candidates(fields: list[dict[str, str]]) -> np.ndarray:
    """The (i, j) row pairs dedupe_rows' blocking generates for these rows."""
    from amanat.linkage.batch_features import batch_features
    from amanat.linkage.file_blocking import plan_standalone

    frame = batch_features([str(k) for k in range(len(fields))], fields)
    _, _, table = plan_standalone(frame)
    return np.column_stack([np.asarray(table["join_key_l"].to_pylist(), dtype=np.int64),
                            np.asarray(table["join_key_r"].to_pylist(), dtype=np.int64)])


def _plain_frame(fields: list[dict[str, str]], columns: Sequence[str]) -> pd.DataFrame:
    rows = []
    for k, f in enumerate(fields):
        row: dict[str, Any] = {"unique_id": str(k)}
        for c in columns:
            v = f.get(c)
            row[c] = " ".join(str(v).split()).lower() or None if v not in (None, "") else None
        rows.append(row)
    return pd.DataFrame(rows, columns=["unique_id", *columns]).astype(object)


def _plain_comparisons(columns: Sequence[str]) -> list[Any]:
    """bench/linkage_synth.py's plain_splink comparisons, for the columns present."""
    import splink.comparison_library as cl

    made = {
        "full_name": lambda: cl.NameComparison("full_name").configure(term_frequency_adjustments=True),
        "full_name_latin": lambda: cl.NameComparison("full_name_latin").configure(term_frequency_adjustments=True),
        "father_name": lambda: cl.NameComparison("father_name").configure(term_frequency_adjustments=True),
        "grandfather_name": lambda: cl.NameComparison("grandfather_name"),
        "family_name": lambda: cl.NameComparison("family_name").configure(term_frequency_adjustments=True),
        "date_of_birth": lambda: cl.LevenshteinAtThresholds("date_of_birth", [1, 2]),
        "place_of_birth": lambda: cl.ExactMatch("place_of_birth"),
        "district": lambda: cl.ExactMatch("district"),
        "province": lambda: cl.ExactMatch("province"),
        "tazkira_number": lambda: cl.LevenshteinAtThresholds("tazkira_number", [1, 2]),
        "passport_number": lambda: cl.LevenshteinAtThresholds("passport_number", [1]),
        "phone": lambda: cl.ExactMatch("phone"),
        "gender": lambda: cl.ExactMatch("gender"),
    }
    return [make() for c, make in made.items() if c in columns]


# linkage_synth.PLAIN_BLOCKING, then each name alone (a names-only list has nothing else).
_PLAIN_BLOCKING = (("full_name", "father_name"), ("full_name_latin", "father_name_latin"), ("tazkira_number",),
                   ("passport_number",), ("phone",), ("date_of_birth", "district"), ("full_name", "date_of_birth"),
                   ("full_name",), ("full_name_latin",))
# Deterministic rules for the prior (linkage_synth: tazkira; name + father + date), else weaker ones.
_PLAIN_PRIOR = (("tazkira_number",), ("full_name", "father_name", "date_of_birth"), ("full_name", "father_name"),
                ("full_name", "phone"), ("full_name", "date_of_birth"), ("full_name", "province"),
                ("full_name", "gender"), ("full_name",))
# EM rounds: linkage_synth's where their columns are there, and each name alone.
_PLAIN_EM = (("full_name", "father_name"), ("date_of_birth", "district"), ("full_name",), ("full_name_latin",))


def run_plain(fields: list[dict[str, str]], columns: Sequence[str], seed: int) -> dict[str, Any]:
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    from amanat.linkage.model import new_connection

    cols = [c for c in _plain_comparisons_order() if c in columns]
    present = {c for c in cols if any(f.get(c) for f in fields)}
    t0 = time.perf_counter()
    raw = _plain_frame(fields, cols)
    db_api = DuckDBAPI(connection=new_connection())
    sdf = db_api.register(raw)
    blocking = [block_on(*r) for r in _PLAIN_BLOCKING if set(r) <= present]
    settings = SettingsCreator(unique_id_column_name="unique_id", link_type="dedupe_only",
                               blocking_rules_to_generate_predictions=blocking,
                               comparisons=_plain_comparisons(cols), retain_intermediate_calculation_columns=False)
    notes: list[str] = []
    linker = Linker(sdf, settings, log_level=None)
    prior = [block_on(*r) for r in _PLAIN_PRIOR if set(r) <= present][:2]
    try:
        linker.training.estimate_probability_two_random_records_match(prior, recall=0.6)
    except Exception as e:  # a peer failing is a finding
        notes.append(f"prior: {type(e).__name__}: {e}")
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    for rule in _PLAIN_EM:
        if set(rule) <= present:
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(block_on(*rule), max_pairs=1e6)
            except Exception as e:
                notes.append(f"EM on {'+'.join(rule)}: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
    pairs = linker.inference.predict(threshold_match_probability=PLAIN_POSSIBLE).as_pandas_dataframe()
    cc = cluster_pairwise_predictions_at_threshold(
        raw[["unique_id"]], pairs[["unique_id_l", "unique_id_r", "match_probability"]], db_api=db_api,
        node_id_column_name="unique_id", threshold_match_probability=LINK_AT).as_pandas_dataframe()
    secs = time.perf_counter() - t0
    cluster = np.empty(len(fields), dtype=np.int64)
    cluster[cc["unique_id"].astype(int).to_numpy()] = pd.factorize(cc["cluster_id"])[0]
    possible = np.column_stack([pairs[c].astype(int).to_numpy() for c in ("unique_id_l", "unique_id_r")])
    return {"cluster": cluster, "possible": possible, "seconds": round(secs, 2), "notes": notes,
            "scored_pairs": len(pairs)}


def _plain_comparisons_order() -> tuple[str, ...]:
    return ("full_name", "full_name_latin", "father_name", "father_name_latin", "grandfather_name", "family_name",
            "date_of_birth", "place_of_birth", "district", "province", "tazkira_number", "passport_number", "phone",
            "gender")


def _norm(column: str, value: str | None) -> str | None:
    if not value:
        return None
    text = fold(str(value))
    if column in ("phone", "whatsapp_phone"):
        digits = re.sub(r"\D", "", text)
        return digits[-9:] or None
    if column in NAMES:
        return " ".join(text.split()) or None
    return re.sub(r"[\W_]+", "", text) or None


def run_exact(fields: list[dict[str, str]], columns: Sequence[str]) -> dict[str, Any]:
    """Rows with an own name equal after folding, and every other column both give equal."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    t0 = time.perf_counter()
    n = len(fields)
    groups: dict[str, list[int]] = {}
    for k, f in enumerate(fields):
        for key in {_norm(c, f.get(c)) for c in NAMES} - {None}:
            groups.setdefault(key, []).append(k)  # type: ignore[arg-type]
    others = [c for c in columns if c not in NAMES]
    values = {c: np.array([_norm(c, f.get(c)) for f in fields], dtype=object) for c in others}
    chunks = []
    for members in groups.values():
        if len(members) < 2:
            continue
        m = np.asarray(members, dtype=np.int64)
        a, b = np.triu_indices(len(m), 1)
        chunks.append(np.column_stack([m[a], m[b]]))
    pairs = np.unique(np.concatenate(chunks), axis=0) if chunks else np.empty((0, 2), np.int64)
    name_pairs = pairs
    keep = np.ones(len(pairs), dtype=bool)
    for v in values.values():
        left, right = v[pairs[:, 0]], v[pairs[:, 1]]
        both = np.array([x is not None and y is not None for x, y in zip(left, right, strict=True)], dtype=bool)
        keep &= ~both | (left == right)
    pairs = pairs[keep]
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    cluster = connected_components(graph, directed=False)[1]
    return {"cluster": cluster, "possible": None, "seconds": round(time.perf_counter() - t0, 2), "notes": [],
            "scored_pairs": len(pairs), "name_pairs": name_pairs}


_NK_WORKER = r"""
import json, sys
from followthemoney import model
from nomenklatura.matching import get_algorithm
data = json.load(open(sys.argv[1], encoding="utf-8"))
algo = get_algorithm("logic-v2")
cfg = algo.default_config()
def person(k, rec):
    e = model.make_entity("Person")
    e.id = "r%d" % k
    for v in rec.get("names", []):
        e.add("name", v)
    for v in rec.get("fathers", []):
        e.add("fatherName", v)
    return e
ents = {}
def get(k):
    e = ents.get(k)
    if e is None:
        e = ents[k] = person(k, data["records"][k])
    return e
out = [algo.compare(get(i), get(j), cfg).score for i, j in data["pairs"]]
json.dump(out, open(sys.argv[2], "w"))
"""


def run_nomenklatura(python: Path, fields: list[dict[str, str]], pairs: np.ndarray) -> dict[str, Any]:
    """logic-v2 on ``pairs`` in a separate Python (nomenklatura's own venv)."""
    t0 = time.perf_counter()
    recs = [{"names": [f[c] for c in NAMES if f.get(c)], "fathers": [f[c] for c in FATHER if f.get(c)]}
            for f in fields]
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.json", Path(tmp) / "out.json"
        src.write_text(json.dumps({"records": recs, "pairs": pairs.tolist()}, ensure_ascii=False), encoding="utf-8")
        proc = subprocess.run([str(python), "-c", _NK_WORKER, str(src), str(dst)], capture_output=True, text=True,
                              check=False)
        if proc.returncode:
            raise RuntimeError(f"nomenklatura worker failed: {proc.stderr.strip().splitlines()[-1:]}")
        score = np.asarray(json.loads(dst.read_text()), dtype=float)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(fields)
    strong = pairs[score >= NK_LINK]
    graph = coo_matrix((np.ones(len(strong)), (strong[:, 0], strong[:, 1])), shape=(n, n))
    cluster = connected_components(graph, directed=False)[1]
    return {"cluster": cluster, "possible": pairs[score >= NK_POSSIBLE], "seconds": round(time.perf_counter() - t0, 2),
            "notes": [f"compared {len(pairs):,} pairs only: Amanat's candidate pairs and the pairs with an own "
                      "name equal after folding"], "scored_pairs": len(pairs)}


def nomenklatura_version(python: Path) -> str | None:
    proc = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('nomenklatura'))"],
                          capture_output=True, text=True, check=False)
    return proc.stdout.strip() or None if proc.returncode == 0 else None


# ---------------------------------------------------------------------------------------------
# The run

PIPELINES = ("Amanat", "plain Splink", "exact names", "nomenklatura")


def _safe(name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return fn()
    except Exception as e:  # every failure is reported in the results
        log.warning("%s failed: %s: %s", name, type(e).__name__, e)
        return {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(limit=6)}


def _missed_examples(records: Sequence[Mapping[str, str]], truth: Truth, either: np.ndarray,
                     candidates: np.ndarray | None, status: np.ndarray | None, k: int = 12) -> list[dict[str, Any]]:
    """A few true pairs neither linked nor possible: the two rows' names, noise and why (synthetic)."""
    missed = np.flatnonzero(~either)
    rng = np.random.default_rng(0)
    cand = np.unique(_keys(candidates, truth.n)) if candidates is not None else None
    out = []
    for m in rng.choice(missed, size=min(k, len(missed)), replace=False).tolist() if len(missed) else []:
        a, b = (int(x) for x in truth.pairs[m])
        row = {"rows": [a + 2, b + 2],
               "names": [[records[x].get(c, "") for c in NAMES] for x in (a, b)],
               "noise": [records[x]["noise"] for x in (a, b)]}
        if cand is not None:
            row["blocked"] = bool(np.isin(truth.keys[m], cand))
        if status is not None:
            row["status"] = [str(status[a]), str(status[b])]
        out.append(row)
    return out


def run_size(size: int, seed: int, *, nk_python: Path | None, nk_max_pairs: int, noise_rate: float,
             copy_rate: float, subsets: Sequence[str], skip_plain: bool = False) -> dict[str, Any]:
    t0 = time.perf_counter()
    records = population(size, seed, noise_rate=noise_rate, copy_rate=copy_rate)
    truth = Truth(records)
    shapes = Counter(s.split(":")[0] for r in records for s in r["noise"].split("+") if s)
    pdf_kinds = Counter(s for r in records for s in r["noise"].split("+") if s.startswith("pdf_damage:"))
    log.info("%s records, %s true pairs, noise %s (%.1f s)", f"{len(records):,}", f"{len(truth.pairs):,}",
             dict(shapes), time.perf_counter() - t0)
    result: dict[str, Any] = {
        "size": size, "records": len(records), "people": len({r["person_id"] for r in records}),
        "true_pairs": len(truth.pairs), "true_pairs_by_class": {c: len(v) for c, v in truth.by_class.items()},
        "noise_records": {s: shapes.get(s, 0) for s in SHAPES}, "pdf_damage_kinds": dict(pdf_kinds),
        "noise_pairs": {s: int(m.sum()) for s, m in truth.shape_of.items()}, "subsets": {}}
    for subset in subsets:
        columns = SUBSETS[subset]
        fields = [subset_fields(r, subset) for r in records]
        runs: dict[str, Any] = {}
        log.info("[bold]%s[/]: Amanat", subset, extra={"markup": True})
        want_candidates = subset == "names" or (nk_python is not None and subset in NK_SUBSETS)
        got = _safe("Amanat", lambda f=fields, c=want_candidates: run_amanat(f, seed, candidates=c))
        candidates = got.pop("candidates", None)
        runs["Amanat"] = got
        if not skip_plain:
            log.info("%s: plain Splink", subset)
            runs["plain Splink"] = _safe("plain Splink", lambda f=fields, c=columns: run_plain(f, c, seed))
        log.info("%s: exact names", subset)
        runs["exact names"] = _safe("exact names", lambda f=fields, c=columns: run_exact(f, c))
        name_pairs = runs["exact names"].pop("name_pairs", None)
        if nk_python is not None and subset in NK_SUBSETS:
            # nomenklatura has no blocking of its own here: Amanat's candidates and same-name pairs
            both = [p for p in (candidates, name_pairs) if p is not None]
            keys = np.unique(np.concatenate([_keys(p, truth.n) for p in both])) if both else np.empty(0, np.int64)
            nk_pairs = np.column_stack([keys // truth.n, keys % truth.n])
            if len(nk_pairs) > nk_max_pairs:
                runs["nomenklatura"] = {"skipped": f"{len(nk_pairs):,} candidate pairs, over --nk-max-pairs "
                                                   f"{nk_max_pairs:,}"}
            else:
                log.info("%s: nomenklatura on %s pairs", subset, f"{len(nk_pairs):,}")
                runs["nomenklatura"] = _safe("nomenklatura", lambda f=fields, c=nk_pairs: run_nomenklatura(
                    nk_python, f, c))
        for name, run in runs.items():
            if "cluster" not in run:
                continue
            ev = truth.evaluate(run.pop("cluster"), run.pop("possible", None), run.pop("relatives", None),
                                run.pop("group", None))
            linked, either = ev.pop("_found")
            run.update(ev)
            if name == "Amanat":
                status = run.pop("_status")
                blocked = None
                if candidates is not None:
                    blocked = np.isin(truth.keys, np.unique(_keys(candidates, truth.n)))
                    run["blocking_ceiling"] = round(float(blocked.mean()), 5)
                    run["candidate_pairs"] = len(candidates)
                run["by_shape"] = truth.by_shape(linked, either, blocked)
                if subset == "names":
                    run["missed_examples"] = _missed_examples(records, truth, either, candidates, status)
        result["subsets"][subset] = {"columns": list(columns), "runs": runs, "goals": goals(subset, runs)}
        report_line(subset, runs)
    result["seconds"] = round(time.perf_counter() - t0, 1)
    return result


def goals(subset: str, runs: Mapping[str, Any]) -> dict[str, bool]:
    """GOALS for one subset: Amanat without a crash; names: its figures; others: ahead of each peer."""
    a = runs.get("Amanat", {})
    met: dict[str, bool] = {"amanat_no_crash": "error" not in a}
    if "linked" not in a:
        return met
    if subset == "names":
        met[f"recall_linked_or_possible_ge_{GOAL_NAMES_RECALL}"] = (
            a["linked_or_possible"]["recall"] >= GOAL_NAMES_RECALL)
        # with no link at all the precision is 1.0 by definition: not a goal met
        met[f"precision_linked_ge_{GOAL_NAMES_PRECISION}"] = (
            a["linked_pairs"] > 0 and a["linked"]["precision"] >= GOAL_NAMES_PRECISION)
    for peer, run in runs.items():
        if peer == "Amanat" or "linked" not in run:
            continue
        ahead = (a["linked"]["f1"] > run["linked"]["f1"]
                 and a["linked_or_possible"]["recall"] >= run["linked_or_possible"]["recall"])
        met[f"ahead_of_{peer.replace(' ', '_')}"] = ahead
    return met


def goals_met(subset: str, met: Mapping[str, bool]) -> bool:
    if subset == "names":
        return all(v for k, v in met.items() if not k.startswith("ahead_of"))
    return all(met.values())


def report_line(subset: str, runs: Mapping[str, Any]) -> None:
    parts = []
    for name, r in runs.items():
        if "linked" in r:
            parts.append(f"{name}: P={r['linked']['precision']:.4f} R={r['linked']['recall']:.4f} "
                         f"F1={r['linked']['f1']:.4f} R+={r['linked_or_possible']['recall']:.4f} {r['seconds']}s")
        else:
            parts.append(f"{name}: {r.get('error') or r.get('skipped')}")
    log.info("%s | %s", subset, " | ".join(parts))


def _cell(r: Mapping[str, Any]) -> str:
    if "linked" not in r:
        text = str(r.get("error") or r.get("skipped") or "—")
        return ("[red]" if "error" in r else "[dim]") + (text[:60] + ("…" if len(text) > 60 else "")) + "[/]"
    lk, lp = r["linked"], r["linked_or_possible"]
    return (f"P {lk['precision']:.4f} R {lk['recall']:.4f}\nF1 {lk['f1']:.4f} | R+ {lp['recall']:.4f}\n"
            f"[dim]{r['linked_pairs']:,} linked, {r['seconds']} s[/]")


def report(result: Mapping[str, Any]) -> None:
    pipes = [p for p in PIPELINES if any(p in s["runs"] for s in result["subsets"].values())]
    table = Table(title=f"{result['records']:,} records, {result['true_pairs']:,} true pairs: linked P/R/F1, "
                        f"R+ = recall of linked or possible", show_lines=True)
    table.add_column("subset")
    for p in pipes:
        table.add_column(p, justify="right")
    table.add_column("goals")
    for subset, s in result["subsets"].items():
        ok = goals_met(subset, s["goals"])
        failed = [k for k, v in s["goals"].items() if not v]
        mark = "[green]met[/]" if ok else "[red]not met[/]\n" + "\n".join(failed)
        if subset == "names" and ok and failed:
            mark += "\n[dim](behind: " + ", ".join(failed) + ")[/]"
        table.add_row(subset, *(_cell(s["runs"].get(p, {})) for p in pipes), mark)
    console.print(table)
    names = result["subsets"].get("names", {}).get("runs", {}).get("Amanat", {})
    if "by_shape" in names:
        t = Table(title="Amanat, names only: recall per noise shape (pairs with the shape on either row)")
        for c in ("shape", "true pairs", "compared (blocked)", "R linked", "R linked or possible", "missed"):
            t.add_column(c, justify="right" if c != "shape" else "left")
        for shape, v in names["by_shape"].items():
            if v["pairs"]:
                blocked = f"{v['blocked']:.4f}" if v.get("blocked") is not None else "—"
                t.add_row(shape, f"{v['pairs']:,}", blocked, f"{v['recall_linked']:.4f}",
                          f"{v['recall_linked_or_possible']:.4f}", f"{v['missed']:,}")
        console.print(t)
        if "blocking_ceiling" in names:
            console.print(f"Amanat names only: blocking ceiling {names['blocking_ceiling']:.4f} "
                          f"({names['candidate_pairs']:,} candidate pairs); relatives {names.get('relatives')}")


def plot(results: Sequence[Mapping[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 2, figsize=(15, 4.2 * len(results)), squeeze=False)
    for (a1, a2), res in zip(axes, results, strict=True):
        subsets = list(res["subsets"])
        pipes = [p for p in PIPELINES if any("linked" in res["subsets"][s]["runs"].get(p, {}) for s in subsets)]
        x = np.arange(len(subsets))
        width = 0.8 / max(1, len(pipes))
        for k, p in enumerate(pipes):
            runs = [res["subsets"][s]["runs"].get(p, {}) for s in subsets]
            f1 = [r["linked"]["f1"] if "linked" in r else np.nan for r in runs]
            rp = [r["linked_or_possible"]["recall"] if "linked" in r else np.nan for r in runs]
            off = (k - (len(pipes) - 1) / 2) * width
            a1.bar(x + off, f1, width, label=p)
            a2.bar(x + off, rp, width, label=p)
        for ax, title in ((a1, "F1 of linked pairs"), (a2, "recall of linked or possible")):
            ax.set_xticks(x, [s.replace(" + ", "\n+ ") for s in subsets], fontsize=7)
            ax.set_ylim(0, 1.02)
            ax.set_title(f"{res['records']:,} records: {title}", fontsize=9)
            ax.legend(fontsize=7, loc="upper left")
        a2.axhline(GOAL_NAMES_RECALL, ls=":", color="red", lw=1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Field-subset matrix: Amanat, plain Splink, exact names, nomenklatura")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--quick", action="store_true", help=f"one size of about {QUICK_SIZE:,} records")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--subsets", nargs="+", choices=list(SUBSETS), default=list(SUBSETS), metavar="SUBSET",
                    help="subsets to run (default all): " + "; ".join(SUBSETS))
    ap.add_argument("--noise-rate", type=float, default=0.08, help="share of records given each name-noise shape")
    ap.add_argument("--copy-rate", type=float, default=0.03, help="share of records listed twice as they are")
    ap.add_argument("--nomenklatura-python", type=Path, default=NK_DEFAULT if NK_DEFAULT.exists() else None,
                    help="a Python with nomenklatura installed (not the project's venv); 'none' to skip")
    ap.add_argument("--nk-max-pairs", type=int, default=400_000, help="skip nomenklatura above this many pairs")
    ap.add_argument("--skip-plain", action="store_true", help="leave out plain Splink")
    ap.add_argument("--out", type=Path, default=SCRATCH, help="folder for linkage_fields.{json,png}")
    args = ap.parse_args(argv)
    from rich.logging import RichHandler

    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[RichHandler(console=console)])
    logging.getLogger("splink").setLevel(logging.ERROR)
    nk = args.nomenklatura_python
    if nk is not None and (str(nk) == "none" or not nk.exists()):
        nk = None
    nk_version = nomenklatura_version(nk) if nk is not None else None
    if nk is not None and nk_version is None:
        log.warning("%s has no nomenklatura: skipped", nk)
        nk = None
    sizes = [QUICK_SIZE] if args.quick else args.sizes
    out: dict[str, Any] = {
        "issue": 14, "seed": args.seed, "noise_rate": args.noise_rate, "copy_rate": args.copy_rate,
        "namesake_rate": NAMESAKE_RATE, "plain_splink_link_at": LINK_AT, "plain_splink_possible_at": PLAIN_POSSIBLE,
        "nomenklatura": {"version": nk_version, "link_at": NK_LINK, "possible_at": NK_POSSIBLE,
                         "subsets": list(NK_SUBSETS)} if nk_version else
        {"skipped": "no Python with nomenklatura given (--nomenklatura-python)"},
        "goals": {"amanat": "no crash on any subset",
                  "names": f"recall of linked or possible >= {GOAL_NAMES_RECALL}, linked precision >= "
                           f"{GOAL_NAMES_PRECISION}",
                  "other subsets": "Amanat's linked F1 above each peer's and linked-or-possible recall at least "
                                   "each peer's"},
        "commit": commit(), "machine": machine(), "runs": []}
    for size in sizes:
        res = run_size(size, args.seed, nk_python=nk, nk_max_pairs=args.nk_max_pairs, noise_rate=args.noise_rate,
                       copy_rate=args.copy_rate, subsets=args.subsets, skip_plain=args.skip_plain)
        report(res)
        out["runs"].append(res)
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    path = write_json(args.out / "linkage_fields.json", out, ensure_ascii=False, default=_jsonable)
    plot(out["runs"], path.with_suffix(".png"))
    log.info("wrote %s and %s", path, path.with_suffix(".png"))


def _jsonable(o: object) -> object:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


if __name__ == "__main__":
    main()
