"""The intake form in Dari and Pashto: impossible dates refused next to their field in the reader's language,
an oversized photo refused without losing what was typed, switching language keeping the answers (from the
post itself: nothing is stored), and error pages after a POST in the chosen language, not the browser's."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from amanat.intake.models import Submission
from tests.conftest import csrf, login

JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(range(256)) * 40
NAME = "ګل احمد زړګی"  # Pashto letters ګ and ړ


def form(**overrides: str) -> dict[str, str]:
    data = {"full_name": NAME, "father_name": "عبدالله", "service_branch": "ana", "consent": "yes",
            "gender": "male", "date_of_birth": "۱۳۶۲/۵/۱۲", "province": "AF01", "phone": "0799123456",
            "service_start": "1385", "service_end": "1399"}
    data.update(overrides)
    return data


def post(client, data, *, lang="ps_AF", files=None, **extra):  # type: ignore[no-untyped-def]
    return client.post(f"/intake?lang={lang}", data={**data, "csrf_token": csrf(client), **extra},
                       files=files or {})


def field_error(html: str, key: str) -> str | None:
    m = re.search(rf'<p class="af-error" id="f-{re.escape(key)}-error">([^<]*)</p>', html)
    return m.group(1) if m else None


def stored(database) -> int:  # type: ignore[no-untyped-def]
    with database.reading() as db:
        return int(db.scalar(select(func.count()).select_from(Submission)) or 0)


def test_impossible_dates_are_refused_next_to_their_field_in_pashto(client, database) -> None:
    r = post(client, form(date_of_birth="2035", service_start="1395", service_end="1390"))
    assert r.status_code == 422
    assert field_error(r.text, "date_of_birth") == "دا نېټه په راتلونکي کې ده."
    assert field_error(r.text, "service_end") == "د خدمت پای له پیل څخه مخکې دی."
    assert f'value="{NAME}"' in r.text  # what was typed is still there
    for raw in ("abc", "1365/13/40"):
        r = post(client, form(date_of_birth=raw), lang="fa_AF")
        assert r.status_code == 422
        assert field_error(r.text, "date_of_birth").startswith("این تاریخ وجود ندارد.")
    assert stored(database) == 0
    assert post(client, form()).status_code == 201


def test_an_oversized_photo_is_refused_and_the_answers_are_kept(client, database, app) -> None:
    big = JPEG + b"\x00" * (app.state.settings.max_upload_bytes + 1)
    r = post(client, form(), lang="fa_AF", files={"doc_tazkira": ("big.jpg", io.BytesIO(big), "image/jpeg")})
    assert r.status_code == 413
    assert field_error(r.text, "doc_tazkira") == "این فایل بیش از حد بزرگ است."
    assert f'value="{NAME}"' in r.text and 'value="AF01" selected' in r.text
    assert stored(database) == 0
    # The page tells the browser the limit, so that a file over it is taken off before sending (static/form.js).
    assert f'data-max-file-bytes="{app.state.settings.max_upload_bytes}"' in r.text
    assert '<script src="/static/form.js" defer></script>' in r.text


def test_switching_language_keeps_the_answers_and_stores_nothing(client, database) -> None:
    r = post(client, form(), lang="fa_AF", _relang="1")
    assert r.status_code == 200
    assert 'lang="fa-AF" dir="rtl"' in r.text and f'value="{NAME}"' in r.text
    assert "af-error" not in r.text.replace("af-errors", "").replace('class="af-error af-file', "")
    # After an error, the errors come back too, in the new language.
    r = post(client, form(date_of_birth="2035"), lang="ps_AF", _relang="1", _had_errors="1")
    assert 'lang="ps-AF"' in r.text and field_error(r.text, "date_of_birth") == "دا نېټه په راتلونکي کې ده."
    assert f'value="{NAME}"' in r.text
    assert stored(database) == 0
    assert client.cookies.get("amanat_lang") == "ps_AF"
    # The language buttons post the form; a hidden Send comes first, so Enter still sends it.
    page = client.get("/intake").text
    buttons = re.findall(r"<button[^>]*>", page)
    assert 'form="af-form"' in buttons[0] and "_relang" not in buttons[0]
    assert sum('name="_relang"' in b and 'formaction="/intake?lang=' in b for b in buttons) == 3


def test_error_pages_after_a_post_follow_the_chosen_language(client) -> None:
    client.cookies.set("amanat_lang", "ps_AF")
    r = client.post("/intake", data=form(), headers={"accept-language": "en"})  # no CSRF token
    assert r.status_code == 403
    assert 'lang="ps-AF"' in r.text
    assert "Reload the page" not in r.text


def test_a_malformed_post_is_answered_in_the_chosen_language(client) -> None:
    login(client, "caseworker")
    client.cookies.set("amanat_lang", "ps_AF")
    r = client.post("/review/no-such-pair/decide", data={"csrf_token": csrf(client), "decision": "maybe"},
                    headers={"accept-language": "en"})
    assert r.status_code == 422
    assert "ځینې خانې تشې یا ناسمې دي:" in r.text and '<code dir="ltr">decision</code>' in r.text
    assert "Some fields" not in r.text
