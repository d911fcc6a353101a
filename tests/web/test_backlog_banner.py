"""The caseworker's queue says how many submissions are still being turned into records, and about how
long that will take, in the reader's language; nothing when the queue is empty."""

from __future__ import annotations

from amanat.core.audit import Actor
from amanat.intake.parsed import ParsedSubmission
from amanat.intake.service import seal_submission
from amanat.jobs.batch import process_batch
from tests.conftest import login

FIELDS = {"full_name": "فرید احمد", "father_name": "محمد نبی", "date_of_birth": "1990-03-21", "province": "AF01",
          "gender": "male", "service_branch": "ana", "consent": "yes"}


def _seal(database, n):  # type: ignore[no-untyped-def]
    with database.transaction() as db:
        for i in range(n):
            seal_submission(db, database.keys, ParsedSubmission("web", {**FIELDS, "phone": f"0700{i:06d}"}),
                            actor=Actor("test"), form_id="amanat_service_record", form_version="1", language="en")


def test_queue_shows_the_backlog_until_the_worker_drains_it(client, database):
    _seal(database, 3)
    login(client, "caseworker")
    page = client.get("/cases")
    assert page.status_code == 200
    assert "3 submissions still being processed" in page.text
    assert "time left not known yet" in page.text  # nothing processed yet: no rate to go by
    dari = client.get("/cases?lang=fa_AF").text
    assert "3 فورم ارسال‌شده هنوز در حال پردازش است" in dari and "زمان باقی‌مانده هنوز معلوم نیست" in dari
    pashto = client.get("/cases?lang=ps_AF").text
    assert "3 سپارل شوې فورمې لا پروسس کېږي" in pashto and "submissions still" not in pashto
    while process_batch(database) is not None:
        pass
    assert 'id="backlog"' not in client.get("/cases").text
