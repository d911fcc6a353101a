"""The caseworker's day in Dari, in a real browser against a real server: an applicant's Dari record is found
by a Latin spelling, worked on with a reason, a family member revealed, a value corrected, the case
assigned and its closing asked for, then approved by a second caseworker. Screenshots of each page go to
docs/screenshots/ with AMANAT_UPDATE_SCREENSHOTS=1 (else a temp dir). Synthetic data only."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import _env, _run
from tests.browser.test_intake_flow import DESKTOP, PHONE, SCREENSHOTS, TIMEOUT_MS, sign_in

pytestmark = pytest.mark.browser


def test_dari_casework_journey(browser, server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _run(["users", "add", "second-cw", "--role", "caseworker"], _env(server.data_dir),
         AMANAT_NEW_PASSWORD=server.password)

    # --- the applicant sends a Dari form with one family member ---------------------------------------
    phone = browser.new_context(**PHONE, locale="fa-AF")
    page = phone.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{server.url}/intake?lang=fa_AF")
    page.fill("#f-full_name", "محمد نبی")
    page.fill("#f-father_name", "عبدالله")
    page.fill("#f-tazkira_number", "1400-0101-23456")
    page.check("input[name=gender][value=male]")
    page.check("input[name=service_branch][value=ana_soc]")
    page.select_option("select[name=province]", "AF01")
    page.fill("[name='family-1-member_name']", "فاطمه")
    page.check("input[name=consent][value=yes]")
    page.click("button.af-submit")
    page.locator(".receipt-code, #form-errors").first.wait_for()
    assert page.locator(".receipt-code").count() == 1, page.locator("#form-errors").inner_text()
    phone.close()

    # --- the caseworker, in Dari: search by a Latin spelling --------------------------------------------
    desk = browser.new_context(**DESKTOP, locale="fa-AF")
    page = sign_in(desk, server, "caseworker", "/cases")
    page.goto(f"{server.url}/cases?lang=fa_AF")
    for _ in range(80):  # the worker stores the submission in the background
        if page.locator("table.queue tbody tr").count():
            break
        page.wait_for_timeout(250)
        page.reload()
    page.screenshot(path=str(SCREENSHOTS / "casework-queue-dari.png"), full_page=True)
    page.fill("#q", "Mohammad Nabi")
    page.click("form.search-form button")
    page.wait_for_url(re.compile(r"/cases/[0-9a-f-]{36}"))
    case_url = page.url.split("#")[0]
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator(".value[data-field=full_name]").count() == 0  # masked until worked on

    # --- a family member, revealed on their own (a quick reveal: one field, audited) -------------------------
    page.click("#household button.reveal[data-member-field=member_name]")
    page.locator("#household .value[data-member-field=member_name]").wait_for()
    assert "فاطمه" in page.locator("#household").inner_text()
    assert page.locator(".value[data-field=full_name]").count() == 0  # the applicant's values stay hidden
    page.screenshot(path=str(SCREENSHOTS / "casework-family-dari.png"), full_page=True)

    # --- work on the case with a reason: every value shown, one audit event -----------------------------
    page.select_option("#work-reason", "applicant_contact")
    page.click("button[data-action=work]")
    page.locator(".value[data-field=full_name]").wait_for()
    assert page.locator(".value[data-field=full_name]").inner_text().strip() == "محمد نبی"
    page.screenshot(path=str(SCREENSHOTS / "casework-work-dari.png"), full_page=True)
    # a language switch on the worked page is a GET that keeps the values (no 405)
    page.goto(f"{case_url}?lang=ps_AF")
    assert page.locator(".value[data-field=full_name]").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "casework-work-pashto.png"), full_page=True)
    page.goto(f"{case_url}?lang=fa_AF")

    # --- a correction ------------------------------------------------------------------------------------
    record_id = page.locator("section.record").first.get_attribute("id").removeprefix("rec-")
    page.click(f"#rec-{record_id} details.correct summary")
    page.select_option(f"#cf-{record_id}", "father_name")
    page.fill(f"#cv-{record_id}", "عبدالله خان")
    page.select_option(f"#cr-{record_id}", "applicant_request")
    page.click(f"#rec-{record_id} button[data-action=correct]")
    page.locator(".value[data-field=father_name]").wait_for()
    assert page.locator(".value[data-field=father_name]").inner_text().strip() == "عبدالله خان"

    # --- assignment and asking to close -------------------------------------------------------------------
    page.select_option("#assignee", "me")
    page.click("form[action$='/assign'] button")
    page.click(".actions form button")  # in review
    page.click("#workflow details:has(#close-reason) summary")
    page.select_option("#close-reason", "pathway_completed")
    page.click("button[data-action=request-close]")
    page.locator("[data-approval]").wait_for()
    assert page.locator("button[data-action=approve-close]").count() == 0  # not to the one who asked
    page.screenshot(path=str(SCREENSHOTS / "casework-close-requested-dari.png"), full_page=True)
    desk.close()

    # --- a second caseworker approves -----------------------------------------------------------------
    other = browser.new_context(**DESKTOP, locale="fa-AF")
    page = sign_in(other, server, "second-cw", "/cases")
    page.goto(f"{case_url}?lang=fa_AF")
    page.click("button[data-action=approve-close]")
    page.locator(".case-head .status-closed").wait_for()
    history = page.locator("#history").inner_text()
    assert "caseworker" in history and "second-cw" in history
    page.screenshot(path=str(SCREENSHOTS / "casework-closed-history-dari.png"), full_page=True)
    other.close()
