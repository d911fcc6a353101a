"""Names: same-script key, romanisation, cross-script phonetic key, titles."""

from __future__ import annotations

from pathlib import Path

import pytest

from amanat.normalize.names import lexicon_disabled, name_variants, normalize_name
from amanat.normalize.phonetic import house, lexicon

DATA = Path(__file__).parent / "data"

# (Dari/Pashto script, Latin) that must share the phonetic key: house styles and compounds.
SAME_PHONETIC = [
    ("محمد", "Mohammad"), ("محمد", "Muhammad"), ("محمد", "Mohammed"), ("محمد", "Mohamed"),
    ("گل", "Gul"), ("گل", "Gull"), ("ګل", "Gul"),
    ("نجیب‌الله", "Najibullah"), ("نجیب‌الله", "Najibulla"), ("نجیب الله", "Najib Ullah"),
    ("حبیب‌الله", "Habibollah"), ("رحمت‌الله", "Rahmat-Ullah"),
    ("یوسف", "Yousuf"), ("یوسف", "Yusuf"), ("یوسف", "Yosuf"),
    ("سید", "Sayed"), ("سید", "Sayyid"), ("سید", "Syed"),
    ("عبدالرحمن", "Abdul Rahman"), ("عبدالرحمن", "Abdurrahman"), ("عبد الرحمن", "Abd al-Rahman"),
    ("عبدالرحمن", "Abdul-Rehman"), ("عبدالله", "Abdullah"), ("عبدالله", "Abdulla"),
    ("عبداللطیف", "Abdul Latif"), ("عبدالستار", "Abdussattar"),
    ("ضیاء الحق", "Zia-ul-Haq"), ("ضیاءالحق", "Ziaulhaq"), ("شمس‌الحق", "Shamsul Haq"),
    ("شمس‌الدین", "Shamsuddin"), ("شمس الدین", "Shams ud Din"), ("حبیب الرحمن", "Habib-ur-Rehman"),
    ("حبیب‌الرحمن", "Habibur Rahman"), ("خیرالنساء", "Khairunnisa"),
    ("احمد", "Ahmad"), ("احمد", "Ahmed"), ("علی", "Ali"), ("عمر", "Omar"), ("عمر", "Umar"),
    ("حسین", "Hussain"), ("حسین", "Hossein"), ("داود", "Dawood"), ("داود", "Daud"),
    ("اسحاق", "Ishaq"), ("یعقوب", "Yaqoob"), ("یعقوب", "Yaghoub"), ("قاسم", "Ghasem"),
    ("غلام", "Golam"), ("پرویز", "Parviz"), ("جاوید", "Jawed"), ("وحید", "Vahid"),
    ("احمدزی", "Ahmadzai"), ("احمدزی", "Ahmadzay"), ("احمدزی", "Ahmad Zai"), ("نبی‌زاده", "Nabizada"),
    ("زرغونه", "Zarghuna"), ("فاطمه", "Fatemeh"), ("بی بی گل", "Bibi Gul"), ("محمدعلی", "Mohammad Ali"),
    ("احمدشاه", "Ahmad Shah"), ("ستانکزی", "Stanekzai"), ("شینواری", "Shinwari"), ("وردک", "Vardak"),
]


@pytest.mark.parametrize(("dari", "latin"), SAME_PHONETIC)
def test_cross_script_phonetic_agrees(dari: str, latin: str) -> None:
    assert normalize_name(dari).phonetic == normalize_name(latin).phonetic


# Latin house styles agree with each other, not only with the Dari spelling.
@pytest.mark.parametrize(("a", "b"), [
    ("Gul", "Gull"), ("Najibullah", "Najib Ulla"), ("Yousuf", "Yusuf"), ("Sayed", "Sayyid"), ("Syed", "Sayed"),
    ("Abdul Rahman", "Abdurrahman"), ("Mohammad", "Muhammad"), ("Mohammed", "Mohamad"),
    ("Samiullah", "Sami Ullah"), ("Zia ul Haq", "Ziaulhaq"), ("Nooruddin", "Nuruddin"), ("Qasim", "Kasim"),
])
def test_latin_house_styles_agree(a: str, b: str) -> None:
    x, y = normalize_name(a), normalize_name(b)
    assert x.phonetic == y.phonetic
    assert x.latin == y.latin


@pytest.mark.parametrize(("raw", "latin"), [
    ("محمد", "mohammad"), ("Muhammad", "mohammad"), ("Mohd", "mohammad"), ("نجیب‌الله", "najibullah"),
    ("Najib Ulla", "najibullah"), ("عبدالرحمن", "abdulrahman"), ("Abdurrahman", "abdulrahman"),
    ("عبدالله", "abdullah"), ("ضیاءالحق", "ziaulhaq"), ("شمس‌الدین", "shamsuddin"), ("یوسف", "yousuf"),
    ("Yusef", "yousuf"), ("سید", "sayed"), ("Syed", "sayed"), ("احمدزی", "ahmadzai"), ("گل احمد", "gul ahmad"),
    ("محمدعلی", "mohammad ali"), ("محمود", "mahmood"), ("Mahmud", "mahmood"),
])
def test_romanisation(raw: str, latin: str) -> None:
    assert normalize_name(raw).latin == latin


