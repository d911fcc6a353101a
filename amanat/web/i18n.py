"""Interface languages: English, Dari (fa_AF) and Pashto (ps_AF) through Babel gettext catalogs.

The catalogs are kept as .po files in amanat/i18n and compiled in memory at start-up, so there is no
build step and no binary file to keep in step with its source.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

if TYPE_CHECKING:
    from amanat.forms.spec import FormSpec

CATALOGS = Path(__file__).resolve().parent.parent / "i18n"
DEFAULT = "en"


@dataclass(frozen=True)
class Language:
    code: str  # gettext locale: en, fa_AF, ps_AF
    tag: str  # BCP 47 for <html lang>: en, fa-AF, ps-AF
    form_lang: str  # the XLSForm's language column code: en, prs, ps
    native_name: str
    rtl: bool

    @property
    def dir(self) -> str:
        return "rtl" if self.rtl else "ltr"


LANGUAGES: dict[str, Language] = {
    "en": Language("en", "en", "en", "English", False),
    "fa_AF": Language("fa_AF", "fa-AF", "prs", "دری", True),
    "ps_AF": Language("ps_AF", "ps-AF", "ps", "پښتو", True),
}
_ALIASES = {"fa": "fa_AF", "prs": "fa_AF", "fa-af": "fa_AF", "fa_af": "fa_AF", "ps": "ps_AF", "ps-af": "ps_AF",
            "ps_af": "ps_AF", "en": "en", "en-us": "en", "en-gb": "en"}


def resolve_language(value: str | None) -> Language | None:
    if not value:
        return None
    code = _ALIASES.get(value.strip().lower().replace(" ", ""))
    return LANGUAGES.get(code) if code else LANGUAGES.get(value)


def from_accept_language(header: str | None) -> Language:
    for part in (header or "").split(","):
        lang = resolve_language(part.split(";")[0])
        if lang:
            return lang
    return LANGUAGES[DEFAULT]


@lru_cache(maxsize=8)
def translations(code: str) -> NullTranslations:
    """The compiled catalog for `code`. English has one too: it gives codes such as `in_review` their
    labels. Another language falls back to it, so an untranslated code still reads as English, not as a
    code."""
    po = CATALOGS / code / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations() if code == DEFAULT else translations(DEFAULT)
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=code)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    trans = Translations(buf)
    if code != DEFAULT:
        trans.add_fallback(translations(DEFAULT))
    return trans


def N_(message: str) -> str:  # gettext's name: marks a message for extraction; translated where shown
    return message


# The review chart's comparisons (linkage/comparisons.py) and its first bar, as the reader reads them.
COMPARISON_NAMES: dict[str, str] = {
    "prior": N_("Before comparing"), "full_name": N_("Names"), "paternal": N_("Father and grandfather"),
    "family_name": N_("Family name"), "dob": N_("Date of birth"), "origin": N_("Home province and district"),
    "birthplace": N_("Place of birth"), "tazkira": N_("Tazkira"), "passport": N_("Passport"),
    "phones": N_("Phone numbers"), "gender": N_("Gender"), "rank": N_("Rank"), "unit": N_("Unit"),
    "service": N_("Service"),
    "events": N_("Dates of entry and of joining service"),
}


def comparison_name(name: str, gettext: Callable[[str], str]) -> str:
    return gettext(COMPARISON_NAMES[name]) if name in COMPARISON_NAMES else gettext(name)


def choice_labels(spec: FormSpec, form_lang: str) -> dict[str, dict[str, str]]:
    """Field → answer code → its label in the form's language: ``male`` → نارینه, ``AF03`` → the province."""
    return {f.name: {c.name: c.label_in(form_lang) for c in f.choices} for f in spec.fields() if f.is_select}


def answer_text(labels: Mapping[str, Mapping[str, str]], field: str, value: object) -> str:
    """An answer as the reader should see it: a choice by its label (each of a select_multiple's), else as
    written."""
    choices = labels.get(field)
    if value is None:
        return ""
    if choices:
        items = value if isinstance(value, list | tuple) else str(value).split() if " " in str(value) else [value]
        return "، ".join(choices.get(str(v), str(v)) for v in items)
    return str(value)


