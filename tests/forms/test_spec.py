"""The shipped service-record form: structure, translations, gazetteer, classification."""

from __future__ import annotations

import csv
import re

import pytest

from amanat.forms import build_service_record
from amanat.forms.spec import (
    NON_SENSITIVE_FIELDS,
    SHIPPED_FORM,
    Field,
    Note,
    Repeat,
    Section,
    load_form,
)
from tests.conftest import shared_data
from tests.forms.workbooks import simple_form

LANGS = ("en", "prs", "ps")
ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF]")
# Letters Pashto has and Dari does not: a Pashto text without any of them across the form is a copy.
PASHTO_LETTERS = re.compile(r"[ټډړږښګڼېۍځڅ]")

CANONICAL_FIELDS = {
    "full_name", "full_name_latin", "father_name", "father_name_latin", "grandfather_name", "family_name",
    "gender", "date_of_birth", "place_of_birth", "province", "district", "rank", "unit", "service_branch",
    "service_start", "service_end", "last_duty", "country_of_refuge", "refuge_entry_date", "current_city",
    "tazkira_number", "tazkira_volume", "tazkira_page", "tazkira_record", "passport_number", "phone",
    "whatsapp_phone", "member_name", "member_relationship", "member_date_of_birth", "member_tazkira",
    "reference_name", "reference_contact", "religion", "ethnicity", "doc_tazkira", "doc_passport",
    "doc_service", "consent", "intermediary_name", "intermediary_phone", "notes",
}


@pytest.fixture(scope="module")
def spec():
    return load_form()


def test_settings(spec):
    assert spec.form_id == "amanat_service_record"
    assert re.fullmatch(r"\d{10}", spec.version)
    assert spec.languages == LANGS
    assert spec.default_language == "en"
    assert spec.language_names["prs"] == "Dari (prs)"
    assert all(spec.title_in(lang) for lang in LANGS)
    assert ARABIC_SCRIPT.search(spec.title["prs"]) and ARABIC_SCRIPT.search(spec.title["ps"])


def test_shipped_form_is_cached_and_loads_from_path_and_bytes(spec):
    assert load_form() is spec
    data = SHIPPED_FORM.read_bytes()
    assert spec.xlsx == data
    assert load_form(SHIPPED_FORM).fields() == spec.fields()
    assert load_form(data).md5 == spec.md5
    assert re.fullmatch(r"[0-9a-f]{32}", spec.md5)


def test_canonical_field_names(spec):
    names = {f.name for f in spec.fields()}
    assert names == CANONICAL_FIELDS
    assert spec.field("family_name").name == "family_name"
    with pytest.raises(KeyError):
        spec.field("nope")


def test_field_types(spec):
    types = {f.name: f.type for f in spec.fields()}
    assert types["gender"] == types["province"] == types["district"] == "select_one"
    assert types["service_branch"] == types["country_of_refuge"] == types["consent"] == "select_one"
    assert types["date_of_birth"] == "text"  # Solar Hijri and year-only dates are typed, not picked
    assert types["doc_tazkira"] == types["doc_passport"] == "image"
    assert types["doc_service"] in ("image", "file")
    assert types["tazkira_volume"] == "integer"


def test_choice_lists(spec):
    def names(field):
        return [c.name for c in spec.field(field).choices]

    assert names("gender") == ["male", "female", "other"]
    assert names("service_branch") == ["ana", "ana_soc", "ksf", "anp", "aaf", "nds", "interpreter",
                                       "contractor", "other"]
    assert names("country_of_refuge") == ["IR", "PK", "TR", "AE", "QA", "DE", "US", "GB", "other"]
    assert names("member_relationship") == ["spouse", "son", "daughter", "father", "mother", "brother",
                                            "sister", "other"]
    assert names("consent") == ["yes", "no"]


def test_every_label_hint_and_message_in_three_languages(spec):
    for node in spec.walk():
        assert set(node.label) == set(LANGS), node.name
        assert all(node.label[lang].strip() for lang in LANGS), node.name
        if isinstance(node, Field | Section) and node.hint:
            assert set(node.hint) == set(LANGS), node.name
        if isinstance(node, Field):
            if node.required:
                assert set(node.required_message) == set(LANGS), node.name
            if node.constraint:
                assert set(node.constraint_message) == set(LANGS), node.name
            for lang in ("prs", "ps"):
                assert ARABIC_SCRIPT.search(node.label[lang]), (node.name, lang)


def test_choice_labels_complete(spec):
    for f in spec.fields():
        for c in f.choices:
            assert set(c.label) == set(LANGS), (f.name, c.name)
            assert all(c.label[lang].strip() for lang in LANGS), (f.name, c.name)


def test_pashto_is_not_a_copy_of_dari(spec):
    labels = [f.label for f in spec.fields()]
    differing = sum(lab["ps"] != lab["prs"] for lab in labels)
    assert differing > len(labels) * 0.7
    assert sum(bool(PASHTO_LETTERS.search(lab["ps"])) for lab in labels) > len(labels) / 3
    assert spec.field("father_name").label["ps"] == "د پلار نوم"
    assert spec.field("district").label["ps"] == "ولسوالۍ"
    assert "ولد" in spec.field("father_name").label["prs"]
    assert spec.field("date_of_birth").label["ps"] == "د زېږېدو نېټه"


