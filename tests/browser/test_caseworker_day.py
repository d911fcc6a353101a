"""The whole casework sequence of issue 15, once in Dari and once in Pashto, in a real browser (Debian's
Chromium) against a real server — one journey per language, each on a fresh organisation:

intake (a referrer sends the form on a phone, with a family member and a tazkira photo, and on the same phone
vouches for the man from the page of what they sent: status, never values) → the caseworker finds the record by a Latin
spelling of the name → reveals the family member on their own → works on the case with a reason → corrects
a value → a verifier, landing on "awaiting verification", records a document check with the photo as
evidence → the caseworker gives the verifier a follow-up task, assigns the case and asks to close it →
the verifier sees the task under "my tasks" → a second caseworker approves the closing → the auditor,
landing on the audit log, finds every step by the case number, in the reader's words and without a value.

Screenshots of each page (right to left) go to docs/screenshots/ when AMANAT_UPDATE_SCREENSHOTS=1 (the README
shows them), else to a temp dir. Synthetic data only.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from amanat.web.i18n import translations
from tests.browser.conftest import Server, served_organisation
from tests.browser.test_intake_flow import (
    DESKTOP,
    PERSIAN_DIGITS,
    PHONE,
    SCREENSHOTS,
    TIMEOUT_MS,
    WORKER_WAIT_S,
    open_first_case,
    png,
)

pytestmark = pytest.mark.browser
USERS = {"caseworker": "caseworker", "second-cw": "caseworker", "verifier": "verifier", "referrer": "referrer",
         "auditor": "auditor"}
HOMES = {"caseworker": "/cases", "second-cw": "/cases", "verifier": "/verification", "referrer": "/referrals",
         "auditor": "/audit"}


@dataclass(frozen=True)
class Journey:
    locale: str  # the browser's
    lang: str  # the app's (?lang=)
    name: str  # for screenshot file names
    applicant: dict[str, str]
    latin: str  # how a caseworker types the name when the man phones in
    member: str  # a daughter, in the family section
    corrected_father: str
    vouch: str
    reason: str
    task: str


DARI = Journey(
    "fa-AF", "fa_AF", "dari",
    {"full_name": "محمد نبی", "father_name": "عبدالله", "tazkira_number": "۱۴۰۰-۰۱۰۱-۲۳۴۵۶",
     "date_of_birth": "۱۳۶۵", "phone": "۰۷۰۰۱۲۳۴۵۶"},
    "Mohammad Nabi", "فاطمه", "عبدالله خان",
    "از ۲۰۱۶ تا ۲۰۱۹ در یک کندک خدمت کردیم.", "تذکره اصلی دیده شد؛ عکس و تاریخ‌ها یکی است.",
    "دوباره با معرفی‌کننده تماس بگیرید")
PASHTO = Journey(
    "ps-AF", "ps_AF", "pashto",
    {"full_name": "ګل احمد زدران", "father_name": "شېر محمد", "tazkira_number": "۱۴۰۰-۰۲۰۲-۵۴۳۲۱",
     "date_of_birth": "۱۳۶۵", "phone": "۰۷۰۰۹۸۷۶۵۴"},
    "Gul Ahmad Zadran", "ګلالۍ", "شېر محمد خان",
    "له ۲۰۱۶ تر ۲۰۱۹ پورې مو په یوه کندک کې دنده کړې.", "اصلي تذکره مې ولیدله؛ عکس او نېټې سره سمون لري.",
    "له معرفي کوونکي سره بیا اړیکه ونیسئ")


def _sign_in(browser, server: Server, j: Journey, username: str, *, phone: bool = False):
    """Sign in without naming a page: each role lands on its own home, right to left."""
    context = browser.new_context(**(PHONE if phone else DESKTOP), locale=j.locale)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{server.url}/login?lang={j.lang}")
    page.fill("#username", username)
    page.fill("#password", server.password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{server.url}{HOMES[username]}*")
    assert page.locator("html").get_attribute("dir") == "rtl"
    return context, page


def _shot(page, j: Journey, step: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"day-{step}-{j.name}.png"), full_page=full_page)


@pytest.mark.parametrize("j", [DARI, PASHTO], ids=["fa-AF", "ps-AF"])
def test_caseworker_day(browser, tmp_path_factory, j: Journey):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _ = translations(j.lang).gettext
    with served_organisation(tmp_path_factory, USERS, name=f"amanat-day-{j.name}", timeout=90.0) as server:
        _journey(browser, server, j, _)


def _journey(browser, server: Server, j: Journey, _) -> None:
    # --- intake: a referrer sends the form on a phone, with a daughter and a tazkira photo -------------------
    ctx, page = _sign_in(browser, server, j, "referrer", phone=True)
    page.goto(f"{server.url}/intake")
    for name, value in j.applicant.items():
        page.fill(f"#f-{name}", value)
    page.check("input[name=gender][value=male]")
    page.check("input[name=service_branch][value=ana_soc]")
    page.select_option("select[name=province]", "AF01")
    page.fill("[name='family-1-member_name']", j.member)
    page.select_option("[name='family-1-member_relationship']", "daughter")
    page.check("input[name=consent][value=yes]")
    page.set_input_files("#f-doc_tazkira", files=[{"name": "tazkira.png", "mimeType": "image/png", "buffer": png()}])
    _shot(page, j, "01-intake")
    page.click("button.af-submit")
    page.locator(".receipt-code, #form-errors").first.wait_for()
    assert page.locator(".receipt-code").count() == 1, page.locator("#form-errors").inner_text()
    receipt = page.locator(".receipt-code").inner_text().strip()
    assert j.applicant["full_name"] not in page.content()  # nothing typed is echoed back

    # --- on the same phone, the referrer vouches from the page of what they sent: status, never values ---------
    deadline = time.monotonic() + WORKER_WAIT_S
    while True:
        page.goto(f"{server.url}/referrals")
        row = page.locator(f"tr[data-receipt='{receipt}']")
        if row.locator("details.vouch").count():
            break
        if time.monotonic() > deadline:
            pytest.fail(f"no case within {WORKER_WAIT_S:.0f} s; server log:\n{server.log_tail()}")
        time.sleep(0.25)
    assert j.applicant["full_name"] not in page.content() and j.member not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]  # nothing sideways
    label = row.locator("td").nth(2).inner_text().strip()
    row.locator("details.vouch summary").click()
    row.locator("input[name=outcome][value=confirmed]").check()
    row.locator("textarea[name=reason]").fill(j.vouch)
    row.locator("form button").click()
    page.wait_for_url(f"{server.url}/referrals")
    assert page.locator(f"tr[data-receipt='{receipt}'] .vstate-pending").count() == 1  # waits for a verifier
    _shot(page, j, "02-referrer-home")
    ctx.close()

    # --- the caseworker: the queue, then a Latin spelling finds the record ---------------------------------------
    ctx, page = _sign_in(browser, server, j, "caseworker")
    assert open_first_case(page, server) == label
    page.goto(f"{server.url}/cases")
    assert j.applicant["full_name"] in page.locator("table.queue").inner_text()  # a display name (case:list_names)
    _shot(page, j, "03-queue")
    page.fill("#q", j.latin)
    page.click("form.search-form button")
    page.wait_for_url(re.compile(r"/cases/[0-9a-f-]{36}"))
    case_url = page.url.split("#")[0]
    assert label in page.locator(".case-head").inner_text()
    assert page.locator(".value[data-field=full_name]").count() == 0  # masked until worked on
    text = page.content().translate(PERSIAN_DIGITS)
    assert j.applicant["tazkira_number"].translate(PERSIAN_DIGITS) not in text

    # --- the family member, revealed on their own (a quick reveal: one field, audited) ------------------------
    page.click("#household button.reveal[data-member-field=member_name]")
    page.locator("#household .value[data-member-field=member_name]").wait_for()
    household = page.locator("#household").inner_text()
    assert j.member in household
    assert re.search(r"\bdaughter\b", household) is None  # the relationship by its label, not its code
    assert page.locator(".value[data-field=full_name]").count() == 0  # the applicant's values stay hidden
    _shot(page, j, "04-family")

    # --- work on the case with a reason: every value shown together, one audit event -----------------------------
    page.select_option("#work-reason", "applicant_contact")
    page.click("button[data-action=work]")
    page.locator(".value[data-field=full_name]").wait_for()
    assert page.locator(".value[data-field=full_name]").inner_text().strip() == j.applicant["full_name"]
    assert page.locator(".value[data-field=father_name]").inner_text().strip() == j.applicant["father_name"]
    _shot(page, j, "05-work")
    other = "ps_AF" if j.lang == "fa_AF" else "fa_AF"
    page.goto(f"{case_url}?lang={other}")  # a language switch on the worked page is a GET that keeps the values
    assert page.locator(".value[data-field=full_name]").count() == 1
    page.goto(f"{case_url}?lang={j.lang}")

    # --- a correction (the original kept, a reason given) --------------------------------------------------------
    record_id = page.locator("section.record").first.get_attribute("id").removeprefix("rec-")
    page.click(f"#rec-{record_id} details.correct summary")
    page.select_option(f"#cf-{record_id}", "father_name")
    page.fill(f"#cv-{record_id}", j.corrected_father)
    page.select_option(f"#cr-{record_id}", "applicant_request")
    page.click(f"#rec-{record_id} button[data-action=correct]")
    page.locator(".value[data-field=father_name]").wait_for()
    assert page.locator(".value[data-field=father_name]").inner_text().strip() == j.corrected_father
    _shot(page, j, "06-correction")
    ctx.close()

    # --- the verifier: lands on "awaiting verification", records a document check -------------------------------
    ctx, page = _sign_in(browser, server, j, "verifier")
    waiting = page.locator("table.verification-queue tbody tr")
    assert waiting.count() == 1 and label in waiting.inner_text()
    _shot(page, j, "07-verification-queue")
    waiting.locator("a").click()
    page.wait_for_url(re.compile(r"/cases/[^/?#]+"))
    section = page.locator("section#verification")
    assert section.get_attribute("data-state") == "pending"
    assert section.locator("ul.vouchers li[data-user=referrer]").count() == 1  # the intermediary's record of vouches
    assert section.locator("li[data-check=tazkira].check-pass").count() == 1  # the tazkira's format checks out
    page.select_option("#att-method", "document_check")
    page.check("input[name=outcome][value=confirmed]")
    page.check("input[name=documents]")
    page.fill("#att-reason", j.reason)
    page.click("form.attest-form button")
    page.wait_for_url(re.compile(r"#verification$"))
    section = page.locator("section#verification")
    assert section.get_attribute("data-state") == "verified"
    assert j.reason in section.inner_text() and j.vouch in section.inner_text()
    section.scroll_into_view_if_needed()
    section.screenshot(path=str(SCREENSHOTS / f"day-08-attestation-{j.name}.png"))
    ctx.close()

    # --- the caseworker: a follow-up task for the verifier, the case assigned, closing asked for ------------------
    ctx, page = _sign_in(browser, server, j, "caseworker")
    page.goto(case_url)
    page.fill("#task-title", j.task)
    page.select_option("#task-assignee", label="verifier")
    page.fill("#task-due", (date.today() + timedelta(days=7)).isoformat())
    page.click("form.task-form button")
    page.wait_for_url(re.compile(r"#tasks$"))
    tasks = page.locator("section#tasks")
    assert j.task in tasks.inner_text() and "verifier" in tasks.inner_text()
    tasks.scroll_into_view_if_needed()
    tasks.screenshot(path=str(SCREENSHOTS / f"day-09-task-{j.name}.png"))
    page.select_option("#assignee", "me")
    page.click("form[action$='/assign'] button")
    page.click(".actions form button")  # new → in review
    page.click("#workflow details:has(#close-reason) summary")
    page.select_option("#close-reason", "pathway_completed")
    page.click("button[data-action=request-close]")
    page.locator("[data-approval]").wait_for()
    assert page.locator("button[data-action=approve-close]").count() == 0  # never to the one who asked
    _shot(page, j, "10-close-requested")
    ctx.close()

    # --- the verifier sees the task under "my tasks" --------------------------------------------------------------
    ctx, page = _sign_in(browser, server, j, "verifier")
    page.goto(f"{server.url}/tasks")
    assert j.task in page.locator("table.my-tasks").inner_text()
    _shot(page, j, "11-my-tasks")
    ctx.close()

    # --- a second caseworker approves the closing ------------------------------------------------------------------
    ctx, page = _sign_in(browser, server, j, "second-cw")
    page.goto(case_url)
    page.click("button[data-action=approve-close]")
    page.locator(".case-head .status-closed").wait_for()
    history = page.locator("#history").inner_text()
    assert "caseworker" in history and "second-cw" in history
    _shot(page, j, "12-closed")
    ctx.close()

    # --- the auditor: lands on the log, finds all of it by the case number, in words, without a value ---------------
    ctx, page = _sign_in(browser, server, j, "auditor")
    page.fill("#case", label)
    page.click("form.audit-filters button")
    page.wait_for_url(re.compile(r"/audit\?"))
    rows = page.locator("tr.audit-row")
    actions = [rows.nth(i).get_attribute("data-action") for i in range(rows.count())]
    assert {"record:create", "case:open", "case:work", "record:reveal", "record:correct", "attestation:create",
            "task:create", "case:assign", "case:close_request", "case:close_approve"} <= set(actions), actions
    assert actions.count("attestation:create") == 2  # the vouch and the document check
    attestation = page.locator("tr.audit-row[data-action='attestation:create']").first.inner_text()
    assert _("Attestation recorded") in attestation and "user:verifier" in attestation
    approve = page.locator("tr.audit-row[data-action='case:close_approve']").first.inner_text()
    assert "user:second-cw" in approve
    content = page.content()
    for secret in (j.applicant["full_name"], j.member, j.corrected_father, j.reason, j.task, j.vouch):
        assert secret not in content
    _shot(page, j, "13-audit-by-case")
    ctx.close()
