import pytest

from amanat.intake.labels import CANONICAL_FIELDS, LABELS, LabelMatcher, fold_label, match_label


@pytest.mark.parametrize(("text", "field"), [
    ("Name", "full_name"), ("Full name", "full_name"), ("نام", "full_name"), ("نام مکمل", "full_name"),
    ("نوم", "full_name"), ("بشپړ نوم", "full_name"),
    ("Father's name", "father_name"), ("Father’s Name:", "father_name"), ("F/Name", "father_name"),
    ("نام پدر", "father_name"), ("نام‌پدر", "father_name"), ("نامپدر", "father_name"), ("ولد", "father_name"),
    ("د پلار نوم", "father_name"),
    ("Tazkira", "tazkira_number"), ("NIC", "tazkira_number"), ("تذکره", "tazkira_number"),
    ("نمبر تذکره", "tazkira_number"), ("تذکره نمبر", "tazkira_number"), ("د تذکرې شمېره", "tazkira_number"),
    # Arabic letter variants typed on an Arabic keyboard: ي for ی, ك for ک.
    ("د تذکري شميره", "tazkira_number"), ("نام پدر كلان", "grandfather_name"),
    ("رتبه", "rank"), ("Rank", "rank"), ("رتبه نظامی", "rank"), ("رتبه نظامي", "rank"),
    ("قطعه", "unit"), ("Unit", "unit"), ("جزوتام", "unit"),
    ("تاریخ تولد", "date_of_birth"), ("DOB", "date_of_birth"), ("D.O.B.", "date_of_birth"),
    ("Date of birth (year)", "date_of_birth"), ("د زیږیدو نیټه", "date_of_birth"),
    ("ولسوالۍ", "district"), ("واتساپ", "whatsapp_phone"), ("شماره تماس", "phone"),
    ("۱- نام", "full_name"), ("1. Rank", "rank"), ("• Unit", "unit"),
    ("full_name", "full_name"), ("date of birth", "date_of_birth"),
])
def test_match_label(text: str, field: str) -> None:
    assert match_label(text) == field


@pytest.mark.parametrize("text", ["hello", "", "   ", "سلام", "how are you", "x" * 500])
def test_no_match(text: str) -> None:
    assert match_label(text) is None


def test_every_canonical_field_has_labels_in_three_scripts() -> None:
    for field in CANONICAL_FIELDS:
        labels = LABELS[field]
        assert any(label.isascii() for label in labels), field
        assert any(not label.isascii() for label in labels), field
        assert match_label(field) == field


def test_extra_labels_from_the_xlsform_win() -> None:
    extra = {"full_name": ["Nom complet"], "tazkira_number": ["Numéro de pièce"]}
    assert match_label("Nom complet", extra) == "full_name"
    assert match_label("numero de piece", extra) is None  # accents are not folded away
    assert match_label("Numéro de pièce:", extra) == "tazkira_number"
    assert LabelMatcher(extra).match("Name") == "full_name"  # built-ins still apply


def test_fold_keeps_meaning_but_not_variants() -> None:
    assert fold_label("كريم") == fold_label("کریم")
    assert fold_label("ګل") == fold_label("گل")
    assert fold_label("نام") != fold_label("نوم")
