"""Upload → preview → confirm (or discard) in the web UI, and who may do it."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from amanat.cases.models import Case
from amanat.core.audit import AuditEvent, verify_chain
from amanat.core.db import utcnow
from amanat.intake.models import Submission, SubmissionPart
from amanat.jobs.pipeline import drain
from amanat.records.models import Record
from tests.conftest import csrf, login
from tests.imports.data import BASIS, CHAT_NAME, MAPPING_CSV, chat_zip, table_csv, table_xlsx


def upload_chat(client, data: bytes | None = None, name: str = f"{CHAT_NAME}.zip"):
    return client.post("/imports/whatsapp", data={"csrf_token": csrf(client), "intermediary": "Commander T", **BASIS},
                       files={"export": (name, io.BytesIO(chat_zip() if data is None else data), "application/zip")})


def batch_of(page: str) -> str:
    match = re.search(r'action="/imports/([0-9a-f-]{36})/confirm"', page)
    assert match, page
    return match.group(1)


def rows(database, **where):
    with database.reading() as db:
        q = select(Submission)
        for key, value in where.items():
            q = q.where(getattr(Submission, key) == value)
        return db.scalars(q).all()


def actions(database) -> list[str]:
    with database.reading() as db:
        return [a for a, in db.execute(select(AuditEvent.action).order_by(AuditEvent.seq))]


def test_upload_preview_confirm_then_the_worker_files_cases(client, database, users):
    login(client, "referrer")
    page = client.get("/")
    assert 'href="/imports"' in page.text
    r = upload_chat(client)
    assert r.status_code == 200, r.text
    # Field names (as the form labels them) and counts; never a value from the chat.
    assert "Full name" in r.text and "Rank" in r.text and "no name field" in r.text
    assert "زرمینه" not in r.text and "Testa" not in r.text and "دگروال" not in r.text
    batch = batch_of(r.text)
    held = rows(database, batch_id=batch)
    assert len(held) == 2 and {s.status for s in held} == {"held"}
    assert {s.submitted_by for s in held} == {users["referrer"].id}
    assert all("زرمینه".encode() not in s.sealed for s in held)
    assert drain(database) == []                      # the worker leaves held submissions alone
    assert "import:preview" in actions(database)
    again = client.get(f"/imports/{batch}")
    assert again.status_code == 200 and f"/imports/{batch}/confirm" in again.text
    listed = client.get("/imports")
    assert f'href="/imports/{batch}"' in listed.text
    done = client.post(f"/imports/{batch}/confirm", data={"csrf_token": csrf(client)})
    assert done.status_code == 200 and "<strong>2</strong>" in done.text
    assert {s.status for s in rows(database, batch_id=batch)} == {"sealed"}
    assert all(step.ok for step in drain(database))
    with database.reading() as db:
        assert db.scalar(select(func.count()).select_from(Case)) == 2
        rec = db.scalars(select(Record).where(Record.channel == "whatsapp")).first()
        assert rec.provenance["provenance"]["import"]["by"] == users["referrer"].id
        assert verify_chain(db).ok
    assert actions(database)[-1] != "import:confirm" and "import:confirm" in actions(database)
    # Confirmed once: there is nothing left to confirm.
    assert client.post(f"/imports/{batch}/confirm", data={"csrf_token": csrf(client)}).status_code == 404


def test_discard_deletes_the_held_batch(client, database):
    login(client, "caseworker")
    batch = batch_of(upload_chat(client).text)
    assert rows(database, batch_id=batch)
    r = client.post(f"/imports/{batch}/discard", data={"csrf_token": csrf(client)})
    assert r.status_code == 200 and "<strong>2</strong>" in r.text
    assert rows(database) == []
    with database.reading() as db:
        assert db.scalar(select(func.count()).select_from(SubmissionPart)) == 0
    assert actions(database)[-1] == "import:discard"


def test_another_user_cannot_confirm_or_discard_your_batch(app, database):
    from fastapi.testclient import TestClient

    with TestClient(app) as referrer, TestClient(app) as caseworker:
        login(referrer, "referrer")
        login(caseworker, "caseworker")
        batch = batch_of(upload_chat(referrer).text)
        for verb in ("confirm", "discard"):
            r = caseworker.post(f"/imports/{batch}/{verb}", data={"csrf_token": csrf(caseworker)})
            assert r.status_code in (403, 404), r.status_code
        assert caseworker.get(f"/imports/{batch}").status_code == 404
        assert {s.status for s in rows(database, batch_id=batch)} == {"held"}


@pytest.mark.parametrize(("role", "status"), [("referrer", 200), ("caseworker", 200), ("auditor", 403),
                                              ("verifier", 403)])
def test_who_may_import(client, role, status):
    login(client, role)
    assert client.get("/imports").status_code == status
    assert upload_chat(client).status_code == status


def test_table_with_mapping_file_and_bad_rows(client, database):
    login(client, "referrer")
    files = {"table": ("kobo.xlsx", io.BytesIO(table_xlsx()), "application/octet-stream"),
             "mapping": ("map.csv", io.BytesIO(MAPPING_CSV.encode()), "text/csv")}
    r = client.post("/imports/table", data={"csrf_token": csrf(client), **BASIS}, files=files)
    assert r.status_code == 200, r.text
    assert "Colonne X" in r.text and "Testa" not in r.text
    batch = batch_of(r.text)
    assert len(rows(database, batch_id=batch, status="held")) == 2
    client.post(f"/imports/{batch}/discard", data={"csrf_token": csrf(client)})
    bad = table_csv([["1", "", "Testa One", "", "", "", ""], ["2", "", "", "", "", "", "", "stray"],
                     ["3", "", "", "", "", "", "", "", "stray"]])
    r = client.post("/imports/table", data={"csrf_token": csrf(client), **BASIS},
                    files={"table": ("list.csv", io.BytesIO(bad), "text/csv")})
    assert r.status_code == 422
    assert "Nothing was imported" in r.text and "stray" not in r.text
    assert re.search(r"<td dir=\"ltr\">3</td><td dir=\"ltr\">H</td>", r.text)
    assert re.search(r"<td dir=\"ltr\">4</td><td dir=\"ltr\">I</td>", r.text)
    assert rows(database) == []


def test_truncated_zip_is_refused_and_nothing_stored(client, database):
    login(client, "referrer")
    r = upload_chat(client, chat_zip()[:-300])
    assert r.status_code == 422 and "truncated or damaged" in r.text
    assert rows(database) == []


def test_held_batches_expire(client, database):
    login(client, "referrer")
    old = batch_of(upload_chat(client).text)
    with database.transaction() as db:
        db.execute(update(Submission).where(Submission.batch_id == old)
                   .values(received_at=utcnow() - timedelta(hours=25)))
    expired = client.post(f"/imports/{old}/confirm", data={"csrf_token": csrf(client)})
    assert expired.status_code == 409
    new = batch_of(upload_chat(client).text)         # the next upload deletes the stale batch
    assert rows(database, batch_id=old) == [] and len(rows(database, batch_id=new)) == 2
    assert "import:expire" in actions(database)


def test_pages_read_in_dari(client):
    login(client, "referrer")
    page = client.get("/imports?lang=fa_AF")
    assert page.status_code == 200 and 'dir="rtl"' in page.text and "واردکردن فایل‌ها" in page.text
    r = upload_chat(client)
    assert "واردکردن را بررسی کنید" in r.text and "۲۴" not in r.text and "24 ساعت" in r.text
    assert "نام مکمل" in r.text                       # the form's own Dari label for full_name


def test_an_empty_mapping_input_is_no_mapping(client, database):
    login(client, "referrer")
    files = {"table": ("kobo.csv", io.BytesIO(table_csv()), "text/csv"),
             "mapping": ("", io.BytesIO(b""), "application/octet-stream")}   # what a browser sends when none is picked
    r = client.post("/imports/table", data={"csrf_token": csrf(client), **BASIS}, files=files)
    assert r.status_code == 200, r.text
    assert "Colonne X" in r.text and "not matched" in r.text
