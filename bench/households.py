"""Seeded synthetic households: the relatives and strangers dedupe must keep apart, and the
re-registrations it must join.

    .venv/bin/python bench/households.py --households 1000 --seed 7 --out /tmp/households.csv

bench/synth.py's population has brothers only with their own phones and birth dates decades
apart; real lists hold whole families sent in from one phone. ``generate_households`` returns
form records (synth.FIELDS) plus ground-truth columns (TRUTH), each record drawn by synth's own
noise (``synth._record``: script switch, romanisation styles, titles, partial Solar Hijri dates,
missing fields), with:

- households of 2–8 siblings (about four in five sons): one father's and grandfather's name, one
  family name, one district and tazkira volume; own names that differ, a son's often sharing a
  part with an elder brother's (Gul Ahmad / Gul Nabi, Mohammad Nabi / Ghulam Nabi); births 1–3
  years apart; in ``twin_rate`` of households one pair of twins (one birth date, two names);
- one household phone on every record of every sibling (and of a registered father) in
  ``shared_phone`` of households; elsewhere each has his own phones, or none;
- cousins: in ``cousin_rate`` of clans a second household whose father is the first father's
  brother (same grandfather, different father);
- fathers and sons: in ``father_rate`` of households the father is registered too (his own name
  is his sons' father_name, his father's name their grandfather_name);
- intermediaries: groups of 20–200 unrelated men, one commander's phone on every record, one
  province, fathers' names from the five commonest, the date of birth left out of most records;
- namesakes: a share of sons has 1–2 strangers with the same given name (different fathers);
- ``no_id_rate`` of people with no tazkira or passport known (lists from memory, intermediaries);
- re-registrations: ``dup_rate`` of people registered 2–4 times in all, a later one sometimes from
  another phone.

``pairs_by_class`` lists the true record pairs of each relation (CLASSES) by grouping
(person, clan, intermediary, namesake group), never all n² pairs; ``relation`` classifies any
two records ("other" for the rest). No real person is described.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import random
import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

try:  # imported as bench.households or, with bench/ on sys.path, as households
    from bench.afghan_names import HEADS, MALE
    from bench.synth import (
        _COUNTRIES,
        FIELDS,
        Part,
        Person,
        _given,
        _new_family,
        _person,
        _phone,
        _phone_text,
        _places,
        _record,
    )
except ImportError:  # pragma: no cover
    from afghan_names import HEADS, MALE  # type: ignore[no-redef]
    from synth import (  # type: ignore[no-redef]
        _COUNTRIES,
        FIELDS,
        Part,
        Person,
        _given,
        _new_family,
        _person,
        _phone,
        _phone_text,
        _places,
        _record,
    )

# The form's own fields: what a dedupe run may see (synth.FIELDS less the ids).
FORM_FIELDS = tuple(f for f in FIELDS if f not in ("record_id", "person_id"))
# Ground truth beside the form fields ("" where it does not apply). father_id is the father's
# person_id whether or not he is registered; birth_id is shared by twins only; generation is 0
# for the sons and daughters, 1 for registered fathers; group_id: the intermediary's phone
# group; true_*: the values before any noise (Latin house spelling, ISO date, national phone).
TRUTH = ("person_id", "household_id", "clan_id", "father_id", "birth_id", "generation", "sex", "role",
         "group_id", "namesake_id", "registration", "true_name", "true_father", "true_grandfather",
         "true_family", "true_dob", "true_district", "true_province", "true_phone")
# Relations between two records, in the order relation() decides them; "other" is the rest.
CLASSES = ("same_person", "twins", "brothers", "sisters", "father_son", "uncle_nephew", "cousins",
           "intermediary", "namesakes")
# "sisters": two siblings (not twins) of whom at least one is a woman.
COMMON_FATHERS = tuple(sorted(MALE, key=lambda s: -s.weight)[:5])  # Ahmad, Ali, Nabi, Hussain, Karim
SIZES = (2, 3, 4, 5, 6, 7, 8)
SIZE_WEIGHTS = (14, 20, 20, 17, 13, 9, 7)


def _key(parts: tuple[Part, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((p.kind, p.spec.dari) for p in parts)


def canonical(parts: tuple[Part, ...]) -> str:
    """A name in one fixed Latin spelling (the truth columns; never what a form shows)."""
    words = []
    for p in parts:
        base = p.spec.latin[0]
        if p.kind == "ullah":
            words.append(base + "ullah")
        elif p.kind == "abd":
            words.append("Abdullah" if p.spec.dari == "الله" else "Abdul " + base)
        else:
            words.append(base)
    return " ".join(words)


def _distinct_given(rng: random.Random, male: bool, siblings: Sequence[tuple[Part, ...]],
                    avoid: Sequence[tuple[Part, ...]] = (), share: float = 0.3) -> tuple[Part, ...]:
    """A given name none of ``siblings`` or ``avoid`` has; a son's shares a part with an elder
    brother's two-part name in ``share`` of draws (Gul Ahmad / Gul Nabi)."""
    taken = {_key(t) for t in (*siblings, *avoid)}
    two = [t for t in siblings if len(t) == 2 and t[0].kind == t[1].kind == "plain"]
    for _ in range(200):
        if male and two and rng.random() < share:
            base = rng.choice(two)
            if rng.random() < 0.7:  # the same first part: Gul Ahmad / Gul Nabi
                given = (base[0], Part("plain", rng.choices(MALE, weights=[s.weight for s in MALE])[0]))
            else:  # the same second part: Mohammad Nabi / Ghulam Nabi
                given = (Part("plain", rng.choices(HEADS[:-1], weights=[s.weight for s in HEADS[:-1]])[0]), base[1])
        else:
            given = _given(rng, male)
        if _key(given) not in taken:
            return given
    raise RuntimeError("no distinct given name found")  # pragma: no cover


