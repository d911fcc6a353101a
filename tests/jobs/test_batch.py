"""The batch worker: many sealed submissions stored, linked and given cases in one transaction, with the
same people, pairs and cases the one-at-a-time worker makes, and the same clusters as `link run`."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections import defaultdict
from itertools import combinations

import pytest
from sqlalchemy import func, select

from amanat.cases.models import Case
from amanat.core.audit import Actor, AuditEvent, verify_chain
from amanat.core.db import Database
from amanat.intake.models import Submission
from amanat.intake.parsed import ParsedSubmission
from amanat.intake.service import seal_submission
from amanat.jobs.batch import Ahead, _helper_start, process_batch
from amanat.jobs.pipeline import drain
from amanat.jobs.worker import run_worker
from amanat.linkage.arrivals import FEATURES_KEY, stored_row
from amanat.linkage.features import features_from_fields
from amanat.linkage.models import MatchPair
from amanat.linkage.service import batch_clusters
from amanat.records.exact_id import UNCONFIRMED
from amanat.records.models import Person, Record
from amanat.records.service import get_person_root
from bench.synth import generate_population

FARID = {"full_name": "فرید احمد", "full_name_latin": "Farid Ahmad", "father_name": "محمد نبی",
         "grandfather_name": "عبدالله", "date_of_birth": "1990-03-21", "phone": "+93 700 123 456",
         "province": "AF01", "gender": "male", "service_branch": "ana", "consent": "yes"}
# The same man a second time, spelt in Latin letters only, without the grandfather, from the same phone.
FARID_AGAIN = {"full_name": "Fareed Ahmad", "father_name": "Mohammad Nabi", "date_of_birth": "1990-03-21",
               "phone": "0700123456", "province": "AF01", "gender": "male", "service_branch": "ana",
               "consent": "yes"}
# His brother: one father, one household phone, another name and year.
BROTHER = {"full_name": "جاوید", "full_name_latin": "Javid", "father_name": "محمد نبی", "grandfather_name": "عبدالله",
           "date_of_birth": "1993-01-10", "phone": "+93 700 123 456", "province": "AF01", "gender": "male",
           "service_branch": "ana", "consent": "yes"}


def _seal(database: Database, people: list[dict[str, str]]) -> None:
    with database.transaction() as db:
        for fields in people:
            seal_submission(db, database.keys, ParsedSubmission("web", dict(fields)), actor=Actor("test"),
                            form_id="amanat_service_record", form_version="1", language="en")


def _people(database: Database) -> dict[str, str]:
    """Receipt -> the person (root) its record belongs to."""
    with database.reading() as db:
        rows = db.execute(select(Submission.receipt, Record.person_id).join(Record, Record.id == Submission.record_id))
        return {receipt: get_person_root(db, person) for receipt, person in rows}


def _synthetic(n: int, seed: int = 5) -> list[dict[str, str]]:
    return [{k: v for k, v in r.items() if k not in ("record_id", "person_id") and v}
            for r in generate_population(n, seed=seed)[:n]]


def test_two_submissions_of_one_man_in_one_batch_link_and_his_brother_does_not(database: Database) -> None:
    _seal(database, [FARID, BROTHER, FARID_AGAIN])
    step = process_batch(database)
    assert step is not None and (step.claimed, step.stored, step.failed, step.merged) == (3, 3, 0, 1)
    assert process_batch(database) is None
    with database.reading() as db:
        records = db.scalars(select(Record).order_by(Record.created_at)).all()
        roots = [get_person_root(db, r.person_id) for r in records]
        by_name = {r.data.get("full_name"): root for r, root in zip(records, roots, strict=True)}
        assert by_name["فرید احمد"] == by_name["Fareed Ahmad"] != by_name["جاوید"]
        assert db.scalar(select(func.count()).select_from(Case)) == 2  # one case per person
        statuses = sorted(p.status for p in db.scalars(select(MatchPair)))
        assert statuses.count("auto") == 1  # the brother is proposed (relatives or review), never merged
        assert set(statuses) - {"auto"} <= {"relatives", "pending"}
        # each record keeps its linkage row (encrypted with the record), equal to normalising it again
        for r in records:
            row = stored_row(r.id, r.normalized)
            assert row is not None and FEATURES_KEY in r.normalized
            assert row == {k: v for k, v in features_from_fields(r.id, {
                k: v for k, v in r.data.items() if isinstance(v, str)}).items()}
        subs = db.scalars(select(Submission)).all()
        assert {s.status for s in subs} == {"stored"} and all(s.sealed is None for s in subs)
        actions = [a for (a,) in db.execute(select(AuditEvent.action).order_by(AuditEvent.seq))]
        assert actions.count("record:create") == 3 and actions.count("case:open") == 2
        assert actions.count("person:merge") == 1 and actions.count("case:record_attached") == 1
        assert verify_chain(db).ok


def test_batch_makes_the_people_pairs_and_cases_of_the_one_at_a_time_worker(database: Database) -> None:
    people = _synthetic(160)
    _seal(database, people[:80])
    drain(database)  # known people, stored one at a time
    one_at_a_time_known = _people(database)
    _seal(database, people[80:])
    while process_batch(database, limit=40) is not None:
        pass
    batch = _people(database)
    assert {r: batch[r] for r in one_at_a_time_known} == one_at_a_time_known
    with database.reading() as db:
        persons = db.scalar(select(func.count()).select_from(Person).where(Person.merged_into.is_(None)))
        open_cases = db.scalar(select(func.count()).select_from(Case))
        assert persons == open_cases == len(set(batch.values()))
        assert verify_chain(db).ok


def _pairs(groups: dict[str, str]) -> set[tuple[str, str]]:
    members: dict[str, list[str]] = defaultdict(list)
    for item, group in groups.items():
        members[group].append(item)
    return {tuple(sorted(p)) for ids in members.values() for p in combinations(ids, 2)}  # type: ignore[misc]


def test_worker_clusters_equal_link_run(database: Database) -> None:
    _seal(database, _synthetic(400, seed=11))
    run_worker(database, once=True, batch_size=150)
    with database.reading() as db:
        by_record = {rec_id: get_person_root(db, person) for rec_id, person in
                     db.execute(select(Record.id, Record.person_id))}
        link_run = batch_clusters(db)
    ours, theirs = _pairs(by_record), _pairs(link_run)
    assert len(theirs) > 20  # the population has re-registrations to find
    both = len(ours & theirs)
    f1 = 2 * both / (len(ours) + len(theirs))
    assert f1 >= 0.999, (len(ours), len(theirs), both)


def test_a_submission_that_cannot_be_opened_fails_alone(database: Database) -> None:
    _seal(database, [FARID, BROTHER])
    with database.transaction() as db:
        sub = db.scalars(select(Submission).order_by(Submission.received_at)).first()
        assert sub is not None and sub.sealed is not None
        sub.sealed = sub.sealed[:-1] + bytes([sub.sealed[-1] ^ 1])  # tampered: the seal no longer opens
    step = process_batch(database)
    assert step is not None and (step.stored, step.failed) == (1, 1)
    with database.reading() as db:
        statuses = sorted(s for (s,) in db.execute(select(Submission.status)))
        assert statuses == ["failed", "stored"]
        assert verify_chain(db).ok


def test_workers_share_the_queue_on_postgres(database: Database, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("several worker processes share the queue on PostgreSQL only")
    people = _synthetic(240, seed=3)
    _seal(database, people)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            run_worker(database, once=True, batch_size=30)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    with database.reading() as db:
        assert {s for (s,) in db.execute(select(Submission.status))} == {"stored"}
        assert db.scalar(select(func.count()).select_from(Record)) == len(people)  # nothing stored twice
        by_record = {rec_id: get_person_root(db, person) for rec_id, person in
                     db.execute(select(Record.id, Record.person_id))}
        link_run = batch_clusters(db)
        assert verify_chain(db).ok
    ours, theirs = _pairs(by_record), _pairs(link_run)
    assert 2 * len(ours & theirs) / (len(ours) + len(theirs)) >= 0.999


def test_batch_indexes_names_and_household_members_as_one_at_a_time(database: Database) -> None:
    from amanat.records.models import HouseholdMember, RecordLookup

    family = [{"member_name": "جاوید", "member_relationship": "brother", "member_tazkira": "1401-0101-12345"}]
    _seal(database, [{**FARID, "family": family}])  # type: ignore[dict-item]
    drain(database)
    _seal(database, [{**BROTHER, "family": family}])  # type: ignore[dict-item]
    process_batch(database)
    with database.reading() as db:
        one, batch = db.scalars(select(Record).order_by(Record.created_at)).all()

        def kinds(record: Record) -> dict[str, int]:
            rows = db.execute(select(RecordLookup.kind, func.count()).where(RecordLookup.record_id == record.id)
                              .group_by(RecordLookup.kind)).all()
            return {k: n for k, n in rows if k != "block"}

        assert set(kinds(one)) == set(kinds(batch)) and {"name", "name_tok"} <= set(kinds(batch))
        members = db.scalars(select(HouseholdMember).where(HouseholdMember.record_id == batch.id)).all()
        assert len(members) == 1


def test_reading_ahead_claims_only_what_is_still_sealed(database: Database) -> None:
    """The next batch is opened in a helper while this one is stored; what another worker stored meanwhile
    is dropped at the claim, never stored twice, and a seal that does not open fails alone."""
    people = _synthetic(9, seed=4)
    _seal(database, people)
    with database.transaction() as db:  # the eighth submission's seal no longer opens
        sub = db.scalars(select(Submission).order_by(Submission.received_at)).all()[7]
        assert sub.sealed is not None
        sub.sealed = sub.sealed[:-1] + bytes([sub.sealed[-1] ^ 1])
    ahead = Ahead(database, 1)
    try:
        first = process_batch(database, 3, ahead)  # stores 1-3, opens 4-6 in the helper meanwhile
        assert first is not None and (first.claimed, first.stored) == (3, 3)
        assert sum(s.ok for s in drain(database, limit=2)) == 2  # another worker stores 4 and 5
        second = process_batch(database, 3, ahead)  # only 6 is still sealed
        assert second is not None and (second.claimed, second.stored, second.failed) == (1, 1, 0)
        third = process_batch(database, 3, ahead)  # 7, 8 (tampered), 9
        assert third is not None and (third.claimed, third.stored, third.failed) == (3, 2, 1)
        assert process_batch(database, 3, ahead) is None
    finally:
        ahead.close()
    with database.reading() as db:
        assert db.scalar(select(func.count()).select_from(Record)) == 8
        statuses = sorted(s for (s,) in db.execute(select(Submission.status)))
        assert statuses == ["failed"] + ["stored"] * 8
        failed = db.scalar(select(Submission.error_code).where(Submission.status == "failed"))
        assert failed == "seal_tampered"
        assert verify_chain(db).ok


def _interrupted_helper() -> None:
    _helper_start()
    os.kill(os.getpid(), signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group
    time.sleep(0.2)


def test_the_helper_leaves_ctrl_c_to_the_worker() -> None:
    """The worker stops its helper on Ctrl-C; the helper itself ignores it (it would print a traceback)."""
    proc = multiprocessing.get_context("fork").Process(target=_interrupted_helper)
    proc.start()
    proc.join(10)
    assert proc.exitcode == 0


FARID_TAZKIRA = {**FARID, "tazkira_number": "۱۳۹۹-۰۱۲۳-۴۵۶۷۸"}


@pytest.mark.parametrize("same_batch", [False, True])
def test_a_known_tazkira_from_an_untrusted_channel_with_another_name_does_not_attach(
        database: Database, same_batch: bool) -> None:
    """The batch worker (what `amanat worker` and the server's worker run) applies records.exact_id as the
    one-at-a-time step does: anonymous web and imports give a known tazkira number with another name and
    birth date, the record gets a person of its own and is never merged on its own."""
    attack = {"full_name": "گل آغا", "full_name_latin": "Gul Agha", "father_name": "شیر", "date_of_birth": "1975",
              "phone": "0700999888", "province": "AF01", "gender": "male", "consent": "yes",
              "tazkira_number": FARID_TAZKIRA["tazkira_number"]}
    agreeing = {**FARID_TAZKIRA, "phone": "0700111222"}
    # the agreeing one first: after the attack, the number points at two people (a conflict for a human)
    if same_batch:
        _seal(database, [FARID_TAZKIRA, agreeing, attack])
    else:
        _seal(database, [FARID_TAZKIRA])
        process_batch(database)
        _seal(database, [agreeing, attack])
    while process_batch(database) is not None:
        pass
    with database.reading() as db:
        records = {r.data["full_name"] + "|" + r.data["phone"]: r for r in db.scalars(select(Record))}
        victim = records[FARID["full_name"] + "|" + FARID["phone"]]
        stranger = records["گل آغا|0700999888"]
        same_man = records[FARID["full_name"] + "|0700111222"]
        assert get_person_root(db, stranger.person_id) != get_person_root(db, victim.person_id)
        assert stranger.link_reason == UNCONFIRMED
        assert get_person_root(db, same_man.person_id) == get_person_root(db, victim.person_id)
        assert same_man.link_reason == "tazkira_exact"
        statuses = {p.status for p in db.scalars(select(MatchPair).where(
            (MatchPair.record_l == stranger.id) | (MatchPair.record_r == stranger.id)))}
        assert "auto" not in statuses
