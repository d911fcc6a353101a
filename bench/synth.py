"""A seeded synthetic population of Afghan applicants, with the duplicates real intake produces.

    .venv/bin/python bench/synth.py --people 1000 --seed 7 --out /tmp/people.csv

``generate_population`` returns form records (the canonical field names) plus ``person_id`` (the
ground-truth cluster) and ``record_id``. A person registered more than once differs between records
the way real forms differ: Dari script vs Latin, romanisation house styles (Mohammad/Muhammad,
-ullah/-ulla/ Ullah, Abdul Rahman/Abdurrahman), Pashto letters and Arabic keyboards, ZWNJ/space/none
in compounds, titles added and dropped, Solar Hijri vs Gregorian and partial dates, ID typos and
formats, Persian digits, missing fields. Brothers share a father's and grandfather's name, a family
name and a district. No real person is described.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import jdatetime

try:  # imported as bench.synth or, with bench/ on sys.path, as synth
    from bench.afghan_names import ABD, FAMILY, FEMALE, HEADS, MALE, TITLES, ULLAH, NameSpec
except ImportError:  # pragma: no cover
    from afghan_names import ABD, FAMILY, FEMALE, HEADS, MALE, TITLES, ULLAH, NameSpec  # type: ignore[no-redef]

FIELDS = ("record_id", "person_id", "full_name", "full_name_latin", "father_name", "father_name_latin",
          "grandfather_name", "family_name", "gender", "date_of_birth", "place_of_birth", "province",
          "district", "tazkira_number", "tazkira_volume", "tazkira_page", "tazkira_record", "passport_number",
          "passport_mrz", "phone", "whatsapp_phone", "rank", "unit", "service_branch", "service_start",
          "service_end", "last_duty", "country_of_refuge", "refuge_entry_date", "current_city", "religion",
          "ethnicity")
_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_SH_MONTHS = ("Hamal", "Sawr", "Jawza", "Saratan", "Asad", "Sunbula", "Mizan", "Aqrab", "Qaws", "Jadi", "Dalw",
              "Hut")
_SH_MONTHS_PRS = ("حمل", "ثور", "جوزا", "سرطان", "اسد", "سنبله", "میزان", "عقرب", "قوس", "جدی", "دلو", "حوت")
_SH_MONTHS_PS = ("وری", "غویی", "غبرګولی", "چنګاښ", "زمری", "وږی", "تله", "لړم", "لیندۍ", "مرغومی", "سلواغه", "کب")
_G_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")
_RANKS = (("ډګروال", "Colonel", "Col."), ("جګړن", "Major", "Maj."), ("تورن", "Captain", "Capt."),
          ("لومړی بریدمن", "First Lieutenant", "1st Lt"), ("دوهم بریدمن", "Second Lieutenant", "2nd Lt"),
          ("بریدمل", "Sergeant", "Sgt"), ("سرباز", "Soldier", "Private"), ("ډګرمن", "Lieutenant Colonel", "Lt Col"))
_UNITS = (("کندک {n} لوای {b} قول اردوی ۲۰۳ تندر", "Kandak {n}, {b} Brigade, 203 Tandar Corps"),
          ("قول اردوی ۲۰۵ اتل", "205 Atal Corps"), ("کماندو", "ANA Commando"), ("کته خاص", "Ktah Khas"),
          ("پولیس سرحدی", "Afghan Border Police"), ("ریاست عمومی امنیت ملی", "NDS"),
          ("قوای هوایی", "Afghan Air Force"), ("ترجمان", "Interpreter"), ("تولی {n} کندک {b}", "Tolay {n}, Kandak {b}"))
_BRANCHES = (("اردوی ملی", "ANA"), ("پولیس ملی", "ANP"), ("امنیت ملی", "NDS"), ("قوای هوایی", "AAF"),
             ("قوای خاص", "Special Forces"))
_COUNTRIES = (("ایران", "Iran", 40), ("پاکستان", "Pakistan", 35), ("ترکیه", "Turkey", 6), ("آلمان", "Germany", 5),
              ("امریکا", "USA", 5), ("انگلستان", "UK", 3), ("کانادا", "Canada", 2), ("قطر", "Qatar", 2),
              ("امارات", "UAE", 2))
_CITIES = {"Iran": ("Tehran", "Mashhad", "Isfahan", "Shiraz"), "Pakistan": ("Peshawar", "Islamabad", "Quetta"),
           "Turkey": ("Istanbul", "Ankara"), "Germany": ("Berlin", "Hamburg")}


def _pick(rng: random.Random, specs: tuple[NameSpec, ...]) -> NameSpec:
    return rng.choices(specs, weights=[s.weight for s in specs])[0]


def _spelling(rng: random.Random, spec: NameSpec) -> str:
    return spec.latin[0] if len(spec.latin) == 1 or rng.random() < 0.55 else rng.choice(spec.latin[1:])


@dataclass(frozen=True)
class Part:
    """One written name part: plain, an -ullah compound, or an عبد… compound."""

    kind: str
    spec: NameSpec


def _given(rng: random.Random, male: bool) -> tuple[Part, ...]:
    if not male:
        return (Part("plain", _pick(rng, FEMALE)),)
    r = rng.random()
    if r < 0.33:
        return Part("plain", _pick(rng, HEADS[:-1])), Part("plain", _pick(rng, MALE))
    if r < 0.53:
        return (Part("abd", _pick(rng, ABD)),)
    if r < 0.73:
        return (Part("ullah", _pick(rng, ULLAH)),)
    return (Part("plain", _pick(rng, MALE)),)


def _dari_letters(rng: random.Random, text: str, pashto: bool) -> str:
    if pashto and rng.random() < 0.6:  # a Pashto writer: Pashto letters where Pashto spells the sound
        text = text.replace("گ", "ګ")
        if rng.random() < 0.3:
            text = text.replace("ش", "ښ")
        if rng.random() < 0.2:
            text = text.replace("یر", "ېر").replace("یم", "ېم")
        if text.endswith("زی"):
            text = text[:-1] + rng.choice("ۍیې")
    if rng.random() < 0.08:  # an Arabic keyboard
        text = text.replace("ی", "ي").replace("ک", "ك")
    if rng.random() < 0.03:
        text = text.replace("محمد", "محمّد")
    return text


def _dari(rng: random.Random, parts: tuple[Part, ...], pashto: bool) -> str:
    words = []
    for p in parts:
        if p.kind == "ullah":
            words.append(p.spec.dari + rng.choice(["\u200c", "\u200c", "", " "]) + "الله")
        elif p.kind == "abd":
            words.append("عبد" + rng.choice(["", "", "", " "]) + p.spec.dari)
        else:
            words.append(p.spec.dari.replace(" ", rng.choice([" ", "", "\u200c"])))
    return _dari_letters(rng, " ".join(words), pashto)


def _latin_part(rng: random.Random, p: Part, style: int) -> str:
    if p.kind == "ullah":
        base = _spelling(rng, p.spec)
        return base + rng.choice(["ullah", "ullah", "ullah", "ulla", " Ullah", "-ullah", "ollah", "ulah"])
    if p.kind == "abd":
        if p.spec.dari == "الله":
            return rng.choice(["Abdullah", "Abdullah", "Abdulla", "Abdollah"])
        tail = _spelling(rng, p.spec)
        sun = tail[0].lower() in "tdrzsnl"
        forms = ["Abdul " + tail, "Abdul" + tail.lower(), "Abdul-" + tail, "Abd al-" + tail]
        if sun:
            forms.append("Abd" + ("u" + tail[0].lower()) + tail.lower())
        forms.append(("Abdol" if style == 2 else "Abdel") + tail.lower())
        weights = [5, 2, 1, 0.3] + ([2] if sun else []) + [0.5]
        return rng.choices(forms, weights=weights)[0]
    name = _spelling(rng, p.spec)
    if style == 1 and rng.random() < 0.3:  # a double-letter house style: Gull, Sayyid
        name = name.replace("Gul", "Gull").replace("Sayed", "Sayyid")
    return name


def _latin(rng: random.Random, parts: tuple[Part, ...]) -> str:
    style = rng.randrange(3)
    text = " ".join(_latin_part(rng, p, style) for p in parts)
    return text.upper() if rng.random() < 0.15 else text


@dataclass
class Person:
    person_id: str
    male: bool
    pashto: bool
    given: tuple[Part, ...]
    father: tuple[Part, ...]
    grandfather: tuple[Part, ...]
    family: NameSpec | None
    title: NameSpec | None
    dob: dt.date
    district: tuple[str, str, str, str]  # district en, prs, province en, prs
    tazkira: tuple[str, ...]
    passport: str | None
    phones: tuple[str, ...]
    rank: int
    unit: int
    country: int
    entry: dt.date


def _sh(d: dt.date) -> jdatetime.date:
    return jdatetime.date.fromgregorian(date=d)


def _digits(rng: random.Random, text: str, p: float = 0.4) -> str:
    return text.translate(_PERSIAN) if rng.random() < p else text


def _date_text(rng: random.Random, d: dt.date, *, partial: float = 0.45) -> str:
    j = _sh(d)
    r = rng.random()
    if r < partial * 0.75:
        return _digits(rng, str(j.year) + rng.choice(["", "", " ه.ش"]))
    if r < partial:
        return str(d.year) if rng.random() < 0.7 else _digits(rng, f"{j.year}/{j.month}")
    r = rng.random()
    if r < 0.25:
        padded = rng.random() < 0.5
        return _digits(rng, f"{j.year}/{j.month:02d}/{j.day:02d}" if padded else f"{j.year}/{j.month}/{j.day}")
    if r < 0.4:
        return f"{j.day} {_SH_MONTHS[j.month - 1]} {j.year}"
    if r < 0.5:
        return _digits(rng, f"{j.day} {rng.choice([_SH_MONTHS_PRS, _SH_MONTHS_PS])[j.month - 1]} {j.year}", 0.7)
    if r < 0.75:
        return d.isoformat()
    if r < 0.9:
        return f"{d.day}/{d.month}/{d.year}"
    return f"{d.day} {_G_MONTHS[d.month - 1]} {d.year}"


def _typo(rng: random.Random, digits: str) -> str:
    if len(digits) < 2:
        return digits
    i = rng.randrange(len(digits) - 1)
    if rng.random() < 0.5:
        return digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:]
    return digits[:i] + str((int(digits[i]) + rng.randint(1, 9)) % 10) + digits[i + 1:]


def _mrz(p: Person) -> str:
    from mrz.generator.td3 import TD3CodeGenerator

    # The passport spells the name one way; a fixed house style stands in for it.
    given = " ".join(_latin_part(random.Random(0), part, 0) for part in p.given)
    given = "".join(c if c.isalpha() else " " for c in given)
    surname = p.family.latin[0].replace(" ", "") if p.family else "XX"
    return str(TD3CodeGenerator("P", "AFG", surname, " ".join(given.split()), p.passport or "",
                                "AFG", p.dob.strftime("%y%m%d"), "M" if p.male else "F", "300101", ""))


def _places(rng: random.Random) -> list[tuple[str, str, str, str]]:
    from amanat.normalize.places import districts, provinces

    prov = {p.pcode: p for p in provinces()}
    return [(d.name_en, d.name_prs, prov[d.province_pcode].name_en, prov[d.province_pcode].name_prs)
            for d in districts()]


def _phone(rng: random.Random, country: str) -> str:
    if country == "Iran" and rng.random() < 0.7:
        return "09" + rng.choice(["12", "13", "19", "35", "01", "10"]) + "".join(rng.choices("0123456789", k=7))
    if country == "Pakistan" and rng.random() < 0.7:
        return "03" + rng.choice(["00", "01", "11", "21", "33", "45"]) + "".join(rng.choices("0123456789", k=7))
    return "07" + rng.choice("0123456789") + "".join(rng.choices("0123456789", k=7))


def _phone_text(rng: random.Random, national: str) -> str:
    cc = {"07": "93", "09": "98", "03": "92"}[national[:2]]
    r = rng.random()
    if r < 0.45:
        text = national
    elif r < 0.75:
        text = f"+{cc} {national[1:4]} {national[4:7]} {national[7:]}"
    elif r < 0.9:
        text = f"00{cc}{national[1:]}"
    else:
        text = f"{national[:4]}-{national[4:7]}-{national[7:]}"
    return _digits(rng, text, 0.35)


def _new_family(rng: random.Random, places: list[tuple[str, str, str, str]], fid: int) -> dict[str, object]:
    return {"father": _given(rng, True), "grandfather": _given(rng, True),
            "family": _pick(rng, FAMILY) if rng.random() < 0.8 else None,
            "district": rng.choice(places), "pashto": rng.random() < 0.4,
            "volume": str(rng.randint(1, 400)), "fid": fid}


def _person(rng: random.Random, fam: dict[str, object], pid: int) -> Person:
    male = rng.random() < 0.88
    country = rng.choices(range(len(_COUNTRIES)), weights=[c[2] for c in _COUNTRIES])[0]
    dob = dt.date(1962, 1, 1) + dt.timedelta(days=rng.randrange(365 * 42))
    if rng.random() < 0.6:
        tazkira: tuple[str, ...] = ("e", f"{rng.randint(1397, 1401)}{rng.randrange(10**9):09d}")
    else:
        tazkira = ("paper", str(fam["volume"]), str(rng.randint(1, 300)), str(rng.randint(1, 9000)))
    passport = f"P{rng.randrange(10**8):08d}" if rng.random() < 0.45 else None
    phones = tuple(_phone(rng, _COUNTRIES[country][1]) for _ in range(rng.choice([1, 1, 2])))
    entry = dt.date(2021, 8, 15) + dt.timedelta(days=rng.randrange(700))
    return Person(f"P{pid:07d}", male, bool(fam["pashto"]), _given(rng, male), fam["father"], fam["grandfather"],  # type: ignore[arg-type]
                  fam["family"], _pick(rng, TITLES) if male and rng.random() < 0.15 else None, dob,  # type: ignore[arg-type]
                  fam["district"], tazkira, passport, phones, rng.randrange(len(_RANKS)),  # type: ignore[arg-type]
                  rng.randrange(len(_UNITS)), country, entry)


def _record(rng: random.Random, p: Person, rid: int) -> dict[str, str]:
    r: dict[str, str] = {"record_id": f"R{rid:08d}", "person_id": p.person_id}
    dari = rng.random() < 0.62  # the form is mostly filled in Dari script
    title_dari = title_latin = ""
    if p.title is not None and rng.random() < 0.5:
        title_dari, title_latin = p.title.dari + " ", rng.choice(p.title.latin) + " "
    family = p.family
    with_family = family is not None and rng.random() < 0.2
    if dari:
        tail = " " + family.dari if with_family and family else ""
        r["full_name"] = title_dari + _dari(rng, p.given, p.pashto) + tail
        if rng.random() < 0.5:
            r["full_name_latin"] = _latin(rng, p.given)
    else:
        tail = " " + _spelling(rng, family) if with_family and family else ""
        r["full_name"] = title_latin + _latin(rng, p.given) + tail
    late = rng.random() < 0.1
    if rng.random() < 0.7:
        r["father_name"] = ("مرحوم " if late else "") + _dari(rng, p.father, p.pashto)
        if rng.random() < 0.3:
            r["father_name_latin"] = _latin(rng, p.father)
    else:
        r["father_name"] = ("Late " if late else "") + _latin(rng, p.father)
    if rng.random() < 0.6:
        r["grandfather_name"] = _dari(rng, p.grandfather, p.pashto) if dari else _latin(rng, p.grandfather)
    if family is not None and rng.random() < 0.7:
        r["family_name"] = _dari_letters(rng, family.dari, p.pashto) if dari else _spelling(rng, family)
    if rng.random() < 0.85:
        r["gender"] = rng.choice(["male", "مرد", "M", "نارینه", "Male"] if p.male else ["female", "زن", "F", "ښځه"])
    if rng.random() < 0.93:
        r["date_of_birth"] = _date_text(rng, p.dob)
    d_en, d_prs, p_en, p_prs = p.district
    if rng.random() < 0.8:
        r["province"] = p_prs if dari and rng.random() < 0.8 else p_en
    if rng.random() < 0.7:
        r["district"] = d_prs if dari and rng.random() < 0.8 else d_en
    if rng.random() < 0.5:
        r["place_of_birth"] = rng.choice([d_en, d_prs, p_en, p_prs])
    if p.tazkira[0] == "e" and rng.random() < 0.8:
        digits = p.tazkira[1] if rng.random() > 0.05 else _typo(rng, p.tazkira[1])
        text = f"{digits[:4]}-{digits[4:8]}-{digits[8:]}" if rng.random() < 0.6 else digits
        r["tazkira_number"] = _digits(rng, text)
    elif p.tazkira[0] == "paper" and rng.random() < 0.75:
        r["tazkira_volume"], r["tazkira_page"], r["tazkira_record"] = (_digits(rng, x, 0.5) for x in p.tazkira[1:])
    if p.passport and rng.random() < 0.75:
        number = p.passport if rng.random() > 0.03 else "P" + _typo(rng, p.passport[1:])
        r["passport_number"] = number if rng.random() < 0.7 else f"{number[:1]} {number[1:5]} {number[5:]}".lower()
        if rng.random() < 0.12:
            r["passport_mrz"] = _mrz(p)
    for key, phone in zip(("phone", "whatsapp_phone"), p.phones, strict=False):
        if rng.random() < 0.85:
            r[key] = _phone_text(rng, phone)
    rank = _RANKS[p.rank]
    if rng.random() < 0.8:
        r["rank"] = rank[0] if dari else rng.choice(rank[1:])
    unit = _UNITS[p.unit]
    if rng.random() < 0.7:
        r["unit"] = (unit[0] if dari else unit[1]).format(n=1 + p.unit % 4, b=1 + p.rank % 3)
    if rng.random() < 0.5:
        r["service_branch"] = rng.choice(_BRANCHES)[0 if dari else 1]
    start = dt.date(2003, 1, 1) + dt.timedelta(days=(p.dob.toordinal() * 7) % 4000)
    if rng.random() < 0.7:
        r["service_start"] = _date_text(rng, start, partial=0.6)
    if rng.random() < 0.6:
        r["service_end"] = _date_text(rng, dt.date(2021, 8, 15), partial=0.3)
    if rng.random() < 0.3:
        r["last_duty"] = "قوماندان تولی" if dari else "Company commander"
    c_prs, c_en, _ = _COUNTRIES[p.country]
    if rng.random() < 0.85:
        r["country_of_refuge"] = c_prs if dari else c_en
    if rng.random() < 0.7:
        r["refuge_entry_date"] = _date_text(rng, p.entry, partial=0.2)
    if rng.random() < 0.5:
        r["current_city"] = rng.choice(_CITIES.get(c_en, ("",)))
    if rng.random() < 0.2:
        r["religion"] = "اسلام" if dari else "Islam"
    return {k: v for k, v in r.items() if v}


def generate_population(n_people: int, *, seed: int, dup_rate: float = 0.2) -> list[dict]:
    """Records for ``n_people`` people; a share ``dup_rate`` of them is registered 2–4 times."""
    rng = random.Random(seed)
    places = _places(rng)
    people: list[Person] = []
    fid = 0
    while len(people) < n_people:
        fam = _new_family(rng, places, fid)
        fid += 1
        for _ in range(rng.choices((1, 2, 3), weights=(70, 20, 10))[0]):  # brothers and sisters
            if len(people) < n_people:
                people.append(_person(rng, fam, len(people)))
    records: list[dict] = []
    for p in people:
        copies = 1 + (rng.choices((1, 2, 3), weights=(70, 20, 10))[0] if rng.random() < dup_rate else 0)
        for _ in range(copies):
            records.append(_record(rng, p, len(records)))
    rng.shuffle(records)
    return records


def write_csv(records: list[dict], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dup-rate", type=float, default=0.2)
    parser.add_argument("--out", type=Path, default=Path("synthetic_people.csv"))
    args = parser.parse_args(argv)
    records = generate_population(args.people, seed=args.seed, dup_rate=args.dup_rate)
    write_csv(records, args.out)
    print(f"{len(records)} records for {args.people} people -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    raise SystemExit(main())
