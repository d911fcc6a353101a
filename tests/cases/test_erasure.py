"""Per-record data keys and erasure by crypto-shredding: each record's values under a key of its own,
wrapped by the field key; `person erase` (with a second person's approval) destroys the keys, the blind
indexes and the documents, and the ciphertext that remains is readable by no key the system holds."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import select, text

from amanat.accounts.service import CurrentUser
from amanat.cases.erasure import (
    apply_retention,
    decide_erasure,
    erase_person,
    export_ledger,
    reapply_erasures,
    request_erasure,
    tombstone,
)
from amanat.cases.models import Case, CaseApproval
from amanat.cases.search import search_cases
from amanat.core import crypto
from amanat.core.audit import Actor, AuditEvent, verify_chain
from amanat.core.db import Database, utcnow
from amanat.core.keystore import DataKey, load_keystore, store_rotated_key
from amanat.errors import CryptoError, PermissionDenied
from amanat.intake.parsed import Attachment, ParsedSubmission
from amanat.intake.service import seal_submission
from amanat.jobs.worker import run_worker
from amanat.records.data_keys import move_records_to_own_keys, records_without_keys, rewrap_data_keys
from amanat.records.models import Document, Person, Record, RecordLookup
from tests.cases.factories import add_record
from tests.conftest import PASSPHRASE

FARID = {"full_name": "فرید احمد", "full_name_latin": "Farid Ahmad", "father_name": "محمد نبی",
         "date_of_birth": "1990-03-21", "phone": "+93 700 123 456", "tazkira": "1400-0101-12345",
         "province": "AF01", "gender": "male", "service_branch": "ana", "consent": "yes"}
OTHER = {"full_name": "جاوید", "full_name_latin": "Javid Karimi", "father_name": "کریم", "date_of_birth": "1985",
         "phone": "+93 799 555 111", "province": "AF02", "gender": "male", "service_branch": "anp", "consent": "yes"}
SCAN = b"\xff\xd8\xff\xe0 tazkira scan of Farid"


def _store(database: Database, people: list[dict[str, str]]) -> dict[str, str]:
    """Seal and store through the worker, one batch each (Farid's with a scan of his tazkira, the others'
    without: the batch path and, for a batch with documents, the one-at-a-time path); name -> record id."""
    for fields in people:
        scans = [Attachment("tazkira.jpg", "image/jpeg", SCAN)] if fields is FARID else []
        with database.transaction() as db:
            seal_submission(db, database.keys, ParsedSubmission("web", dict(fields), attachments=scans,
                                                                provenance={"attachment_fields": ["doc_tazkira"]}),
                            actor=Actor("test"), form_id="amanat_service_record", form_version="1", language="en")
        assert run_worker(database, once=True)[0] == 1
    with database.reading() as db:
        return {r.data["full_name"]: r.id for r in db.scalars(select(Record))}


def _raw(database: Database, record_id: str) -> dict[str, bytes]:
    """The stored ciphertexts of a record, as a copy of the database (a backup, the WAL) holds them."""
    with database.engine.connect() as conn:
        row = conn.execute(text("SELECT display_name, data, normalized, provenance FROM records WHERE id = :i"),
                           {"i": record_id}).one()
        doc = conn.execute(text("SELECT content FROM documents WHERE record_id = :i"), {"i": record_id}).scalar()
    found = {"records.display_name": row[0], "records.data": row[1], "records.normalized": row[2],
             "records.provenance": row[3], "documents.content": doc}
    return {context: bytes(blob) for context, blob in found.items() if blob is not None}


def _every_key(database: Database, keystore: crypto.Keystore) -> list[bytes]:
    """Every secret the system holds after the erasure: the organisation's keys and every data key left."""
    ring = crypto.unlock(keystore, PASSPHRASE)
    secrets = [*ring.field_keys.values(), ring.index_key]
    assert ring.seal_private is not None
    secrets.append(ring.seal_private)
    holder = crypto.KeyHolder()
    holder.set(ring)
    with database.engine.connect() as conn:
        for key_id, wrapped in conn.execute(select(DataKey.key_id, DataKey.wrapped)):
            secrets.append(holder.decrypt_field(f"wrap:data:{key_id}", bytes(wrapped)))
    return secrets


