"""The whole form: every field normalised, failures become issues, never an exception."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mrz.generator.td3 import TD3CodeGenerator

from amanat.normalize.record import FORM_FIELDS, father_part, normalize_gender, normalize_record

MRZ = str(TD3CodeGenerator("P", "AFG", "Ahmadzai", "Mohammad Nabi", "P01234567", "AFG", "850615", "M", "300101", ""))

FULL = {
    "full_name": "حاجی محمد نبی", "full_name_latin": "Haji Mohammad Nabi", "father_name": "مرحوم عبدالرحمن",
    "father_name_latin": "Abdurrahman", "grandfather_name": "گل احمد", "family_name": "احمدزی",
    "gender": "مرد", "date_of_birth": "۱۳۶۴/۳/۲۵", "place_of_birth": "Khost", "province": "ننګرهار",
    "district": "Jalalabad", "tazkira_number": "۱۳۹۹-۰۱۲۳-۴۵۶۷۸", "passport_number": "p0123 4567",
    "passport_mrz": MRZ, "phone": "۰۷۹۹۱۲۳۴۵۶", "whatsapp_phone": "+98 912 345 6789", "rank": "ډګروال",
    "unit": "کندک ۳ قول اردوی ۲۰۱ سیلاب", "service_branch": "اردوی ملی", "service_start": "1385",
    "service_end": "24 Asad 1400", "country_of_refuge": "ایران", "refuge_entry_date": "2021-09-15",
    "current_city": "Mashhad", "religion": "اسلام", "ethnicity": "", "unknown_field": "ignored",
}


def test_full_record() -> None:
    r = normalize_record(FULL)
    assert r.issues == ()
    assert set(r.names) == {"full_name", "father_name", "grandfather_name", "family_name"}
    full = r.names["full_name"]
    assert full.folded == "محمد نبی" and full.latin == "mohammad nabi" and full.titles == ("haji",)
    father = r.names["father_name"]
    assert father.latin == "abdulrahman" and father.titles == ("late",)
    assert r.dob is not None and r.dob.iso == "1985-06-15" and r.dob.calendar == "solar_hijri"
    assert r.gender == "m"
    assert r.tazkira is not None and r.tazkira.value == "1399-0123-45678"
    assert r.passport is not None and r.passport.value == "P01234567"
    assert r.phones == ("+93799123456", "+989123456789")
    assert (r.province_pcode, r.district_pcode, r.birth_pcode) == ("AF06", "AF0601", "AF1401")
    assert r.country_iso2 == "IR"
    assert r.service_start is not None and r.service_start.iso == "2006"
    assert r.service_end is not None and r.service_end.iso == "2021-08-15"
    assert r.refuge_entry is not None and r.refuge_entry.iso == "2021-09-15"
    assert (r.rank_code, r.unit_code, r.service_code) == ("COL", "ANA/201_CORPS/KANDAK-3", "ANA")
    assert r.exact_keys() == {"tazkira": ["1399-0123-45678"], "passport": ["P01234567"],
                              "phone": ["+93799123456", "+989123456789"]}
    json.dumps(r.to_dict(), ensure_ascii=False)


def test_bad_fields_become_issues_and_the_rest_survives() -> None:
    r = normalize_record({"full_name": "Gul Ahmad", "date_of_birth": "1392/13/1", "tazkira_number": "12345",
                          "phone": "12", "passport_number": "پ۱۲", "province": "Atlantis", "gender": "?",
                          "country_of_refuge": "Narnia", "district": "Nowhere-e-Sharif"})
    fields = {f for f, _ in r.issues}
    assert {"date_of_birth", "tazkira_number", "phone", "passport_number", "province", "gender",
            "country_of_refuge", "district"} <= fields
    assert r.names["full_name"].latin == "gul ahmad"
    assert r.dob is None
    assert r.exact_keys() == {"tazkira": [], "passport": [], "phone": []}
    for _, reason in r.issues:
        for value in ("1392/13/1", "12345", "Atlantis", "Narnia"):
            assert value not in reason


def test_paper_tazkira_from_its_three_fields() -> None:
    r = normalize_record({"tazkira_volume": "۱۲", "tazkira_page": "۳۴", "tazkira_record": "۵۶۷"})
    assert r.tazkira is not None and r.tazkira.value == "paper:12/34/567"
    assert r.exact_keys()["tazkira"] == ["paper:12/34/567"]


def test_mrz_fills_a_missing_passport_number_and_flags_a_different_one() -> None:
    assert normalize_record({"passport_mrz": MRZ}).passport.value == "P01234567"  # type: ignore[union-attr]
    r = normalize_record({"passport_number": "P07654321", "passport_mrz": MRZ})
    assert ("passport_number", "passport: the number differs from the one in the MRZ") in r.issues


def test_latin_only_and_script_only_names() -> None:
    latin = normalize_record({"full_name_latin": "Najib Ullah"}).names["full_name"]
    dari = normalize_record({"full_name": "نجیب‌الله"}).names["full_name"]
    assert latin.phonetic == dari.phonetic and latin.latin == dari.latin == "najibullah"


def test_district_gives_the_province() -> None:
    assert normalize_record({"district": "Paghman"}).province_pcode == "AF01"


def test_duplicate_phone_counted_once() -> None:
    assert normalize_record({"phone": "0799123456", "whatsapp_phone": "+93 799 123 456"}).phones == (
        "+93799123456",)


@pytest.mark.parametrize(("raw", "code"), [
    ("male", "m"), ("Male", "m"), ("M", "m"), ("مرد", "m"), ("نارینه", "m"), ("نر", "m"), ("ذکور", "m"),
    ("female", "f"), ("F", "f"), ("زن", "f"), ("ښځه", "f"), ("اناث", "f"), ("مونث", "f"),
    ("other", "x"), ("X", "x"), ("unknown", None), ("", None),
])
def test_gender(raw: str, code: str | None) -> None:
    assert normalize_gender(raw) == code


def test_non_string_values_are_issues() -> None:
    r = normalize_record({"full_name": 5, "phone": ["0799123456"], "date_of_birth": None})  # type: ignore[dict-item]
    assert {f for f, _ in r.issues} == {"full_name", "phone"}


def test_empty_record() -> None:
    r = normalize_record({})
    assert r.names == {} and r.issues == () and r.exact_keys() == {"tazkira": [], "passport": [], "phone": []}


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(FORM_FIELDS), st.text(max_size=40), max_size=12))
def test_never_raises_on_any_strings(fields: dict[str, str]) -> None:
    r = normalize_record(fields)
    json.dumps(r.to_dict(), ensure_ascii=False)
    assert all(isinstance(v, list) for v in r.exact_keys().values())


# A father's name written into the full name (issue #14).
def test_the_father_written_in_the_full_name_fills_an_empty_father_field() -> None:
    for full in ("Mohammad Nabi s/o Abdul Karim", "محمد نبی ولد عبدالکریم", "محمد نبی فرزند عبدالکریم"):
        r = normalize_record({"full_name": full})
        assert r.names["full_name"].phonetic == "mhmd nb"
        assert r.names["father_name"].phonetic == "bdkrm"
        assert r.names["father_name"].latin == "abdulkarim"
        assert r.issues == ()
    both = normalize_record({"full_name": "محمد نبی ولد عبدالکریم",
                             "full_name_latin": "Mohammad Nabi s/o Abdul Karim"}).names["father_name"]
    assert (both.folded, both.latin, both.script) == ("عبدالکریم", "abdulkarim", "mixed")
    latin_only = normalize_record({"full_name_latin": "Mohammad Nabi s/o Abdul Karim"})
    assert latin_only.names["father_name"].latin == "abdulkarim"


def test_a_husband_is_not_a_father() -> None:
    r = normalize_record({"full_name": "Fatima w/o Abdul Karim"})
    assert "father_name" not in r.names
    assert r.names["full_name"].relative("husband") == "Abdul Karim"


def test_a_given_father_field_is_never_replaced() -> None:
    same = normalize_record({"full_name": "Mohammad Nabi s/o Haji Abdul Karim", "father_name": "عبدالکریم"})
    assert same.names["father_name"].folded == "عبدالکریم"
    assert same.issues == ()
    part = normalize_record({"full_name": "Mohammad Nabi s/o Abdul Karim", "father_name": "Mohammad Abdul Karim"})
    assert part.issues == ()
    other = normalize_record({"full_name": "Mohammad Nabi s/o Abdul Karim", "father_name": "Abdul Rahim"})
    assert other.names["father_name"].latin == "abdulrahim"
    assert other.issues == (("father_name", "father_name: differs from the father's name written in the full name"),)
    assert "Karim" not in str(other.issues) and "Rahim" not in str(other.issues)


def test_father_part_reads_the_full_name_only_where_it_names_a_father() -> None:
    issues: list[tuple[str, str]] = []
    assert father_part(None, None, None, None, issues) is None
    assert father_part(None, None, "Mohammad Nabi", None, issues) is None
    got = father_part(None, None, "Mohammad Nabi s/o Abdul Karim", None, issues)
    assert got is not None and got.phonetic == "bdkrm"
    assert issues == []
