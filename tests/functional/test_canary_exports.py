"""The canary, exported, referred, packed as a PDF and counted on the dashboard, through a real server.

As in test_canary.py: one form with a unique name (Latin and Dari) and tazkira number goes through a real
`amanat serve`. A caseworker assesses it, gives it a pathway, records consent and refers it to a partner
whose key an admin registered; exports it as CSV and XLSX with values shown; downloads its case packet PDF
in Dari; a manager reads the dashboard. The partner's private key and the passphrase stay with the test.
Each file that left the server opens to the canary — and the canary is in no file of the data dir, no
file of the server's TMPDIR and nowhere in its log; the dashboard never shows a count from 1 to 4.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import httpx
import openpyxl
import pypdf
import pytest

from amanat.core import crypto
from tests.functional import server as srv
from tests.functional.test_canary import TO_PERSIAN, find, login, make_canary, needles, scan_files, tree

PASSWORD = "caseworker-canary-pass"
PASSPHRASE = "the recipient's own passphrase"


def _token(client: httpx.Client) -> str:
    return client.cookies["amanat_csrf"]


def _sign_in(client: httpx.Client, username: str, landing: str) -> None:
    client.get("/login").raise_for_status()
    r = client.post("/login", data={"username": username, "password": PASSWORD, "next": landing,
                                    "csrf_token": _token(client)})
    assert r.status_code == 303, r.text
    client.get(landing).raise_for_status()  # a fresh CSRF cookie for the signed-in session


@pytest.mark.slow
def test_canary_exported_referred_and_counted_leaves_nothing_on_disk(tmp_path: Path) -> None:
    canary = make_canary()
    wanted = needles(canary)
    srv.init(tmp_path)
    for user, role in (("canary-cw", "caseworker"), ("canary-admin", "admin")):
        added = srv.cli(tmp_path, "users", "add", user, "--role", role, extra_env={"AMANAT_NEW_PASSWORD": PASSWORD})
        assert added.returncode == 0, added.stderr
    public, secret = crypto.generate_recipient_keypair()  # the partner's pair: the private half never leaves here
    opened: dict[str, bytes] = {}
    server = srv.start(tmp_path)
    try:
        with srv.browser(server) as applicant:
            r = srv.submit(applicant, {
                "full_name": canary["dari"], "full_name_latin": canary["latin"], "father_name": "عبدالرحمن",
                "service_branch": "ana_soc", "consent": "yes", "gender": "male", "province": "AF01",
                "tazkira_number": canary["tazkira"].translate(TO_PERSIAN)}, {})
            assert r.status_code == 201, r.text
        srv.wait_until(lambda: server.counts().get("stored", 0) == 1, 30,
                       f"the worker did not store the canary:\n{server.tail()}")
        with httpx.Client(base_url=server.url, timeout=60.0) as admin:
            _sign_in(admin, "canary-admin", "/admin/partners")
            r = admin.post("/admin/partners", data={"name": "Safe Passage", "kind": "resettlement_agency",
                                                    "public_key": public, "csrf_token": _token(admin)})
            assert r.status_code in (200, 303), r.text
        with httpx.Client(base_url=server.url, timeout=120.0) as staff:
            login(staff, "canary-cw", PASSWORD)
            case_id = re.search(r'href="/cases/([0-9a-f-]{36})"', staff.get("/cases").text)[1]
            page = staff.get(f"/cases/{case_id}/protection")
            partner_id = re.search(r'name="partner"><option value="([0-9a-f-]{36})"', page.text)[1]
            for path, data in ((f"/cases/{case_id}/triage", {"threat": "recent", "in_hiding": "yes"}),
                               (f"/cases/{case_id}/pathways", {"pathway": "us_siv_com"}),
                               (f"/cases/{case_id}/consents", {"partner_kind": "resettlement_agency",
                                                               "basis": "signed_form", "form_version": "2024-1",
                                                               "language": "fa_AF"}),
                               (f"/cases/{case_id}/referrals", {"partner": partner_id, "pathway": "us_siv_com"})):
                r = staff.post(path, data={**data, "csrf_token": _token(staff)})
                assert r.status_code in (200, 303), (path, r.status_code, r.text[-500:])
            page = staff.get(f"/cases/{case_id}/protection")
            referral_id = re.search(r'data-referral="([0-9a-f-]{36})"', page.text)[1]
            packet = staff.post(f"/referrals/{referral_id}/packet", data={"csrf_token": _token(staff)})
            opened["referral"] = crypto.open_envelope(packet.content, secret_key=secret).plaintext
            assert json.loads(opened["referral"])["record"]["full_name"] == canary["dari"]
            for fmt in ("csv", "xlsx"):
                r = staff.post("/exports", data={"cases": "C-000001", "fields": ["case_number", "full_name",
                                                                                 "tazkira_number"],
                                                 "format": fmt, "reveal": "yes", "passphrase": PASSPHRASE,
                                                 "csrf_token": _token(staff)})
                assert r.status_code == 200, r.text[-500:]
                assert r.headers["cache-control"] == "no-store" and not find(r.content, wanted)
                opened[fmt] = crypto.open_envelope(r.content, passphrase=PASSPHRASE).plaintext
            assert canary["dari"] in opened["csv"].decode("utf-8-sig")
            ws = openpyxl.load_workbook(io.BytesIO(opened["xlsx"])).active
            assert ws["B2"].value == canary["dari"]
            r = staff.post(f"/cases/{case_id}/packet?lang=fa_AF", data={"passphrase": PASSPHRASE,
                                                                        "csrf_token": _token(staff)})
            assert r.status_code == 200, r.text[-500:]
            pdf = crypto.open_envelope(r.content, passphrase=PASSPHRASE).plaintext
            text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
            assert canary["dari"] in text
            board = staff.get("/dashboard")
            assert board.status_code == 200 and not find(board.content, wanted)
            for cell in re.findall(r'<td class="num">([^<]*)</td>', board.text):
                assert cell in ("&lt;5", "—") or float(cell) == 0 or float(cell) >= 5, cell
            assert 'aria-label="' in board.text and "<script" not in board.text
    finally:
        server.stop()
    assert server.proc.returncode == 0, server.tail()
    assert scan_files(tree(tmp_path / "data"), wanted) == {}, "the canary is in the data dir"
    assert scan_files(tree(tmp_path / "tmp"), wanted) == {}, "the canary is in the server's TMPDIR"
    assert find(server.log.read_bytes(), wanted) == [], "the canary is in the server's log output"
