"""Gazetteer: all 34 provinces and 399 districts by their OCHA names, aliases, fuzzy spellings, countries."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from amanat.normalize.places import (
    districts,
    lookup_country,
    lookup_district,
    lookup_province,
    place_key,
    provinces,
)

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
PACKAGED = Path(__file__).resolve().parents[2] / "amanat" / "normalize" / "data"


def _rows(name: str) -> list[dict[str, str]]:
    base = SHARED if (SHARED / name).exists() else PACKAGED
    with (base / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


ADM1 = _rows("ocha_adm1_2018.csv")
ADM2 = _rows("ocha_adm2_2018.csv")


def test_packaged_copy_is_the_reference_data() -> None:
    for name in ("ocha_adm1_2018.csv", "ocha_adm2_2018.csv"):
        if (SHARED / name).exists():
            assert (PACKAGED / name).read_bytes() == (SHARED / name).read_bytes()
    assert "OCHA" in (PACKAGED / "ATTRIBUTION.txt").read_text(encoding="utf-8")


def test_counts() -> None:
    assert len(provinces()) == 34
    assert len(districts()) == 399
    assert len(districts("AF01")) == 15
    assert all(d.province_pcode == "AF21" for d in districts("af21"))


@pytest.mark.parametrize("row", ADM1, ids=[r["ADM1_PCODE"] for r in ADM1])
def test_every_province_by_english_and_dari_name(row: dict[str, str]) -> None:
    for name in (row["ADM1_EN"], row["ADM1_DA"]):
        hit = lookup_province(name)
        assert hit is not None and hit.pcode == row["ADM1_PCODE"] and hit.method == "exact"


@pytest.mark.parametrize("row", ADM2, ids=[r["ADM2_PCODE"] for r in ADM2])
def test_every_district_by_english_name_within_its_province(row: dict[str, str]) -> None:
    hit = lookup_district(row["ADM2_EN"], row["ADM1_PCODE"])
    assert hit is not None and hit.pcode == row["ADM2_PCODE"]
    assert hit.confidence == 1.0
    dari = lookup_district(row["ADM2_DA"], row["ADM1_PCODE"])
    assert dari is not None and dari.pcode == row["ADM2_PCODE"]


@pytest.mark.parametrize(("raw", "pcode"), [
    ("Herat", "AF32"), ("Helmand", "AF30"), ("هلمند", "AF30"), ("Paktia", "AF13"), ("Panjshir", "AF08"),
    ("Sar-e Pol", "AF22"), ("Sari Pul", "AF22"), ("Sar-i-Pul", "AF22"), ("Daikundi", "AF24"),
    ("Oruzgan", "AF25"), ("Jowzjan", "AF28"), ("Nimruz", "AF34"), ("Qunduz", "AF19"), ("Konar", "AF15"),
    ("کونړ", "AF15"), ("ننګرهار", "AF06"), ("قندهار", "AF27"), ("Wardak", "AF04"), ("Bamiyan", "AF10"),
    ("ولایت بلخ", "AF21"), ("Balkh Province", "AF21"), ("Kabul province", "AF01"), ("af21", "AF21"),
    ("Badakshan", "AF17"), ("Lowgar", "AF05"),
])
def test_province_aliases(raw: str, pcode: str) -> None:
    hit = lookup_province(raw)
    assert hit is not None and hit.pcode == pcode


@pytest.mark.parametrize(("raw", "pcode"), [
    ("Kandahr", "AF27"), ("Nangrhar", "AF06"), ("Badakhshon", "AF17"), ("Samangaan", "AF20"), ("Farayab", "AF29"),
])
def test_province_fuzzy(raw: str, pcode: str) -> None:
    hit = lookup_province(raw)
    assert hit is not None and hit.pcode == pcode
    assert hit.method in ("exact", "fuzzy") and 0.85 <= hit.confidence <= 1.0


@pytest.mark.parametrize(("raw", "province", "pcode"), [
    ("Mazar-i-Sharif", None, "AF2101"), ("Mazar", None, "AF2101"), ("Lashkar Gah", None, "AF3001"),
    ("Chaghcharan", None, "AF2301"), ("Tarinkot", None, "AF2501"), ("Pul-i-Khumri", None, "AF0901"),
    ("Gereshk", None, "AF3004"), ("Spin Boldak", "AF27", "AF2711"), ("Nad Ali", "AF30", "AF3002"),
    ("ولسوالی پغمان", None, "AF0102"), ("Paghmaan", None, "AF0102"), ("بتی کوټ", None, "AF0609"),
    ("Jaji", "AF13", "AF1307"), ("Zadran", "AF13", "AF1305"), ("زدران", None, "AF1305"),
    ("Jaghatu", "AF11", "AF1106"), ("Jaghatu", "AF04", "AF0408"), ("Qarabagh", "AF01", "AF0114"),
    ("Jalalabd", None, "AF0601"), ("Khost", None, "AF1401"), ("Sheberghan", None, "AF2801"),
])
def test_district_lookup(raw: str, province: str | None, pcode: str) -> None:
    hit = lookup_district(raw, province)
    assert hit is not None and hit.pcode == pcode


def test_shared_district_name_without_province_is_flagged() -> None:
    hit = lookup_district("Jaghatu")
    assert hit is not None
    assert hit.confidence < 1.0
    assert set(hit.alternatives) | {hit.pcode} == {"AF0408", "AF1106"}


def test_district_in_another_province_gets_lower_confidence() -> None:
    hit = lookup_district("Paghman", "AF32")
    assert hit is not None and hit.pcode == "AF0102" and hit.confidence <= 0.5


@pytest.mark.parametrize("raw", ["xyz", "", "Iran", "London", "12"])
def test_no_province(raw: str) -> None:
    assert lookup_province(raw) is None


@pytest.mark.parametrize(("a", "b"), [("Sar-e-Pul", "Sar e Pol"), ("Pul-e-Khumri", "Puli Khumri"),
                                      ("Tala Wa Barfak", "Tala-o-Barfak"), ("ده سبز", "دهسبز")])
def test_place_key(a: str, b: str) -> None:
    assert place_key(a) == place_key(b)


@pytest.mark.parametrize(("raw", "iso2"), [
    ("Iran", "IR"), ("ایران", "IR"), ("Pakistan", "PK"), ("پاکستان", "PK"), ("USA", "US"), ("امریکا", "US"),
    ("United States", "US"), ("Germany", "DE"), ("آلمان", "DE"), ("جرمنی", "DE"), ("Turkey", "TR"),
    ("Türkiye", "TR"), ("ترکیه", "TR"), ("UK", "GB"), ("England", "GB"), ("انگلستان", "GB"), ("Canada", "CA"),
    ("UAE", "AE"), ("امارات", "AE"), ("Qatar", "QA"), ("Tajikistan", "TJ"), ("IR", "IR"), ("PAK", "PK"),
    ("Pakistn", "PK"), ("Germny", "DE"), ("Holland", "NL"), ("سویدن", "SE"), ("Albania", "AL"),
])
def test_country(raw: str, iso2: str) -> None:
    hit = lookup_country(raw)
    assert hit is not None and hit.iso2 == iso2


@pytest.mark.parametrize("raw", ["xx", "", "Kabul Bank", "qwertyuiop"])
def test_no_country(raw: str) -> None:
    assert lookup_country(raw) is None
