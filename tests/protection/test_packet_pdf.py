"""The case packet PDF in Dari, Pashto and English: shaped, extractable, sealed, audited."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from amanat.core import crypto
from amanat.core.audit import AuditEvent
from amanat.errors import PermissionDenied
from amanat.export import service as ex
from tests.protection.factories import DARI_NAME, make_case

CHEAP = (1, 64)


def test_case_packet_pdf_in_dari_extracts_the_name(database, users):
    import pypdf

    from amanat.cases import pathways as pw
    from amanat.export.packet import case_packet
    from amanat.export.pdf import export_packet_pdf

    cw = users["caseworker"]
    cat = pw.load_catalog()
    with database.transaction() as db:
        case = make_case(db, documents=("doc_tazkira",))
        pw.add_pathway(db, cw.actor, cat, case.id, "us_siv_com")
        packet = case_packet(db, case, cat, lang="fa_AF")
        with pytest.raises(PermissionDenied):
            export_packet_pdf(db, cw.actor, case, packet, ex.Recipient(passphrase="a long export passphrase"),
                              lang="fa_AF", gettext=str, can_reveal=False, kdf=CHEAP)
        for lang in ("fa_AF", "ps_AF", "en"):
            built = export_packet_pdf(db, cw.actor, case, case_packet(db, case, cat, lang=lang),
                                      ex.Recipient(passphrase="a long export passphrase"), lang=lang,
                                      gettext=str, labels={"full_name": "نام مکمل"}, can_reveal=True, kdf=CHEAP)
            assert b"%PDF" not in built.blob
            plain = crypto.open_envelope(built.blob, passphrase="a long export passphrase").plaintext
            text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(plain)).pages)
            assert DARI_NAME in text, (lang, text[:300])
            assert "Mohammad Nabi Ahmadzai" in text
        ev = db.scalars(select(AuditEvent).where(AuditEvent.action == "export:packet")).all()
        assert len(ev) == 3 and all(DARI_NAME not in e.details for e in ev)


def _pdf_text(packet, lang: str, **kw) -> str:
    import pypdf

    from amanat.export.pdf import render_packet_pdf

    return "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(
        render_packet_pdf(packet, lang=lang, gettext=str, **kw))).pages)


def test_packet_pdf_shows_answers_as_labels_in_the_packet_language(database):
    """Relationships, provinces and other answers are set as their labels in the reader's language (the form's
    own choice labels, as the web pages use), never as the stored codes (``son``, ``AF01``)."""
    from amanat.cases import pathways as pw
    from amanat.export.packet import case_packet
    from amanat.intake.form_versions import current_form
    from amanat.web.i18n import choice_labels

    fields = {"full_name": DARI_NAME, "province": "AF01", "gender": "male",
              "family": [{"member_name": "فاطمه", "member_relationship": "daughter"},
                         {"member_name": "احمد", "member_relationship": "son"}]}
    with database.transaction() as db:
        case = make_case(db, fields)
        packet = case_packet(db, case, pw.load_catalog(), lang="fa_AF")
        spec = current_form(db)
        for lang, form_lang in (("fa_AF", "prs"), ("ps_AF", "ps"), ("en", "en")):
            choices = choice_labels(spec, form_lang)
            son, daughter = choices["member_relationship"]["son"], choices["member_relationship"]["daughter"]
            province = choices["province"]["AF01"]
            assert (son != "son" and daughter != "daughter") or lang == "en"
            text = _pdf_text(packet, lang, choices=choices)
            assert son in text and daughter in text and province in text, (lang, text[:400])
            words = set(text.replace(":", " ").replace("·", " ").split())
            assert not {"son", "daughter", "AF01", "male"} & words, (lang, words & {"son", "daughter", "AF01"})
        # the same packet without the labels shows the codes: the test reads what the labels change
        assert "son" in _pdf_text(packet, "fa_AF").split()


def test_packet_pdf_uses_only_the_fonts_the_package_ships():
    """Latin letters and digits are set in the shipped Vazirmatn Latin subset (SIL OFL, licence beside it), not a
    system font: every font embedded in the PDF comes from amanat/web/static/fonts."""
    import pypdf

    from amanat.export.packet import Packet
    from amanat.export.pdf import STATIC_FONTS, render_packet_pdf

    content = {"case": {"number": "C-000001", "status": "new", "risk_level": None, "opened_on": "2026-01-01"},
               "record": {"full_name": DARI_NAME, "full_name_latin": "Mohammad Nabi Ahmadzai", "phone": "+93 70"},
               "family": [], "documents": [], "attestations": [], "pathways": []}
    pdf = pypdf.PdfReader(io.BytesIO(render_packet_pdf(Packet(content, []), lang="en", gettext=str)))
    fonts = {str(f["/BaseFont"]) for page in pdf.pages for f in page["/Resources"]["/Font"].values()}
    assert fonts and all("Vazirmatn" in f for f in fonts), fonts
    assert not any("DejaVu" in f for f in fonts)
    assert "Mohammad Nabi Ahmadzai" in pdf.pages[0].extract_text()
    assert (STATIC_FONTS / "OFL.txt").is_file() and (STATIC_FONTS / "Vazirmatn-Latin-400.woff").is_file()