def _decrypts(blob: bytes, context: str, secrets: list[bytes]) -> bool:
    n = blob[1]
    header, nonce, body = blob[:2 + n], blob[2 + n:14 + n], blob[14 + n:]
    for key in secrets:
        if len(key) != 32:
            continue
        try:
            AESGCM(key).decrypt(nonce, body, header + context.encode())
            return True
        except InvalidTag:
            continue
    return False


def _case_of(database: Database, record_id: str) -> Case:
    with database.reading() as db:
        person = db.get(Record, record_id).person_id  # type: ignore[union-attr]
        case = db.scalar(select(Case).where(Case.person_id == person))
        assert case is not None
        return case


def _erase(database: Database, users: dict[str, CurrentUser], ref: str) -> str:
    with database.transaction() as db:
        approval = request_erasure(db, users["caseworker"].actor, ref, reason_code="applicant_request",
                                   reason_text=None)
    with database.transaction() as db:
        decide_erasure(db, database.keys, users["admin"].actor, approval.id, approve=True)
    return approval.id


def test_each_record_is_under_its_own_key_wrapped_by_the_field_key(database: Database) -> None:
    ids = _store(database, [OTHER, FARID])
    farid, other = ids[FARID["full_name"]], ids[OTHER["full_name"]]
    raw = _raw(database, farid)
    assert len(raw) == 5
    for blob in raw.values():
        assert database.keys.field_key_id(blob) == f"rk:{farid}"
    assert database.keys.field_key_id(_raw(database, other)["records.data"]) == f"rk:{other}"
    with database.reading() as db:
        wrapped = {k: bytes(w) for k, w in db.execute(select(DataKey.key_id, DataKey.wrapped))}
    assert set(wrapped) == {f"rk:{farid}", f"rk:{other}"}
    assert all(database.keys.field_key_id(w) == "field-1" for w in wrapped.values())
    # another process (nothing in memory) reads them through the stored, wrapped keys
    fresh = Database(database.url, crypto.KeyHolder())
    with fresh.reading() as db:
        keystore = load_keystore(db)
        assert keystore is not None
    fresh.keys.set(crypto.unlock(keystore, PASSPHRASE))
    with fresh.reading() as db:
        assert db.get(Record, farid).data["full_name_latin"] == "Farid Ahmad"  # type: ignore[union-attr]
    fresh.dispose()


