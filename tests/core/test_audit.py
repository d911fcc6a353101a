from sqlalchemy import update

from amanat.core.audit import Actor, AuditEvent, record_event, verify_chain


def test_chain_verifies_and_detects_tampering(database):
    with database.transaction() as db:
        for i in range(5):
            record_event(db, Actor("user:x", None), "record:reveal", "record", f"r{i}", field="tazkira_number")
    with database.reading() as db:
        verdict = verify_chain(db)
    assert verdict.ok and verdict.checked == 5
    with database.transaction() as db:
        db.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(actor="user:someone-else"))
    with database.reading() as db:
        verdict = verify_chain(db)
    assert not verdict.ok
    assert verdict.first_broken_seq == 3
    assert "changed" in verdict.reason


def test_deleted_event_is_detected(database):
    with database.transaction() as db:
        for i in range(4):
            record_event(db, Actor("system"), "case:open", "case", f"c{i}")
    with database.transaction() as db:
        db.query(AuditEvent).filter(AuditEvent.seq == 2).delete()
    with database.reading() as db:
        verdict = verify_chain(db)
    assert not verdict.ok and verdict.first_broken_seq == 2


def test_details_refuse_free_text(database):
    import pytest

    with database.transaction() as db, pytest.raises(ValueError):
        record_event(db, Actor("system"), "record:create", "record", "r1", name="Mohammad Nabi")


def test_rolled_back_savepoint_does_not_break_the_chain(database):
    with database.transaction() as db:
        record_event(db, Actor("system"), "case:open", "case", "c1")
        nested = db.begin_nested()
        record_event(db, Actor("system"), "case:open", "case", "c2")
        nested.rollback()
        record_event(db, Actor("system"), "case:open", "case", "c3")
        record_event(db, Actor("system"), "case:open", "case", "c4")
    with database.reading() as db:
        verdict = verify_chain(db)
    assert verdict.ok and verdict.checked == 3
