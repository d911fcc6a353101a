"""normalize stage: pure functions that turn what people type into comparable values.

Script folding, names (same-script key, romanisation, cross-script phonetic key), Solar Hijri and
Gregorian dates, tazkira / passport / MRZ, phone numbers, the Afghan gazetteer, ranks and units, and
the whole form (``normalize_record``). Every error raised is ``NormalizeError``, whose message never
contains the value.
"""

from amanat.normalize.dates import DateNorm, parse_date
from amanat.normalize.errors import NormalizeError
from amanat.normalize.ids import IdNorm, MrzNorm, normalize_passport, normalize_tazkira, paper_tazkira, parse_mrz
from amanat.normalize.names import NameNorm, name_variants, normalize_name
from amanat.normalize.phones import PhoneNorm, normalize_phone
from amanat.normalize.places import (
    CountryMatch,
    Place,
    PlaceMatch,
    districts,
    lookup_country,
    lookup_district,
    lookup_province,
    provinces,
)
from amanat.normalize.ranks import RankMatch, UnitMatch, lookup_rank, lookup_unit
from amanat.normalize.record import NormalizedRecord, normalize_record
from amanat.normalize.script import ascii_digits, fold, is_perso_arabic


def clear_caches() -> None:
    """Empty the per-value caches (the packaged tables stay loaded); benchmarks use it for cold runs."""
    from amanat.normalize import dates, ids, names, phones, phonetic, places, ranks, record

    cached = (
        dates._parse, dates._parse_folded, dates._build_plain, dates._to_gregorian, ids._tazkira, ids._passport,
        ids._mrz, names._normalize, names._keys, phonetic.token_keys, phones._normalize, places._province,
        places._district, places._country, ranks._rank, ranks._unit, record._name_pair, record.normalize_gender,
    )
    for fn in cached:
        fn.cache_clear()


__all__ = [
    "CountryMatch",
    "DateNorm",
    "IdNorm",
    "MrzNorm",
    "NameNorm",
    "NormalizeError",
    "NormalizedRecord",
    "PhoneNorm",
    "Place",
    "PlaceMatch",
    "RankMatch",
    "UnitMatch",
    "ascii_digits",
    "clear_caches",
    "districts",
    "fold",
    "is_perso_arabic",
    "lookup_country",
    "lookup_district",
    "lookup_province",
    "lookup_rank",
    "lookup_unit",
    "name_variants",
    "normalize_name",
    "normalize_passport",
    "normalize_phone",
    "normalize_record",
    "normalize_tazkira",
    "paper_tazkira",
    "parse_date",
    "parse_mrz",
    "provinces",
]