def test_erased_person_is_readable_by_no_key_and_found_by_no_index(database: Database, keystore: crypto.Keystore,
                                                                   users: dict[str, CurrentUser]) -> None:
    ids = _store(database, [FARID, OTHER])
    farid = ids[FARID["full_name"]]
    before = _raw(database, farid)
    assert all(_decrypts(b, c, _every_key(database, keystore)) for c, b in before.items())  # the test can decrypt
    case = _case_of(database, farid)
    approval_id = _erase(database, users, f"#{case.number}")

    secrets = _every_key(database, keystore)
    for context, blob in before.items():
        assert not _decrypts(blob, context, secrets), context
        with pytest.raises(CryptoError):
            crypto_holder = Database(database.url, crypto.KeyHolder())
            crypto_holder.keys.set(crypto.unlock(keystore, PASSPHRASE))
            try:
                crypto_holder.keys.decrypt_field(context, blob)
            finally:
                crypto_holder.dispose()
    after = _raw(database, farid)
    assert not set(after.values()) & set(before.values())  # the live rows no longer hold the old ciphertext
    with database.transaction() as db:
        user = users["caseworker"]
        for kind, term in (("tazkira", FARID["tazkira"]), ("phone", FARID["phone"]), ("name", "Farid Ahmad"),
                           ("name", FARID["full_name"])):
            assert search_cases(db, database.keys, user.actor, user.id, term, kind).case_ids == (), kind
        assert db.scalar(select(RecordLookup.id).where(RecordLookup.record_id == farid)) is None
        assert search_cases(db, database.keys, user.actor, user.id, OTHER["phone"], "phone").case_ids  # others stay
        rec = db.get(Record, farid)
        assert rec is not None and rec.data == {} and rec.display_name is None
        doc = db.scalar(select(Document).where(Document.record_id == farid))
        assert doc is not None and doc.content == b"" and doc.filename == "erased"
        stone = tombstone(db, case.id)
        assert stone is not None and stone.approval_id == approval_id
        assert stone.text().startswith(f"erased on {utcnow().date().isoformat()} by approval #{approval_id[:8]}")
        approval = db.get(CaseApproval, approval_id)
        assert approval is not None and approval.outcome == "approved" and approval.kind == "erase"
        assert verify_chain(db).ok
        events = db.scalars(select(AuditEvent).where(AuditEvent.action.like("person:erase%"))).all()
        assert [e.action for e in events] == ["person:erase_request", "person:erase_approve", "person:erase"]
        for e in events:  # ids and counts only
            assert "Farid" not in e.details and "فرید" not in e.details and "700" not in e.details


def test_erase_needs_a_second_person(database: Database, users: dict[str, CurrentUser]) -> None:
    ids = _store(database, [FARID])
    farid = ids[FARID["full_name"]]
    with database.transaction() as db:
        approval = request_erasure(db, users["caseworker"].actor, farid, reason_code="applicant_request",
                                   reason_text=None)
    with pytest.raises(PermissionDenied), database.transaction() as db:
        decide_erasure(db, database.keys, users["caseworker"].actor, approval.id, approve=True)
    with pytest.raises(PermissionDenied), database.transaction() as db:
        erase_person(db, database.keys, users["admin"].actor, _case_of(database, farid))  # no approval, no rule
    with database.reading() as db:
        assert db.scalar(select(DataKey.key_id).where(DataKey.key_id == f"rk:{farid}")) is not None
        assert db.get(Record, farid).data["full_name_latin"] == "Farid Ahmad"  # type: ignore[union-attr]
        assert tombstone(db, _case_of(database, farid).id) is None
    with database.transaction() as db:  # a rejection erases nothing either
        decide_erasure(db, database.keys, users["admin"].actor, approval.id, approve=False)
    with database.reading() as db:
        assert db.get(Record, farid).data["full_name_latin"] == "Farid Ahmad"  # type: ignore[union-attr]


