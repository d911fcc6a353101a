"""Protection, pathways, a referral and a case packet in Dari, in a real browser against a real server.

A caseworker sends the form in Dari with a tazkira photo; a verifier records a document check; an admin
registers a partner's public key (made by the partner with `amanat referral keygen`); the caseworker
assesses the risk (protection factors only), adds the SIV pathway and sees its checklist fill from the
tazkira photo and the attestation, records consent, sends the referral, downloads its encrypted packet —
which `amanat referral decrypt` opens to exactly the case's values — and marks it accepted; downloads the
case packet PDF in Dari, whose extracted text holds the Dari name; an auditor sees the case counted on the
dashboard, as "<5". Screenshots go to docs/screenshots/ when AMANAT_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
from collections.abc import Iterator

import pypdf
import pytest

from tests.browser.conftest import Server, _amanat, _env, served_organisation
from tests.browser.test_intake_flow import DESKTOP, SCREENSHOTS, TIMEOUT_MS, open_first_case, png

pytestmark = pytest.mark.browser
USERS = {"caseworker": "caseworker", "verifier": "verifier", "admin": "admin", "auditor": "auditor"}
APPLICANT = {"full_name": "محمد نبی احمدزی", "father_name": "عبدالرحیم", "date_of_birth": "۱۳۶۲",
             "tazkira_number": "۱۴۰۰-۰۱۰۱-۹۸۷۶۵", "phone": "۰۷۰۰۱۲۳۴۵۶"}
PASSPHRASE = "یک رمز طولانی برای بسته"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with served_organisation(tmp_path_factory, USERS, name="amanat-protection", timeout=90.0) as served:
        yield served


def _sign_in(browser, server: Server, username: str):
    context = browser.new_context(**DESKTOP, locale="fa-AF", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{server.url}/login?lang=fa_AF")
    page.fill("#username", username)
    page.fill("#password", server.password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))  # each role lands on its own home
    return context, page


def _case_url(page, server: Server) -> str:
    open_first_case(page, server)
    return page.url


def _decrypt(tmp_path, blob: bytes, *args: str, env: dict[str, str] | None = None) -> bytes:
    path = tmp_path / "in.amanat"
    path.write_bytes(blob)
    out = tmp_path / "out.bin"
    done = subprocess.run([*_amanat(), "referral", "decrypt", str(path), *args, "-o", str(out)],
                          capture_output=True, text=True, timeout=60, check=False, env=env)
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


def test_dari_triage_pathway_referral_packet_and_dashboard(browser, server, tmp_path):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    key = tmp_path / "partner.key"
    made = subprocess.run([*_amanat(), "referral", "keygen", "--private-key", str(key)], capture_output=True,
                          text=True, timeout=60, check=True)
    public = made.stdout.strip().splitlines()[0]

    # --- intake in Dari, with a tazkira photo ------------------------------------------------------------
    desk, page = _sign_in(browser, server, "caseworker")
    page.goto(f"{server.url}/intake?lang=fa_AF")
    for name, value in APPLICANT.items():
        page.fill(f"#f-{name}", value)
    page.check("input[name=gender][value=male]")
    page.check("input[name=service_branch][value=ana_soc]")
    page.select_option("select[name=province]", "AF01")
    page.check("input[name=consent][value=yes]")
    page.set_input_files("#f-doc_tazkira", files=[{"name": "tazkira.png", "mimeType": "image/png", "buffer": png()}])
    page.click("button.af-submit")
    page.locator(".receipt-code").wait_for()
    case_url = _case_url(page, server)
    desk.close()

    # --- a verifier checks the tazkira --------------------------------------------------------------------
    desk, page = _sign_in(browser, server, "verifier")
    page.goto(case_url)
    page.select_option("#att-method", "document_check")
    page.check("input[name=outcome][value=confirmed]")
    page.check("input[name=documents]")
    page.fill("#att-reason", "تذکره اصلی دیده شد.")
    page.click("form.attest-form button")
    page.wait_for_url(re.compile(r"#verification$"))
    desk.close()

    # --- the admin registers the partner's public key -----------------------------------------------------
    desk, page = _sign_in(browser, server, "admin")
    page.goto(f"{server.url}/admin/partners?lang=fa_AF")
    page.fill("input[name=name]", "Safe Passage")
    page.select_option("select[name=kind]", "resettlement_agency")
    page.fill("input[name=public_key]", public)
    page.click("form[action='/admin/partners'] button")
    page.wait_for_url(f"{server.url}/admin/partners")
    assert "Safe Passage" in page.content()
    page.screenshot(path=str(SCREENSHOTS / "partners-dari.png"), full_page=True)
    desk.close()

    # --- the caseworker: triage, pathway, consent, referral ------------------------------------------------
    desk, page = _sign_in(browser, server, "caseworker")
    page.goto(case_url)
    page.click("section#protection-summary a.button")
    page.wait_for_url(re.compile(r"/protection$"))
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.select_option("select[name=threat]", "recent")
    page.check("input[name=in_hiding]")
    page.fill("textarea[name=note]", "نامه تهدید را نشان داد.")
    page.click("form[action$='/triage'] button")
    page.wait_for_url(re.compile(r"#triage$"))
    assert page.locator("[data-level=high]").count() == 1
    assert "خطر بلند" in page.locator("section#triage").inner_text()
    page.select_option("form[action$='/pathways'] select[name=pathway]", "us_siv_com")
    page.click("form[action$='/pathways'] button")
    page.wait_for_url(re.compile(r"#pathways$"))
    siv = page.locator("article[data-pathway=us_siv_com]")
    assert siv.locator("li.met[data-item=national_id]").count() == 1  # the tazkira photo
    assert siv.locator("li.met[data-item=identity_checked]").count() == 1  # the verifier's document check
    assert siv.locator("li.missing[data-item=ds157]").count() == 1
    page.locator("section#consents summary").click()
    page.select_option("section#consents select[name=partner_kind]", "resettlement_agency")
    page.fill("section#consents input[name=form_version]", "2024-1")
    page.click("section#consents form button")
    page.wait_for_url(re.compile(r"#consents$"))
    page.locator("section#referrals summary").click()
    page.select_option("section#referrals select[name=pathway]", "us_siv_com")
    page.click("section#referrals form[action$='/referrals'] button")
    page.wait_for_url(re.compile(r"#referrals$"))
    with page.expect_download() as download:
        page.click("form[action$='/packet'] button.link")
    packet = json.loads(_decrypt(tmp_path, download.value.path().read_bytes(), "--key", str(key)))
    assert packet["record"]["full_name"] == APPLICANT["full_name"]
    assert packet["record"]["tazkira_number"] == APPLICANT["tazkira_number"]
    assert packet["referral"] == {"partner": "Safe Passage", "partner_kind": "resettlement_agency",
                                  "pathway": "us_siv_com", "consent": True}
    assert [p["code"] for p in packet["pathways"]] == ["us_siv_com"] and "ds157" in packet["pathways"][0]["missing"]
    page.click("form[action$='/status'] button:has-text('پذیرفته شد')")
    page.wait_for_url(re.compile(r"#referrals$"))
    assert "پذیرفته شد" in page.locator("section#referrals").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "protection-dari.png"), full_page=True)
    page.fill("section#packet input[name=passphrase]", PASSPHRASE)
    with page.expect_download() as download:
        page.click("section#packet button")
    pdf = _decrypt(tmp_path, download.value.path().read_bytes(),
                   env={**_env(tmp_path), "AMANAT_EXPORT_PASSPHRASE": PASSPHRASE})
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert APPLICANT["full_name"] in text
    page.goto(f"{server.url}/exports?lang=fa_AF")
    page.screenshot(path=str(SCREENSHOTS / "exports-dari.png"), full_page=True)
    desk.close()

    # --- the dashboard counts the case, as "<5" ---------------------------------------------------------------
    desk, page = _sign_in(browser, server, "auditor")
    page.goto(f"{server.url}/dashboard?lang=fa_AF")
    assert "<5" in page.locator("main").inner_text()
    assert APPLICANT["full_name"] not in page.content()
    page.screenshot(path=str(SCREENSHOTS / "dashboard-dari.png"), full_page=True)
    desk.close()
