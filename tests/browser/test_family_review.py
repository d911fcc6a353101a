"""Two brothers of one household sent through the Dari intake form: the caseworker finds them under
"likely relatives" in Dari, compares them, and records them as one family, two people; each keeps his
own case, and each case names the other as a possible family member.

Screenshots go to docs/screenshots/ when AMANAT_UPDATE_SCREENSHOTS=1, otherwise to a temp dir.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.test_intake_flow import DESKTOP, PHONE, SCREENSHOTS, TIMEOUT_MS, WORKER_WAIT_S, sign_in

HOUSEHOLD = {"father_name": "عبدالکریم", "grandfather_name": "غلام حیدر", "family_name": "احمدزی",
             "phone": "۰۷۰۰۱۲۳۴۵۶"}
BROTHERS = ({"full_name": "ظاهر", "date_of_birth": "۱۳۶۷"}, {"full_name": "بصیر", "date_of_birth": "۱۳۶۹"})


def _submit(browser, server, person: dict[str, str]) -> None:
    phone = browser.new_context(**PHONE, locale="fa-AF")
    page = phone.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{server.url}/intake?lang=fa_AF")
    for name, value in {**HOUSEHOLD, **person}.items():
        page.fill(f"#f-{name}", value)
    page.check("input[name=gender][value=male]")
    page.check("input[name=service_branch][value=ana_soc]")
    page.select_option("select[name=province]", "AF01")
    page.check("input[name=consent][value=yes]")
    page.click("button.af-submit")
    page.locator(".receipt-code").wait_for()
    phone.close()


def test_brothers_are_shown_as_relatives_in_dari_and_kept_apart(browser, server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for person in BROTHERS:
        _submit(browser, server, person)

    desk = browser.new_context(**DESKTOP, locale="fa-AF")
    page = sign_in(desk, server, "caseworker", "/cases")
    deadline = time.monotonic() + WORKER_WAIT_S
    while True:
        page.goto(f"{server.url}/review?show=relatives&lang=fa_AF")
        if page.locator("table.queue tbody tr").count():
            break
        if time.monotonic() > deadline:
            pytest.fail(f"no relatives pair within {WORKER_WAIT_S:.0f} s; server log:\n{server.log_tail()}")
        time.sleep(0.25)
    assert page.locator("html").get_attribute("dir") == "rtl"
    row = page.locator("table.queue tbody tr").first
    assert "احتمالاً برادران" in row.inner_text()  # "likely brothers", translated
    assert "ظاهر" not in page.content()  # the queue shows no values
    page.screenshot(path=str(SCREENSHOTS / "review-relatives-dari.png"), full_page=True)

    row.locator("button").click()
    page.wait_for_url(re.compile(r"/review/[^/]+/open"))
    assert page.locator("p.notice.warning").count() == 1
    assert "ظاهر" in page.content() and "بصیر" in page.content()  # compared side by side, audited
    page.screenshot(path=str(SCREENSHOTS / "review-brothers-dari.png"), full_page=True)
    page.locator("form button", has_text="یک خانواده، دو نفر").click()  # "one family, two people"
    page.wait_for_url(re.compile(r"/review"))

    page.goto(f"{server.url}/cases?lang=fa_AF")
    cases = page.locator("table.queue tbody tr td:first-child a")
    assert cases.count() == 2  # two people, two cases
    cases.first.click()
    page.wait_for_url(re.compile(r"/cases/[^/?]+"))
    family = page.locator("section.card", has_text="اعضای احتمالی خانواده")
    assert family.count() == 1 and family.locator("li").count() == 1
    family.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "case-family-dari.png"), full_page=True)
    desk.close()
