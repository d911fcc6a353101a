"""Brothers are not one person, nor are the men on one commander's list.

Own name and date of birth are the identity core: household evidence (father's and grandfather's
names, family name, district, a shared phone) says "same family", never "same person" by itself.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from amanat.linkage.batch import predict_pairs
from amanat.linkage.comparisons import amanat_comparisons
from amanat.linkage.decision import (
    _DOB_DIFFER,
    _DOB_NEAR,
    _DOB_SAME,
    _DOB_YEAR,
    _NAME_AGREE,
    _NAME_CROSSED,
    _NAME_PARTIAL,
    _NAME_SOUND,
    _NAME_SPELT,
    _PATERNAL_AGREE,
    _PATERNAL_DIFFER,
    INTERMEDIARY_PHONE,
    LINKED,
    RELATIVES,
    REVIEW,
    Evidence,
    decide,
    decide_pairs,
    decide_scored,
    phone_discount,
    phone_holders,
)
from amanat.linkage.dedupe import SourceRow, bundled_model, dedupe_rows
from amanat.linkage.features import features_frame, features_from_fields
from amanat.linkage.incremental import score_pair
from amanat.linkage.own_names import own_name_relation, spelt_alike

HOUSEHOLD = {"father_name": "عبدالکریم", "grandfather_name": "غلام حیدر", "family_name": "احمدزی",
             "province": "Kabul", "district": "Paghman", "phone": "0700123456"}


def _rows(*fields: dict[str, str]) -> list[SourceRow]:
    return [SourceRow("list.csv", i + 2, {**HOUSEHOLD, **f}) for i, f in enumerate(fields)]


def _status(result, row: int) -> str:
    return str(result.lead["status"].iat[row])


def _decide(a: dict[str, str], b: dict[str, str], holders: dict[str, int] | None = None):
    model = bundled_model()
    left, right = features_from_fields("a", a), features_from_fields("b", b)
    th = model.thresholds
    return decide_scored(score_pair(model, left, right), left, right, holders=holders or {},
                         link_at=th.auto_link, review_at=th.review)


def test_zahir_and_basir_are_brothers_not_one_man() -> None:
    # The example: p = 0.99 and linked, on household evidence alone.
    result = dedupe_rows(_rows({"full_name": "ظاهر", "date_of_birth": "1988-03-01"},
                               {"full_name": "بصیر", "date_of_birth": "1990-05-12"}), train=False)
    assert result.lead["cluster_id"].nunique() == 2
    assert _status(result, 0) == _status(result, 1) == RELATIVES
    reasons = result.lead["reasons"].iat[0]
    assert reasons.startswith("likely brothers")
    assert "own names differ" in reasons and "dates of birth more than a year apart" in reasons
    assert "a phone number in common" in reasons  # what agrees is stated beside what disagrees
    assert result.lead["relatives"].iat[0] == "list.csv row 3"


def test_three_brothers_on_one_household_phone_stay_three_people() -> None:
    result = dedupe_rows(_rows({"full_name": "گل محمد", "date_of_birth": "1985"},
                               {"full_name": "Gul Ahmad", "date_of_birth": "1987"},
                               {"full_name": "محمد نبی", "date_of_birth": "1990"}), train=False)
    assert result.lead["cluster_id"].nunique() == 3
    assert set(result.lead["status"]) == {RELATIVES}


def test_the_same_man_registered_twice_in_his_household_still_links() -> None:
    result = dedupe_rows(_rows({"full_name": "ظاهر", "date_of_birth": "1988-03-01"},
                               {"full_name": "بصیر", "date_of_birth": "1990-05-12"},
                               {"full_name": "Zahir", "family_name": "Ahmadzai", "date_of_birth": "1988-03-01"}),
                         train=False)
    clusters = result.lead["cluster_id"].tolist()
    assert clusters[0] == clusters[2] != clusters[1]
    assert _status(result, 0) == LINKED and _status(result, 1) == RELATIVES


def test_a_date_of_entry_in_common_links_a_man_registered_again_and_never_brothers() -> None:
    # Own name, father's name and birth year agree, nothing else: review. The same day of entry into
    # the country of refuge (written in two calendars) makes it one man. Brothers who crossed together
    # share that day too, and stay brothers.
    man = {"full_name": "علی", "father_name": "نور بصیر", "date_of_birth": "1343"}
    again = {**man, "full_name": "Ali", "father_name": "Noor Baseer"}
    without, _ = _decide(man, again)
    with_entry, _ = _decide({**man, "refuge_entry_date": "16 October 2022"},
                            {**again, "refuge_entry_date": "۱۴۰۱/۰۷/۲۴"})
    assert without.outcome == REVIEW and with_entry.outcome == LINKED
    brother = {**man, "full_name": "Mohammad Nabi", "date_of_birth": "1346", "refuge_entry_date": "2022-10-16"}
    crossed, _ = _decide({**man, "refuge_entry_date": "2022-10-16"}, brother)
    assert crossed.outcome != LINKED


def test_a_name_grown_by_the_tribe_under_one_father_is_compared(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # No phone, ID or date in common, and the own names' keys differ (mhmd b / mhmd b Snr): only the own
    # name's first part with the father's name pairs them (file_blocking.FIRST_AND_FATHER).
    from amanat.linkage import file_blocking

    rows = [SourceRow("list.csv", 2, {"full_name": "محمد ایوب", "father_name": "عبدالمتین", "province": "Nangarhar",
                                      "refuge_entry_date": "1401/3/25"}),
            SourceRow("list.csv", 3, {"full_name": "Mohammad Ayub Shinwari", "father_name": "Abdul Matin",
                                      "date_of_birth": "1367/9/12", "province": "Nangarhar",
                                      "refuge_entry_date": "2022-06-15"})]
    result = dedupe_rows(rows, train=False)
    assert result.lead["linked_to"].tolist() == ["list.csv row 3", "list.csv row 2"]
    assert _status(result, 0) in (LINKED, "review")
    monkeypatch.setattr(file_blocking, "STANDALONE_RULES", tuple(
        r for r in file_blocking.STANDALONE_RULES if r != file_blocking.FIRST_AND_FATHER))
    assert dedupe_rows(rows, train=False).lead["linked_to"].tolist() == ["", ""]


def test_a_list_of_names_and_fathers_names_proposes_the_same_name_under_one_father() -> None:
    # Nothing but names and fathers' names: the same given name (grown by a family name) under the same
    # father is a possible match, never a link; the same name under another father is nothing.
    rows = [SourceRow("list.csv", i + 2, f) for i, f in enumerate([
        {"full_name": "Ghani", "father_name": "Jamshid"},
        {"full_name": "غنی جمالی", "father_name": "جمشید"},
        {"full_name": "Ghani", "father_name": "Nasir"},
        *({"full_name": f"Person {k}", "father_name": f"Father {k}"} for k in "ABCDEFGH")])]
    result = dedupe_rows(rows, train=False)
    assert _status(result, 0) == _status(result, 1) == "review"
    assert result.lead["linked_to"].tolist()[:2] == ["list.csv row 3", "list.csv row 2"]
    assert "only names and fathers' names to compare" in result.lead["reasons"].iat[0]
    assert (result.lead["cluster_size"] == 1).all()
    assert result.lead["linked_to"].iat[2] == ""


def test_twins_are_never_linked() -> None:
    # Same birth date, different own names, no shared phone. حسن / حسین share a consonant key.
    twins = {**HOUSEHOLD, "phone": "", "date_of_birth": "1991-07-04"}
    decision, scored = _decide({**twins, "full_name": "حسن"}, {**twins, "full_name": "حسین"})
    assert decision.outcome == REVIEW and decision.relation == "likely twins"
    assert "own names alike but not the same" in scored.reasons
    decision, scored = _decide({**twins, "full_name": "ظاهر"}, {**twins, "full_name": "Basir"})
    assert decision.outcome == RELATIVES and decision.relation == "likely twins"
    assert "own names differ" in scored.reasons


def test_a_name_contained_in_the_other_with_other_birth_years_goes_to_review() -> None:
    farid = {**HOUSEHOLD, "phone": ""}
    decision, _ = _decide({**farid, "full_name": "Farid", "date_of_birth": "1985"},
                          {**farid, "full_name": "Farid Ahmad", "date_of_birth": "1989"})
    assert decision.outcome == REVIEW
    assert "one own name is part of the other" in decision.notes


def test_a_brother_whose_name_contains_the_others_with_only_a_year_goes_to_review() -> None:
    # Nour Yousuf and Yusuf, sons of one father, born 1352 and 1351 (Solar Hijri years overlap)
    decision, _ = _decide({**HOUSEHOLD, "full_name": "Nour Yousuf", "date_of_birth": "1352"},
                          {**HOUSEHOLD, "full_name": "Yusuf", "date_of_birth": "1351"})
    assert decision.outcome == REVIEW and decision.relation == "likely brothers"


def test_the_same_tazkira_and_name_outweigh_a_wrong_birth_date() -> None:
    # where the model itself is sure (p ≥ the auto-link threshold), a date alone does not stop the link
    with_id = Evidence("agree", "differ", "agree", True, 0, False, False)
    assert decide(30.0, with_id, link_at=0.99, review_at=0.5).outcome == LINKED
    without = Evidence("agree", "differ", "agree", False, 0, False, False)
    assert decide(30.0, without, link_at=0.99, review_at=0.5).outcome == REVIEW
    man = {"full_name": "نبی", "father_name": "کریم", "tazkira_number": "1399-1234-56789"}
    other = {**man, "full_name": "Basir", "date_of_birth": "1971-04-28"}  # a tazkira in common, another name
    decision, _ = _decide({**man, "date_of_birth": "1971-04-28"}, other)
    assert decision.outcome == REVIEW


def test_a_names_only_pair_the_model_scores_from_the_floor_is_possible() -> None:
    # names (and a province) only: the model's own probability, term frequencies included, decides
    # whether the name is rare enough to be worth a person's look; nothing else can
    thin = Evidence("agree", "missing", "missing", False, 0, False, False, thin=True)
    rich = Evidence("agree", "missing", "missing", False, 0, False, False, thin=False)
    weight = math.log2(0.05 / 0.95)
    got = decide(weight, thin, link_at=0.99, review_at=0.5)
    assert got.outcome == REVIEW and "only names to compare" in got.notes
    assert decide(weight, rich, link_at=0.99, review_at=0.5).outcome == "different"
    rows = [SourceRow("list.csv", 2, {"full_name": "ذبیح الله ستانکزی", "province": "Logar"}),
            SourceRow("list.csv", 3, {"full_name": "Zabihullah Stanekzai", "province": "Logar"}),
            SourceRow("list.csv", 4, {"full_name": "نوید", "province": "Kabul"})]
    result = dedupe_rows(rows, train=False)
    assert list(result.lead["status"])[:2] == [REVIEW, REVIEW]
    assert "only names to compare" in result.lead["reasons"].iat[0]


def test_father_and_son_are_not_one_person() -> None:
    father = {"full_name": "عبدالکریم", "father_name": "غلام حیدر", "family_name": "احمدزی", "district": "Paghman",
              "province": "Kabul", "phone": "0700123456"}
    son = {"full_name": "ظاهر", "father_name": "عبدالکریم", "grandfather_name": "غلام حیدر", "family_name": "احمدزی",
           "district": "Paghman", "province": "Kabul", "phone": "0700123456"}
    decision, _ = _decide(father, son)
    assert decision.outcome != LINKED
    # where the model scores such a pair as possibly one (a shared phone, a missing father's name), the
    # rules name it and never link it
    ev = Evidence("differ", "differ", "missing", False, 2, True, False)
    got = decide(30.0, ev, link_at=0.99, review_at=0.5)
    assert got.outcome == RELATIVES and got.relation == "likely father and son"


def test_commanders_phone_shared_by_a_hundred_men_links_no_one() -> None:
    # A former commander sends his men's forms from his own phone: one number, one province, the
    # fathers' names from the five commonest, no dates. The issue measured 71 wrong links.
    rng = random.Random(5)
    fathers = ["عبدالله", "محمد", "غلام", "عبدالرحمن", "نور"]
    own = ["احمد", "محمود", "جاوید", "فرید", "نوید", "رحیم", "کریم", "صابر", "ناصر", "عزیز", "قادر", "ظاهر",
           "بشیر", "نذیر", "شفیق", "رفیع", "حمید", "سمیع", "وحید", "مجید"]
    rows = [SourceRow("commander.xlsx", i + 2, {"full_name": f"{rng.choice(own)} {rng.choice(own)}",
                                                "father_name": rng.choice(fathers), "province": "Kandahar",
                                                "phone": "0700999888"}) for i in range(100)]
    result = dedupe_rows(rows, train=False)
    lead = result.lead
    for row, cluster in enumerate(lead["cluster_id"]):
        for other in np.flatnonzero(lead["cluster_id"].to_numpy() == cluster):
            a, b = rows[row].fields, rows[int(other)].fields
            assert a["full_name"] == b["full_name"] and a["father_name"] == b["father_name"], (row, int(other))
    # a household's number keeps its weight; a busier one as a term frequency would have it
    assert phone_discount(2, 16.0) == phone_discount(4, 16.0) == 0.0
    assert phone_discount(7, 16.0) == pytest.approx(-1.0) and phone_discount(10, 16.0) == pytest.approx(-np.log2(3))
    assert phone_discount(100, 16.0) == -16.0  # an intermediary's number says nothing


def test_an_intermediarys_number_is_not_household_evidence() -> None:
    # Namesakes on a commander's list: his number, one province, other fathers.
    a = {"full_name": "ظاهر", "father_name": "نور", "province": "Kandahar", "phone": "0700123456"}
    b = {**a, "father_name": "محمود"}
    decision, scored = _decide(a, b, holders={"+93700123456": 150})
    plain = score_pair(bundled_model(), features_from_fields("a", a), features_from_fields("b", b))
    assert plain.match_probability >= 0.01  # decided, not below the floor
    assert decision.outcome != LINKED and decision.relation is None
    assert INTERMEDIARY_PHONE in decision.notes
    assert "fathers' names differ" in decision.notes
    phone = next(c.match_weight for c in plain.contributions if c.comparison == "phones")
    assert phone > 10 and scored.match_weight == pytest.approx(plain.match_weight - phone)
    household, _ = _decide(a, b, holders={"+93700123456": 2})
    assert household.match_weight == pytest.approx(plain.match_weight)
    shared, _ = _decide(a, b, holders={"+93700123456": 7})
    assert shared.match_weight == pytest.approx(plain.match_weight - 1)


@pytest.mark.parametrize(("a", "b", "want"), [
    ("سخی زاد", "سخیزاد", "agree"),
    ("Farid", "Farid Ahmad", "contained"),
    ("Haji Wali Jan", "Hajji Wali Jan Sabiri", "agree"),  # a pen name added: the same name grown
    ("گل حسین", "گل حسین بارکزی", "agree"),
    ("اسد الله", "اسد الله محمدی", "agree"),
    ("Nabi", "Ghulam Nabi", "contained"),  # a part before: not a family name
    ("عبد الرحیم", "عبدالرحیم خان", "contained"),
    ("گل محمد", "گل احمد", "differ"),
    ("Zahir", "Basir", "differ"),
    ("Zahir", "", "missing"),
    ("حسن", "سید احسان", "differ"),  # one sound key (hsn), other names
    ("حسن", "حسین", "similar"),
    ("محمد کریم", "کریمه", "differ"),
    # a tribal or family name the lexicon knows, added on one registration: the same name grown
    ("نبی وردک", "نبی", "agree"),
    ("Jan Omid Wardak", "جان امید", "agree"),
    ("محمد نبی صافی", "Muhammed Nabi", "agree"),
    ("Karimulla", "Karimollah Noori", "agree"),
    ("Nabi Wali", "Nabi", "contained"),  # a given name added, not a family's
    # one name spaced two ways, a letter doubled across the join
    ("Noor Raheem", "نور رحيم", "agree"),
    ("شریف", "شاه شریف", "contained"),  # Shah Sharif is not Sharif: a one-letter part stays whole
])
def test_own_name_relation(a: str, b: str, want: str) -> None:
    assert own_name_relation(features_from_fields("a", {"full_name": a}),
                             features_from_fields("b", {"full_name": b})) == want


@pytest.mark.parametrize(("a", "b", "want"), [
    ("حسن", "حسین", "similar"),  # one consonant key; twins' names
    ("Sayed", "Said", "agree"),  # سید romanised; the romanisation reads Said as saeed
    ("Hassan", "Ehsan", "differ"),
    ("Karim", "Karima", "differ"),
    ("دوست ولی", "دوست علی", "differ"),  # Dost Wali / Dost Ali  # a man's name and a woman's: one sound key
    ("Gul Mohammad", "Gul Ahmad", "differ"),
    ("Mahmood", "Mohammad", "differ"),
    ("Navid Navid", "Navid Naser", "differ"),  # each part its own partner
    ("Rahim", "Rahin", "agree"),
    ("عبدالحمید", "Abdul Majeed", "differ"),  # a shared compound head
    ("Samiullah", "Saifullah", "similar"),  # a shared compound tail: never linked without a look
    ("Rahmatullah", "Rahmatulla", "agree"),
    ("Abdul Wahid", "Abdulwahed", "agree"),
    ("Khwaja", "Khaja", "agree"),
    ("Wali Jan", "Wali Jan Sabiri", "agree"),
    ("Sayed Shafiq", "Sayed Shafeeq Tokhi", "agree"),
    ("Mohammad Aziz", "Mohammad Aziz Ahmad", "contained"),
    ("Rahima", "Rahman", "similar"),  # 0.93 as letters; two names the lexicon knows: a sister's, a brother's
    ("Nasir", "Nasim", "similar"),
    ("Abdulghani Noori", "Abdul Ghani Nuri", "agree"),  # one name in two house styles
])
def test_names_alike_as_a_whole_are_read_part_by_part(a: str, b: str, want: str) -> None:
    assert spelt_alike(features_from_fields("a", {"full_name": a}), features_from_fields("b", {"full_name": b})) == want


def test_a_family_name_written_in_the_name_and_in_its_own_field_is_set_aside_in_either_spelling() -> None:
    row = features_from_fields("a", {"full_name": "Abdulghani Noori", "family_name": "Nuri"})
    assert (row["full_latin"], row["full_phon"]) == ("abdulghani", "bdkn")


def test_a_brother_named_as_the_family_is_not_a_swap() -> None:
    # Aziz, son of Noor Javed, and his brother Sayed Nabi Azizi: one's own name is the family name.
    brother = {"full_name": "Sayed Nabi Azizi", "family_name": "Azizi", "father_name": "Noor Javed",
               "phone": "03451053665", "date_of_birth": "1372"}
    aziz = {"full_name": "عزیز", "family_name": "عزيزې", "father_name": "نور جاوید", "phone": "03451053665",
            "date_of_birth": "21/12/1994"}
    decision, _ = _decide(brother, aziz)
    assert decision.outcome != LINKED
    swapped, _ = _decide({"full_name": "Ahmadzai", "family_name": "Zahir", "date_of_birth": "1988-03-01"},
                         {"full_name": "ظاهر", "family_name": "احمدزی", "date_of_birth": "1988-03-01"})
    assert swapped.outcome != RELATIVES and "own names differ" not in swapped.notes
    typo, _ = _decide({"full_name": "Mikhayla", "family_name": "Hannagan", "date_of_birth": "1988-03-01"},
                      {"full_name": "Hannagan", "family_name": "Mikhvyla", "date_of_birth": "1988-03-01"})
    assert "own names differ" not in typo.notes  # swapped, with a typo in one of them


def test_genders_that_differ_are_never_linked() -> None:
    sister = {**HOUSEHOLD, "date_of_birth": "1988-03-01", "gender": "female", "full_name": "Zahira"}
    decision, _ = _decide({**HOUSEHOLD, "date_of_birth": "1988-03-01", "gender": "male", "full_name": "Zahir"}, sister)
    assert decision.outcome != LINKED and "genders differ" in decision.notes


def test_every_core_level_is_read() -> None:
    # A level renamed in comparisons.py must not silently fall out of the identity core.
    labels = {s.name: {lv.label for lv in s.levels if not lv.is_null} for s in amanat_comparisons()}
    assert labels["full_name"] == _NAME_AGREE | _NAME_PARTIAL | {_NAME_SPELT, _NAME_SOUND, _NAME_CROSSED}
    assert labels["dob"] == _DOB_SAME | _DOB_YEAR | _DOB_NEAR | _DOB_DIFFER
    assert labels["paternal"] > _PATERNAL_AGREE | _PATERNAL_DIFFER


def test_batch_decisions_equal_pair_by_pair(tmp_path) -> None:
    # The batch (dedupe, link run) and the worker's incremental match decide every pair alike.
    rng = random.Random(11)
    names = ["ظاهر", "بصیر", "Zahir", "گل محمد", "Gul Ahmad", "محمد نبی", "Farid", "Farid Ahmad", "حسن", "حسین",
             "Ahmadzai", "احمدزی", "Zahir Ahmadzai"]
    fathers = ["عبدالکریم", "Abdul Karim", "نور", ""]
    fields = [{"full_name": rng.choice(names), "father_name": rng.choice(fathers),
               "grandfather_name": rng.choice(["غلام حیدر", ""]), "district": rng.choice(["Paghman", ""]),
               "family_name": rng.choice(["احمدزی", "Ahmadzai", "ظاهر", "Basir", ""]),
               "province": "Kabul", "phone": rng.choice(["0700123456", "0700999888", ""]),
               "date_of_birth": rng.choice(["1988-03-01", "1990", "1988", ""])} for _ in range(90)]
    frame = features_frame(features_from_fields(str(i), f) for i, f in enumerate(fields))
    model = bundled_model()
    th = model.thresholds
    pairs = predict_pairs(model, frame, threshold_match_weight=-1e9)
    assert len(pairs) > 200
    holders = phone_holders(frame)
    got = decide_pairs(model, frame, pairs, link_at=th.auto_link, review_at=th.review, holders=holders)
    rows = {r["unique_id"]: r for r in frame.to_dict("records")}
    outcomes = set()
    for i, (left, right) in enumerate(zip(pairs["unique_id_l"], pairs["unique_id_r"], strict=True)):
        a, b = rows[left], rows[right]
        want, scored = decide_scored(score_pair(model, a, b), a, b, holders=holders, link_at=th.auto_link,
                                     review_at=th.review)
        assert got.outcome[i] == want.outcome and got.relation[i] == want.relation, (left, right)
        assert got.notes[i] == want.notes
        assert got.match_weight[i] == pytest.approx(scored.match_weight)
        outcomes.add(want.outcome)
    assert {LINKED, REVIEW, RELATIVES} <= outcomes


def test_a_small_population_of_households_merges_no_relatives() -> None:
    # The households benchmark in small (bench/linkage_households.py): brothers with one household
    # phone, twins, fathers and sons, an intermediary's group; the bundled model, as a small list gets.
    from bench.households import FORM_FIELDS, generate_households, pairs_by_class

    records = generate_households(120, seed=3)
    rows = [SourceRow("list.csv", i + 2, {k: r[k] for k in FORM_FIELDS if k in r}) for i, r in enumerate(records)]
    cluster = dedupe_rows(rows, train=False).lead["cluster_id"].to_numpy()
    truth = pairs_by_class(records)
    for relation in ("brothers", "twins", "father_son", "cousins"):
        merged = [(int(a), int(b)) for a, b in truth[relation] if cluster[a] == cluster[b]]
        assert merged == [], relation
    same = truth["same_person"]
    assert len(same) > 50
    assert np.mean(cluster[same[:, 0]] == cluster[same[:, 1]]) > 0.9  # re-registrations still found