def test_retention_erases_cases_closed_long_ago_dry_run_counts_only(database: Database) -> None:
    ids = _store(database, [FARID, OTHER])
    farid, other = ids[FARID["full_name"]], ids[OTHER["full_name"]]
    with database.transaction() as db:
        closed = db.get(Case, _case_of(database, farid).id)
        assert closed is not None
        closed.status, closed.closed_at = "closed", utcnow() - timedelta(days=400)
    with database.transaction() as db:
        assert apply_retention(db, database.keys, Actor("system:cli"), 365, apply=False) == (1, 0)
    with database.reading() as db:
        assert db.get(Record, farid).data != {}  # type: ignore[union-attr]
    with database.transaction() as db:
        assert apply_retention(db, database.keys, Actor("system:cli"), 365, apply=True) == (1, 1)
    with database.reading() as db:
        assert db.get(Record, farid).data == {}  # type: ignore[union-attr]
        assert db.get(Record, other).data != {}  # type: ignore[union-attr]
        stone = tombstone(db, closed.id)
        assert stone is not None and stone.rule == "closed_after_365_days"
        assert db.scalar(select(AuditEvent.seq).where(AuditEvent.action == "person:retention")) is not None


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_erased_person_stays_erased_after_restoring_an_older_backup(database: Database, backend: str,
                                                                       keystore: crypto.Keystore,
                                                                       users: dict[str, CurrentUser]) -> None:
    ids = _store(database, [FARID, OTHER])
    farid = ids[FARID["full_name"]]
    path = database.url.removeprefix("sqlite:///")
    database.engine.dispose()
    shutil.copy(path, path + ".backup")  # the older backup, taken before the erasure
    case = _case_of(database, farid)
    _erase(database, users, str(case.number))
    with database.reading() as db:
        ledger = export_ledger(db)
    assert "Farid" not in ledger and "فرید" not in ledger
    database.engine.dispose()
    shutil.copy(path + ".backup", path)  # restored (the engine was disposed: the WAL was checkpointed)
    restored = Database(database.url, crypto.KeyHolder())
    restored.keys.set(crypto.unlock(keystore, PASSPHRASE))
    with restored.reading() as db:
        assert db.get(Record, farid).data != {}  # type: ignore[union-attr]  # the backup still had them
    with restored.transaction() as db:
        assert reapply_erasures(db, restored.keys, Actor("system:cli"), ledger) == 1
    with restored.reading() as db:
        assert db.get(Record, farid).data == {}  # type: ignore[union-attr]
        assert db.scalar(select(DataKey.key_id).where(DataKey.key_id == f"rk:{farid}")) is None
        assert tombstone(db, case.id) is not None
    restored.dispose()


def test_rotation_rewraps_data_keys_and_old_records_move_to_their_own_keys(database: Database,
                                                                            keystore: crypto.Keystore) -> None:
    ids = _store(database, [FARID])
    farid = ids[FARID["full_name"]]
    with database.transaction() as db:  # a record stored before per-record keys: under the field key
        person = Person()
        db.add(person)
        db.flush()
        old = add_record(db, person.id, {"full_name": "Old Record"}, documents=1).id
    assert database.keys.field_key_id(_raw(database, old)["records.data"]) == "field-1"
    with database.transaction() as db:
        assert records_without_keys(db) == [old]
        assert move_records_to_own_keys(db, database.keys, [old]) == 1
    raw = _raw(database, old)
    assert {database.keys.field_key_id(b) for b in raw.values()} == {f"rk:{old}"}
    with database.transaction() as db:
        new, retired = crypto.rotate_field_key(load_keystore(db), PASSPHRASE)  # type: ignore[arg-type]
        store_rotated_key(db, new, retired)
    with database.reading() as db:
        database.keys.refresh(load_keystore(db))  # type: ignore[arg-type]
    before = _raw(database, farid)
    with database.transaction() as db:
        assert rewrap_data_keys(db, database.keys) == 2
    with database.reading() as db:
        assert {database.keys.field_key_id(bytes(w)) for w in db.scalars(select(DataKey.wrapped))} == {"field-2"}
        assert db.get(Record, old).data == {"full_name": "Old Record"}  # type: ignore[union-attr]
    assert _raw(database, farid) == before  # the records themselves were not rewritten


def test_the_case_page_says_erased_in_every_language(client, database: Database,  # type: ignore[no-untyped-def]
                                                     users: dict[str, CurrentUser]) -> None:
    from tests.conftest import login

    ids = _store(database, [FARID])
    case = _case_of(database, ids[FARID["full_name"]])
    approval_id = _erase(database, users, str(case.number))
    login(client, "caseworker")
    for lang, words in (("en", "by approval #"), ("fa_AF", "پاک شد"), ("ps_AF", "پاک شو")):
        page = client.get(f"/cases/{case.id}?lang={lang}")
        assert page.status_code == 200, lang
        assert words in page.text and f"#{approval_id[:8]}" in page.text and "data-erased" in page.text
        assert "Farid" not in page.text and "فرید" not in page.text
    client.get("/logout")
    login(client, "auditor")
    log = client.get("/audit?lang=fa_AF")
    assert log.status_code == 200 and "شخص پاک شد" in log.text


