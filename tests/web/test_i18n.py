"""Interface catalogs: extraction finds the templates' messages, and every one of them, and every code that
Python hands to templates to translate, reads in Dari and Pashto; English gives the codes their labels."""

from __future__ import annotations

import io
import re
from itertools import combinations
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from amanat.cases.service import STATUSES
from amanat.core.permissions import Role
from amanat.intake.parsed import CHANNELS
from amanat.records.service import EXACT_MATCH_KINDS
from amanat.web.i18n import CATALOGS, LANGUAGES, translations
from amanat.web.routes.public import ERROR_TEXT

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = ("fa_AF", "ps_AF")

LINK_REASONS = ["+".join(f"{k}_exact" for k in combo)
                for n in range(1, len(EXACT_MATCH_KINDS) + 1) for combo in combinations(EXACT_MATCH_KINDS, n)]
LINK_REASONS.append("conflicting_exact_matches")
# Codes that templates show through `_(code)`; English needs a label for each of them.
CODES = [*STATUSES, *CHANNELS, *LINK_REASONS, *(r.value for r in Role)]
CODE_MESSAGES = [*CODES, *ERROR_TEXT.values()]

# %(name)s, %s, %d …, {name}, and `literal` spans (command names) must come through unchanged.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc%]|\{[^{}]*\}|`[^`]*`")
ARABIC_LETTER = re.compile(r"[\u0600-\u06FF]")


def load(code: str) -> Catalog:
    with (CATALOGS / code / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=code, abort_invalid=True)


@pytest.fixture(scope="module")
def extracted() -> set[str]:
    """What `scripts/i18n.sh` extracts with babel.cfg, from templates and Python alike."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = {msgid if isinstance(msgid, str) else msgid[0]
             for _path, _line, msgid, _comments, _context in extract_from_dir(ROOT, method_map, options_map)}
    return {m for m in found if m}


def test_extraction_finds_template_messages(extracted: set[str]) -> None:
    for msgid in ("Service record intake", "Staff sign in", "Cases", "Fill in another form",
                  "It is never used to select people for military service."):
        assert msgid in extracted


@pytest.mark.parametrize("code", ["en", *TRANSLATED])
def test_catalog_parses_and_compiles(code: str) -> None:
    catalog = load(code)
    assert str(catalog.locale) == code
    assert len(catalog) > 50
    write_mo(io.BytesIO(), catalog)
    errors = [(m.id, err) for m, errs in catalog.check() for err in errs]
    assert not errors


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_is_translated(code: str, extracted: set[str]) -> None:
    catalog = load(code)
    wanted = extracted | set(CODE_MESSAGES)
    missing = sorted(m for m in wanted if m not in catalog or not catalog[m].string)
    assert not missing, f"{code}: untranslated (run scripts/i18n.sh, then translate): {missing}"
    fuzzy = sorted(m.id for m in catalog if m.id and m.fuzzy)
    assert not fuzzy, f"{code}: fuzzy entries need a translator's check: {fuzzy}"
    empty = sorted(str(m.id) for m in catalog if m.id and not all(strings(m)))
    assert not empty, f"{code}: empty translations: {empty}"


def strings(message) -> list[str]:  # type: ignore[no-untyped-def]
    """A message's translations: one, or one per plural form (ngettext)."""
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def ids(message) -> list[str]:  # type: ignore[no-untyped-def]
    return list(message.id) if isinstance(message.id, tuple) else [message.id]


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_are_in_arabic_script(code: str) -> None:
    latin_only = [m.id for m in load(code) if m.id and not all(ARABIC_LETTER.search(s) for s in strings(m))]
    assert not latin_only


@pytest.mark.parametrize("code", ["en", *TRANSLATED])
def test_placeholders_are_kept(code: str) -> None:
    for message in load(code):
        if message.id and any(strings(message)):
            wanted = sorted(PLACEHOLDER.findall(ids(message)[-1]))  # the plural's, where there is one
            for text in strings(message):
                if text:
                    assert sorted(PLACEHOLDER.findall(text)) == wanted, message.id


def test_english_labels_every_code() -> None:
    catalog = load("en")
    for code in CODES:
        assert code in catalog, code
        label = catalog[code].string
        assert label and label != code and "_" not in label, code
    assert translations("en").gettext("in_review") == "In review"
    assert translations("en").gettext("tazkira_exact") == "Same tazkira number"
    assert translations("en").gettext("Cases") == "Cases"  # English text is its own msgid


def test_catalogs_match_the_code() -> None:
    """Every message the template lists is in each catalog: scripts/i18n.sh has been run."""
    with (CATALOGS / "messages.pot").open("rb") as fh:
        template = read_po(fh)
    wanted = {m.id for m in template if m.id} | set(CODE_MESSAGES)
    for code in ("en", *TRANSLATED):
        catalog = load(code)
        assert not sorted(m for m in wanted if m not in catalog), code


def test_other_languages_fall_back_to_english_labels() -> None:
    assert translations("fa_AF").gettext("in_review") == "در حال بررسی"
    assert translations("ps_AF").gettext("caseworker") == "د دوسیې مسؤل"
    assert translations("fa_AF").gettext("no such message") == "no such message"


@pytest.mark.parametrize(("code", "expected"), [
    ("fa_AF", ["ثبت سوابق خدمت", "هرگز برای انتخاب افراد جهت خدمت نظامی استفاده نمی‌شود",
               "به محض رسیدن رمزگذاری می‌شود"]),
    ("ps_AF", ["د خدمت د سوابقو ثبت", "د نظامي خدمت لپاره د کسانو په ټاکلو کې نه کارول کېږي"]),
])
def test_page_renders_right_to_left(client, code: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/?lang={code}")
    assert response.status_code == 200
    html = response.text
    assert 'dir="rtl"' in html
    assert f'lang="{LANGUAGES[code].tag}"' in html
    for text in expected:
        assert text in html
    assert "Service record intake" not in html


def test_english_page_is_left_to_right(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/?lang=en").text
    assert 'dir="ltr"' in html
    assert "Service record intake" in html
