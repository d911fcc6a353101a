"""One service-record form, normalised field by field.

A field that fails to normalise becomes an entry in ``issues`` (field name, reason) and the rest of
the record is kept: one bad date must not lose a person. ``normalize_record`` never raises on a
mapping of strings; values of other types are recorded as issues.

One field reads another: a father's name written into the full name ("… s/o Abdul Karim", "… ولد
عبدالکریم") fills an empty father's name field (``father_part``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TypeVar

from amanat.errors import AmanatError
from amanat.normalize.date_checks import ISSUE_REASONS, order_problems
from amanat.normalize.dates import DateNorm
from amanat.normalize.dates import _parse as _date
from amanat.normalize.ids import IdNorm, paper_tazkira
from amanat.normalize.ids import _mrz as parse_mrz
from amanat.normalize.ids import _passport as normalize_passport
from amanat.normalize.ids import _tazkira as normalize_tazkira
from amanat.normalize.names import NameNorm
from amanat.normalize.names import _normalize as _name
from amanat.normalize.phones import DEFAULT_REGIONS
from amanat.normalize.phones import _normalize as _phone
from amanat.normalize.places import PlaceMatch, _district, _province
from amanat.normalize.places import _country as lookup_country
from amanat.normalize.ranks import _rank as lookup_rank
from amanat.normalize.ranks import _unit as lookup_unit
from amanat.normalize.script import fold

__all__ = ["FORM_FIELDS", "NAME_FIELDS", "NormalizedRecord", "father_part", "normalize_gender", "normalize_record"]

NAME_FIELDS: tuple[str, ...] = ("full_name", "father_name", "grandfather_name", "family_name")
_NAME_PAIRS = tuple((part, f"{part}_latin") for part in NAME_FIELDS)
# The record calls the cached implementations directly: its values are already checked to be text.
# The form's canonical field names (shared across the product); other keys are ignored.
FORM_FIELDS: tuple[str, ...] = (
    "full_name", "full_name_latin", "father_name", "father_name_latin", "grandfather_name", "grandfather_name_latin",
    "family_name", "family_name_latin", "gender", "date_of_birth", "place_of_birth", "province", "district",
    "tazkira_number", "tazkira_volume", "tazkira_page", "tazkira_record", "passport_number", "passport_mrz",
    "phone", "whatsapp_phone", "rank", "unit", "service_branch", "service_start", "service_end", "last_duty",
    "country_of_refuge", "refuge_entry_date", "current_city", "religion", "ethnicity",
)
_FORM_SET = frozenset(FORM_FIELDS)
_MIN_PLACE_CONFIDENCE = 0.5
T = TypeVar("T")

_GENDER: dict[str, str] = {}
for _code, _words in {
    "m": "m male man boy mr مرد نر ذکور ذکر مذکر نارینه سړی پسر آقا",
    "f": "f female woman girl mrs ms زن ماده اناث مونث مؤنث ښځه زنانه ښځینه دختر خانم بانو نجلۍ",
    "x": "x other nonbinary non-binary دیگر سایر نور",
}.items():
    for _w in _words.split():
        _GENDER[fold(_w)] = _code


@dataclass(frozen=True, slots=True)
class NormalizedRecord:
    names: dict[str, NameNorm] = field(default_factory=dict)
    dob: DateNorm | None = None
    gender: str | None = None
    tazkira: IdNorm | None = None
    passport: IdNorm | None = None
    phones: tuple[str, ...] = ()
    province_pcode: str | None = None
    district_pcode: str | None = None
    birth_pcode: str | None = None
    country_iso2: str | None = None
    refuge_entry: DateNorm | None = None
    service_start: DateNorm | None = None
    service_end: DateNorm | None = None
    rank_code: str | None = None
    unit_code: str | None = None
    service_code: str | None = None
    issues: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, object]:
        def opt(v: DateNorm | IdNorm | None) -> dict[str, object] | None:
            return v.to_dict() if v is not None else None

        return {
            "names": {k: v.to_dict() for k, v in self.names.items()},
            "dob": opt(self.dob), "gender": self.gender, "tazkira": opt(self.tazkira),
            "passport": opt(self.passport), "phones": list(self.phones), "province_pcode": self.province_pcode,
            "district_pcode": self.district_pcode, "birth_pcode": self.birth_pcode,
            "country_iso2": self.country_iso2, "refuge_entry": opt(self.refuge_entry),
            "service_start": opt(self.service_start), "service_end": opt(self.service_end),
            "rank_code": self.rank_code, "unit_code": self.unit_code, "service_code": self.service_code,
            "issues": [list(i) for i in self.issues],
        }

    def exact_keys(self) -> dict[str, list[str]]:
        """Valid normalised identifiers to blind-index for exact lookup."""
        return {
            "tazkira": [self.tazkira.value] if self.tazkira is not None and self.tazkira.valid else [],
            "passport": [self.passport.value] if self.passport is not None and self.passport.valid else [],
            "phone": list(self.phones),
        }


@lru_cache(maxsize=1024)
def normalize_gender(raw: str) -> str | None:
    """"m", "f" or "x" from free text in English, Dari or Pashto; None if not recognised."""
    return _GENDER.get(fold(raw).strip(" ."))


def _merge_names(script: NameNorm | None, latin: NameNorm | None) -> NameNorm | None:
    """One name from the form's Dari field and its Latin field: keys from both, romanisation from Latin."""
    if script is None or script.script == "empty":
        return latin if latin is not None and latin.script != "empty" else None
    if latin is None or latin.script == "empty":
        return script
    tokens = tuple(dict.fromkeys((*script.tokens, *latin.tokens)))
    titles = tuple(dict.fromkeys((*script.titles, *latin.titles)))
    relatives = tuple(dict.fromkeys((*script.relatives, *latin.relatives)))
    return NameNorm(script.display, titles, script.folded, latin.latin, script.phonetic, tokens,
                    "mixed" if script.script != latin.script else script.script, relatives)


