"""Verification, a task and the audit trail in Pashto, in a real browser against a real server: a referrer
sends the Pashto form and vouches for the man from the page of what they sent (status, never values), a
verifier finds the case awaiting verification and records a document check with the tazkira photo as
evidence, a caseworker gives the verifier a follow-up task, and the auditor, landing on the audit log,
finds all of it by the case number. Every role signs in to its own home page.

Screenshots (Pashto, right to left) go to docs/screenshots/ when AMANAT_UPDATE_SCREENSHOTS=1, otherwise to a
temp dir. Synthetic data only.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from tests.browser.conftest import Server, served_organisation
from tests.browser.test_intake_flow import DESKTOP, SCREENSHOTS, TIMEOUT_MS, WORKER_WAIT_S, open_first_case, png

pytestmark = pytest.mark.browser
USERS = {"caseworker": "caseworker", "verifier": "verifier", "auditor": "auditor", "referrer": "referrer"}
HOMES = {"caseworker": "/cases", "verifier": "/verification", "auditor": "/audit", "referrer": "/referrals"}
APPLICANT = {"full_name": "ګل احمد زدران", "father_name": "شېر محمد", "date_of_birth": "۱۳۶۵",
             "tazkira_number": "۱۴۰۰-۰۲۰۲-۵۴۳۲۱", "phone": "۰۷۰۰۹۸۷۶۵۴"}
REASON = "اصلي تذکره مې ولیدله؛ عکس او نېټې سره سمون لري."
VOUCH = "له ۲۰۱۶ تر ۲۰۱۹ پورې مو په یوه کندک کې دنده کړې."
TASK = "له معرفي کوونکي سره بیا اړیکه ونیسئ"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A fresh organisation with a caseworker, a verifier and an auditor, served by `amanat serve`."""
    with served_organisation(tmp_path_factory, USERS, name="amanat-verification") as served:
        yield served


def _sign_in(browser, server: Server, username: str):
    """Sign in in Pashto without naming a page: each role lands on its own home."""
    context = browser.new_context(**DESKTOP, locale="ps-AF")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{server.url}/login?lang=ps_AF")
    page.fill("#username", username)
    page.fill("#password", server.password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{server.url}{HOMES[username]}*")
    assert page.locator("html").get_attribute("dir") == "rtl"
    return context, page


def _open_the_case(page, server: Server) -> str:
    return open_first_case(page, server)


def test_pashto_attestation_task_and_audit_by_case_number(browser, server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # --- the referrer: sends the form, then vouches from the page of what they sent -------------------
    desk, page = _sign_in(browser, server, "referrer")
    page.goto(f"{server.url}/intake")
    for name, value in APPLICANT.items():
        page.fill(f"#f-{name}", value)
    page.check("input[name=gender][value=male]")
    page.check("input[name=service_branch][value=ana_soc]")
    page.select_option("select[name=province]", "AF01")
    page.check("input[name=consent][value=yes]")
    page.set_input_files("#f-doc_tazkira", files=[{"name": "tazkira.png", "mimeType": "image/png", "buffer": png()}])
    page.click("button.af-submit")
    receipt = page.locator(".receipt-code").inner_text().strip()
    deadline = time.monotonic() + WORKER_WAIT_S
    while True:
        page.goto(f"{server.url}/referrals")
        row = page.locator(f"tr[data-receipt='{receipt}']")
        if row.locator("details.vouch").count():
            break
        if time.monotonic() > deadline:
            pytest.fail(f"no case within {WORKER_WAIT_S:.0f} s; server log:\n{server.log_tail()}")
        time.sleep(0.25)
    assert APPLICANT["full_name"] not in page.content()  # the status, never the values
    label = row.locator("td").nth(2).inner_text().strip()
    row.locator("details.vouch summary").click()
    row.locator("input[name=outcome][value=confirmed]").check()
    row.locator("textarea[name=reason]").fill(VOUCH)
    row.locator("form button").click()
    page.wait_for_url(f"{server.url}/referrals")
    row = page.locator(f"tr[data-receipt='{receipt}']")
    assert "د تصدیق په تمه" in row.inner_text()  # a vouch waits for a verifier
    page.screenshot(path=str(SCREENSHOTS / "referrer-home-pashto.png"), full_page=True)
    desk.close()

    # --- the verifier: lands on "awaiting verification", records a document check -------------------
    desk, page = _sign_in(browser, server, "verifier")
    waiting = page.locator("table.verification-queue tbody tr")
    assert waiting.count() == 1 and label in waiting.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "verification-queue-pashto.png"), full_page=True)
    waiting.locator("a").click()
    page.wait_for_url(re.compile(r"/cases/[^/?#]+"))
    section = page.locator("section#verification")
    assert section.get_attribute("data-state") == "pending"
    assert section.locator("ul.vouchers li[data-user=referrer]").count() == 1  # the intermediary's record
    assert section.locator("li[data-check=tazkira].check-pass").count() == 1  # the tazkira's format checks out
    page.select_option("#att-method", "document_check")
    page.check("input[name=outcome][value=confirmed]")
    page.check("input[name=documents]")
    page.fill("#att-reason", REASON)
    page.click("form.attest-form button")
    page.wait_for_url(re.compile(r"#verification$"))
    section = page.locator("section#verification")
    assert section.get_attribute("data-state") == "verified"
    assert "تصدیق شوی" in section.inner_text() and REASON in section.inner_text() and VOUCH in section.inner_text()
    section.scroll_into_view_if_needed()
    section.screenshot(path=str(SCREENSHOTS / "case-verification-pashto.png"))
    desk.close()

    # --- the caseworker: lands on the queue, gives the verifier a follow-up ----------------------------
    desk, page = _sign_in(browser, server, "caseworker")
    assert _open_the_case(page, server) == label
    page.fill("#task-title", TASK)
    page.select_option("#task-assignee", label="verifier")
    page.fill("#task-due", (date.today() + timedelta(days=7)).isoformat())
    page.click("form.task-form button")
    page.wait_for_url(re.compile(r"#tasks$"))
    tasks = page.locator("section#tasks")
    assert TASK in tasks.inner_text() and "verifier" in tasks.inner_text()
    tasks.scroll_into_view_if_needed()
    tasks.screenshot(path=str(SCREENSHOTS / "case-tasks-pashto.png"))
    desk.close()

    # --- the verifier sees it under "my tasks" ---------------------------------------------------------
    desk, page = _sign_in(browser, server, "verifier")
    page.goto(f"{server.url}/tasks")
    assert TASK in page.locator("table.my-tasks").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "my-tasks-pashto.png"), full_page=True)
    desk.close()

    # --- the auditor: lands on the log, finds both by the case number, in words -----------------------
    desk, page = _sign_in(browser, server, "auditor")
    page.fill("#case", label)
    page.click("form.audit-filters button")
    page.wait_for_url(re.compile(r"/audit\?"))
    rows = page.locator("tr.audit-row")
    actions = {rows.nth(i).get_attribute("data-action") for i in range(rows.count())}
    assert {"attestation:create", "task:create", "case:open", "record:create"} <= actions
    assert page.locator("tr.audit-row[data-action='attestation:create']").count() == 2  # the vouch and the check
    attestation = page.locator("tr.audit-row[data-action='attestation:create']").first.inner_text()
    assert "شاهدي ثبت شوه" in attestation and "user:verifier" in attestation  # the action in Pashto words
    assert REASON not in page.content() and TASK not in page.content() and VOUCH not in page.content()
    page.screenshot(path=str(SCREENSHOTS / "audit-by-case-pashto.png"), full_page=True)
    desk.close()
