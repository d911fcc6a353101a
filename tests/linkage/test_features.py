"""The flat linkage row and its blocking keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from amanat.linkage.batch_features import batch_features
from amanat.linkage.features import (
    BLOCKING_RULES,
    FEATURE_COLUMNS,
    FEATURE_SCHEMA,
    blocking_keys,
    empty_row,
    features_frame,
    features_from_fields,
    to_arrow,
)
from tests.linkage._shared import BROTHER, NABI_DARI, NABI_PASSPORT, NABI_SHEET, population


def test_one_man_in_three_scripts_gets_one_cross_script_key() -> None:
    rows = [features_from_fields(str(i), f) for i, f in enumerate((NABI_DARI, NABI_PASSPORT, NABI_SHEET))]
    assert {r["full_latin"] for r in rows} == {"mohammad nabi"}
    assert len({r["full_phon"] for r in rows}) == 1
    assert len({r["father_latin"] for r in rows}) == 1
    # Same-script keys stay apart: that is the stronger, separate level.
    assert rows[0]["full_fold"] != rows[1]["full_fold"]
    assert {r["dob_day"] for r in rows} == {"1981-08-03"}  # Solar Hijri 1360/05/12
    shared = set(blocking_keys(rows[0])) & set(blocking_keys(rows[1])) & set(blocking_keys(rows[2]))
    assert any(k.startswith("nf:") for k in shared)


def test_brother_shares_father_but_not_name() -> None:
    me, brother = features_from_fields("a", NABI_DARI), features_from_fields("b", BROTHER)
    assert me["father_phon"] == brother["father_phon"] and me["grand_phon"] == brother["grand_phon"]
    assert me["full_phon"] != brother["full_phon"]


def test_family_name_written_into_the_full_name_is_set_aside() -> None:
    row = features_from_fields("x", {"full_name": "Aminullah Zamani", "family_name": "Zamani"})
    assert row["full_latin"] == features_from_fields("y", {"full_name": "امین‌الله"})["full_latin"]
    assert row["family_latin"] is not None
    # A one-word name that happens to equal the family name is left alone.
    assert features_from_fields("z", {"full_name": "Zamani", "family_name": "Zamani"})["full_phon"]


def test_partial_hijri_year_covers_both_gregorian_years() -> None:
    row = features_from_fields("x", {"date_of_birth": "۱۳۵۰"})
    assert (row["dob_year_lo"], row["dob_year_hi"]) == (1971, 1972) and row["dob_day"] is None
    full = features_from_fields("y", {"date_of_birth": "1350/10/22"})
    assert full["dob_day"] == "1972-01-12" and (full["dob_year_lo"], full["dob_year_hi"]) == (1972, 1972)
    month = features_from_fields("z", {"date_of_birth": "1392/6"})
    assert (month["dob_month_lo"], month["dob_month_hi"]) == ("2013-08", "2013-09")


def test_ambiguous_day_month_keeps_both_readings() -> None:
    row = features_from_fields("x", {"date_of_birth": "3/4/1990"})
    assert (row["dob_day"], row["dob_alt"]) == ("1990-04-03", "1990-03-04")


def test_frame_has_stable_columns_and_arrow_schema_even_when_empty() -> None:
    empty = features_frame([])
    assert list(empty.columns) == list(FEATURE_COLUMNS)
    sparse = features_frame([empty_row("1"), features_from_fields("2", NABI_PASSPORT)])
    assert str(sparse["dob_year"].dtype) == "int32[pyarrow]" and str(sparse["full_phon"].dtype) == "string[pyarrow]"
    assert sparse.loc[0, "full_phon"] is pd.NA or sparse.loc[0, "full_phon"] is None
    table = to_arrow(sparse)
    assert table.schema == FEATURE_SCHEMA
    # An empty array crosses as NULL so the null levels see it as missing.
    assert table.column("phones").to_pylist()[0] is None
    assert pa.types.is_list(table.schema.field("full_tok").type)


def test_blocking_keys_follow_the_rules_and_skip_missing_values() -> None:
    row = features_from_fields("x", {**NABI_DARI, "phone": "0799123456", "whatsapp_phone": "0700111222"})
    keys = blocking_keys(row)
    assert sum(k.startswith("ph:") for k in keys) == 2  # one per phone: the exploded rule
    assert not any(k.startswith("tz:") for k in keys)  # no tazkira given
    assert {k.split(":", 1)[0] for k in keys} <= {r.name for r in BLOCKING_RULES}
    assert blocking_keys(empty_row("e")) == []


def _as_objects(df: pd.DataFrame) -> list[list[object]]:
    return [[None if v is pd.NA else (list(v) if hasattr(v, "tolist") or isinstance(v, list) else v)
             for v in row] for row in df.astype(object).itertuples(index=False)]


def test_batch_features_equal_the_row_by_row_frame_in_one_process_and_forked() -> None:
    records = [*population()[:600], NABI_DARI, NABI_PASSPORT, NABI_SHEET, BROTHER,
               {"full_name": 7, "date_of_birth": "not a date", "phone": "+93 70 000"},  # odd values too
               # the same values padded or blank: cleaned once per distinct raw value, as a form's
               {**NABI_DARI, "full_name": " محمد نبی ", "father_name": "\tعبدالکریم", "district": "   "},
               {**NABI_SHEET, "tazkira_number": " 1399-1234-56789", "gender": "", "phone": " +93 799 123 456 "},
               # a father's name written into the name field fills an empty father's name, not a given one
               {"full_name": "محمد نبی ولد عبدالکریم", "date_of_birth": "1360"},
               {"full_name": "Mohammad Nabi S/O Abdul Karim", "full_name_latin": "Mohammad Nabi"},
               {"full_name": "محمد نبی فرزند عبدالکریم", "father_name": "غلام"}]
    ids = [str(i) for i in range(len(records))]
    expected = features_frame(features_from_fields(i, r) for i, r in zip(ids, records, strict=True))
    for jobs in (1, 3):
        got = batch_features(ids, records, jobs=jobs, min_chunk=100)
        assert list(got.columns) == list(expected.columns)
        assert got.dtypes.tolist() == expected.dtypes.tolist()
        assert _as_objects(got) == _as_objects(expected)


def test_batch_features_give_a_record_that_cannot_be_normalised_no_values(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from amanat.normalize import record as parts

    real = parts.gender_part

    def gender_part(raw, warnings):  # type: ignore[no-untyped-def]
        if raw == "odd":
            raise ValueError("boom")
        return real(raw, warnings)

    monkeypatch.setattr(parts, "gender_part", gender_part)
    records = [NABI_PASSPORT, {**NABI_SHEET, "gender": "odd"}, NABI_DARI]
    failed: list[int] = []
    got = batch_features(["a", "b", "c"], records, jobs=1, failed=failed)
    assert failed == [1]
    assert got["unique_id"].tolist() == ["a", "b", "c"]
    assert got.iloc[1].drop("unique_id").isna().all()
    assert got.loc[0, "passport"] == "P12345678" and got.loc[2, "full_phon"] is not pd.NA


def test_batch_full_names_with_and_without_their_family_name_equal_the_row_by_row_frame(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # One full name with several family names (one ends it, one does not), endings that agree
    # in one key only (Latin, cross-script), and names or family names that fail.
    from amanat.normalize import record as parts

    real = parts.name_part

    def name_part(raw, raw_latin):  # type: ignore[no-untyped-def]
        if "Broken" in (raw or "") + (raw_latin or ""):
            raise ValueError("boom")
        return real(raw, raw_latin)

    monkeypatch.setattr(parts, "name_part", name_part)
    records = [
        {"full_name": "Aminullah Zamani", "family_name": "Zamani"},
        {"full_name": "Aminullah Zamani", "family_name": "Ahmadzai"},
        {"full_name": "Aminullah Zamani"},
        {"full_name": "Aminullah Zamani", "family_name": "Broken"},
        {"full_name": "امین‌الله زمانی", "family_name": "Zamani"},
        {"full_name": "امین‌الله زمانی", "family_name_latin": "Zamani"},
        {"full_name": "امین‌الله زمانی", "full_name_latin": "Aminullah Zamani", "family_name": "زمانی"},
        {"full_name": "Broken Zamani", "family_name": "Zamani"},
        {"full_name": "Zamani", "family_name": "Zamani"},
        {"full_name": "Haji Gul Ahmad Zamani Sahib", "family_name": "Zamani"},
        {"full_name": "Gul Ahmad Khan", "family_name": "Mohammad Khan"},
        {"family_name": "Zamani"},
        {"full_name": "Aminullah Zamani", "family_name": "Zamani", "gender": "m"},
    ]
    ids = [str(i) for i in range(len(records))]
    expected = features_frame(features_from_fields(i, r) for i, r in zip(ids, records, strict=True))
    for jobs in (1, 2):
        failed: list[int] = []
        got = batch_features(ids, records, jobs=jobs, min_chunk=4, failed=failed)
        assert _as_objects(got) == _as_objects(expected)
        assert failed == [3, 7]
    assert got.loc[0, "full_latin"] != got.loc[1, "full_latin"]  # set aside in one, kept in the other


def test_phone_numbers_decided_in_arrow_equal_the_group_function() -> None:
    from amanat.linkage import arrow_paths
    from amanat.linkage import batch_features as bf

    phones = [r.get("phone") for r in population()[:400]] + ["+93 0799 123 456", "0202201234", "x", None, "  "]
    whatsapp = [*reversed(phones[:200]), *phones[200:]]
    codes = [bf._codes_of(np.array(v, dtype=object)) for v in (phones, whatsapp)]
    _, keys = bf._group_codes(codes)
    g = next(i for i, group in enumerate(bf._GROUPS) if group[0] == bf._PHONES)
    values = list(dict.fromkeys(v for _, u in codes for v in u))
    e164, bad = arrow_paths.phone_e164(values)
    at = {v: i for i, v in enumerate(values)}
    pick = [pa.array([at[k[side]] for k in keys]) for side in (0, 1)]
    got = arrow_paths.phones_column(e164.take(pick[0]), e164.take(pick[1])).to_pylist()
    expected = [out[0] or None if out else None for out in bf._group_outputs(g, keys)]
    assert got == expected and not bad.any()
    assert sum(1 for out in got if out and len(out) == 2) > 10


def test_values_cleaned_in_arrow_as_a_form_value_is() -> None:
    from amanat.linkage import arrow_paths
    from amanat.linkage import batch_features as bf
    from amanat.normalize.record import clean_text

    values = ["Ali", " Ali", "Ali\u3000", "\x1cAli", "\xa0", "", "  ", None, "\u200cعلی", "علی\u200c", "a b",
              "\u2028x\u2029", "\x85y", "z\x0b", "\u200bq"]
    assert arrow_paths.clean_array(pa.array(values, type=pa.string())).to_pylist() == [clean_text(v) for v in values]
    codes, distinct = bf._codes_of(np.array([*values, 7, "Ali"], dtype=object))
    assert [distinct[c] for c in codes] == [clean_text(v) for v in values] + [None, "Ali"]


def _columnar_equals_group(fields: tuple[str, ...], keys: list[tuple[str | None, ...]]) -> int:
    """The group's columnar path against its function, key by key; how many it decided."""
    from amanat.linkage import batch_features as bf

    g = next(i for i, group in enumerate(bf._GROUPS) if group[0] == fields)
    arrays = [pa.array(list(col), pa.string()) for col in zip(*keys, strict=True)]
    done, got = bf._COLUMNAR[g](arrays)
    expected = bf._group_outputs(g, keys)
    for j, c in enumerate(bf._GROUPS[g][1]):
        want = bf._column(c, [o[j] if o is not None else None for o in expected]).to_pylist()
        have = got[j].to_pylist()
        assert [h for h, d in zip(have, done, strict=True) if d] == [w for w, d in zip(want, done, strict=True) if d]
    return int(done.sum())


