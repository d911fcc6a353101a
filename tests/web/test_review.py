"""Linkage in the store: a cross-script duplicate without a shared ID is found as it arrives; review accepts
or rejects; unmerge restores exactly what was there. All audited."""

from sqlalchemy import select

from amanat.cases.models import Case
from amanat.core.audit import Actor, AuditEvent, verify_chain
from amanat.jobs.pipeline import drain
from amanat.linkage.models import MatchPair
from amanat.linkage.service import BLOCK_KIND, run_batch
from amanat.records.models import PersonMerge, Record, RecordLookup
from tests.conftest import csrf, login
from tests.web.test_intake_flow import form, submit

# The same man in Latin letters, with only a Solar Hijri year and another phone: evidence, not proof.
PROBABLE = {"full_name": "Muhammad Nabee", "full_name_latin": "", "father_name": "Abdullah", "tazkira_number": "",
            "date_of_birth": "1362", "phone": "0700000002"}


def _people(database):
    with database.reading() as db:
        return [r.person_id for r in db.scalars(select(Record).order_by(Record.created_at))]


def _block_index(db) -> set[tuple[str, str]]:
    return {(r.record_id, r.digest) for r in db.scalars(select(RecordLookup).where(RecordLookup.kind == BLOCK_KIND))}


def _open_cases(database):
    with database.reading() as db:
        return db.scalars(select(Case).where(Case.status != "closed")).all()


def test_strong_cross_script_duplicate_is_auto_linked_and_can_be_undone(client, database):
    assert submit(client, form()).status_code == 201
    # Same man, Latin letters, Gregorian birth date, the phone written another way, no tazkira this time.
    assert submit(client, form(full_name="Muhammad Nabee", full_name_latin="", father_name="Abdullah",
                               tazkira_number="", date_of_birth="1983-08-03", phone="+93 799 123 456"),
                  lang="en").status_code == 201
    assert all(r.ok for r in drain(database))
    first, second = _people(database)
    assert first == second
    with database.reading() as db:
        assert db.scalars(select(MatchPair)).one().status == "auto"
        merge = db.scalars(select(PersonMerge)).one()
        assert db.scalars(select(Record).order_by(Record.created_at)).all()[1].link_reason == "probable_match"
    assert len(_open_cases(database)) == 1
    login(client, "caseworker")
    r = client.post(f"/merges/{merge.id}/undo", data={"csrf_token": csrf(client)}, follow_redirects=False)
    assert r.status_code == 303
    first, second = _people(database)
    assert first != second
    assert {c.person_id for c in _open_cases(database)} == {first, second}
    with database.reading() as db:
        actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
        assert "person:merge" in actions and "person:unmerge" in actions
        assert verify_chain(db).ok


def test_probable_duplicate_waits_for_review_then_accept_merges(client, database):
    assert submit(client, form()).status_code == 201
    assert submit(client, form(**PROBABLE), lang="en").status_code == 201
    drain(database)
    with database.reading() as db:
        pair = db.scalars(select(MatchPair)).one()
    assert pair.status == "pending" and 0.5 <= pair.match_probability < 0.99
    assert len(set(_people(database))) == 2
    login(client, "caseworker")
    queue = client.get("/review")
    assert queue.status_code == 200 and "Muhammad" not in queue.text  # the queue shows no values
    r = client.post(f"/review/{pair.id}/open", data={"csrf_token": csrf(client)})
    assert r.status_code == 200 and "Muhammad Nabee" in r.text and "<svg" in r.text
    with database.reading() as db:
        reveals = db.scalars(select(AuditEvent).where(AuditEvent.action == "record:reveal")).all()
        assert {e.subject_id for e in reveals} == {pair.record_l, pair.record_r}
    r = client.post(f"/review/{pair.id}/decide", data={"decision": "accept", "csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    assert len(set(_people(database))) == 1
    assert len(_open_cases(database)) == 1
    again = client.post(f"/review/{pair.id}/decide", data={"decision": "reject", "csrf_token": csrf(client)})
    assert again.status_code == 409


def test_rejected_pair_is_remembered_across_batch_runs(client, database):
    assert submit(client, form()).status_code == 201
    assert submit(client, form(**PROBABLE), lang="en").status_code == 201
    drain(database)
    with database.reading() as db:
        pair = db.scalars(select(MatchPair)).one()
    login(client, "caseworker")
    r = client.post(f"/review/{pair.id}/decide", data={"decision": "reject", "csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    with database.reading() as db:
        indexed = _block_index(db)
    with database.transaction() as db:
        result = run_batch(db, database.keys, Actor("test"))
    assert result.records == 2
    with database.reading() as db:
        assert db.get(MatchPair, pair.id).status == "rejected"
        # The batch's refreshed index is the one intake wrote record by record.
        assert _block_index(db) == indexed and indexed
    assert len(set(_people(database))) == 2


def test_verifier_cannot_decide(client, database):
    login(client, "verifier")
    assert client.get("/review").status_code == 403
