"""Places: Afghan provinces and districts (OCHA COD-AB 2018 P-codes) and countries of refuge.

Names are matched on a key that ignores case, diacritics, Pashto/Arabic letter variants, spaces,
hyphens, ezafe connectors (Sar-e-Pul / Sari Pul / Sar e Pol) and words like "province"/"ولایت";
then, failing an exact key, by rapidfuzz similarity within the same script. A district name shared by
several provinces (Jaghatu, Qara Bagh, Surobi, …) is resolved by the province when it is known.
The gazetteer is a packaged copy of the OCHA files (see data/ATTRIBUTION.txt).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pycountry
from rapidfuzz import fuzz, process

from amanat.normalize.errors import require_text
from amanat.normalize.phonetic import house
from amanat.normalize.script import ARABIC_RE, fold

__all__ = ["CountryMatch", "Place", "PlaceMatch", "districts", "lookup_country", "lookup_district",
           "lookup_province", "provinces"]

_TYPE_WORDS = frozenset({"province", "prov", "wilayat", "welayat", "velayat", "ولایت", "district", "dist",
                         "woluswali", "uluswali", "wuluswali", "ulaswali", "ولسوالی", "city", "شهر",
                         "the", "of"})
_EZAFE = frozenset({"e", "i", "y", "ye", "wa", "o", "va", "u", "al", "ul", "us"})
_WORDS = re.compile(r"[^\W_]+")
_PCODE = re.compile(r"af\d{2}(?:\d{2})?")
_FUZZY_CUTOFF = 85.0


def _cutoff(key: str) -> float:
    # Short keys are one typo away from other names ("iran" ~ "pirwan"), so ask more of them.
    return 92.0 if len(key) <= 5 else _FUZZY_CUTOFF


@dataclass(frozen=True, slots=True)
class Place:
    """A province (``province_pcode`` is its own P-code) or a district."""

    pcode: str
    name_en: str
    name_prs: str
    province_pcode: str

    def to_dict(self) -> dict[str, object]:
        return {"pcode": self.pcode, "name_en": self.name_en, "name_prs": self.name_prs,
                "province_pcode": self.province_pcode}


@dataclass(frozen=True, slots=True)
class PlaceMatch:
    pcode: str
    name_en: str
    name_prs: str
    confidence: float
    method: str
    province_pcode: str = ""
    alternatives: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"pcode": self.pcode, "name_en": self.name_en, "name_prs": self.name_prs,
                "confidence": self.confidence, "method": self.method, "province_pcode": self.province_pcode,
                "alternatives": list(self.alternatives)}


@dataclass(frozen=True, slots=True)
class CountryMatch:
    iso2: str
    iso3: str
    name: str
    confidence: float
    method: str

    def to_dict(self) -> dict[str, object]:
        return {"iso2": self.iso2, "iso3": self.iso3, "name": self.name, "confidence": self.confidence,
                "method": self.method}


def place_key(text: str) -> str:
    """The comparison key of a place name (both scripts)."""
    folded = fold(text)
    words = [w for w in _WORDS.findall(folded) if w not in _TYPE_WORDS]
    if not words or ARABIC_RE.search(folded):
        return "".join(words)
    kept = [w for w in words if w not in _EZAFE] or words
    # "Sari Pul", "Puli Khumri": an ezafe -i written onto the first word of a compound.
    kept = [w[:-1] if i < len(kept) - 1 and len(w) > 3 and w[-1] in "ie" else w for i, w in enumerate(kept)]
    return house("".join(kept))


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("amanat.normalize").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@dataclass(frozen=True, slots=True)
class _Gazetteer:
    places: dict[str, Place]
    provinces: tuple[Place, ...]
    districts: tuple[Place, ...]
    index: dict[str, dict[str, tuple[str, ...]]]  # level -> key -> pcodes
    choices: dict[tuple[str, str, bool], tuple[list[str], list[tuple[str, ...]]]]


@lru_cache(maxsize=1)
def _gazetteer() -> _Gazetteer:
    places: dict[str, Place] = {}
    provs = [Place(r["ADM1_PCODE"], r["ADM1_EN"], r["ADM1_DA"].strip(), r["ADM1_PCODE"])
             for r in _read("ocha_adm1_2018.csv")]
    dists = [Place(r["ADM2_PCODE"], r["ADM2_EN"], r["ADM2_DA"].strip(), r["ADM1_PCODE"])
             for r in _read("ocha_adm2_2018.csv")]
    names: dict[str, list[str]] = {}
    for p in (*provs, *dists):
        places[p.pcode] = p
        bare = re.sub(r"\(.*?\)", "", p.name_prs)  # "خنج (حصه اول)": also index without the note
        names[p.pcode] = [p.name_en, p.name_prs, bare]
    alias_text = resources.files("amanat.normalize").joinpath("data/place_aliases.tsv").read_text("utf-8")
    for line in alias_text.splitlines():
        if line.strip() and not line.startswith("#"):
            pcode, _, aliases = line.partition("\t")
            if pcode in places:
                names[pcode].extend(a for a in aliases.split("|") if a.strip())
    index: dict[str, dict[str, tuple[str, ...]]] = {"province": {}, "district": {}}
    for pcode, spellings in names.items():
        level = "province" if len(pcode) == 4 else "district"
        for s in spellings:
            key = place_key(s)
            if key and pcode not in index[level].get(key, ()):
                index[level][key] = (*index[level].get(key, ()), pcode)
    choices: dict[tuple[str, str, bool], tuple[list[str], list[tuple[str, ...]]]] = {}
    for level, keys in index.items():
        for key, pcodes in keys.items():
            arabic = ARABIC_RE.search(key) is not None
            for scope in {"", *(places[p].province_pcode for p in pcodes)}:
                bucket = choices.setdefault((level, scope, arabic), ([], []))
                bucket[0].append(key)
                bucket[1].append(pcodes if not scope else tuple(p for p in pcodes
                                                                if places[p].province_pcode == scope))
    return _Gazetteer(places, tuple(provs), tuple(dists), index, choices)


def provinces() -> list[Place]:
    """The 34 provinces."""
    return list(_gazetteer().provinces)


def districts(province_pcode: str | None = None) -> list[Place]:
    """The 399 districts, or those of one province."""
    g = _gazetteer()
    if province_pcode is None:
        return list(g.districts)
    return [d for d in g.districts if d.province_pcode == province_pcode.upper()]


def _match(g: _Gazetteer, pcodes: tuple[str, ...], confidence: float, method: str) -> PlaceMatch:
    p = g.places[pcodes[0]]
    if len(pcodes) > 1:  # the same name in several provinces and no province to choose by
        confidence = round(confidence / len(pcodes), 3)
    return PlaceMatch(p.pcode, p.name_en, p.name_prs, confidence, method, p.province_pcode, pcodes[1:])


def _lookup(raw: str, level: str, scope: str) -> PlaceMatch | None:
    g = _gazetteer()
    folded = fold(raw)
    if _PCODE.fullmatch(folded.replace(" ", "")):
        code = folded.replace(" ", "").upper()
        want = 4 if level == "province" else 6
        if code in g.places and len(code) == want and (not scope or g.places[code].province_pcode == scope):
            return _match(g, (code,), 1.0, "exact")
        return None
    key = place_key(raw)
    if not key:
        return None
    pcodes = g.index[level].get(key, ())
    if scope:
        pcodes = tuple(p for p in pcodes if g.places[p].province_pcode == scope)
    if pcodes:
        return _match(g, pcodes, 1.0, "exact")
    if len(key) < 4:
        return None
    bucket = g.choices.get((level, scope, ARABIC_RE.search(key) is not None))
    if not bucket:
        return None
    best = process.extractOne(key, bucket[0], scorer=fuzz.ratio, score_cutoff=_cutoff(key))
    if best is None:
        return None
    return _match(g, bucket[1][best[2]], round(min(best[1], 99.0) / 100.0, 3), "fuzzy")


@lru_cache(maxsize=8192)
def _province(raw: str) -> PlaceMatch | None:
    return _lookup(raw, "province", "")


@lru_cache(maxsize=16384)
def _district(raw: str, province_pcode: str) -> PlaceMatch | None:
    if province_pcode:
        hit = _lookup(raw, "district", province_pcode)
        if hit is not None:
            return hit
        # Not in the stated province: a match elsewhere is reported at reduced confidence.
        anywhere = _lookup(raw, "district", "")
        if anywhere is None:
            return None
        return PlaceMatch(anywhere.pcode, anywhere.name_en, anywhere.name_prs,
                          round(anywhere.confidence * 0.5, 3), anywhere.method, anywhere.province_pcode,
                          anywhere.alternatives)
    return _lookup(raw, "district", "")


def lookup_province(raw: str) -> PlaceMatch | None:
    """A province by English, Dari or Pashto name (or P-code); None if nothing is close enough."""
    return _province(require_text(raw, "province"))


def lookup_district(raw: str, province_pcode: str | None = None) -> PlaceMatch | None:
    """A district, narrowed to ``province_pcode`` when the province is known."""
    require_text(raw, "district")
    return _district(raw, (province_pcode or "").upper())


# Countries of refuge and transit as written in Dari/Pashto and in common English shorthand.
_COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "IR": ("ایران", "persia", "جمهوری اسلامی ایران"),
    "PK": ("پاکستان",),
    "TR": ("ترکیه", "ترکیا", "ترکی", "turkey", "turkiye"),
    "DE": ("المان", "جرمنی", "deutschland"),
    "US": ("امریکا", "ایالات متحده", "ایالات متحده امریکا", "usa", "us", "america", "united states"),
    "GB": ("انگلستان", "بریتانیا", "انگلیس", "uk", "england", "britain", "great britain"),
    "CA": ("کانادا",), "AE": ("امارات", "امارات متحده عربی", "uae", "emirates", "dubai", "دبی"),
    "QA": ("قطر",), "TJ": ("تاجیکستان",), "UZ": ("ازبکستان",), "TM": ("ترکمنستان",),
    "IN": ("هند", "هندوستان"), "AU": ("استرالیا",), "FR": ("فرانسه",), "IT": ("ایتالیا",),
    "NL": ("هالند", "هلند", "holland"), "SE": ("سویدن", "سوید"), "NO": ("ناروی", "نروژ"),
    "DK": ("دنمارک", "دانمارک"), "AT": ("اتریش",), "BE": ("بلجیم", "بلژیک"), "CH": ("سویس",),
    "ES": ("اسپانیا",), "GR": ("یونان",), "RU": ("روسیه",), "SA": ("عربستان", "عربستان سعودی", "saudi"),
    "AL": ("البانیا", "البانی"), "RW": ("رواندا",), "UG": ("اوگاندا",), "AF": ("افغانستان",),
    "KZ": ("قزاقستان",), "KG": ("قرغیزستان",), "CN": ("چین",), "FI": ("فنلاند",), "IE": ("ایرلند",),
    "NZ": ("نیوزیلند", "زیلاند جدید"), "PT": ("پرتگال", "پرتغال"), "PL": ("پولند", "لهستان"),
    "BG": ("بلغاریا", "بلغارستان"), "RS": ("صربستان",), "ID": ("اندونیزیا", "اندونزی"),
    "MY": ("مالیزیا", "مالزی"), "OM": ("عمان",), "KW": ("کویت",), "IQ": ("عراق",), "BR": ("برازیل", "برزیل"),
    "MX": ("مکسیکو",), "UA": ("اوکراین",), "BY": ("بلاروس",), "JP": ("جاپان", "ژاپن"),
}


def _country_key(text: str) -> str:
    return "".join(w for w in _WORDS.findall(fold(text)) if w not in ("the", "of"))


@lru_cache(maxsize=1)
def _countries() -> tuple[dict[str, str], dict[bool, tuple[list[str], list[str]]]]:
    index: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if value:
                index.setdefault(_country_key(value), c.alpha_2)
    for iso2, aliases in _COUNTRY_ALIASES.items():
        for a in aliases:
            index[_country_key(a)] = iso2
    choices: dict[bool, tuple[list[str], list[str]]] = {True: ([], []), False: ([], [])}
    for key, iso2 in index.items():
        if len(key) > 3:
            bucket = choices[ARABIC_RE.search(key) is not None]
            bucket[0].append(key)
            bucket[1].append(iso2)
    return index, choices


def _country_match(iso2: str, confidence: float, method: str) -> CountryMatch:
    c = pycountry.countries.get(alpha_2=iso2)
    name = getattr(c, "common_name", None) or c.name if c else iso2
    return CountryMatch(iso2, c.alpha_3 if c else "", name, confidence, method)


@lru_cache(maxsize=4096)
def _country(raw: str) -> CountryMatch | None:
    key = _country_key(raw)
    if not key:
        return None
    index, choices = _countries()
    if key in index:
        return _country_match(index[key], 1.0, "exact")
    if len(key) < 4:
        return None
    names, codes = choices[ARABIC_RE.search(key) is not None]
    best = process.extractOne(key, names, scorer=fuzz.ratio, score_cutoff=_cutoff(key))
    if best is None:
        return None
    return _country_match(codes[best[2]], round(min(best[1], 99.0) / 100.0, 3), "fuzzy")


def lookup_country(raw: str) -> CountryMatch | None:
    """A country by English name, ISO code, or Dari/Pashto name; None if nothing is close enough."""
    return _country(require_text(raw, "country"))
