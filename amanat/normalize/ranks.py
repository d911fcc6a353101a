"""Ranks, services and unit types of the former Afghan forces (ANA, ANP, NDS, AAF), in three languages.

For display and for checking a claim against documents only. Nothing in amanat may rank, select,
route or prioritise people by rank, unit or military value; the codes exist so that "ډګروال",
"Dagarwal" and "Col." are recognised as the same word.

The rank words are the Pashto terms the forces used in Dari and Pashto alike, with the Iranian Dari
equivalents people in Iran write; English glosses follow English-language reporting. Verify a gloss
before relying on it in a case document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from amanat.normalize.errors import require_text
from amanat.normalize.script import ARABIC_RE, fold

__all__ = ["RANKS", "SERVICES", "UNIT_TYPES", "RankMatch", "TableRow", "UnitMatch", "lookup_rank",
           "lookup_unit", "rank_table", "unit_table"]


@dataclass(frozen=True, slots=True)
class TableRow:
    """One canonical code with its names in English, Dari and Pashto and the spellings that map to it."""

    code: str
    name_en: str
    name_prs: str
    name_ps: str
    aliases: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "name_en": self.name_en, "name_prs": self.name_prs, "name_ps": self.name_ps}


def _row(code: str, en: str, prs: str, ps: str, aliases: str) -> TableRow:
    return TableRow(code, en, prs, ps, tuple(a for a in aliases.split("|") if a))


RANKS: tuple[TableRow, ...] = (
    _row("PVT", "Soldier (private)", "سرباز", "عسکر", "soldier|private|pvt|pte|sarbaz|askar|عسکر|سرباز|سپاهی|sepahi"),
    _row("SGT", "Sergeant", "بریدمل", "بریدمل", "sergeant|sgt|bridmal|brid mal|برید مل|گروهبان|gorohban"),
    _row("3LT", "Third lieutenant", "دریم بریدمن", "دریم بریدمن", "third lieutenant|3rd lt|3lt|dreyam bridman|"
         "drayam bridman|دریم بریدمن|سوم بریدمن|ستوان سوم"),
    _row("2LT", "Second lieutenant", "دوهم بریدمن", "دوهم بریدمن", "second lieutenant|2nd lt|2lt|2nd lieutenant|"
         "dowom bridman|dwahom bridman|dohom bridman|دوهم بریدمن|دوم بریدمن|ستوان دوم"),
    _row("1LT", "First lieutenant", "لومړی بریدمن", "لومړی بریدمن", "first lieutenant|1st lt|1lt|1st lieutenant|"
         "lomri bridman|lumri bridman|lumray bridman|لومړی بریدمن|اول بریدمن|ستوان یکم|ستوان اول"),
    _row("LT", "Lieutenant (grade not stated)", "بریدمن", "بریدمن", "lieutenant|lt|bridman|brid man|ستوان"),
    _row("CPT", "Captain", "تورن", "تورن", "captain|capt|cpt|toran|turan|تورن|سروان|sarvan"),
    _row("MAJ", "Major", "جګړن", "جګړن", "major|maj|jagran|jagaran|جګړن|سرگرد|sargord"),
    _row("LTC", "Lieutenant colonel", "ډګرمن", "ډګرمن", "lieutenant colonel|lt col|ltc|lt colonel|dagarman|"
         "dagar man|ډګرمن|دگرمن|سرهنگ دوم"),
    _row("COL", "Colonel", "ډګروال", "ډګروال", "colonel|col|dagarwal|dagar wal|ډګروال|دگروال|سرهنگ|sarhang"),
    _row("BG", "Brigadier general", "برید جنرال", "برید جنرال", "brigadier general|brig gen|bg|brigadier|"
         "brid jenral|brid general|برید جنرال|بریګیډ جنرال|سرتیپ|sartip"),
    _row("MG", "Major general", "تورن جنرال", "تورن جنرال", "major general|maj gen|mg|turan jenral|toran jenral|"
         "toran general|تورن جنرال|سرلشکر|sarlashkar"),
    _row("LTG", "Lieutenant general", "ډګر جنرال", "ډګر جنرال", "lieutenant general|lt gen|ltg|dagar jenral|"
         "dagar general|ډګر جنرال|دگر جنرال|سپهبد|sepahbod"),
    _row("GEN", "General", "ستر جنرال", "ستر جنرال", "general|gen|setar jenral|star jenral|ستر جنرال|جنرال|ارتشبد"),
)

SERVICES: tuple[TableRow, ...] = (
    _row("ANA", "Afghan National Army", "اردوی ملی افغانستان", "د افغانستان ملي اردو",
         "ana|afghan national army|national army|army|اردوی ملی|اردو|ملی اردو|اردوی ملی افغانستان"),
    _row("ANASOC", "ANA Special Operations Corps (commandos)", "قول اردوی عملیات خاص", "د ځانګړو عملیاتو قول اردو",
         "anasoc|ana soc|ana-soc|special operations corps|commando|commandos|کماندو|کوماندو|قول اردوی عملیات خاص|"
         "قوماندانی عملیات خاص|قطعات خاص کماندو|ksk"),
    _row("KKA", "Ktah Khas (special forces unit)", "کتهٔ خاص", "کته خاص",
         "ktah khas|kteh khas|ktah khas afghan|kka|کته خاص|قطعه خاص|کتۀ خاص|kta khas"),
    _row("SF", "ANA Special Forces", "قوای خاص", "ځانګړي ځواکونه", "special forces|sf|قوای خاص|قطعات خاص"),
    _row("ANP", "Afghan National Police", "پولیس ملی افغانستان", "د افغانستان ملي پولیس",
         "anp|afghan national police|national police|police|پولیس|پولیس ملی|ملی پولیس"),
    _row("ANCOP", "Afghan National Civil Order Police", "پولیس نظم عامه", "د عامه نظم پولیس",
         "ancop|civil order police|نظم عامه|پولیس نظم عامه|پولیس نظم و امنیت عامه"),
    _row("ABP", "Afghan Border Police", "پولیس سرحدی", "سرحدي پولیس", "abp|border police|پولیس سرحدی|سرحدی"),
    _row("ALP", "Afghan Local Police", "پولیس محلی", "سیمه ییز پولیس", "alp|local police|پولیس محلی|اربکی|arbaki"),
    _row("AUP", "Afghan Uniformed Police", "پولیس یونیفورم", "یونیفورم لرونکي پولیس",
         "aup|uniformed police|پولیس یونیفورم"),
    _row("NDS", "National Directorate of Security", "ریاست عمومی امنیت ملی", "د ملي امنیت لوی ریاست",
         "nds|national directorate of security|امنیت ملی|ریاست امنیت ملی|ریاست عمومی امنیت ملی|amniyat"),
    _row("AAF", "Afghan Air Force", "قوای هوایی افغانستان", "د افغانستان هوایي ځواک",
         "aaf|afghan air force|air force|قوای هوایی|هوایی"),
    _row("SMW", "Special Mission Wing", "قطعه ماموریت های خاص", "د ځانګړو ماموریتونو قطعه",
         "smw|special mission wing|ماموریت های خاص"),
    _row("INTERPRETER", "Interpreter", "ترجمان", "ژباړن", "interpreter|translator|terp|ترجمان|مترجم|tarjuman|ژباړن"),
    _row("CONTRACTOR", "Contractor", "قراردادی", "قراردادي", "contractor|قراردادی|qarardadi"),
)

UNIT_TYPES: tuple[TableRow, ...] = (
    _row("CORPS", "Corps", "قول اردو", "قول اردو", "corps|qul urdu|qol urdu|qul-e-urdu|قول اردو|قولاردو"),
    _row("DIVISION", "Division", "فرقه", "فرقه", "division|firqa|فرقه"),
    _row("BRIGADE", "Brigade", "لوا", "لوا", "brigade|liwa|lewa|لوا|لوای"),
    _row("KANDAK", "Kandak (battalion)", "کندک", "کندک", "kandak|battalion|bn|کندک"),
    _row("TOLAY", "Tolay (company)", "تولی", "ټولۍ", "tolay|tolai|toli|company|coy|تولی|ټولۍ|بلوک"),
    _row("PLATOON", "Platoon", "دسته", "ډله", "platoon|دسته|بولوک|baluk"),
    _row("SQUAD", "Squad", "ډلګی", "ډلګی", "squad|dalgay|dalgai|ډلګی|دلگی"),
)

# The ANA corps by number and by name; a number alone is taken as the corps it names.
_CORPS: dict[str, tuple[str, ...]] = {
    "201": ("silab", "selab", "سیلاب"), "203": ("tandar", "thunder", "تندر"), "205": ("atal", "hero", "اتل"),
    "207": ("zafar", "victory", "ظفر"), "209": ("shaheen", "shahin", "falcon", "شاهین"),
    "215": ("maiwand", "maywand", "میوند"), "217": ("pamir", "پامیر"), "111": ("capital", "پایتخت"),
}


@dataclass(frozen=True, slots=True)
class RankMatch:
    code: str
    name_en: str
    name_prs: str
    name_ps: str
    confidence: float
    method: str

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "name_en": self.name_en, "name_prs": self.name_prs, "name_ps": self.name_ps,
                "confidence": self.confidence, "method": self.method}


@dataclass(frozen=True, slots=True)
class UnitMatch:
    """``code`` joins what was recognised: service / formation / unit type (and its number)."""

    code: str
    service: str | None
    formation: str | None
    unit_type: str | None
    number: str | None
    confidence: float
    method: str

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "service": self.service, "formation": self.formation,
                "unit_type": self.unit_type, "number": self.number, "confidence": self.confidence,
                "method": self.method}


_WORDS = re.compile(r"[^\W_]+")


def _key(text: str) -> str:
    return " ".join(_WORDS.findall(fold(text)))


def _index(rows: tuple[TableRow, ...]) -> dict[str, TableRow]:
    index: dict[str, TableRow] = {}
    for row in rows:
        for spelling in (row.code, row.name_en, row.name_prs, row.name_ps, *row.aliases):
            index.setdefault(_key(spelling), row)
    return index


@lru_cache(maxsize=1)
def _indexes() -> dict[str, dict[str, TableRow]]:
    return {"rank": _index(RANKS), "service": _index(SERVICES), "unit": _index(UNIT_TYPES)}


def rank_table() -> list[TableRow]:
    return list(RANKS)


def unit_table() -> dict[str, list[TableRow]]:
    return {"services": list(SERVICES), "unit_types": list(UNIT_TYPES)}


@lru_cache(maxsize=4096)
def _rank(raw: str) -> RankMatch | None:
    key = _key(raw)
    if not key:
        return None
    index = _indexes()["rank"]
    words = key.split()
    # Longest phrase first, so "brigadier general" is not read as "general".
    for size in range(len(words), 0, -1):
        for start in range(len(words) - size + 1):
            row = index.get(" ".join(words[start:start + size]))
            if row is not None:
                exact = size == len(words)
                return RankMatch(row.code, row.name_en, row.name_prs, row.name_ps, 1.0 if exact else 0.9,
                                 "exact")
    arabic = ARABIC_RE.search(key) is not None
    names = [k for k in index if (ARABIC_RE.search(k) is not None) == arabic and len(k) > 3]
    best = process.extractOne(key, names, scorer=fuzz.ratio, score_cutoff=85.0)
    if best is None:
        return None
    row = index[best[0]]
    return RankMatch(row.code, row.name_en, row.name_prs, row.name_ps, round(best[1] / 100.0, 3), "fuzzy")


def lookup_rank(raw: str) -> RankMatch | None:
    """The canonical rank a free-text rank names (three languages, abbreviations); None if none."""
    return _rank(require_text(raw, "rank"))


_GENERIC = frozenset({"ANA", "ANP"})


def _find(words: list[str], index: dict[str, TableRow]) -> TableRow | None:
    """The longest phrase that names a row; a specific service beats ANA/ANP ("ANA Commando")."""
    found: list[TableRow] = []
    for size in range(min(len(words), 5), 0, -1):
        for start in range(len(words) - size + 1):
            row = index.get(" ".join(words[start:start + size]))
            if row is not None:
                found.append(row)
    specific = [r for r in found if r.code not in _GENERIC]
    return (specific or found or [None])[0]


@lru_cache(maxsize=4096)
def _unit(raw: str) -> UnitMatch | None:
    key = _key(raw)
    if not key:
        return None
    idx = _indexes()
    words = key.split()
    service = _find(words, idx["service"])
    unit_type = _find(words, idx["unit"])
    numbers = [w for w in words if w.isascii() and w.isdigit()]
    formation = None
    for number, names in _CORPS.items():
        if number in numbers or any(_key(n) in words for n in names):
            formation = f"{number}_CORPS" if number != "111" else "111_DIVISION"
            break
    if formation and service is None:
        service = next(r for r in SERVICES if r.code == "ANA")
    number = next((n for n in numbers if not formation or not formation.startswith(n)), None)
    if service is None and unit_type is None and formation is None:
        return None
    type_code = unit_type.code if unit_type else None
    if formation and type_code in ("CORPS", "DIVISION"):
        type_code = None  # "201 Selab Corps": the formation already says it is a corps
    parts = [service.code if service else None, formation,
             f"{type_code}-{number}" if type_code and number else type_code]
    code = "/".join(p for p in parts if p)
    return UnitMatch(code, service.code if service else None, formation, type_code, number, 1.0, "exact")


def lookup_unit(raw: str) -> UnitMatch | None:
    """Service, ANA corps and unit type named in a free-text unit (e.g. "Kandak 3, 201 Selab Corps")."""
    return _unit(require_text(raw, "unit"))