def test_sections_are_field_lists(spec):
    sections = [n for n in spec.children if isinstance(n, Section)]
    assert [s.name for s in sections] == ["personal", "service", "refuge", "identity", "contact", "family",
                                          "sensitive", "documents", "intermediary", "consent_group"]
    assert all("field-list" in s.appearance for s in sections)
    family = next(s for s in sections if s.name == "family")
    assert isinstance(family, Repeat)
    assert [f.name for f in family.children] == ["member_name", "member_relationship",
                                                 "member_date_of_birth", "member_tazkira"]
    assert spec.field("member_name").repeat == "family"
    assert spec.field("member_name").path == ("family",)
    assert spec.field("full_name").path == ("personal",) and spec.field("full_name").repeat is None


def test_sensitive_note_precedes_religion_and_ethnicity(spec):
    sensitive = next(n for n in spec.children if n.name == "sensitive")
    kinds = [(type(c).__name__, c.name) for c in sensitive.children]
    assert kinds[0][0] == "Note"
    assert [name for _, name in kinds[1:]] == ["religion", "ethnicity"]
    assert not spec.field("religion").required and not spec.field("ethnicity").required
    note = sensitive.children[0]
    assert isinstance(note, Note)
    assert "encrypted" in note.label["en"] and "protection" in note.label["en"]


def test_consent_names_what_who_and_encryption(spec):
    consent = spec.field("consent")
    assert consent.required
    text = consent.label["en"]
    for word in ("names", "photos", "religion", "encrypted", "caseworkers", "agree"):
        assert word in text
    assert "رمزگذاری" in consent.label["prs"] and "رمزي" in consent.label["ps"]


def test_required_fields(spec):
    assert {f.name for f in spec.fields() if f.required} == {
        "full_name", "father_name", "service_branch", "member_name", "consent"}


def test_provinces_and_districts_match_the_gazetteer(spec):
    provinces = spec.field("province").choices
    districts = spec.field("district").choices
    assert len(provinces) == 34 and len(districts) == 399
    assert len({c.name for c in districts}) == 399
    province_codes = {p.name for p in provinces}
    assert all(d.filter["province"] in province_codes for d in districts)
    assert all(d.name.startswith(d.filter["province"]) for d in districts)
    assert spec.field("district").choice_filter.replace(" ", "") == "province=${province}"

    with shared_data("ocha_adm2_2018.csv").open(encoding="utf-8") as fh:
        rows = {r["ADM2_PCODE"]: r for r in csv.DictReader(fh)}
    for d in districts:
        assert d.label["en"] == rows[d.name]["ADM2_EN"]
        assert d.label["prs"] == rows[d.name]["ADM2_DA"]
        assert d.label["ps"]  # Dari reused where no Pashto is known
    kabul = next(p for p in provinces if p.name == "AF01")
    assert kabul.label == {"en": "Kabul", "prs": "کابل", "ps": "کابل"}
    assert next(p for p in provinces if p.name == "AF06").label["ps"] == "ننګرهار"


def test_grouped_choices(spec):
    groups = spec.grouped_choices("district")
    assert len(groups) == 34
    assert groups[0].name == "AF01" and groups[0].label_in("prs") == "کابل"
    assert sum(len(g.choices) for g in groups) == 399
    assert [g.name for g in spec.grouped_choices("gender")] == [""]


def test_sensitive_classification(spec):
    assert spec.sensitive_fields == {f.name for f in spec.fields()} - NON_SENSITIVE_FIELDS
    assert "religion" in spec.sensitive_fields and "tazkira_number" in spec.sensitive_fields
    assert "province" not in spec.sensitive_fields and "consent" not in spec.sensitive_fields
    # A field an organisation adds is sensitive unless it is classified otherwise.
    assert load_form(simple_form()).sensitive_fields >= {"full_name", "colours", "age"}


def test_attachment_fields(spec):
    assert spec.attachment_fields == ("doc_tazkira", "doc_passport", "doc_service")


def test_labels_by_field(spec):
    labels = spec.labels_by_field()
    assert labels["father_name"] == ["Father's name", "نام پدر (ولد)", "د پلار نوم"]
    assert set(labels) == CANONICAL_FIELDS
    assert all(labels.values())


def test_web_hints(spec):
    assert spec.field("tazkira_number").input_mode == "numeric"
    assert spec.field("tazkira_volume").input_mode == "numeric"
    assert spec.field("phone").input_mode == "tel"
    assert spec.field("full_name").input_mode is None
    assert spec.field("full_name").max_length == 200 and spec.field("notes").max_length == 2000
    assert spec.field("passport_number").text_direction == "ltr"
    assert spec.field("full_name").text_direction == "auto"
    assert spec.field("notes").multiline and not spec.field("full_name").multiline


def test_language_fallback():
    small = load_form(simple_form())
    assert small.languages == ("en", "prs")
    assert small.field("full_name").label_in("ps") == "Name"  # no Pashto: English
    assert small.field("full_name").label_in("prs") == "نام"
    assert small.title_in("ps")  # falls back to the form id
    assert [f.name for f in small.input_fields()] == ["full_name", "colours", "age", "why", "seen", "weight"]


def test_generator_reproduces_the_shipped_workbook():
    gazetteer = shared_data("ocha_adm2_2018.csv").parent
    assert build_service_record.build(gazetteer) == SHIPPED_FORM.read_bytes(), (
        "service_record.xlsx is out of date: run python -m amanat.forms.build_service_record")
