"""The spine end to end in-process: form → sealed → worker → record, person, case → reveal → audit."""

import io

from sqlalchemy import func, select

from amanat.cases.models import Case
from amanat.core.audit import AuditEvent, verify_chain
from amanat.intake.models import Submission
from amanat.jobs.pipeline import drain
from amanat.records.models import Document, Record
from tests.conftest import csrf, login

JPEG = b"\xff\xd8\xff\xe0" + b"\x00\x10JFIF" + bytes(range(256)) * 40


def form(**overrides):
    data = {"full_name": "محمد نبی", "full_name_latin": "Mohammad Nabi", "father_name": "عبدالله",
            "service_branch": "ana", "consent": "yes", "tazkira_number": "۱۳۹۹-۰۱۲۳-۴۵۶۷۸", "gender": "male",
            "date_of_birth": "۱۳۶۲/۵/۱۲", "province": "AF01", "phone": "0799123456"}
    data.update(overrides)
    return data


def submit(client, data, files=None, lang="fa_AF"):
    return client.post(f"/intake?lang={lang}", data={**data, "csrf_token": csrf(client)}, files=files or {})


def test_submission_is_sealed_then_stored_as_a_case(client, database):
    r = submit(client, form(), files={"doc_tazkira": ("tazkira.jpg", io.BytesIO(JPEG), "image/jpeg")})
    assert r.status_code == 201, r.text
    assert "AM-" in r.text
    assert "محمد" not in r.text and "Mohammad" not in r.text  # nothing typed is echoed back
    with database.reading() as db:
        sub = db.scalars(select(Submission)).one()
        assert sub.status == "sealed" and sub.sealed and b"Mohammad" not in sub.sealed
    results = drain(database)
    assert [r.ok for r in results] == [True]
    with database.reading() as db:
        sub = db.scalars(select(Submission)).one()
        assert sub.status == "stored" and sub.sealed is None and sub.record_id
        rec = db.get(Record, sub.record_id)
        assert rec.data["full_name"] == "محمد نبی"
        assert rec.province_pcode == "AF01"
        doc = db.scalars(select(Document)).one()
        assert doc.field == "doc_tazkira" and doc.content == JPEG and doc.content_type == "image/jpeg"
        assert db.scalar(select(func.count()).select_from(Case)) == 1
        assert verify_chain(db).ok


def test_same_tazkira_joins_the_known_person(client, database):
    assert submit(client, form()).status_code == 201
    # The same man through another intermediary: Latin script, ASCII digits without dashes.
    assert submit(client, form(full_name="Muhammad Nabee", tazkira_number="13990123 45678".replace(" ", "")),
                  lang="en").status_code == 201
    assert submit(client, form(full_name="احمد شاه", full_name_latin="Ahmad Shah", father_name="غلام حیدر",
                               date_of_birth="1370", phone="0700111222",
                               tazkira_number="1400-9999-11111")).status_code == 201
    assert all(r.ok for r in drain(database))
    with database.reading() as db:
        recs = db.scalars(select(Record).order_by(Record.created_at)).all()
        assert len({r.person_id for r in recs}) == 2
        assert recs[0].person_id == recs[1].person_id
        assert recs[1].link_reason == "tazkira_exact"
        assert db.scalar(select(func.count()).select_from(Case)) == 2


def test_caseworker_reveal_is_audited(client, database):
    assert submit(client, form()).status_code == 201
    drain(database)
    login(client, "caseworker")
    with database.reading() as db:
        case_id = db.scalars(select(Case.id)).one()
        rec_id = db.scalars(select(Record.id)).one()
    page = client.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert "۱۳۹۹" not in page.text and "1399-0123" not in page.text  # masked
    r = client.post(f"/cases/{case_id}/reveal", data={"record_id": rec_id, "field": "tazkira_number",
                                                      "csrf_token": csrf(client)})
    assert r.status_code == 200
    assert "۱۳۹۹-۰۱۲۳-۴۵۶۷۸" in r.text
    assert r.headers["cache-control"] == "no-store"
    with database.reading() as db:
        ev = db.scalars(select(AuditEvent).where(AuditEvent.action == "record:reveal")).one()
        assert ev.subject_id == rec_id and '"field":"tazkira_number"' in ev.details
        assert "۱۳۹۹" not in ev.details


