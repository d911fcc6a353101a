"""Interface languages: English, Dari (fa_AF) and Pashto (ps_AF) through Babel gettext catalogs.

The catalogs are kept as .po files in amanat/i18n and compiled in memory at start-up, so there is no
build step and no binary file to keep in step with its source.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

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
