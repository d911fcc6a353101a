"""Every page, as every role, in Dari and in Pashto: no English left and no raw code shown as an answer.

Renders every GET page of the app (path parameters filled from a small synthetic office: cases, a review
pair, a held import), the pages that only a POST shows (a compared pair, the intake form with errors, an
import preview) and the error pages, for each role and anonymously, in fa-AF and ps-AF. The visible text
(text nodes, placeholders, titles, labels, button values) must hold no Latin word outside the allow-list of
proper nouns, file types and codes, and no answer code (male, ana, AF03) where its label belongs. The
applicant's own answers are taken out first: they are data, in whatever script the applicant wrote.
The catalogs must have no empty or fuzzy entry either.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from babel.messages.pofile import read_po
from fastapi.routing import APIRoute
from sqlalchemy import select

from amanat.cases.models import Case
from amanat.core.permissions import Role
from amanat.forms.spec import load_form
from amanat.jobs.pipeline import drain
from amanat.linkage.models import MatchPair
from amanat.web.i18n import CATALOGS
from tests.conftest import csrf, login
from tests.web.test_route_permissions import OPENROSA_ROUTES, routes

LANGS = ("fa_AF", "ps_AF")
# Names that stay as they are in Dari and Pashto text: products, formats, standards, units, the app itself.
ALLOWED = {
    "Amanat", "WhatsApp", "ODK", "Collect", "Central", "XLSForm", "XForm", "XLSX", "xlsx", "CSV", "csv", "PDF",
    "JPEG", "PNG", "WebP", "HEIC", "MRZ", "OpenRosa", "English", "TOTP", "UTC", "YAML", "JSON", "ZIP", "zip", "txt",
    "xml", "XML", "PEM", "RSA", "AES", "SHA", "MiB", "KiB", "URL", "ICAO", "UNHCR", "IOM", "ARAP", "ACRS", "SIV",
    "Excel", "Google", "Authenticator", "otpauth", "Android", "iPhone", "Enketo", "Kobo", "KoboCollect",
    "Briefcase", "json", "yaml", "yml", "UTF",
    "BAP",  # Germany's federal admission programme for Afghanistan (Bundesaufnahmeprogramm), by its name
    # literal names a reader must type or find as written: a mapping file's two headers, a phone's folder
    "column", "field", "instances",
}
# «Export chat»: the name of a button in another program, quoted as that program shows it.
QUOTED_LABEL = re.compile(r"«[A-Za-z ]+»")
# File names with their extension (submission.xml) and hexadecimal digests are names, not words.
FILE_NAME = re.compile(r"\b[\w-]+\.(?:xml|zip|txt|csv|xlsx|json|ya?ml|pdf)\b")
BACKTICKED = re.compile(r"`[^`]+`")  # a command to type, as in `amanat audit verify`
HEX = re.compile(r"\b[0-9a-f]{8,}\b|\b[0-9a-f]{8}-[0-9a-f-]{27}\b")
# Synthetic applicants: their answers are data, left out before the check.
APPLICANTS = [
    {"full_name": "محمد نبی", "father_name": "عبدالله", "grandfather_name": "غلام حیدر", "service_branch": "ana",
     "consent": "yes", "tazkira_number": "۱۳۹۹-۰۱۲۳-۴۵۶۷۸", "gender": "male", "date_of_birth": "۱۳۶۲/۵/۱۲",
     "province": "AF03", "phone": "+93 799 123 456", "rank": "بریدمل", "unit": "کندک دوم",
     "family-0-member_name": "زینب", "family-0-member_relationship": "spouse"},
    {"full_name": "محمد نبي", "father_name": "عبد الله", "service_branch": "ana", "consent": "yes",
     "gender": "male", "date_of_birth": "۱۳۶۲", "province": "AF03", "phone": "+92 301 5550123"},
    {"full_name": "ګل احمد زړګی", "father_name": "شېر احمد", "service_branch": "anp", "consent": "yes",
     "gender": "male", "date_of_birth": "1365", "province": "AF01", "phone": "0700111222"},
]
CSV = ("full_name,father_name,date_of_birth,phone\n"
       "نور احمد,ولی احمد,1360,0700333444\n").encode()
RECEIPT = re.compile(r"\bAM-[A-Z0-9]{3,}(?:-[A-Z0-9]+)*")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’]{2,}")
SKIP_TAGS = {"script", "style", "code", "kbd", "samp", "svg-title"}
TEXT_ATTRS = ("placeholder", "title", "aria-label", "alt")


@pytest.fixture
def backend() -> str:
    return "sqlite"  # a rendering test: one backend is enough (storage is tested on both elsewhere)


class VisibleText(HTMLParser):
    """The text a reader sees or hears: text nodes and the attributes read out, outside code and
    lang="en" (the language switcher's "English")."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip: list[str] = []  # the open elements whose content is not checked

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "br", "img", "meta", "link", "hr", "source"):
            if not self.skip:
                self.parts.extend(a[k] or "" for k in TEXT_ATTRS if a.get(k))
                if tag == "input" and a.get("type") in ("submit", "button"):
                    self.parts.append(a.get("value") or "")
            return
        if self.skip or tag in SKIP_TAGS or a.get("lang") == "en" or a.get("translate") == "no":
            self.skip.append(tag)
            return
        self.parts.extend(a[k] or "" for k in TEXT_ATTRS if a.get(k))

    def handle_endtag(self, tag: str) -> None:
        if self.skip and self.skip[-1] == tag:
            self.skip.pop()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def answer_codes() -> set[str]:
    """The choice codes of the form's select questions: shown as such, they are answers left untranslated."""
    spec = load_form()
    codes = {c.name for f in spec.fields() if f.is_select for c in f.choices}
    return {c for c in codes if not c.isdigit() and len(c) > 1}


