"""Ranks, services and unit types in three languages (display and verification only)."""

from __future__ import annotations

import pytest

from amanat.normalize.ranks import RANKS, SERVICES, UNIT_TYPES, lookup_rank, lookup_unit, rank_table, unit_table

RANK_CASES = [
    ("ډګروال", "COL"), ("دگروال", "COL"), ("Dagarwal", "COL"), ("Colonel", "COL"), ("Col.", "COL"), ("سرهنگ", "COL"),
    ("ډګرمن", "LTC"), ("Lt Col", "LTC"), ("Lieutenant Colonel", "LTC"),
    ("جګړن", "MAJ"), ("Jagran", "MAJ"), ("Major", "MAJ"), ("سرگرد", "MAJ"),
    ("تورن", "CPT"), ("Toran", "CPT"), ("Captain", "CPT"), ("Capt", "CPT"), ("سروان", "CPT"),
    ("لومړی بریدمن", "1LT"), ("1st Lt", "1LT"), ("First Lieutenant", "1LT"), ("ستوان یکم", "1LT"),
    ("دوهم بریدمن", "2LT"), ("2nd Lt", "2LT"), ("Second Lieutenant", "2LT"),
    ("دریم بریدمن", "3LT"), ("بریدمن", "LT"),
    ("بریدمل", "SGT"), ("Sergeant", "SGT"), ("Sgt.", "SGT"),
    ("سرباز", "PVT"), ("عسکر", "PVT"), ("Soldier", "PVT"), ("Private", "PVT"),
    ("برید جنرال", "BG"), ("Brigadier General", "BG"), ("Brig Gen", "BG"),
    ("تورن جنرال", "MG"), ("Major General", "MG"),
    ("ډګر جنرال", "LTG"), ("Lieutenant General", "LTG"),
    ("ستر جنرال", "GEN"), ("General", "GEN"), ("جنرال", "GEN"),
    ("Dagarwall", "COL"), ("Captian", "CPT"),
    ("رتبه: ډګروال", "COL"),
]


@pytest.mark.parametrize(("raw", "code"), RANK_CASES)
def test_rank(raw: str, code: str) -> None:
    hit = lookup_rank(raw)
    assert hit is not None and hit.code == code


@pytest.mark.parametrize("raw", ["", "xyz", "commander of many", "12345"])
def test_no_rank(raw: str) -> None:
    assert lookup_rank(raw) is None


UNIT_CASES = [
    ("Kandak 3, 201 Selab Corps", "ANA", "201_CORPS", "KANDAK", "ANA/201_CORPS/KANDAK-3"),
    ("کندک ۲ لوای ۱ قول اردوی ۲۰۳ تندر", "ANA", "203_CORPS", "KANDAK", None),
    ("205 Atal Corps", "ANA", "205_CORPS", None, "ANA/205_CORPS"),
    ("قول اردوی ۲۰۷ ظفر", "ANA", "207_CORPS", None, None),
    ("209 Shaheen", "ANA", "209_CORPS", None, None),
    ("215 Maiwand Corps", "ANA", "215_CORPS", None, None),
    ("کماندو", "ANASOC", None, None, "ANASOC"),
    ("ANA Commando", "ANASOC", None, None, None),
    ("ANA-SOC", "ANASOC", None, None, None),
    ("Ktah Khas", "KKA", None, None, "KKA"),
    ("کته خاص", "KKA", None, None, None),
    ("Special Forces", "SF", None, None, None),
    ("NDS", "NDS", None, None, None),
    ("ریاست عمومی امنیت ملی", "NDS", None, None, None),
    ("Afghan Border Police", "ABP", None, None, None),
    ("پولیس سرحدی", "ABP", None, None, None),
    ("ANCOP", "ANCOP", None, None, None),
    ("Afghan Air Force", "AAF", None, None, None),
    ("قوای هوایی", "AAF", None, None, None),
    ("Interpreter", "INTERPRETER", None, None, None),
    ("ترجمان", "INTERPRETER", None, None, None),
    ("Tolay 2, Kandak 1", None, None, "TOLAY", None),
]


@pytest.mark.parametrize(("raw", "service", "formation", "unit_type", "code"), UNIT_CASES)
def test_unit(raw: str, service: str | None, formation: str | None, unit_type: str | None, code: str | None) -> None:
    hit = lookup_unit(raw)
    assert hit is not None
    assert (hit.service, hit.formation, hit.unit_type) == (service, formation, unit_type)
    if code is not None:
        assert hit.code == code


def test_tables_are_trilingual_and_unique() -> None:
    for rows in (RANKS, SERVICES, UNIT_TYPES):
        codes = [r.code for r in rows]
        assert len(codes) == len(set(codes))
        assert all(r.name_en and r.name_prs and r.name_ps for r in rows)
    assert rank_table()[0].to_dict()["code"] == "PVT"
    assert set(unit_table()) == {"services", "unit_types"}