@lru_cache(maxsize=65536)
def _name_pair(raw: str | None, raw_latin: str | None) -> NameNorm | None:
    return _merge_names(_name(raw) if raw else None, _name(raw_latin) if raw_latin else None)


def _place(match: PlaceMatch | None) -> str | None:
    return match.pcode if match is not None and match.confidence >= _MIN_PLACE_CONFIDENCE else None


def normalize_record(fields: Mapping[str, object]) -> NormalizedRecord:
    """Normalise a form's canonical fields; unknown keys are ignored, failures become issues."""
    issues: list[tuple[str, str]] = []
    try:
        return _normalize(fields, issues)
    except Exception:  # a bug in one normaliser must not lose the record either
        issues.append(("record", "record: normalisation failed unexpectedly"))
        return NormalizedRecord(issues=tuple(issues))


def _try(name: str, issues: list[tuple[str, str]], fn: Callable[..., T], *args: object) -> T | None:
    try:
        return fn(*args)
    except AmanatError as exc:
        issues.append((name, exc.public_message))
        return None


def clean_text(value: object) -> str | None:
    """A form value as ``_normalize`` keeps it: stripped text, else None (empty or not text)."""
    if value and isinstance(value, str):
        return value.strip() or None
    return None


# The form's field groups, each normalised on its own: a batch memoises a group on its raw values
# (names, dates and places repeat heavily in a population), and the record is built from the same
# functions, so both give the same output.
Text = Callable[[str], "str | None"]


def name_part(raw: str | None, raw_latin: str | None) -> NameNorm | None:
    """One name part from its script and Latin fields (either may be None)."""
    if raw is None or raw_latin is None:  # one spelling only, the usual case: no merge to cache
        one = raw or raw_latin
        if one is not None and (name := _name(one)).script != "empty":
            return name
        return None
    return _name_pair(raw, raw_latin)


