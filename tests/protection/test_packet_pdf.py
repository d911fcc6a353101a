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
