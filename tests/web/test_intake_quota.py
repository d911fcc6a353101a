"""Anonymous intake and OpenRosa are limited per client address, imports per account: 429 with Retry-After and
a message in the reader's language; signed-in staff typing forms are not counted."""

from __future__ import annotations

import io

import httpx
import pytest

from amanat.errors import TooManyRequests
from amanat.intake.quota import Quota
from tests.conftest import csrf, login
from tests.imports.test_web import upload_chat
from tests.openrosa.conftest import add_device, new_instance_id, post, submission_xml
from tests.web.test_intake_flow import form, submit


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.model_copy(update={"intake_posts_per_minute": 3, "intake_bytes_per_day": 64 * 1024,
                                       "imports_per_hour": 1})


def test_anonymous_intake_is_limited_per_address_with_retry_after(client, database):
    for _ in range(3):
        assert submit(client, form()).status_code == 201
    r = submit(client, form(), lang="fa_AF")
    assert r.status_code == 429
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert "از این نشانی فرم‌های زیادی فرستاده شده است" in r.text  # in Dari


def test_anonymous_intake_has_a_daily_byte_quota(client, database):
    photo = ("tazkira.jpg", io.BytesIO(b"\xff\xd8\xff\xe0" + bytes(70 * 1024)), "image/jpeg")
    r = submit(client, form(), files={"doc_tazkira": photo}, lang="en")
    assert r.status_code == 429 and "one day allows" in r.text
    assert int(r.headers["retry-after"]) > 60


def test_signed_in_staff_are_not_counted(client, database):
    login(client, "caseworker")
    for _ in range(5):
        assert submit(client, form()).status_code == 201


def test_openrosa_is_limited_per_address(client, database, users):
    auth = httpx.DigestAuth(*add_device(database, "referrer"))
    codes = [post(client, auth, submission_xml(new_instance_id())).status_code for _ in range(4)]
    assert codes[:3] == [201, 201, 201]
    refused = post(client, auth, submission_xml(new_instance_id()))
    assert refused.status_code == 429 and refused.headers["retry-after"]
    assert b"OpenRosaResponse" in refused.content


def test_imports_are_limited_per_account(client, database):
    login(client, "referrer")
    assert upload_chat(client).status_code == 200
    again = upload_chat(client)
    assert again.status_code == 429 and "imported as many files" in again.text
    assert int(again.headers["retry-after"]) > 60
    login(client, "caseworker")  # another account has its own allowance
    assert upload_chat(client).status_code == 200
    assert csrf(client)


def test_the_quota_forgets_old_posts_and_bounds_its_memory():
    now = [1000.0]
    quota = Quota(posts=2, window_seconds=60, bytes_per_day=10_000, burst_message="b", daily_message="d",
                  max_keys=3, clock=lambda: now[0])
    quota.admit("a", 10)
    quota.admit("a", 10)
    with pytest.raises(TooManyRequests) as caught:
        quota.admit("a", 10)
    assert caught.value.retry_after == 60
    now[0] += 61
    quota.admit("a", 10)  # the window moved on
    for key in ("b", "c", "d", "e"):
        quota.admit(key, 1)
    assert len(quota._usage) == 3  # a spray of addresses does not grow it
    with pytest.raises(TooManyRequests, match="d"):
        quota.admit("b", 20_000)
