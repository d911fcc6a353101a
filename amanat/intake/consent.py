"""The consent basis an importer states for a whole file (a table, a WhatsApp chat export).

A web-form applicant consents on the form itself; the people in an imported file consented somewhere else,
and only the importer can say how. So every table or chat import names its basis (one of IMPORT_BASES, with
the consent form's version and language where known); a file without one is refused before anything is read.
The basis travels in each submission's sealed provenance (``import.consent``) into its record, and in the
import's audit event; referrals check it (cases/partner_referrals.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from amanat.intake.errors import IntakeError

# paper_intermediary: consent recorded on paper by the intermediary who collected the forms;
# messenger_conversation: consent given in the messenger conversation the forms came in;
# phone_verbal: verbal consent, recorded by phone.
IMPORT_BASES = ("paper_intermediary", "messenger_conversation", "phone_verbal")
CONSENT_LANGUAGES = ("en", "fa_AF", "ps_AF")
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,39}$")

MISSING = "state how the people in this file gave their consent (the consent basis)"
UNKNOWN = "the consent basis is not one of the listed choices"
BAD_VERSION = "the consent form's version: up to 40 letters, digits, dots and dashes"
BAD_LANGUAGE = "the consent form's language is not one of the listed choices"


@dataclass(frozen=True)
class ImportConsent:
    basis: str
    form_version: str | None = None
    language: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"basis": self.basis}
        if self.form_version:
            out["form_version"] = self.form_version
        if self.language:
            out["language"] = self.language
        return out


def import_consent(basis: str | None, form_version: str | None = None, language: str | None = None, *,
                   source: str | None = None) -> ImportConsent:
    """The stated basis, checked; IntakeError naming the problem (never a guess) otherwise."""
    basis = (basis or "").strip()
    if not basis:
        raise IntakeError(MISSING, source=source)
    if basis not in IMPORT_BASES:
        raise IntakeError(UNKNOWN, source=source)
    version = (form_version or "").strip() or None
    if version is not None and not _VERSION.match(version):
        raise IntakeError(BAD_VERSION, source=source)
    lang = (language or "").strip() or None
    if lang is not None and lang not in CONSENT_LANGUAGES:
        raise IntakeError(BAD_LANGUAGE, source=source)
    return ImportConsent(basis, version, lang)