@dataclass
class _Member:
    person: Person
    truth: dict[str, str]
    phone: str | None = None  # a national number put on every record (the household's, the commander's)
    no_date: float = 0.0  # the share of records without a date of birth


class _Ids:
    def __init__(self) -> None:
        self.counts: dict[str, int] = defaultdict(int)

    def __call__(self, prefix: str, width: int = 7) -> str:
        self.counts[prefix] += 1
        return f"{prefix}{self.counts[prefix]:0{width}d}"


def _truth(p: Person, **kw: str) -> dict[str, str]:
    out = {k: "" for k in TRUTH}
    out.update(person_id=p.person_id, sex="M" if p.male else "F", true_name=canonical(p.given),
               true_father=canonical(p.father), true_grandfather=canonical(p.grandfather),
               true_family=p.family.latin[0] if p.family else "", true_dob=p.dob.isoformat(),
               true_district=p.district[0], true_province=p.district[2], generation="0")
    out.update(kw)
    return out


def _no_ids(p: Person) -> Person:
    return replace(p, tazkira=("none",), passport=None)


def _clan(rng: random.Random, places: list, ids: _Ids, *, households: int, no_id_rate: float,
          shared_phone: float, twin_rate: float, father_rate: float) -> list[_Member]:
    """One grandfather's registered descendants: ``households`` households of his sons' children
    (the second, if any, their cousins), and some of the fathers."""
    clan_id = ids("C", 6)
    base = _new_family(rng, places, int(clan_id[1:]))
    grandfather, great = base["father"], base["grandfather"]  # the fathers' father and grandfather
    grandfather_id = ids("P")
    members: list[_Member] = []
    fathers: list[tuple[Part, ...]] = []
    for _ in range(households):
        father_given = _distinct_given(rng, True, fathers)
        fathers.append(father_given)
        household_id, father_id = ids("H", 6), ids("P")
        fam = {**base, "father": father_given, "grandfather": grandfather}
        if fathers[1:] and rng.random() < 0.3:  # cousins who moved to another district
            fam["district"] = rng.choice(places)
        size = rng.choices(SIZES, weights=SIZE_WEIGHTS)[0]
        country = rng.choices(range(len(_COUNTRIES)), weights=[c[2] for c in _COUNTRIES])[0]
        phone = _phone(rng, _COUNTRIES[country][1]) if rng.random() < shared_phone else None
        eldest = dt.date(1962, 1, 1) + dt.timedelta(days=rng.randrange(365 * 30))
        twin_at = rng.randrange(1, size) if rng.random() < twin_rate else -1
        dob, birth_id = eldest, ids("B")
        names: list[tuple[Part, ...]] = []
        for i in range(size):
            if i and i != twin_at:
                dob, birth_id = dob + dt.timedelta(days=rng.randint(365, 3 * 365)), ids("B")
            p = _person(rng, fam, 0)
            male = rng.random() < 0.8
            given = _distinct_given(rng, male, names, avoid=(father_given, grandfather))
            names.append(given)
            p = replace(p, person_id=ids("P"), male=male, given=given, dob=dob, country=country,
                        title=p.title if male else None)
            if phone is not None:
                p = replace(p, phones=(phone, *p.phones[1:]))
            elif rng.random() < 0.2:
                p = replace(p, phones=())
            if rng.random() < no_id_rate:
                p = _no_ids(p)
            members.append(_Member(p, _truth(p, household_id=household_id, clan_id=clan_id, father_id=father_id,
                                             birth_id=birth_id, role="child", true_phone=phone or ""), phone))
        if rng.random() < father_rate:  # the father registered too, with his own father and grandfather
            fam_f = {**base, "father": grandfather, "grandfather": great, "district": fam["district"]}
            p = _person(rng, fam_f, 0)
            born = eldest - dt.timedelta(days=rng.randint(20 * 365, 38 * 365))
            p = replace(p, person_id=father_id, male=True, given=father_given, dob=born, country=country,
                        phones=(phone, *p.phones[1:]) if phone else p.phones)
            if rng.random() < no_id_rate:
                p = _no_ids(p)
            members.append(_Member(p, _truth(p, household_id=household_id, clan_id=clan_id, father_id=grandfather_id,
                                             role="father", generation="1", true_phone=phone or ""), phone))
    return members