def test_invalid_form_names_fields_and_stores_nothing(client, database):
    r = submit(client, form(consent="", full_name=""))
    assert r.status_code == 422
    with database.reading() as db:
        assert db.scalar(select(func.count()).select_from(Submission)) == 0


def test_wrong_file_type_is_refused(client, database):
    r = submit(client, form(), files={"doc_tazkira": ("x.exe", io.BytesIO(b"MZ\x90\x00" * 100), "image/jpeg")})
    assert r.status_code == 422
    with database.reading() as db:
        assert db.scalar(select(func.count()).select_from(Submission)) == 0


def test_missing_csrf_is_refused(client, database):
    r = client.post("/intake", data=form())
    assert r.status_code == 403
    with database.reading() as db:
        assert db.scalar(select(func.count()).select_from(Submission)) == 0


def test_tampered_seal_fails_cleanly(client, database):
    assert submit(client, form()).status_code == 201
    with database.transaction() as db:
        sub = db.scalars(select(Submission)).one()
        sub.sealed = sub.sealed[:-1] + bytes([sub.sealed[-1] ^ 1])
    [result] = drain(database)
    assert not result.ok and result.error_code == "seal_tampered"
    with database.reading() as db:
        assert db.scalar(select(func.count()).select_from(Record)) == 0
        assert db.scalars(select(Submission)).one().status == "failed"


def test_oversized_upload_is_refused_and_nothing_stored(client, database, app):
    limit = app.state.settings.max_upload_bytes
    big = JPEG + b"\x00" * (limit + 1)
    r = submit(client, form(), files={"doc_tazkira": ("big.jpg", io.BytesIO(big), "image/jpeg")})
    assert r.status_code == 413
    assert 'id="f-doc_tazkira-error"' in r.text and 'value="Mohammad Nabi"' in r.text  # the answers are kept
    with database.reading() as db:
        assert db.scalar(select(func.count()).select_from(Submission)) == 0


def test_request_over_the_cap_is_refused_before_parsing(client, database, app):
    cap = app.state.settings.max_request_bytes
    r = client.post("/intake", content=b"x" * (cap + 10), headers={"content-type": "application/octet-stream"})
    assert r.status_code == 413


def test_tazkira_and_passport_both_match(client, database):
    assert submit(client, form(passport_number="P01234567")).status_code == 201
    assert submit(client, form(full_name="Muhammad Nabee", passport_number="p0123 4567")).status_code == 201
    assert all(r.ok for r in drain(database))
    with database.reading() as db:
        recs = db.scalars(select(Record).order_by(Record.created_at)).all()
        assert recs[0].person_id == recs[1].person_id
        assert recs[1].link_reason == "tazkira_exact+passport_exact"


def test_unexpected_error_marks_the_submission_failed_not_stuck(client, database, monkeypatch):
    import amanat.jobs.pipeline as pipeline

    assert submit(client, form()).status_code == 201
    assert submit(client, form(tazkira_number="1400-1111-22222")).status_code == 201

    def boom(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(pipeline, "store_submission", boom)
    results = drain(database)
    assert [r.error_code for r in results] == ["internal_error", "internal_error"]  # the queue moved on
    with database.reading() as db:
        assert {s.status for s in db.scalars(select(Submission))} == {"failed"}
        assert db.scalar(select(func.count()).select_from(Record)) == 0


def test_signed_in_referrer_can_submit(client, database, users):
    login(client, "referrer")
    r = submit(client, form())
    assert r.status_code == 201, r.text
    with database.reading() as db:
        assert db.scalars(select(Submission)).one().submitted_by == users["referrer"].id