def test_retention_never_erases_a_person_merged_into_one_still_open(database: Database) -> None:
    from amanat.records.service import merge_persons

    ids = _store(database, [FARID, OTHER])
    farid, other = ids[FARID["full_name"]], ids[OTHER["full_name"]]
    duplicate = _case_of(database, other)
    with database.transaction() as db:  # the second record was a duplicate: merged, its case closed long ago
        merge_persons(db, Actor("test"), db.get(Record, other).person_id,  # type: ignore[union-attr]
                      db.get(Record, farid).person_id)  # type: ignore[union-attr]
        closed = db.get(Case, duplicate.id)
        assert closed is not None
        closed.status, closed.closed_at = "closed", utcnow() - timedelta(days=400)
    with database.transaction() as db:
        assert apply_retention(db, database.keys, Actor("system:cli"), 365, apply=True) == (0, 0)
    with database.transaction() as db:  # once the person's own case is closed long ago too, both go
        case = db.get(Case, _case_of(database, farid).id)
        assert case is not None
        case.status, case.closed_at = "closed", utcnow() - timedelta(days=380)
    with database.transaction() as db:
        assert apply_retention(db, database.keys, Actor("system:cli"), 365, apply=True) == (1, 2)
    with database.reading() as db:
        assert db.get(Record, farid).data == {} and db.get(Record, other).data == {}  # type: ignore[union-attr]


def test_erasing_from_the_case_page_needs_a_second_caseworker(client, database: Database,  # type: ignore[no-untyped-def]
                                                              accounts, settings) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import PASSWORD, csrf, login

    ids = _store(database, [FARID])
    farid = ids[FARID["full_name"]]
    case = _case_of(database, farid)
    with database.transaction() as db:
        accounts.create_user(db, Actor("test"), username="second", password=PASSWORD, role="caseworker")
    login(client, "caseworker")
    page = client.get(f"/cases/{case.id}?lang=fa_AF")
    assert f'action="/cases/{case.id}/erase"' in page.text and "پاک" in page.text
    r = client.post(f"/cases/{case.id}/erase", data={"reason": "other", "csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 422 or "say why" in r.text  # "other" needs a few words
    r = client.post(f"/cases/{case.id}/erase", data={"reason": "applicant_request", "csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get(f"/cases/{case.id}?lang=ps_AF")
    approval = page.text.split('data-erase-request="')[1].split('"')[0]
    assert f"/approvals/{approval}/erase" not in page.text  # not to the one who asked
    r = client.post(f"/approvals/{approval}/erase", data={"decision": "approve", "csrf_token": csrf(client)})
    assert r.status_code == 403
    r = client.post(f"/approvals/{approval}/decide", data={"decision": "approve", "csrf_token": csrf(client)})
    assert r.status_code in (403, 404)  # closing's approval does not take an erasure's id
    with database.reading() as db:
        assert db.get(Record, farid).data != {}  # type: ignore[union-attr]
    client.post("/logout", data={"csrf_token": csrf(client)})
    client.cookies.clear()
    login(client, "second")
    r = client.post(f"/approvals/{approval}/erase", data={"decision": "approve", "csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    with database.reading() as db:
        assert db.get(Record, farid).data == {}  # type: ignore[union-attr]
        assert db.scalar(select(DataKey.key_id).where(DataKey.key_id == f"rk:{farid}")) is None
    page = client.get(f"/cases/{case.id}?lang=fa_AF")
    assert "data-erased" in page.text and f"#{approval[:8]}" in page.text and "Farid" not in page.text
    assert f'action="/cases/{case.id}/erase"' not in page.text
    ledger = settings.data_dir / "erasure-ledger.json"
    assert f"rk:{farid}" in ledger.read_text() and oct(ledger.stat().st_mode & 0o777) == "0o600"