def _written_father(raw_full: str | None, raw_full_latin: str | None) -> NameNorm | None:
    """The father's name written into the full name (its script and Latin fields), if any."""
    full = _name(raw_full) if raw_full else None
    full_latin = _name(raw_full_latin) if raw_full_latin else None
    script = full.relative("father") if full is not None and full.relatives else None
    latin = full_latin.relative("father") if full_latin is not None and full_latin.relatives else None
    return name_part(script, latin) if script or latin else None


def _same_person(a: NameNorm, b: NameNorm) -> bool:
    """Two spellings of one name, give or take a part ("Karim" / "Mohammad Karim")."""
    x, y = set(a.tokens), set(b.tokens)
    return a.phonetic == b.phonetic or x <= y or y <= x


def father_part(raw: str | None, raw_latin: str | None, raw_full: str | None, raw_full_latin: str | None,
                issues: list[tuple[str, str]]) -> NameNorm | None:
    """The father's name from its own fields; where they are empty, the one written into the full
    name ("Mohammad Nabi s/o Abdul Karim"). A given father's name is never replaced: if the full
    name names another, that is noted in ``issues`` (without either value)."""
    given = name_part(raw, raw_latin)
    if raw_full is None and raw_full_latin is None:  # no full name: nothing to read
        return given
    written = _written_father(raw_full, raw_full_latin)
    if written is None:
        return given
    if given is None:
        return written
    if not _same_person(given, written):
        issues.append(("father_name", "father_name: differs from the father's name written in the full name"))
    return given


def date_part(name: str, raw: str | None, issues: list[tuple[str, str]]) -> DateNorm | None:
    if raw is None:
        return None
    try:
        return _date(raw, None)
    except AmanatError as exc:
        issues.append((name, exc.public_message))
        return None


def gender_part(raw: str | None, issues: list[tuple[str, str]]) -> str | None:
    if not raw:
        return None
    gender = normalize_gender(raw)
    if gender is None:
        issues.append(("gender", "gender: not recognised"))
    return gender


def tazkira_part(text: Text, issues: list[tuple[str, str]]) -> IdNorm | None:
    """From tazkira_number and the paper tazkira's volume, page and record."""
    tazkira = None
    raw_tazkira = text("tazkira_number")
    if raw_tazkira:
        tazkira = _try("tazkira_number", issues, normalize_tazkira, raw_tazkira)
    paper = [text("tazkira_volume"), text("tazkira_page"), text("tazkira_record")]
    if any(paper):
        paper_id = _try("tazkira_volume", issues, paper_tazkira, *paper)
        if tazkira is None or not tazkira.valid:
            tazkira = paper_id
    if tazkira is not None and not tazkira.valid:
        issues.extend(("tazkira_number", r) for r in tazkira.reasons)
    return tazkira


def passport_part(text: Text, issues: list[tuple[str, str]]) -> IdNorm | None:
    """From passport_number and passport_mrz."""
    passport = None
    raw_passport = text("passport_number")
    if raw_passport:
        passport = _try("passport_number", issues, normalize_passport, raw_passport)
        if passport is not None and not passport.valid:
            issues.extend(("passport_number", r) for r in passport.reasons)
    raw_mrz = text("passport_mrz")
    if raw_mrz:
        mrz = _try("passport_mrz", issues, parse_mrz, raw_mrz)
        if mrz is not None:
            issues.extend(("passport_mrz", r) for r in mrz.reasons)
            if mrz.valid and mrz.passport is not None:
                if passport is not None and passport.valid and passport.value != mrz.passport.value:
                    issues.append(("passport_number", "passport: the number differs from the one in the MRZ"))
                if passport is None or not passport.valid:
                    passport = mrz.passport
    return passport