_ID_TEXT = "0123456789۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩０１ -/._pPaAbZßجلد\u00a0\t"


def test_tazkira_and_passport_decided_in_arrow_equal_the_group_functions() -> None:
    from amanat.linkage.batch_features import _PASSPORT, _TAZKIRA

    people = population()[:400]
    tazkira = [tuple(r.get(f) for f in _TAZKIRA) for r in people] + [
        ("1399-1234-56789", None, None, None), ("۱۳۹۹ ۱۲۳۴ ۵۶۷۸۹", None, None, None),
        ("13991234567890", None, None, None),
        ("1399-1234-5678", None, None, None), ("1399--1234-56789", None, None, None), (None, "۰۱۲", "7", "0033"),
        (None, "0", "1", "2"), (None, "12", "34", None), (None, "1 2", "3", "4"), ("1399-1234-56789", "1", "2", "3"),
        (None, "١٢", "٣٤", "٥٦"), (None, "１２", "3", "4"), ("جلد 12 صفحه 3 ثبت 4", None, None, None)]
    passport = [(r.get("passport_number"), r.get("passport_mrz")) for r in people] + [
        ("p 2414 8484", None), ("P-01234567", None), ("p۱۲۳۴۵۶۷", None), ("straße 123456", None), ("---", None),
        ("AB\t12\x1c3456", None), ("P01234567", "P<AFG..."), ("جلد123456", None), ("ab.12_3456/7", None)]
    # beside an MRZ (a real one, a damaged one, one with another number), only a valid number
    mrz = next(r["passport_mrz"] for r in population() if r.get("passport_mrz"))
    passport += [("12345", mrz), ("P1234567890", mrz), ("P۱۲۳۴۵۶۷", mrz), ("P1234567", mrz[:60]), ("ABCDEFG", mrz),
                 ("P1234567", mrz.replace("<", "«")), ("XY 987654", mrz)]
    assert _columnar_equals_group(_TAZKIRA, tazkira) > 250
    assert _columnar_equals_group(_PASSPORT, passport) > 50