@pytest.mark.parametrize(("a", "b"), [
    ("محمد", "احمد"), ("علی", "ولی"), ("گل", "جان"), ("عبدالرحمن", "عبدالرحیم"), ("Najibullah", "Habibullah"),
    ("Shamsuddin", "Nooruddin"), ("احمدزی", "پوپلزی"), ("Karim", "Rahim"), ("یوسف", "یونس"), ("Farid", "Fawad"),
])
def test_different_names_keep_different_keys(a: str, b: str) -> None:
    assert normalize_name(a).phonetic != normalize_name(b).phonetic


@pytest.mark.parametrize(("a", "b", "latin_b"), [("محمد", "محمود", "Mahmood"), ("حسن", "حسین", "Hussain")])
def test_known_conflation_is_separated_by_romanisation(a: str, b: str, latin_b: str) -> None:
    # Names that differ only in a long vowel share a consonant skeleton; the romanisation tells them apart.
    x, y = normalize_name(a), normalize_name(b)
    assert x.phonetic == y.phonetic
    assert x.latin != y.latin
    assert normalize_name(latin_b).latin == y.latin


@pytest.mark.parametrize(("raw", "titles", "folded"), [
    ("حاجی محمد نبی", ("haji",), "محمد نبی"),
    ("الحاج عبدالله", ("haji",), "عبدالله"),
    ("Haji Mohammad Nabi", ("haji",), "mohammad nabi"),
    ("Al-Haj Abdullah", ("haji",), "abdullah"),
    ("Alhaj Gul Ahmad", ("haji",), "gul ahmad"),
    ("انجنیر احمد شاه", ("eng",), "احمد شاه"),
    ("Eng. Ahmad Shah", ("eng",), "ahmad shah"),
    ("داکتر فرید", ("dr",), "فرید"),
    ("Dr. Farid", ("dr",), "farid"),
    ("مولوی عبدالقادر", ("mawlawi",), "عبدالقادر"),
    ("Maulvi Abdul Qadir", ("mawlawi",), "abdulqadir"),
    ("ملا محمد عمر", ("mullah",), "محمد عمر"),
    ("پوهاند عزیز", ("pohand",), "عزیز"),
    ("جنرال عبدالرشید", ("gen",), "عبدالرشید"),
    ("Gen. Abdul Rashid", ("gen",), "abdulrashid"),
    ("Col Wardak", ("col",), "wardak"),
    ("لومړی بریدمن کریم", ("lt",), "کریم"),
    ("مرحوم حاجی غلام سخی", ("late", "haji"), "غلام سخی"),
    ("Late Haji Ghulam Sakhi", ("late", "haji"), "ghulam sakhi"),
    ("حاجی صاحب نور", ("haji",), "صاحب نور"),
    ("Haji Noor Sahib", ("haji", "sahib"), "noor"),
    ("Mr. Ahmad", ("mr",), "ahmad"),
    ("Haji", (), "haji"),
    ("صاحب خان", (), "صاحب خان"),
])
def test_titles_stripped_for_keys_kept_for_display(raw: str, titles: tuple[str, ...], folded: str) -> None:
    n = normalize_name(raw)
    assert n.titles == titles
    assert n.folded == folded
    assert n.display == " ".join(raw.split())


@pytest.mark.parametrize(("raw", "script"), [
    ("محمد نبی", "arabic"), ("Mohammad Nabi", "latin"), ("محمد Nabi", "mixed"), ("", "empty"), ("  -- ", "empty"),
])
def test_script(raw: str, script: str) -> None:
    assert normalize_name(raw).script == script


def test_tokens_are_the_phonetic_parts() -> None:
    n = normalize_name("حاجی گل احمد احمدزی")
    assert n.tokens == ("kl", "hmd", "hmdz")
    assert n.phonetic == "kl hmd hmdz"
    assert n.to_dict()["tokens"] == ["kl", "hmd", "hmdz"]


def test_name_variants_holds_both_scripts() -> None:
    v = name_variants("محمد نبی")
    assert {"محمد", "mohammad", "muhammad", "mohammed", "نبی", "nabi"} <= v


def test_lexicon_has_no_clashing_spellings() -> None:
    # Two canonical names must not claim the same house-folded Latin spelling.
    assert lexicon()[2] == ()


@pytest.mark.parametrize(("a", "b"), [
    ("Mohammad", "muhamad"), ("Yousuf", "yusuf"), ("Sayyid", "sayid"), ("Ahmadzay", "ahmadzai"),
    ("Parviz", "parwiz"), ("Naseer", "nasir"), ("Noor", "nur"), ("Qasim", "kasim"),
])
def test_house_folding(a: str, b: str) -> None:
    assert house(a.lower()) == b


def _pairs(name: str) -> list[tuple[str, str]]:
    rows = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            dari, latin = line.split("\t")[:2]
            rows.append((dari, latin))
    return rows


def _agree(pairs: list[tuple[str, str]]) -> float:
    return sum(normalize_name(a).phonetic == normalize_name(b).phonetic for a, b in pairs) / len(pairs)


def test_agreement_on_compiled_name_list() -> None:
    pairs = _pairs("afghan_name_pairs.tsv")
    assert len(pairs) >= 400
    assert _agree(pairs) >= 0.98
    with lexicon_disabled():  # the rules alone, without the lexicon's spellings
        assert _agree(pairs) >= 0.95
    assert normalize_name("Mohd").latin == "mohammad"  # the lexicon is back


def test_agreement_on_held_out_name_list() -> None:
    pairs = _pairs("afghan_name_pairs_heldout.tsv")
    assert len(pairs) >= 140
    assert _agree(pairs) >= 0.95
