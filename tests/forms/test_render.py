"""The no-JavaScript web rendering of the form (templates/forms/_fields.html) and its stylesheet."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

import amanat.web
from amanat.forms.spec import load_form
from tests.forms.workbooks import simple_form

WEB = Path(amanat.web.__file__).parent
LANGS = ("en", "prs", "ps")


class Elements(HTMLParser):
    """Every start tag as (tag, attrs) and the text, for assertions on the markup."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        if data.strip():
            self.text.append(data.strip())

    def find(self, tag: str | None = None, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if (tag is None or t == tag)
                and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())]

    def names(self) -> set[str]:
        return {a["name"] for t, a in self.tags if t in ("input", "select", "textarea") and a.get("name")}


@pytest.fixture(scope="module")
def macros():
    env = Environment(loader=FileSystemLoader(WEB / "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined)
    return env.get_template("forms/_fields.html").module


@pytest.fixture(scope="module")
def spec():
    return load_form()


def render(macros, spec, lang="en", values=None, errors=None, **kw) -> str:
    return str(macros.render_form(spec, lang, values or {}, errors or {}, "csrf-123", "/intake", **kw))


@pytest.mark.parametrize("lang", LANGS)
def test_every_field_has_an_input(macros, spec, lang):
    html = render(macros, spec, lang)
    page = Elements(html)
    expected = {f.name for f in spec.input_fields() if not f.repeat}
    expected |= {f"family-{i}-{f.name}" for i in range(4) for f in spec.input_fields() if f.repeat}
    assert expected <= page.names()
    assert "<script" not in html.lower()
    assert not re.search(r"\sstyle\s*=", html, re.I)
    assert not re.search(r"\son[a-z]+\s*=", html, re.I)  # no inline event handlers either
    assert 'dir="rtl"' not in html and 'dir="ltr"' in html  # direction is the page's; answers may be ltr


@pytest.mark.parametrize("lang", LANGS)
def test_labels_are_in_the_chosen_language(macros, spec, lang):
    page = Elements(render(macros, spec, lang))
    text = " ".join(page.text)
    for f in spec.input_fields():
        assert f.label[lang] in text, f.name
    assert spec.field("date_of_birth").hint[lang] in text
    legends = [spec.field(n).path[0] for n in ("full_name", "rank")]
    assert all(any(n == section.name and section.label[lang] in text for section in spec.children)
               for n in legends)


def test_every_label_points_at_an_element(macros, spec):
    page = Elements(render(macros, spec, "prs"))
    ids = {a["id"] for _, a in page.tags if a.get("id")}
    fors = [a["for"] for a in page.find("label") if a.get("for")]
    assert fors and all(f in ids for f in fors)
    assert len(ids) == len([a for _, a in page.tags if a.get("id")])  # ids are unique


def test_hidden_inputs(macros, spec):
    page = Elements(render(macros, spec, "ps", csrf_field="csrf"))
    assert page.find("input", type="hidden", name="csrf", value="csrf-123")
    assert page.find("input", type="hidden", name="_lang", value="ps")
    assert page.find("input", type="hidden", name="_form_version", value=spec.version)
    form = page.find("form")[0]
    assert form["method"] == "post" and form["enctype"] == "multipart/form-data"
    assert form["action"] == "/intake" and form["autocomplete"] == "off"


def test_widgets(macros, spec):
    page = Elements(render(macros, spec, "en"))
    assert len(page.find("input", type="radio", name="gender")) == 3
    assert len(page.find("input", type="radio", name="consent")) == 2
    assert all("required" in a for a in page.find("input", type="radio", name="consent"))
    assert page.find("select", name="province") and page.find("select", name="family-0-member_relationship")
    assert page.find("textarea", name="notes") and page.find("textarea", name="last_duty")
    assert page.find("input", name="tazkira_number", inputmode="numeric", type="text")
    assert page.find("input", name="tazkira_volume", inputmode="numeric", type="text")  # Persian digits welcome
    assert page.find("input", name="phone", inputmode="tel", type="tel", dir="ltr")
    assert page.find("input", name="full_name", maxlength="200")


def test_district_select_has_one_optgroup_per_province(macros, spec):
    html = render(macros, spec, "prs")
    select = html[html.index('name="district"'):]
    select = select[:select.index("</select>")]
    page = Elements(select)
    groups = page.find("optgroup")
    assert len(groups) == 34 and groups[0]["label"] == "کابل"
    assert len(page.find("option")) == 399 + 1  # and the empty choice


def test_document_inputs(macros, spec):
    page = Elements(render(macros, spec, "en"))
    tazkira = page.find("input", type="file", name="doc_tazkira")[0]
    assert tazkira["accept"] == "image/*"
    assert "capture" not in tazkira  # people must be able to pick a photo they already have
    assert page.find("input", type="file", name="doc_service")[0]["accept"] == "image/*,application/pdf"


def test_repeat_rows(macros, spec):
    page = Elements(render(macros, spec, "prs"))
    rows = page.find("fieldset", class_="af-row")
    assert len(rows) == 4
    assert not [a for a in page.find("input") if a.get("name", "").startswith("family-") and "required" in a]
    # A redisplayed post with a sixth row keeps it.
    page = Elements(render(macros, spec, "prs", values={"family-5-member_name": "x"}))
    assert len(page.find("fieldset", class_="af-row")) == 6
    assert page.find("input", name="family-5-member_name", value="x")
    assert "۶" in page.text


def test_values_are_redisplayed_and_escaped(macros, spec):
    values = {"full_name": '"><script>alert(1)</script>', "gender": "female", "province": "AF06",
              "district": "AF0601", "notes": "</textarea><b>x</b>", "family-1-member_relationship": "son"}
    html = render(macros, spec, "en", values)
    assert "<script>" not in html and "<b>x</b>" not in html
    page = Elements(html)
    assert page.find("input", name="full_name", value=values["full_name"])
    assert "checked" in page.find("input", name="gender", value="female")[0]
    assert "checked" not in page.find("input", name="gender", value="male")[0]
    assert "selected" in page.find("option", value="AF06")[0]
    assert "selected" in page.find("option", value="AF0601")[0]
    assert "</textarea><b>x</b>" in page.text


def test_errors(macros, spec):
    errors = {"full_name": "خیلی طولانی", "gender": "Choose one", "family-2-member_name": "Required <now>"}
    html = render(macros, spec, "prs", {"full_name": "x"}, errors)
    page = Elements(html)
    field = page.find("input", name="full_name")[0]
    assert field["aria-invalid"] == "true"
    assert field["aria-describedby"] == "f-full_name-hint f-full_name-error"
    assert page.find("p", id="f-full_name-error", class_="af-error")
    assert page.find("fieldset", id="f-gender")[0]["aria-describedby"] == "f-gender-error"
    assert "خیلی طولانی" in page.text and "Required <now>" in page.text  # escaped in markup
    links = [a["href"] for a in page.find("a")]
    assert links == ["#f-full_name", "#f-gender", "#f-family-2-member_name"]
    assert "نام مکمل: خیلی طولانی" in page.text
    assert not page.find(class_="af-errors") or "role" in page.find(class_="af-errors")[0]
    assert not Elements(render(macros, spec, "prs")).find(class_="af-errors")


def test_submit_label(macros, spec):
    assert "ارسال" in render(macros, spec, "prs", submit_label="ارسال")


def test_missing_language_falls_back_to_english(macros):
    small = load_form(simple_form())
    page = Elements(render(macros, small, "ps"))
    assert "Name" in page.text and "Colours" in page.text
    assert len(page.find("input", type="checkbox", name="colours")) == 2
    assert page.find("input", type="date", name="seen")
    assert page.find("input", name="weight", inputmode="decimal")
    assert "calc" not in page.names()
    page = Elements(render(macros, small, "prs", {"colours": ["blue"]}))
    assert "checked" in page.find("input", name="colours", value="blue")[0]
    assert "checked" not in page.find("input", name="colours", value="red")[0]


def test_stylesheet_contract(macros, spec):
    css = (WEB / "static" / "form.css").read_text(encoding="utf-8")
    rules = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    # Logical properties only, so that right-to-left pages need nothing else.
    assert not re.search(r"\b(left|right)\b", rules)
    assert not re.search(r"(margin|padding|border)-(top|bottom)\b", rules)
    # Arabic script in the app's own font (its @font-face is in app.css, which every page loads first).
    assert 'font-family: "Vazirmatn",' in rules
    assert "@import" not in rules and "url(" not in rules and "@font-face" not in rules
    defined = set(re.findall(r"\.(af-[a-z-]+)", rules))
    html = render(macros, spec, "en", {}, {"full_name": "x"})
    used = {c for attr in re.findall(r'class="([^"]+)"', html) for c in attr.split()}
    assert {c for c in used if not c.startswith("af-type-")} <= defined