def problems(html: str, data: set[str], codes: set[str]) -> list[str]:
    text = visible_text(html)
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    for pattern in (RECEIPT, QUOTED_LABEL, FILE_NAME, BACKTICKED, HEX):
        text = pattern.sub(" ", text)
    found = [w for w in LATIN_WORD.findall(text) if w not in ALLOWED]
    found += [f"code:{c}" for c in codes if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", text)]
    return sorted(set(found))


def fill(path: str, ids: dict[str, str]) -> str | None:
    names = re.findall(r"\{([a-z_]+)\}", path)
    if any(n not in ids for n in names):
        return None
    return re.sub(r"\{([a-z_]+)\}", lambda m: ids[m.group(1)], path)


@pytest.fixture
def office(client, database) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A small synthetic office: three applicants (two of them perhaps one man), all processed."""
    for answers in APPLICANTS:
        r = client.post("/intake?lang=fa_AF", data={**answers, "csrf_token": csrf(client)})
        assert r.status_code == 201, r.text[-500:]
    drain(database)
    with database.reading() as db:
        ids = {"case_id": db.scalars(select(Case.id).order_by(Case.number)).first() or ""}
        pair = db.scalars(select(MatchPair.id)).first()
        if pair:
            ids["pair_id"] = pair
    return ids


def pages(app, client, ids: dict[str, str]) -> Iterator[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(what, html) for every page this client may be shown."""
    token = csrf(client)
    r = client.post("/imports/table", data={"csrf_token": token, "consent_basis": "paper_intermediary"},
                    files={"table": ("people.csv", io.BytesIO(CSV), "text/csv")})
    if r.headers.get("content-type", "").startswith("text/html"):
        yield f"POST /imports/table {r.status_code}", r.text
        held = re.search(r"/imports/([0-9a-f-]{32,36})/", r.text)
        if held:
            ids = {**ids, "batch_id": held.group(1)}
    for method, route in routes(app):
        if method != "GET" or not isinstance(route, APIRoute) or route.path in OPENROSA_ROUTES:
            continue
        url = fill(route.path, ids)
        if url is None:
            continue
        r = client.get(url, follow_redirects=False)
        if r.headers.get("content-type", "").startswith("text/html"):
            yield f"GET {route.path} {r.status_code}", r.text
    if "pair_id" in ids:
        r = client.post(f"/review/{ids['pair_id']}/open", data={"csrf_token": token})
        yield f"POST /review/open {r.status_code}", r.text
    bad = {**APPLICANTS[0], "date_of_birth": "2035", "service_start": "1395", "service_end": "1390",
           "consent": ""}
    r = client.post("/intake", data={**bad, "csrf_token": token})
    yield f"POST /intake (errors) {r.status_code}", r.text
    r = client.post("/imports/table", data={"csrf_token": token, "consent_basis": "paper_intermediary"},
                    files={"table": ("broken.xlsx", io.BytesIO(b"not a workbook"), "application/octet-stream")})
    if r.headers.get("content-type", "").startswith("text/html"):
        yield f"POST /imports/table (bad file) {r.status_code}", r.text
    yield "GET /no-such-page", client.get("/no-such-page").text
    yield "POST without CSRF", client.post("/intake", data={}).text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("who", [None, *[r.value for r in Role]])
def test_every_page_is_in_the_readers_language(app, client, office, who, lang) -> None:  # type: ignore[no-untyped-def]
    data = {v for answers in APPLICANTS for v in answers.values() if v} | {"Test organisation"}
    data |= {r.value for r in Role}  # usernames (the test users are named after their roles)
    data |= {cell for line in CSV.decode().splitlines() for cell in line.split(",")}  # headers too: file data
    data |= {"people.csv", "broken.xlsx", "testclient"}  # file names; the test client's "browser" and address
    codes = answer_codes()
    if who:
        login(client, who)
    client.cookies.set("amanat_lang", lang)
    seen, failures = 0, {}
    for what, html in pages(app, client, office):
        seen += 1
        assert f'lang="{lang.replace("_", "-")}"' in html[:300], what
        found = problems(html, data, codes)
        if found:
            failures[what] = found
    assert seen >= 5
    assert not failures, f"{who or 'anonymous'} in {lang}: English or codes left: {failures}"


@pytest.mark.parametrize("lang", LANGS)
def test_no_catalog_entry_is_empty_or_fuzzy(lang: str) -> None:
    with (CATALOGS / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    left = sorted(str(m.id) for m in catalog if m.id and (not m.string or m.fuzzy))
    assert not left, f"{lang}: {len(left)} entries untranslated or fuzzy: {left[:40]}"


def test_the_checker_finds_english_and_codes() -> None:
    codes = answer_codes()
    assert problems('<p lang="fa-AF">نام <b>Submit</b></p>', set(), codes) == ["Submit"]
    assert problems("<td>جنسیت: male</td>", set(), codes) == ["code:male", "male"]
    assert problems("<td>AF03</td>", set(), codes) == ["code:AF03"] if "AF03" in codes else True
    assert problems('<p>ارسال <code>amanat serve</code> <a lang="en">English</a> AM-7KQF-X2</p>', set(), codes) == []
    assert problems('<input placeholder="Search">', set(), codes) == ["Search"]
    assert problems("<p>محمد Nabi</p>", {"Nabi"}, codes) == []
