"""The intake form in Pashto on a phone, in a real browser: the app's own font draws every Pashto letter
(ۍ was an empty box), a birth date in 2035 and a service that ends before it began are refused next to their
fields in Pashto with every answer kept, switching to Dari keeps the answers and says the same in Dari, an
oversized photo is taken off the form before sending, and the corrected form gets its receipt.

Screenshots (docs/screenshots/ with AMANAT_UPDATE_SCREENSHOTS=1, else a temp dir): the Pashto form with its
errors, the same answers in Dari, the Pashto receipt. Synthetic data only.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.test_intake_flow import PHONE, SCREENSHOTS, TIMEOUT_MS, png

pytestmark = pytest.mark.browser

# A synthetic applicant, typed in Pashto: ګ ړ ږ ښ ټ ډ ڼ ۍ in the answers as in the form's own words.
ANSWERS = {
    "full_name": "ګل احمد زړګی",
    "father_name": "ښاغلی ډوډۍ",
    "grandfather_name": "ټوپک ږغ",
    "family_name": "ڼاګی",
    "rank": "ډلګی مشر",
    "unit": "دویم کنډک",
}
MAX_UPLOAD = 10 * 1024 * 1024  # Settings.max_upload_bytes' default, which the test server keeps


def error_of(page, field: str) -> str:  # type: ignore[no-untyped-def]
    return page.locator(f"#f-{field}-error").inner_text().strip()


def test_pashto_intake_keeps_answers_through_errors_language_and_a_large_photo(browser, server) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone = browser.new_context(**PHONE, locale="ps-AF")
    page = phone.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{server.url}/intake?lang=ps_AF")
    assert page.locator("html").get_attribute("lang") == "ps-AF"

    # The app's own font is loaded and draws ۍ (U+06CD); no phone font is needed.
    page.evaluate("document.fonts.ready")
    loaded = page.evaluate("""() => [...document.fonts].filter(f => f.family.replace(/"/g, '') === 'Vazirmatn'
                                                               && f.status === 'loaded').length""")
    assert loaded >= 1
    assert page.evaluate("document.fonts.check('16px Vazirmatn', 'ۍ ټ ډ ړ ږ ښ ګ ڼ')")
    assert "ۍ" in page.locator("body").inner_text()  # the form's own Pashto words use it

    for name, value in ANSWERS.items():
        page.fill(f"#f-{name}", value)
    page.fill("#f-date_of_birth", "2035")
    page.fill("#f-service_start", "۱۳۹۵")
    page.fill("#f-service_end", "۱۳۹۰")
    page.fill("#f-phone", "+93 799 123 456")
    page.check("input[name=gender][value=male]")
    page.check("input[name=service_branch][value=ana]")
    page.select_option("select[name=province]", "AF03")
    page.check("input[name=consent][value=yes]")
    page.click("button.af-submit")
    page.locator("#form-errors").wait_for()
    assert error_of(page, "date_of_birth") == "دا نېټه په راتلونکي کې ده."
    assert error_of(page, "service_end") == "د خدمت پای له پیل څخه مخکې دی."
    for name, value in ANSWERS.items():
        assert page.input_value(f"#f-{name}") == value
    page.screenshot(path=str(SCREENSHOTS / "intake-errors-pashto.png"))  # the top: the errors, named

    # Switch to Dari: the same answers, the same errors, in Dari; nothing was stored.
    page.click("button.lang-switch[lang=fa-AF]")
    page.wait_for_function("document.documentElement.lang === 'fa-AF'")
    assert error_of(page, "date_of_birth") == "این تاریخ در آینده است."
    for name, value in ANSWERS.items():
        assert page.input_value(f"#f-{name}") == value
    assert page.input_value("#f-service_start") == "۱۳۹۵"
    page.screenshot(path=str(SCREENSHOTS / "intake-errors-dari-after-switch.png"))

    # Back to Pashto, fix the dates; a photo over the limit is taken off the form before it is sent.
    page.click("button.lang-switch[lang=ps-AF]")
    page.wait_for_function("document.documentElement.lang === 'ps-AF'")
    page.fill("#f-date_of_birth", "۱۳۶۵/۴/۱۲")
    page.fill("#f-service_end", "۱۳۹۹")
    page.set_input_files("#f-doc_tazkira", files=[{"name": "big.png", "mimeType": "image/png",
                                                   "buffer": png() + b"\0" * MAX_UPLOAD}])
    warning = page.locator("#af-file-too-large")
    warning.wait_for(state="visible")
    assert "ساتل شوي" in warning.inner_text()  # "your answers are kept", in Pashto
    assert page.evaluate("document.querySelector('#f-doc_tazkira').files.length") == 0
    page.set_input_files("#f-doc_tazkira", files=[{"name": "tazkira.png", "mimeType": "image/png",
                                                   "buffer": png()}])
    assert warning.is_hidden()

    page.click("button.af-submit")
    code = page.locator(".receipt-code")
    code.wait_for()
    assert re.fullmatch(r"AM-[A-Z0-9-]+", code.inner_text().strip())
    assert page.locator("html").get_attribute("lang") == "ps-AF"
    page.screenshot(path=str(SCREENSHOTS / "intake-receipt-pashto.png"), full_page=True)
    phone.close()
