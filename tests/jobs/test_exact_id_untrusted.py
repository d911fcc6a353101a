"""Someone who knows a person's tazkira number cannot attach a record with another name (or birth date) to
that person's case through a channel anyone can use: the record becomes a new person and the pair waits for
review. Staff typing a form while signed in are trusted as before; an agreeing record still attaches."""

from __future__ import annotations

import io

from sqlalchemy import select

from amanat.core.audit import Actor
from amanat.intake.consent import ImportConsent
from amanat.intake.imports import import_table
from amanat.jobs.pipeline import drain
from amanat.linkage.models import MatchPair
from amanat.records.exact_id import UNCONFIRMED
from amanat.records.models import Record
from tests.conftest import login
from tests.web.test_intake_flow import form, submit

TAZKIRA = "۱۳۹۹-۰۱۲۳-۴۵۶۷۸"


def stored(database, step) -> Record:
    with database.reading() as db:
        record = db.get(Record, step.record_id)
        assert record is not None
        return record


def pairs(database, record_id: str) -> list[MatchPair]:
    with database.reading() as db:
        return list(db.scalars(select(MatchPair).where((MatchPair.record_l == record_id)
                                                       | (MatchPair.record_r == record_id))).all())


def victim(client, database) -> Record:
    assert submit(client, form()).status_code == 201
    (step,) = drain(database)
    return stored(database, step)


def test_an_anonymous_submission_with_a_known_tazkira_and_another_name_waits_for_review(client, database):
    person = victim(client, database)
    attack = form(full_name="گل آغا", full_name_latin="Gul Agha", father_name="شیر", date_of_birth="۱۳۷۵",
                  phone="0700999888", tazkira_number=TAZKIRA)
    assert submit(client, attack).status_code == 201
    (step,) = drain(database)
    record = stored(database, step)
    assert record.person_id != person.person_id          # not attached to the victim's case
    assert record.link_reason == UNCONFIRMED
    waiting = pairs(database, record.id)
    assert waiting and {p.status for p in waiting} == {"pending"}
    assert person.id in {p.record_l for p in waiting} | {p.record_r for p in waiting}


def test_the_same_name_but_another_birth_date_waits_for_review(client, database):
    person = victim(client, database)
    assert submit(client, form(date_of_birth="۱۳۴۰", phone="0700999888")).status_code == 201
    (step,) = drain(database)
    record = stored(database, step)
    assert record.person_id != person.person_id and record.link_reason == UNCONFIRMED
    assert {p.status for p in pairs(database, record.id)} == {"pending"}  # never auto-merged


def test_an_agreeing_anonymous_submission_still_attaches(client, database):
    person = victim(client, database)
    assert submit(client, form(full_name_latin="Mohammed Nabi", phone="0700111222")).status_code == 201
    (step,) = drain(database)
    record = stored(database, step)
    assert record.person_id == person.person_id and record.link_reason == "tazkira_exact"


def test_staff_typing_a_form_are_trusted(client, database):
    person = victim(client, database)
    login(client, "caseworker")
    attack = form(full_name="گل آغا", full_name_latin="Gul Agha", tazkira_number=TAZKIRA)
    assert submit(client, attack).status_code == 201
    (step,) = drain(database)
    assert stored(database, step).person_id == person.person_id


def test_an_imported_list_is_untrusted_too(client, database):
    person = victim(client, database)
    table = b"full_name,tazkira_number,date_of_birth\nGul Agha,1399-0123-45678,1990\n"
    with database.transaction() as db:
        import_table(db, database.keys, io.BytesIO(table), file_name="list.csv", mapping=None, actor=Actor("t"),
                     consent=ImportConsent("paper_intermediary"))
    (step,) = drain(database)
    record = stored(database, step)
    assert record.person_id != person.person_id and record.link_reason == UNCONFIRMED
