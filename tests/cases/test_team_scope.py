"""Teams and the organisation's case scope, without the web: who sees which case under ``case_scope = team``
(case pages through get_case, the queue, search, the triage list and export selection), the queue's Team view,
and the teams service's checks and audit events."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from amanat.accounts import teams
from amanat.cases import queue, scope, search, triage, workflow
from amanat.cases.models import Case
from amanat.cases.service import get_case
from amanat.core.audit import Actor, AuditEvent
from amanat.errors import Conflict, InvalidInput, NotFound
from amanat.export.service import select_cases
from tests.cases.casework_factories import store

ADMIN = Actor("user:admin")
KABUL, HERAT = "AF01", "AF32"


def _person(name: str, province: str, tazkira: str) -> dict[str, object]:
    return {"full_name": name, "gender": "male", "province": province, "tazkira_number": tazkira}


@pytest.fixture
def office(database, users, accounts):  # type: ignore[no-untyped-def]
    """Two Kabul caseworkers in one team, a Herat caseworker in another, a caseworker in no team; a case
    unassigned in Kabul, one unassigned in Herat, one assigned to the Kabul colleague in Herat, one assigned
    to the Herat caseworker in Kabul."""
    with database.transaction() as db:
        made = {}
        for name in ("kabul-a", "kabul-b", "herat-a", "loner"):
            made[name], _ = accounts.create_user(db, Actor("test"), username=name, password="a long test password 1",
                                                 role="caseworker")
        teams.create_team(db, ADMIN, "Kabul office", provinces=[KABUL])
        teams.create_team(db, ADMIN, "Herat office", provinces=[HERAT.lower()])
        for user in ("kabul-a", "kabul-b"):
            teams.add_member(db, ADMIN, "Kabul office", user)
        teams.add_member(db, ADMIN, "Herat office", "herat-a")
        cases = {
            "kabul_open": store(db, database.keys, _person("محمد نبی", KABUL, "1400-0101-11111"))[0].id,
            "herat_open": store(db, database.keys, _person("گل احمد", HERAT, "1400-0101-22222"))[0].id,
            "herat_kb": store(db, database.keys, _person("عبدالرحیم", HERAT, "1400-0101-33333"))[0].id,
            "kabul_ht": store(db, database.keys, _person("نور آغا", KABUL, "1400-0101-44444"))[0].id,
        }
        workflow.assign(db, made["kabul-b"].actor, cases["herat_kb"], made["kabul-b"].id)
        workflow.assign(db, made["herat-a"].actor, cases["kabul_ht"], made["herat-a"].id)
    return made, cases


def _bind(db, user, setting="team"):  # type: ignore[no-untyped-def]
    s = scope.scope_for(db, case_scope=setting, user_id=user.id, role=user.role)
    scope.bind(db, s)
    return s


def _visible(db, cases):  # type: ignore[no-untyped-def]
    out = set()
    for key, case_id in cases.items():
        try:
            get_case(db, case_id)
        except NotFound:
            continue
        out.add(key)
    return out


def test_team_scope_limits_case_pages_to_the_team(database, office):
    made, cases = office
    with database.transaction() as db:
        _bind(db, made["kabul-a"])
        # assigned to a teammate (in Herat), or unassigned in the team's province; not Herat's
        assert _visible(db, cases) == {"kabul_open", "herat_kb"}
    with database.transaction() as db:
        _bind(db, made["herat-a"])
        assert _visible(db, cases) == {"herat_open", "kabul_ht"}
    with database.transaction() as db:
        _bind(db, made["loner"])  # in no team: only what is assigned to them (nothing)
        assert _visible(db, cases) == set()


def test_scope_all_and_unscoped_roles_see_every_case(database, users, office):
    made, cases = office
    with database.transaction() as db:
        assert _bind(db, made["loner"], "all") is scope.EVERY_CASE
        assert _visible(db, cases) == set(cases)
    with database.transaction() as db:
        _bind(db, users["verifier"])  # verifiers verify for the whole office
        assert _visible(db, cases) == set(cases)
    with database.transaction() as db:  # the command line and the worker: nothing bound
        assert _visible(db, cases) == set(cases)


def test_intake_team_sees_every_unassigned_case(database, office):
    made, cases = office
    with database.transaction() as db:
        teams.create_team(db, ADMIN, "Intake", intake=True)
        teams.add_member(db, ADMIN, "Intake", "loner")
        _bind(db, made["loner"])
        assert _visible(db, cases) == {"kabul_open", "herat_open"}


def test_team_scope_limits_the_queue_search_triage_and_export_selection(database, office):
    made, cases = office
    with database.transaction() as db:
        _bind(db, made["kabul-a"])
        listed = {r.case_id for r in queue.list_queue(db, made["kabul-a"].id, queue.QueueFilter())}
        assert listed == {cases["kabul_open"], cases["herat_kb"]}
        assert sum(queue.count_cases(db).values()) == 2
        # the Herat man, searched for by name and by tazkira: not found, and the search says so
        for term in ("Gul Ahmad", "1400-0101-22222"):
            found = search.search_cases(db, database.keys, made["kabul-a"].actor, made["kabul-a"].id, term)
            assert found.case_ids == ()
        found = search.search_cases(db, database.keys, made["kabul-a"].actor, made["kabul-a"].id, "Mohammad Nabi")
        assert found.case_ids == (cases["kabul_open"],)
        assert {r.case_id for r in triage.list_by_risk(db)} == {cases["kabul_open"], cases["herat_kb"]}
        assert set(select_cases(db, status="new")) | set(select_cases(db, status="in_review")) <= {
            cases["kabul_open"], cases["herat_kb"]}
        herat = db.get(Case, cases["herat_open"])
        assert herat is not None
        with pytest.raises(InvalidInput, match="do not exist"):  # as if the number did not exist
            select_cases(db, numbers=[herat.number])


def test_team_view_of_the_queue_is_my_teams_assigned_cases(database, office):
    made, cases = office
    with database.transaction() as db:  # whatever the organisation's scope: the view is the team's
        team_view = queue.list_queue(db, made["kabul-a"].id, queue.QueueFilter(scope="team"))
        assert {r.case_id for r in team_view} == {cases["herat_kb"]}
        herat_view = queue.list_queue(db, made["herat-a"].id, queue.QueueFilter(scope="team"))
        assert {r.case_id for r in herat_view} == {cases["kabul_ht"]}


def test_moving_a_member_changes_what_they_see(database, office):
    made, cases = office
    with database.transaction() as db:
        teams.remove_member(db, ADMIN, "Kabul office", "kabul-b")
        _bind(db, made["kabul-a"])
        assert _visible(db, cases) == {"kabul_open"}  # kabul-b's case left with kabul-b


def test_teams_service_refuses_bad_input_and_audits(database, office):
    with database.transaction() as db:
        with pytest.raises(InvalidInput, match="province codes"):
            teams.create_team(db, ADMIN, "Nowhere", provinces=["AF99"])
        with pytest.raises(InvalidInput, match="province codes"):
            teams.create_team(db, ADMIN, "Nowhere", provinces=["Kabul"])
        with pytest.raises(InvalidInput, match="name"):
            teams.create_team(db, ADMIN, "<b>")
        with pytest.raises(Conflict):
            teams.create_team(db, ADMIN, "Kabul office")
        with pytest.raises(Conflict):
            teams.add_member(db, ADMIN, "Kabul office", "kabul-a")
        with pytest.raises(NotFound):
            teams.remove_member(db, ADMIN, "Herat office", "kabul-a")
        with pytest.raises(NotFound):
            teams.add_member(db, ADMIN, "No such team", "kabul-a")
        teams.set_coverage(db, ADMIN, "Herat office", provinces=["AF32", "af01"], intake=False)
        view = {t.name: t for t in teams.list_teams(db)}
        assert view["Herat office"].provinces == ("AF01", "AF32") and view["Kabul office"].members == (
            "kabul-a", "kabul-b")
        actions = [e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.action.like("team:%")))]
        assert actions.count("team:create") == 2 and actions.count("team:member_add") == 3
        assert "team:coverage" in actions
        details = [json.loads(e.details) for e in db.scalars(select(AuditEvent).where(
            AuditEvent.action == "team:member_add"))]
        assert all(set(d) <= {"user"} for d in details)  # ids only


def test_unknown_case_scope_setting_is_refused(database, office):
    made, _ = office
    with database.transaction() as db, pytest.raises(ValueError, match="case_scope"):
        scope.scope_for(db, case_scope="province", user_id=made["loner"].id, role="caseworker")


def test_team_scope_limits_overdue_tasks_and_changing_others_tasks(database, users, office):
    from datetime import date, timedelta

    from amanat.cases import tasks
    from amanat.cases.verification_models import CaseTask

    made, cases = office
    with database.transaction() as db:
        herat = tasks.add_task(db, made["herat-a"].actor, cases["herat_open"], title="Call back",
                               assignee_id=made["herat-a"].id, due=None)
        herat.due_on = date.today() - timedelta(days=3)  # overdue
        own = tasks.add_task(db, made["herat-a"].actor, cases["herat_open"], title="Check the tazkira",
                             assignee_id=made["kabul-a"].id, due=None)
        db.flush()
        task_ids = (herat.id, own.id)
    with database.transaction() as db:
        _bind(db, made["kabul-a"])
        assert task_ids[0] not in {t.id for t in tasks.list_overdue(db)}
        with pytest.raises(NotFound):  # another team's case: as if it did not exist
            tasks.set_task_done(db, made["kabul-a"].actor, task_ids[0], done=True, may_write=True)
        # a task given to them on a case outside their scope: they may still close their own task
        tasks.set_task_done(db, made["kabul-a"].actor, task_ids[1], done=True, may_write=True)
        assert db.get(CaseTask, task_ids[1]).done_at is not None
    with database.transaction() as db:
        _bind(db, made["herat-a"])
        assert task_ids[0] in {t.id for t in tasks.list_overdue(db)}