def _intermediary(rng: random.Random, places: list, ids: _Ids, *, no_id_rate: float) -> list[_Member]:
    """20–200 unrelated men one commander registered from his own phone, all from one province."""
    group_id = ids("I", 4)
    province = rng.choice(places)[2]
    local = [d for d in places if d[2] == province]
    country = rng.choices(range(len(_COUNTRIES)), weights=[c[2] for c in _COUNTRIES])[0]
    phone = _phone(rng, _COUNTRIES[country][1])
    members = []
    for _ in range(rng.randint(20, 200)):
        fam = _new_family(rng, local, 0)
        fam["father"] = (Part("plain", rng.choice(COMMON_FATHERS)),)
        p = _person(rng, fam, 0)
        p = replace(p, person_id=ids("P"), male=True, phones=(phone, *p.phones[1:]),
                    given=p.given if p.male else _given(rng, True))
        if rng.random() < no_id_rate:
            p = _no_ids(p)
        members.append(_Member(p, _truth(p, household_id=ids("H", 6), clan_id=ids("C", 6), father_id=ids("P"),
                                         role="intermediary", group_id=group_id, true_phone=phone), phone, 0.6))
    return members


def _namesakes(rng: random.Random, places: list, ids: _Ids, of: _Member, *, no_id_rate: float) -> list[_Member]:
    """1–2 strangers with ``of``'s given name and other fathers."""
    namesake_id = ids("N", 5)
    of.truth["namesake_id"] = namesake_id
    out = []
    for _ in range(rng.choice((1, 1, 2))):
        fam = _new_family(rng, places, 0)
        while _key(fam["father"]) == _key(of.person.father):  # type: ignore[arg-type]
            fam["father"] = _given(rng, True)
        p = _person(rng, fam, 0)
        p = replace(p, person_id=ids("P"), male=True, given=of.person.given)
        if rng.random() < no_id_rate:
            p = _no_ids(p)
        out.append(_Member(p, _truth(p, household_id=ids("H", 6), clan_id=ids("C", 6), father_id=ids("P"),
                                     role="namesake", namesake_id=namesake_id, true_phone=""), None))
    return out