# Why a value could not be normalised (normalize/*: English, "field: reason"), in the reader's language. The
# first pattern that matches the reason gives the message; unknown reasons are shown as written.
_ISSUES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^date: in the future"), N_("This date is in the future.")),
    (re.compile(r"^date: the end of service is before its start"), N_("The end of service is before its start.")),
    (re.compile(r"^date: before the date of birth"), N_("This date is before the date of birth.")),
    (re.compile(r"^date: "), N_("This date could not be read: it does not exist or is not written as a date.")),
    (re.compile(r"^(gender|country): not recognised"), N_("Not one of the answers this field accepts.")),
    (re.compile(r"^(province|district): not found"), N_("Not found in the list of places.")),
    (re.compile(r"^father_name: differs"), N_("Differs from the father's name written in the full name.")),
    (re.compile(r"^passport: the number differs from the one in the MRZ"),
     N_("The passport number differs from the one in the MRZ.")),
    (re.compile(r"^passport: "), N_("The passport number is not in a known format.")),
    (re.compile(r"^mrz: .*check digit"), N_("A check digit of the passport's MRZ is wrong.")),
    (re.compile(r"^mrz: "), N_("The passport's MRZ could not be read.")),
    (re.compile(r"^tazkira: read as paper tazkira"), N_("Read as a paper tazkira's volume, page and record.")),
    (re.compile(r"^tazkira: "), N_("The tazkira number is not in a known format.")),
    (re.compile(r"^phone: also a valid number in (?P<others>[^;]+); read as (?P<region>\w+)"),
     N_("Also a valid number in another country (%(others)s); read as %(region)s.")),
    (re.compile(r"^phone: dropped a 0"), N_("A 0 written after the country code was left out.")),
    (re.compile(r"^phone: "), N_("The phone number could not be read.")),
    (re.compile(r"^\w+: expected text"), N_("Expected text.")),
    (re.compile(r"^record: "), N_("The record could not be read.")),
]


def issue_text(reason: str, gettext: Callable[[str], str]) -> str | None:
    """A normalisation reason in the reader's language, or None where it is not known (show it as written)."""
    for pattern, message in _ISSUES:
        m = pattern.match(reason)
        if m:
            return gettext(message) % m.groupdict() if m.groupdict() else gettext(message)
    return None


