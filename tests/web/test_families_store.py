"""Brothers through intake: the worker proposes them as relatives and never merges them; ``link run``
decides alike; ``link audit-merges`` finds brothers merged before, for a caseworker to split."""

from sqlalchemy import select

from amanat.core.audit import Actor, AuditEvent
from amanat.jobs.pipeline import drain
from amanat.linkage.merge_audit import audit_merges
from amanat.linkage.models import MatchPair
from amanat.linkage.service import active_model, run_batch
from amanat.records.models import PersonMerge, Record
from amanat.records.service import merge_persons, unmerge
from tests.web.test_intake_flow import form, submit

# Two brothers of one household: same father and grandfather, district and phone; no tazkira.
ZAHIR = form(full_name="ظاهر", full_name_latin="", father_name="عبدالکریم", grandfather_name="غلام حیدر",
             tazkira_number="", date_of_birth="1988-03-01", phone="0700123456")
BASIR = {**ZAHIR, "full_name": "بصیر", "date_of_birth": "1990-05-12"}


def _people(database) -> list[str]:
    with database.reading() as db:
        return [r.person_id for r in db.scalars(select(Record).order_by(Record.created_at))]


def test_brothers_at_intake_are_proposed_as_relatives_not_merged(client, database):
    assert submit(client, ZAHIR).status_code == 201
    assert submit(client, BASIR).status_code == 201
    assert all(r.ok for r in drain(database))
    assert len(set(_people(database))) == 2
    with database.reading() as db:
        pair = db.scalars(select(MatchPair)).one()
        assert pair.status == "relatives"
        assert "likely brothers" in pair.reasons and "own names differ" in pair.reasons
        assert not db.scalars(select(PersonMerge)).all()
    with database.transaction() as db:
        result = run_batch(db, database.keys, Actor("test"))
    assert result.auto == 0 and result.relatives == 1
    assert len(set(_people(database))) == 2


def test_brothers_merged_before_are_found_and_can_be_split(client, database):
    assert submit(client, ZAHIR).status_code == 201
    assert submit(client, BASIR).status_code == 201
    drain(database)
    first, second = _people(database)
    with database.transaction() as db:  # as the old model did
        merge_id = merge_persons(db, Actor("system:worker"), second, first, reason="auto")
    with database.transaction() as db:
        concerns = audit_merges(db, Actor("test"), active_model(db))
    assert len(concerns) == 1
    concern = concerns[0]
    assert concern.person_id == first and concern.merge_ids == (merge_id,)
    assert concern.relation == "likely brothers" and "own names differ" in concern.notes
    with database.transaction() as db:
        unmerge(db, Actor("test"), merge_id)
        assert [e.action for e in db.scalars(select(AuditEvent).where(
            AuditEvent.action == "linkage:audit_merges"))] == ["linkage:audit_merges"]
    with database.transaction() as db:
        assert audit_merges(db, Actor("test"), active_model(db)) == []


def test_reviewer_sees_likely_brothers_and_keeps_them_apart(client, database):
    from tests.conftest import csrf, login

    assert submit(client, ZAHIR).status_code == 201
    assert submit(client, BASIR).status_code == 201
    drain(database)
    with database.reading() as db:
        pair = db.scalars(select(MatchPair)).one()
    login(client, "caseworker")
    queue = client.get("/review?show=relatives&lang=fa_AF")
    assert queue.status_code == 200 and "احتمالاً برادران" in queue.text and "ظاهر" not in queue.text
    assert "likely brothers" not in queue.text  # translated, not shown as a code
    page = client.post(f"/review/{pair.id}/open?lang=ps_AF", data={"csrf_token": csrf(client)})
    assert page.status_code == 200 and "ښايي وروڼه وي" in page.text and "ظاهر" in page.text
    r = client.post(f"/review/{pair.id}/decide", data={"decision": "household", "csrf_token": csrf(client)},
                    follow_redirects=False)
    assert r.status_code == 303
    with database.reading() as db:
        assert db.get(MatchPair, pair.id).status == "household"
        actions = [e.action for e in db.scalars(select(AuditEvent))]
        assert "review:household" in actions
        from amanat.cases.models import Case
        first = db.scalars(select(Case).order_by(Case.number)).first()
    case_page = client.get(f"/cases/{first.id}?lang=en")
    assert "Possible family members" in case_page.text and "likely brothers" in case_page.text
    assert "confirmed by a reviewer" in case_page.text
    assert len(set(_people(database))) == 2
    # a re-run of linkage remembers the reviewer's word
    with database.transaction() as db:
        run_batch(db, database.keys, Actor("test"))
    with database.reading() as db:
        assert db.get(MatchPair, pair.id).status == "household"