def phones_part(text: Text, issues: list[tuple[str, str]]) -> tuple[str, ...]:
    """Valid E.164 numbers from phone and whatsapp_phone, deduplicated in order."""
    phones: list[str] = []
    for name in ("phone", "whatsapp_phone"):
        raw = text(name)
        if raw:
            try:
                phone = _phone(raw, DEFAULT_REGIONS)
            except AmanatError as exc:
                issues.append((name, exc.public_message))
                continue
            if phone.valid and phone.e164:
                if phone.e164 not in phones:
                    phones.append(phone.e164)
            else:
                issues.extend((name, r) for r in phone.reasons)
    return tuple(phones)


def home_part(text: Text, issues: list[tuple[str, str]]) -> tuple[str | None, str | None]:
    """(province, district) P-codes from province and district."""
    province = district = None
    raw = text("province")
    if raw:
        province = _place(_province(raw))
        if province is None:
            issues.append(("province", "province: not found in the gazetteer"))
    raw = text("district")
    if raw:
        district = _place(_district(raw, province or ""))
        if district is None:
            issues.append(("district", "district: not found in the gazetteer"))
        elif province is None:
            province = district[:4]
    return province, district


def birth_part(raw: str | None) -> str | None:
    return (_place(_district(raw, "")) or _place(_province(raw))) if raw else None


def _normalize(fields: Mapping[str, object], issues: list[tuple[str, str]]) -> NormalizedRecord:
    # Empty values (None, "", an empty CSV cell) carry nothing; unknown keys are ignored.
    values: dict[str, str] = {}
    for key, value in fields.items():
        if value and key in _FORM_SET:
            if isinstance(value, str):
                value = value.strip()
                if value:
                    values[key] = value
            else:
                issues.append((key, f"{key}: expected text"))
    text = values.get

    names: dict[str, NameNorm] = {}
    for part, latin_field in _NAME_PAIRS:
        if part == "father_name":
            name = father_part(text(part), text(latin_field), text("full_name"), text("full_name_latin"), issues)
        else:
            name = name_part(text(part), text(latin_field))
        if name is not None:
            names[part] = name

    gender = gender_part(text("gender"), issues)
    tazkira = tazkira_part(text, issues)
    passport = passport_part(text, issues)
    phones = phones_part(text, issues)
    province, district = home_part(text, issues)
    birth = birth_part(text("place_of_birth"))

    country = None
    raw = text("country_of_refuge")
    if raw:
        hit = lookup_country(raw)
        country = hit.iso2 if hit is not None else None
        if country is None:
            issues.append(("country_of_refuge", "country: not recognised"))

    rank = text("rank")
    rank_hit = lookup_rank(rank) if rank else None
    unit_raw, branch_raw = text("unit"), text("service_branch")
    unit_hit = lookup_unit(unit_raw) if unit_raw else None
    branch_hit = lookup_unit(branch_raw) if branch_raw else None
    service = (branch_hit.service if branch_hit else None) or (unit_hit.service if unit_hit else None)

    dates = {name: date_part(name, text(name), issues)
             for name in ("date_of_birth", "refuge_entry_date", "service_start", "service_end")}
    # Dates that read but cannot be true (a birth in 2035, a service that ends before it began) are kept and
    # flagged: an import is not refused for them, as the web form is.
    known = {name: d for name, d in dates.items() if d is not None}
    for name, problem in order_problems(known, dt.datetime.now(dt.UTC).date()).items():
        issues.append((name, ISSUE_REASONS[problem]))
    return NormalizedRecord(
        names=names, dob=dates["date_of_birth"], gender=gender,
        tazkira=tazkira, passport=passport, phones=phones, province_pcode=province, district_pcode=district,
        birth_pcode=birth, country_iso2=country,
        refuge_entry=dates["refuge_entry_date"],
        service_start=dates["service_start"],
        service_end=dates["service_end"],
        rank_code=rank_hit.code if rank_hit else None,
        unit_code=unit_hit.code if unit_hit else None, service_code=service, issues=tuple(issues),
    )
