"""The intake flow in a real browser against a real server: an applicant fills the Dari form on a phone,
a caseworker finds the case, sees the tazkira masked and reveals it, and an auditor sees the reveal.

Takes screenshots of the Dari form (phone, full page) and of the case page (desktop, after the reveal): into
docs/screenshots/ when AMANAT_UPDATE_SCREENSHOTS=1 (the README shows them), otherwise into a temp dir so
that a test run leaves the checkout clean. Synthetic data only.
"""

from __future__ import annotations

import json
import os
import re
import struct
import tempfile
import time
import urllib.request
import zlib
from pathlib import Path

import pytest

from tests.browser.conftest import HEALTH_TOKEN

pytestmark = pytest.mark.browser

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SCREENSHOTS = (DOCS_SCREENSHOTS if os.environ.get("AMANAT_UPDATE_SCREENSHOTS")
               else Path(tempfile.gettempdir()) / "amanat-screenshots")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1}
TIMEOUT_MS = 15_000
WORKER_WAIT_S = 20.0

# A synthetic applicant, typed in Dari; the tazkira number in Persian digits, as people write it.
APPLICANT = {
    "full_name": "احمد ولی نوری",
    "father_name": "غلام سخی",
    "grandfather_name": "محمد اکبر",
    "family_name": "نوری",
    "date_of_birth": "۱۳۶۸",
    "rank": "بریدمل",
    "unit": "کندک دوم کوماندو",
}
TAZKIRA = "۱۴۰۰-۰۱۰۱-۱۲۳۴۵"
TAZKIRA_ASCII = "1400-0101-12345"
PERSIAN_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def png(width: int = 96, height: int = 64) -> bytes:
    """A small valid RGB PNG (a gradient), standing in for a photo of a tazkira."""
    rows = b"".join(b"\x00" + bytes(v for x in range(width) for v in (x * 255 // width, y * 255 // height, 140))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def open_first_case(page, server) -> str:
    """Wait (up to WORKER_WAIT_S) for the worker to open a case, open the queue's first one, and give its
    label (C-000001)."""
    deadline = time.monotonic() + WORKER_WAIT_S
    while True:
        page.goto(f"{server.url}/cases")
        links = page.locator("table.queue tbody tr td:first-child a")
        if links.count():
            break
        if time.monotonic() > deadline:
            pytest.fail(f"no case within {WORKER_WAIT_S:.0f} s; server log:\n{server.log_tail()}")
        time.sleep(0.25)
    label = links.first.inner_text().strip()
    links.first.click()
    page.wait_for_url(re.compile(r"/cases/[^/?#]+"))
    return label


def sign_in(context, server, username: str, next_path: str):
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{server.url}/login?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", server.password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{server.url}{next_path}*")
    return page


def submissions(server) -> dict:
    details = urllib.request.Request(f"{server.url}/healthz/details",  # local test server only
                                     headers={"Authorization": f"Bearer {HEALTH_TOKEN}"})
    with urllib.request.urlopen(details, timeout=5) as response:  # a local test server
        return json.load(response).get("submissions", {})


def open_new_case(page, server, receipt: str) -> None:
    """Poll the queue until the worker has stored the submission as a case, then open it."""
    deadline = time.monotonic() + WORKER_WAIT_S
    while True:
        page.goto(f"{server.url}/cases")
        links = page.locator("table.queue tbody tr td:first-child a")
        if links.count():
            break
        if time.monotonic() > deadline:
            pytest.fail(f"no case appeared within {WORKER_WAIT_S:.0f} s; submissions by status: "
                        f"{submissions(server)}; server log:\n{server.log_tail()}")
        time.sleep(0.25)
    assert links.count() == 1  # a fresh organisation: this is the only case
    links.first.click()
    page.wait_for_url(re.compile(r"/cases/[^/?]+$"))
    assert page.locator("section.record h2").first.inner_text().endswith(receipt)


def test_dari_intake_to_reveal_to_audit(browser, server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # --- the applicant, on a phone, in Dari ---------------------------------------------------------
    phone = browser.new_context(**PHONE, locale="fa-AF")
    page = phone.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{server.url}/intake?lang=fa_AF")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang", timeout=TIMEOUT_MS).startswith("fa")
    assert page.locator("form.af-form").evaluate("f => getComputedStyle(f).direction") == "rtl"
    # Nothing spills sideways on a 390 px phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]

    for name, value in APPLICANT.items():
        page.fill(f"#f-{name}", value)
    page.fill("#f-tazkira_number", TAZKIRA)
    page.check("input[name=gender][value=male]")
    page.check("input[name=service_branch][value=ana_soc]")
    page.select_option("select[name=province]", "AF01")
    page.check("input[name=consent][value=yes]")
    page.set_input_files("#f-doc_tazkira", files=[{"name": "tazkira.png", "mimeType": "image/png",
                                                   "buffer": png()}])
    page.screenshot(path=str(SCREENSHOTS / "intake-form-dari.png"), full_page=True)

    page.click("button.af-submit")
    code = page.locator(".receipt-code")
    code.wait_for()
    receipt = code.inner_text().strip()
    assert re.fullmatch(r"AM-[A-Z0-9-]+", receipt), receipt
    assert page.locator("html").get_attribute("dir") == "rtl"
    body = page.content()
    assert APPLICANT["full_name"] not in body and TAZKIRA not in body  # nothing typed is echoed back
    phone.close()

    # --- the caseworker, at a desk: the case, masked, then one field revealed ------------------------
    desk = browser.new_context(**DESKTOP)
    page = sign_in(desk, server, "caseworker", "/cases")
    open_new_case(page, server, receipt)
    text = page.content().translate(PERSIAN_DIGITS)
    assert TAZKIRA_ASCII not in text and APPLICANT["full_name"] not in text
    row = page.locator(".field-row", has=page.locator("button.reveal[data-field=tazkira_number]"))
    assert row.locator(".masked").count() == 1
    assert page.locator(".value[data-field=tazkira_number]").count() == 0
    assert page.locator("ul.docs li").count() == 1  # the photo arrived as a document

    row.locator("button.reveal").click()
    shown = page.locator(".value[data-field=tazkira_number]")
    shown.wait_for()
    assert shown.inner_text().strip().translate(PERSIAN_DIGITS) == TAZKIRA_ASCII
    assert page.locator("button.reveal[data-field=tazkira_number]").count() == 0
    assert page.locator("button.reveal[data-field=full_name]").count() == 1  # only the one field was revealed
    page.screenshot(path=str(SCREENSHOTS / "case-page.png"), full_page=True)
    desk.close()

    # --- the auditor sees that the reveal happened, and no value --------------------------------------
    audit = browser.new_context(**DESKTOP)
    page = sign_in(audit, server, "auditor", "/audit")
    page.goto(f"{server.url}/audit?action=record:reveal")
    events = page.locator("tr.audit-row[data-action='record:reveal']")
    assert events.count() == 1
    event = events.first.inner_text()
    assert "user:caseworker" in event and "Electronic tazkira number" in event  # the field by its question
    assert TAZKIRA_ASCII not in page.content().translate(PERSIAN_DIGITS)
    audit.close()
