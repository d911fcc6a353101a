"""Names as real Afghan lists write them (issue #14): titles glued on, a relative's name inside the
name field, PDF-copy damage, compounds split or joined differently."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amanat.normalize.names import normalize_name
from amanat.normalize.relations import may_name_relative_array, split_relatives


def _keys(raw: str) -> tuple[tuple[str, ...], str, str]:
    n = normalize_name(raw)
    return n.titles, n.latin, n.phonetic


# --- titles ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "titles", "latin", "phonetic"), [
    # An "abd…" name after a title was joined onto it as if it were a "-ul-Haq" tail.
    ("Alhaj Abdelkarim", ("haji",), "abdulkarim", "bdkrm"),
    ("Mullah ABDULHAQ", ("mullah",), "abdulhaq", "bdhk"),
    ("Maulvi Abdurrahim", ("mawlawi",), "abdulrahim", "bdrhm"),
    ("Molvi Abdul Haq", ("mawlawi",), "abdulhaq", "bdhk"),
    ("Haji Abdulkarim", ("haji",), "abdulkarim", "bdkrm"),
    # Titles not known before.
    ("Saranwal Ahmad", ("saranwal",), "ahmad", "hmd"),
    ("سارنوال احمد", ("saranwal",), "ahmad", "hmd"),
    ("څارنوال احمد", ("saranwal",), "ahmad", "hmd"),
    ("Pohanmal Karim", ("pohanmal",), "karim", "krm"),
    ("پوهنمل کریم", ("pohanmal",), "karim", "krm"),
    ("Kandakmishr Ahmad", ("kandakmishr",), "ahmad", "hmd"),
    ("کندک مشر احمد", ("kandakmishr",), "ahmad", "hmd"),
    ("Kandak Mishr Ahmad", ("kandakmishr",), "ahmad", "hmd"),
    ("Commander Ahmad", ("qomandan",), "ahmad", "hmd"),
    ("قوماندان احمد", ("qomandan",), "ahmad", "hmd"),
    ("ښاغلی احمد", ("mr",), "ahmad", "hmd"),
])
def test_titles_before_a_name_are_dropped_from_the_keys(raw: str, titles: tuple[str, ...], latin: str,
                                                         phonetic: str) -> None:
    assert _keys(raw) == (titles, latin, phonetic)


@pytest.mark.parametrize(("raw", "titles", "folded"), [
    ("داکترمحمدرحمان", ("dr",), "محمد رحمان"),
    ("انجینرسلیمان", ("eng",), "سلیمان"),
    ("انجنیرسلیمان", ("eng",), "سلیمان"),
    ("استادمولوی شمس الله", ("ustad", "mawlawi"), "شمسالله"),
    ("حاجی داکترفرید", ("haji", "dr"), "فرید"),
    ("الحاجعبدالکریم", ("haji",), "عبدالکریم"),
    ("ملاعبدالحق", ("mullah",), "عبدالحق"),
    ("قاریمحمدرحمان", ("qari",), "محمد رحمان"),
    ("سارنوالاحمد", ("saranwal",), "احمد"),
])
def test_dari_titles_written_onto_the_name_are_split_off(raw: str, titles: tuple[str, ...], folded: str) -> None:
    n = normalize_name(raw)
    assert n.titles == titles
    assert n.folded == folded
    assert n.display == raw


@pytest.mark.parametrize("raw", [
    "ملالی",  # Malalai, not ملا + لی
    "ملال",
    "قاریزاده",  # a family name
    "حاجیزاده",
    "حاجی زاده",
    "حافظالله",  # Hafizullah
    "استادزی",
    "داکتر",  # a title alone is kept as the name
    "خانمحسن",  # خان محسن, not خانم حسن
])
def test_names_that_begin_like_a_title_are_not_split(raw: str) -> None:
    assert normalize_name(raw).titles == ()


@pytest.mark.parametrize(("raw", "titles", "latin"), [
    ("DrFarid Nuri", ("dr",), "farid noori"),
    ("AlhajAbdul-Matin", ("haji",), "abdulmateen"),
    ("DRABDUL RAHMAN", ("dr",), "abdulrahman"),
    ("Engsalim Khan", ("eng",), "salim khan"),
])
def test_latin_titles_typed_onto_a_known_name_are_split_off(raw: str, titles: tuple[str, ...], latin: str) -> None:
    n = normalize_name(raw)
    assert (n.titles, n.latin) == (titles, latin)


@pytest.mark.parametrize("raw", ["Drakhshan", "Hafizullah", "Qaribullah", "Mullahkhel"])
def test_latin_names_that_begin_like_a_title_are_not_split(raw: str) -> None:
    assert normalize_name(raw).titles == ()


@pytest.mark.parametrize(("raw", "latin"), [
    ("Sayed Ahmad", "sayed ahmad"),  # Sayed is part of the given name: never dropped
    ("سید احمد", "sayed ahmad"),
    ("Said Ahmad", "saeed ahmad"),
    ("Haji Sayed Ahmad", "sayed ahmad"),
    ("Mirwais Khan", "mirwais khan"),
    ("Haji Mirwais", "mirwais"),
    ("Mullah Khel", "mullahkhel"),  # a tribe, not a title
    ("ملا خیل", "malakhil"),
])
def test_sayed_and_names_like_titles_stay(raw: str, latin: str) -> None:
    assert normalize_name(raw).latin == latin


@pytest.mark.parametrize(("a", "b"), [
    ("Alhaj Abdelkarim", "عبدالکریم"), ("Mullah ABDULHAQ", "ملا عبدالحق"), ("Maulvi Abdurrahim", "مولوی عبدالرحیم"),
    ("داکترمحمدرحمان", "Dr. Mohammad Rahman"), ("انجینرسلیمان", "Eng. Sulaiman"), ("استادمولوی شمس الله", "Shamsullah"),
    ("Haji Wali Jan", "ولی جان"),
])
def test_with_and_without_title_share_keys(a: str, b: str) -> None:
    assert normalize_name(a).phonetic == normalize_name(b).phonetic
    assert normalize_name(a).latin == normalize_name(b).latin


# --- a relative's name inside the name field --------------------------------------------------------

@pytest.mark.parametrize(("raw", "own", "relatives"), [
    ("Mohammad Nabi s/o Abdul Karim", "Mohammad Nabi", (("father", "Abdul Karim"),)),
    ("Mohammad Nabi S/O Abdul Karim", "Mohammad Nabi", (("father", "Abdul Karim"),)),
    ("Mohammad Nabi S/O. Abdul Karim", "Mohammad Nabi", (("father", "Abdul Karim"),)),
    ("Mohammad Nabi s / o Abdul Karim", "Mohammad Nabi", (("father", "Abdul Karim"),)),
    ("Mohammad Nabi (s/o Abdul Karim)", "Mohammad Nabi", (("father", "Abdul Karim"),)),
    ("محمد نبی ولد عبدالکریم", "محمد نبی", (("father", "عبدالکریم"),)),
    ("محمد نبی ولدِ عبدالکریم", "محمد نبی", (("father", "عبدالکریم"),)),
    ("محمد نبی فرزند عبدالکریم", "محمد نبی", (("father", "عبدالکریم"),)),
    ("فاطمه دختر عبدالکریم", "فاطمه", (("father", "عبدالکریم"),)),
    ("Mohammad bin Abdullah", "Mohammad", (("father", "Abdullah"),)),
    ("Mohammad Nabi son of Abdul Karim", "Mohammad Nabi", (("father", "Abdul Karim"),)),
    ("Mohammad Nabi Son Of Abdul Karim", "Mohammad Nabi", (("father", "Abdul Karim"),)),
    ("Fatima d/o Abdul Karim", "Fatima", (("father", "Abdul Karim"),)),
    ("Fatima w/o Abdul Karim", "Fatima", (("husband", "Abdul Karim"),)),
    ("Fatima wife of Abdul Karim", "Fatima", (("husband", "Abdul Karim"),)),
    ("فاطمه زوجه عبدالکریم", "فاطمه", (("husband", "عبدالکریم"),)),
    ("Nabi s/o Karim s/o Rahim", "Nabi", (("father", "Karim"), ("grandfather", "Rahim"))),
    ("Fatima w/o Karim s/o Rahim", "Fatima", (("husband", "Karim"), ("father_in_law", "Rahim"))),
    ("Nabi c/o Karim Khan", "Nabi", (("care_of", "Karim Khan"),)),
    ("Mohammad Nabi s/o", "Mohammad Nabi", ()),
])
def test_relatives_are_parted_from_the_own_name(raw: str, own: str, relatives: tuple[tuple[str, str], ...]) -> None:
    assert split_relatives(raw) == (own, relatives)


@pytest.mark.parametrize("raw", [
    "Bin Yamin", "S/O Abdul Karim", "Sobin Ahmad", "Abdul Bintu", "بنیامین", "رحیم زوی", "Nabi s/oKarim", "Wali Jan",
])
def test_no_relative_without_a_marker_between_two_names(raw: str) -> None:
    assert split_relatives(raw) == (raw, ())


@pytest.mark.parametrize(("raw", "phonetic", "father"), [
    ("Mohammad Nabi s/o Abdul Karim", "mhmd nb", "Abdul Karim"),
    ("محمد نبی ولد عبدالکریم", "mhmd nb", "عبدالکریم"),
    ("Haji Mohammad Nabi son of Haji Abdul Karim", "mhmd nb", "Haji Abdul Karim"),
    ("Mohammad bin Abdullah", "mhmd", "Abdullah"),
    ("Fatima w/o Abdul Karim", "ftm", None),
])
def test_name_keys_are_the_own_name_only(raw: str, phonetic: str, father: str | None) -> None:
    n = normalize_name(raw)
    assert n.phonetic == phonetic
    assert n.relative("father") == father
    assert n.display == raw
    assert n.to_dict()["relatives"] == [list(r) for r in n.relatives]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abdinos/ ولدبنفرزاهی()-.", max_size=40))
def test_split_relatives_is_total_and_invents_nothing(raw: str) -> None:
    own, relatives = split_relatives(raw)
    if relatives:  # both sides of a marker name someone
        assert any(c.isalpha() for c in own)
        assert all(any(c.isalpha() for c in text) for _, text in relatives)
    letters = [c for c in own + "".join(t for _, t in relatives) if c.isalpha()]
    assert len(letters) <= len([c for c in raw if c.isalpha()])


# Letters, marks, separators and the markers' own letters: where the Arrow test must not miss.
_MARKER_TEXT = st.lists(st.one_of(
    st.sampled_from(["s/o", "S/O", "d\\o", "wd/o", "son of", "Son  Of", "bin", "BINT", "ibn", "ولد", "ولدِ", "فرزند",
                     "زوجة", "بيوه", "بن", "of", "Mohammad", "محمد", "Nabi", "نبی", "_", "(", ")", ",", "-", "\u200c",
                     "\u0650", " ", "  ", "\t"]),
    st.text(alphabet="abinofsdwOBINSDW/\\ _-.,()ولدبنفرزهیيةاِ\u200c\u200f", max_size=6)), max_size=10).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(_MARKER_TEXT, min_size=1, max_size=8))
def test_the_arrow_test_finds_every_field_that_names_a_relative(values: list[str]) -> None:
    # Linkage may take the slow path only for the values this flags: it must miss none.
    hint = may_name_relative_array(pa.array(values, pa.string()))
    for value, flagged in zip(values, hint.tolist(), strict=True):
        if split_relatives(value)[1] or normalize_name(value).relatives:
            assert flagged, value


def test_the_arrow_test_passes_plain_names_by() -> None:
    values = ["Mohammad Nabi", "محمد نبی", "Sobin Ahmad", "Abdul Bintu", "بنیامین", None,
              "Mohammad Nabi s/o Abdul Karim", "محمد نبی ولد عبدالکریم", "Nabi Son Of Karim"]
    assert may_name_relative_array(pa.array(values, pa.string())).tolist() == [False] * 6 + [True] * 3
    assert may_name_relative_array(pa.array([], pa.string())).tolist() == []


# --- text damage -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("damaged", "clean"), [
    ("ﻋﺒﺪﺍﻟﻠﻪ", "عبدالله"),  # presentation forms (PDF copy)
    ("عبدﷲ", "عبدالله"),  # the ﷲ ligature
    ("ﻧﺠﯿﺐ ﷲ", "نجیب الله"),
    ("عبدا", "عبدالله"),  # the lam-alef lost at the end of a token
    ("محمد عبدا", "محمد عبدالله"),
    # names the lexicon does not know, so that nothing joins the broken pieces back by chance
    ("نثﹼار", "نثار"),  # a spacing shadda must not split the name
    ("شﹸپول نثار", "شپول نثار"),
    ("نثار\ue000 شپول", "نثار شپول"),  # private use
    ("نث\ue012ار", "نثار"),
    ("نث\U000f0041ار", "نثار"),
    ("نثار   شپول", "نثار شپول"),  # doubled spaces
    ("Nesar\u200bShpol", "Nesar Shpol"),  # the zero-width space separates words
])
def test_damaged_text_gives_the_clean_keys(damaged: str, clean: str) -> None:
    a, b = normalize_name(damaged), normalize_name(clean)
    assert (a.folded, a.latin, a.phonetic) == (b.folded, b.latin, b.phonetic)


@pytest.mark.parametrize("raw", ["عبدالٌطيف", "عبدالطیف", "عبداللطیف"])
def test_abdul_latif_with_one_lam_or_a_stray_tanween_on_it(raw: str) -> None:
    # The same-script key keeps what is written; the romanisation and phonetic key agree.
    n = normalize_name(raw)
    assert (n.latin, n.phonetic) == ("abdullatif", "bdltf") == (_keys("Abdul Latif")[1:])


def test_lost_lam_alef_is_mended_in_the_same_script_key_too() -> None:
    assert normalize_name("عبدا").folded == "عبدالله"
    assert normalize_name("محمد عبدا").folded == "محمد عبدالله"


# --- compounds split or joined ------------------------------------------------------------------------

@pytest.mark.parametrize(("a", "b"), [
    ("سخی زاد", "سخیزاد"), ("رحیم زوی", "Rahimzoi"), ("جرنیل ذاده", "Jarnailzadah"), ("هم سخن", "Hamsukhan"),
    ("خانزادګل", "Khanzad Gull"), ("نثاراحمد", "Nesar Ahmad"), ("عبد ل محمد", "Abdul Mohammad"),
    ("عبدل محمد", "عبدالمحمد"), ("نجیب‌الله", "Najib Ullah"),
])
def test_compounds_split_or_joined_give_one_key_written_together(a: str, b: str) -> None:
    assert normalize_name(a).phonetic.replace(" ", "") == normalize_name(b).phonetic.replace(" ", "")