@given(st.lists(st.tuples(st.one_of(st.none(), st.text(_ID_TEXT, min_size=1, max_size=18)),
                          *[st.one_of(st.none(), st.text(_ID_TEXT[:40], min_size=1, max_size=4))] * 3),
                min_size=1, max_size=30))
@settings(max_examples=150, deadline=None)
def test_tazkira_columnar_path_equals_the_group_function_on_any_text(keys: list[tuple[str | None, ...]]) -> None:
    from amanat.linkage.batch_features import _TAZKIRA

    _columnar_equals_group(_TAZKIRA, [tuple(v.strip() or None if v else None for v in k) for k in keys])


_MRZ = ("P<AFGZAMANI<<AMINULLAH<<<<<<<<<<<<<<<<<<<<<<<\nP012345674AFG8503125M3001017<<<<<<<<<<<<<<06",
        "P<AFG" + "<" * 39 + "\n" + "<" * 44, "not an mrz")


@given(st.lists(st.tuples(st.one_of(st.none(), st.text(_ID_TEXT, min_size=1, max_size=14)),
                          st.one_of(st.none(), st.sampled_from(_MRZ), st.text(_ID_TEXT + "<\n", max_size=90))),
                min_size=1, max_size=30))
@settings(max_examples=150, deadline=None)
def test_passport_columnar_path_equals_the_group_function_on_any_text(keys: list[tuple[str | None, ...]]) -> None:
    from amanat.linkage.batch_features import _PASSPORT

    _columnar_equals_group(_PASSPORT, [tuple(v.strip() or None if v else None for v in k) for k in keys])
