"""The protection, export and dashboard pages through the web layer, in Dari."""

from __future__ import annotations

import re

from amanat.cases import triage
from amanat.core import crypto
from tests.conftest import csrf, login
from tests.protection.factories import DARI_NAME, make_case


def test_caseworker_assesses_adds_a_pathway_and_exports_in_dari(client, database, users):
    with database.transaction() as db:
        case = make_case(db, documents=("doc_tazkira",))
        case_id = case.id
    login(client, "caseworker")
    token = csrf(client)
    page = client.get(f"/cases/{case_id}/protection?lang=fa_AF")
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert "مسیرها" in page.text and "Pathways" not in page.text
    r = client.post(f"/cases/{case_id}/triage", data={"csrf_token": token, "threat": "recent", "in_hiding": "yes",
                                                       "note": "Threat letter seen"}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/cases/{case_id}/triage", data={"csrf_token": token, "rank": "general"}, follow_redirects=False)
    assert r.status_code == 422 and "rank" in r.text  # never a military field
    r = client.post(f"/cases/{case_id}/pathways", data={"csrf_token": token, "pathway": "us_siv_com"},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/cases/{case_id}/protection")
    assert 'data-level="high"' in page.text and 'data-item="national_id"' in page.text
    assert DARI_NAME not in page.text
    r = client.post("/exports", data={"csrf_token": token, "cases": "C-000001", "fields": ["case_number", "full_name"],
                                      "format": "csv", "reveal": "yes", "passphrase": "a long export passphrase"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert DARI_NAME.encode() not in r.content and r.content.startswith(crypto.ENVELOPE_MAGIC)
    plain = crypto.open_envelope(r.content, passphrase="a long export passphrase").plaintext.decode("utf-8-sig")
    assert DARI_NAME in plain
    r = client.post("/exports", data={"csrf_token": token, "cases": "C-000001", "fields": ["case_number"],
                                      "format": "csv"})
    assert r.status_code == 422  # no recipient: nothing leaves in clear
    r = client.get("/triage")
    assert f'/cases/{case_id}/protection' in r.text


def test_dashboard_never_shows_a_count_under_five(client, database, users):
    with database.transaction() as db:
        for i in range(7):
            c = make_case(db, province="AF01" if i < 5 else "AF32")
            if i < 2:
                triage.assess_case(db, users["caseworker"].actor, c.id, {"threat": "recent"})
    login(client, "auditor")
    for lang in ("en", "fa_AF", "ps_AF"):
        page = client.get(f"/dashboard?lang={lang}")
        assert page.status_code == 200
        assert "<script" not in page.text and "<svg" in page.text
        cells = re.findall(r'<td class="num">([^<]*)</td>', page.text)
        assert cells and "&lt;5" in cells
        for cell in cells:
            assert cell in ("&lt;5", "—") or float(cell) == 0 or float(cell) >= 5, cell
    assert "کابل" in client.get("/dashboard?lang=fa_AF").text  # provinces by name
    report = client.get("/dashboard/monthly.csv")
    assert report.status_code == 200 and "text/csv" in report.headers["content-type"]
    assert client.get("/dashboard/monthly.csv?month=2026-13").status_code == 422
    import io

    import pypdf

    pdf = client.get("/dashboard/monthly.pdf?lang=fa_AF")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "کمتر از ۵" in text and "کابل" in text and "<5" not in text  # words, not a mirrored "5>"
    assert not re.search(r"(?<![<\d])[1-4](?!\d)\s*$", text, re.M)  # no count from 1 to 4 ends a line