# Why an uploaded file could not be imported (intake/*: IntakeError.problem, English without the value), in the
# reader's language on the upload page. The fixed problems are their own message ids; the few with a number
# in them are matched below.
INTAKE_PROBLEMS = (
    # intake/consent.py: an import's consent basis
    N_("state how the people in this file gave their consent (the consent basis)"),
    N_("the consent basis is not one of the listed choices"),
    N_("the consent form's version: up to 40 letters, digits, dots and dashes"),
    N_("the consent form's language is not one of the listed choices"),
    N_("text is not in the file's encoding from here on"),
    N_("the files do not match the manifest's signature (one is missing, altered or replaced)"),
    N_("a value in a column that has no header"),
    N_("cannot be unwrapped with this private key (wrong key, or the manifest was altered)"),
    N_("chat text is not valid UTF-8"),
    N_("column and field must be text"),
    N_("decryption failed: bad padding (wrong key, or the file was altered)"),
    N_("element is missing or empty"),
    N_("elements are nested too deeply"),
    N_("encrypted file is truncated (not whole AES blocks)"),
    N_("file cannot be opened"),
    N_("file named in the manifest is missing"),
    N_("has characters or a length this server does not accept"),
    N_("hour out of range for a 12-hour clock"),
    N_("malformed CSV (a cell too large, or a stray NUL byte)"),
    N_("mapping file cannot be read as UTF-8 text"),
    N_("mapping file cannot be read"),
    N_("mapping file is not valid JSON"),
    N_("mapping file is not valid YAML"),
    N_("mapping file must hold an object of column: field"),
    N_("no WhatsApp messages found"),
    N_("not a canonical field name"),
    N_("not a readable XLSX workbook (or the sheet is missing)"),
    N_("not a readable XLS workbook (or the sheet is missing)"),
    N_("not a readable XLS workbook (the file does not start as one)"),
    N_("this .xls is really a web page (a website's 'Excel' export): open it in Excel and save it as .xlsx or CSV "
       "UTF-8"),
    N_("the text encoding cannot be told for sure (not UTF-8, not UTF-16, and not Windows Arabic as Excel writes "
       "it in Dari or Pashto); in Excel: File → Save As → 'CSV UTF-8 (Comma delimited)', and import that file"),
    N_("the chat's dates mix Solar Hijri and Gregorian years"),
    N_("date does not exist in the Solar Hijri calendar"),
    N_("not a readable zip archive (truncated or damaged)"),
    N_("not an encrypted submission (encrypted=\"yes\" missing)"),
    N_("not valid base64"),
    N_("not well-formed XML (or uses entities, which are refused)"),
    N_("the archive holds no chat text file"),
    N_("the archive holds no submission.xml (one folder per instance is expected)"),
    N_("the cell holds a spreadsheet error instead of a value"),
    N_("the form id attribute is missing"),
    N_("the form id or version has characters this server does not accept"),
    N_("the form is not known to this server"),
    N_("the private key cannot be read (not PEM, or the password is wrong)"),
    N_("the private key is not an RSA key"),
    N_("the private key is password-protected and no password was given (or the reverse)"),
    N_("the public key cannot be read"),
    N_("the public key is not an RSA key"),
    N_("the table is empty (no header row)"),
    N_("the unwrapped key is not an AES-256 key"),
    N_("the workbook is damaged"),
    N_("unknown date format (no WhatsApp message header)"),
)
_INTAKE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # upload limits (intake/upload_limits.py)
    (re.compile(r"^.+ unpacks to more than the limit of (?P<size>.+) for one file$"),
     N_("A file in the archive unpacks to more than the limit of %(size)s for one file.")),
    (re.compile(r"^the archive unpacks to more than the limit of (?P<size>.+)$"),
     N_("The archive unpacks to more than the limit of %(size)s.")),
    (re.compile(r"^the chat text is larger than the limit of (?P<size>.+)$"),
     N_("The chat text is larger than the limit of %(size)s.")),
    (re.compile(r"^the chat text has more than the limit of (?P<n>\d+) lines$"),
     N_("The chat text has more than the limit of %(n)s lines.")),
    (re.compile(r"^the table has (?P<n>\d+) columns, more than the limit of (?P<limit>\d+)$"),
     N_("The table has %(n)s columns, more than the limit of %(limit)s.")),
    (re.compile(r"^the table has more than the limit of (?P<n>\d+) rows$"),
     N_("The table has more than the limit of %(n)s rows.")),
    (re.compile(r"^the file holds (?P<n>\d+) messages, more than the limit of (?P<limit>\d+)$"),
     N_("The chat holds %(n)s messages, more than the limit of %(limit)s.")),
    (re.compile(r"^the file holds (?P<n>\d+) forms, more than the limit of (?P<limit>\d+)$"),
     N_("The chat holds %(n)s forms, more than the limit of %(limit)s.")),
    (re.compile(r"^the file holds (?P<n>\d+) (?:attachments|files), more than the limit of (?P<limit>\d+)$"),
     N_("The file holds %(n)s attachments, more than the limit of %(limit)s.")),
    (re.compile(r"^the file holds (?P<n>\d+) instances, more than the limit of (?P<limit>\d+)$"),
     N_("The archive holds %(n)s instances, more than the limit of %(limit)s.")),
    (re.compile(r"^date or time does not exist in the file's (?P<order>.+) order$"),
     N_("A date or time in the file does not exist in the order it uses (%(order)s).")),
    (re.compile(r"^an instance may carry at most (?P<n>\d+) attachments$"),
     N_("An instance may carry at most %(n)s attachments.")),
    (re.compile(r"^the cell is longer than (?P<n>\d+) characters$"), N_("The cell is longer than %(n)s characters.")),
    (re.compile(r"^.+ cannot be read \(damaged or encrypted\)$"),
     N_("The file cannot be read (damaged or encrypted).")),
]


def intake_problem_text(problem: str, gettext: Callable[[str], str]) -> str:
    """An import's problem in the reader's language; one this catalogue does not know is shown as written."""
    if problem in INTAKE_PROBLEMS:
        return gettext(problem)
    for pattern, message in _INTAKE_PATTERNS:
        m = pattern.match(problem)
        if m:
            return gettext(message) % m.groupdict() if m.groupdict() else gettext(message)
    return gettext(problem)


# Who did something (core.audit.Actor names, "kind:name"), as a reader says it. A person is their username;
# the system's own actors are named in words; anything else is shown as written.
ACTOR_NAMES: dict[str, str] = {
    "system": N_("The system"), "system:worker": N_("The system (processing submissions)"),
    "system:reindex": N_("The system (re-indexing)"), "system:openrosa": N_("The system (ODK server)"),
    "system:demo": N_("The system (demo data)"), "system:cli": N_("An operator (command line)"),
    "system:bulk-access": N_("The system (bulk access check)"), "public:intake": N_("The public intake form"),
    "anonymous": N_("Someone not signed in"),
}


def actor_text(actor: str | None, gettext: Callable[[str], str]) -> tuple[str, bool]:
    """(the words, whether they are the reader's language): ``user:nazir`` → ("nazir", False: a name),
    ``system:worker`` → its words; unknown kinds as written (False)."""
    if not actor:
        return "", False
    if actor in ACTOR_NAMES:
        return gettext(ACTOR_NAMES[actor]), True
    kind, _, name = actor.partition(":")
    if kind in ("user", "device") and name:
        return name, False
    return actor, False