def generate_households(n_households: int, *, seed: int, dup_rate: float = 0.2, shared_phone: float = 0.7,
                        twin_rate: float = 0.05, cousin_rate: float = 0.25, father_rate: float = 0.2,
                        no_id_rate: float = 0.4, namesake_rate: float = 0.02, households_per_group: int = 250,
                        new_phone_rate: float = 0.3) -> list[dict[str, str]]:
    """About ``n_households`` sibling households (cousins' households counted in), one
    intermediary group per ``households_per_group`` of them, and namesakes; every person
    registered once, ``dup_rate`` of them 2–4 times (a later registration from another phone
    in ``new_phone_rate`` of them). Records are shuffled."""
    rng = random.Random(seed)
    places = _places(rng)
    ids = _Ids()
    members: list[_Member] = []
    made = 0
    while made < n_households:
        n = 2 if made + 1 < n_households and rng.random() < cousin_rate else 1
        members += _clan(rng, places, ids, households=n, no_id_rate=no_id_rate, shared_phone=shared_phone,
                         twin_rate=twin_rate, father_rate=father_rate)
        made += n
    sons = [m for m in members if m.truth["role"] == "child" and m.person.male]
    for of in rng.sample(sons, round(len(sons) * namesake_rate)):
        members += _namesakes(rng, places, ids, of, no_id_rate=no_id_rate)
    for _ in range(max(1, round(n_households / households_per_group))):
        members += _intermediary(rng, places, ids, no_id_rate=no_id_rate)
    # birth_id marks twins only: a birth with one child keeps it empty
    births: dict[str, int] = defaultdict(int)
    for m in members:
        births[m.truth["birth_id"]] += 1
    records: list[dict[str, str]] = []
    for m in members:
        birth = m.truth["birth_id"]
        if birth and births[birth] < 2:
            m.truth["birth_id"] = ""
        copies = 1 + (rng.choices((1, 2, 3), weights=(70, 20, 10))[0] if rng.random() < dup_rate else 0)
        for c in range(copies):
            r = _record(rng, m.person, len(records))
            if c and rng.random() < new_phone_rate:  # registered again from another phone
                r["phone"] = _phone_text(rng, _phone(rng, _COUNTRIES[m.person.country][1]))
            elif m.phone:
                r["phone"] = _phone_text(rng, m.phone)
            if m.no_date and rng.random() < m.no_date:
                r.pop("date_of_birth", None)
            r.update(m.truth)
            r["registration"] = str(c + 1)
            records.append(r)
    rng.shuffle(records)
    return records


def relation(a: Mapping[str, str], b: Mapping[str, str]) -> str:
    """The true relation of two records: one of CLASSES, or "other"."""
    if a["person_id"] == b["person_id"]:
        return "same_person"
    if a["birth_id"] and a["birth_id"] == b["birth_id"]:
        return "twins"
    if a["father_id"] == b["father_id"]:
        return "brothers" if a["sex"] == b["sex"] == "M" else "sisters"
    if a["father_id"] == b["person_id"] or b["father_id"] == a["person_id"]:
        return "father_son"
    if a["clan_id"] == b["clan_id"]:
        return "cousins" if a["generation"] == b["generation"] else "uncle_nephew"
    if a["group_id"] and a["group_id"] == b["group_id"]:
        return "intermediary"
    if a["namesake_id"] and a["namesake_id"] == b["namesake_id"]:
        return "namesakes"
    return "other"


def pairs_by_class(records: Sequence[Mapping[str, str]]) -> dict[str, np.ndarray]:
    """Every true record pair of each of CLASSES, as (i, j) positions in ``records`` (i < j), an
    int64 array of shape (k, 2) per class. Pairs are listed within a person, a clan, an
    intermediary group and a namesake group only: every relation but "other" lies inside one."""
    by_person: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        by_person[r["person_id"]].append(i)
    first = {pid: records[rows[0]] for pid, rows in by_person.items()}
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for pid, r in first.items():
        for col in ("clan_id", "group_id", "namesake_id"):
            if r[col]:
                groups[col, r[col]].append(pid)
    person_pairs: dict[tuple[str, str], str] = {}
    for pids in groups.values():
        for a, b in itertools.combinations(sorted(pids), 2):
            if (a, b) not in person_pairs:
                person_pairs[a, b] = relation(first[a], first[b])
    out: dict[str, list[tuple[int, int]]] = {c: [] for c in CLASSES}
    for rows in by_person.values():
        out["same_person"].extend(itertools.combinations(sorted(rows), 2))
    for (a, b), cls in person_pairs.items():
        if cls != "other":
            out[cls].extend((min(i, j), max(i, j)) for i in by_person[a] for j in by_person[b])
    return {c: np.array(v, dtype=np.int64).reshape(-1, 2) for c, v in out.items()}


def write_csv(records: list[dict[str, str]], path: Path) -> None:
    columns = [*FIELDS, *(c for c in TRUTH if c not in FIELDS)]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=Path("synthetic_households.csv"))
    args = parser.parse_args(argv)
    records = generate_households(args.households, seed=args.seed)
    write_csv(records, args.out)
    counts = {c: len(v) for c, v in pairs_by_class(records).items()}
    print(f"{len(records)} records -> {args.out}; true pairs: {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
