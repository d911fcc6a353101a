"""Protection triage: factors only, never military value; history kept; audited."""

from __future__ import annotations

import ast
import inspect
from dataclasses import fields
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from amanat.cases import triage
from amanat.cases.models import Case
from amanat.core.audit import AuditEvent
from amanat.errors import InvalidInput
from amanat.forms.spec import load_form
from tests.protection.factories import make_case

TODAY = date(2026, 12, 7)


def military_fields() -> set[str]:
    """Every field of the service-record form's military service section, plus the words used for them."""
    from amanat.forms.model import Field, Section

    names: set[str] = set()
    for node in load_form().walk():
        if isinstance(node, Section) and node.name == "service":
            stack = list(node.children)
            while stack:
                child = stack.pop()
                if isinstance(child, Field):
                    names.add(child.name)
                elif isinstance(child, Section):
                    stack.extend(child.children)
    assert {"rank", "unit", "service_start", "service_end"} <= names  # the form still has them
    return names | {"specialty", "years_of_service", "service_years", "rank_code"}


def test_factors_have_no_military_field_and_refuse_one():
    forbidden = military_fields()
    assert not set(triage.FACTOR_NAMES) & forbidden
    for name in sorted(forbidden):
        with pytest.raises(InvalidInput) as err:
            triage.parse_factors({"threat": "recent", name: "general"}, today=TODAY)
        assert name in err.value.public_message


def test_compute_risk_takes_only_protection_factors():
    params = inspect.signature(triage.compute_risk).parameters
    assert list(params) == ["factors", "today"]
    # Nothing in the risk computation's source names a military field.
    source = inspect.getsource(triage.compute_risk)
    names = {n.attr for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Attribute)}
    names |= {n.value for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    assert not names & military_fields()
    assert {f.name for f in fields(triage.ProtectionFactors)} == set(triage.FACTOR_NAMES)


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_no_sort_order_names_a_military_field(dialect):
    q = select(Case).order_by(*triage.TRIAGE_ORDER)
    order_sql = str(q.compile(dialect=dialect)).split("ORDER BY", 1)[1].lower()
    for name in military_fields():
        assert name not in order_sql


def test_levels_follow_protection_factors():
    f = triage.parse_factors({}, today=TODAY)
    assert triage.compute_risk(f, today=TODAY).level == "low"
    f = triage.parse_factors({"threat": "recent", "in_hiding": "on"}, today=TODAY)
    r = triage.compute_risk(f, today=TODAY)
    assert r.level == "high" and set(r.reasons) == {"threat_recent", "in_hiding"}
    f = triage.parse_factors({"threat": "recent", "in_hiding": "on", "deportation": "order"}, today=TODAY)
    assert triage.compute_risk(f, today=TODAY).score == 14
    soon = (TODAY + timedelta(days=10)).isoformat()
    f = triage.parse_factors({"permit_expires_on": soon, "woman_headed_household": "1"}, today=TODAY)
    r = triage.compute_risk(f, today=TODAY)
    assert r.level == "high" and "deadline_30_days" in r.reasons
    last_month = (TODAY - timedelta(days=30)).isoformat()
    r = triage.compute_risk(triage.parse_factors({"last_threat_on": last_month}, today=TODAY), today=TODAY)
    assert r.reasons == ("threat_recent_date",)


def test_bad_values_are_named():
    with pytest.raises(InvalidInput, match="threat"):
        triage.parse_factors({"threat": "severe"}, today=TODAY)
    with pytest.raises(InvalidInput, match="permit_expires_on"):
        triage.parse_factors({"permit_expires_on": "31/12/2026"}, today=TODAY)
    with pytest.raises(InvalidInput, match="future"):
        triage.parse_factors({"last_threat_on": "2030-01-01"}, today=TODAY)


def test_assessment_history_level_and_audit(database, users):
    cw = users["caseworker"]
    with database.transaction() as db:
        case = make_case(db)
        first = triage.assess_case(db, cw.actor, case.id, {"threat": "past", "note": "Letter from the family"})
        second = triage.assess_case(db, cw.actor, case.id, {"threat": "recent", "in_hiding": "on"})
        assert case.risk_level == "high"
        history = triage.assessment_history(db, case.id)
        assert [h.id for h in history] == [second.id, first.id]
        assert second.supersedes == first.id and second.assessed_by == cw.id
        assert first.note == "Letter from the family" and first.reasons == ["threat_past"]
        events = db.scalars(select(AuditEvent).where(AuditEvent.action == "case:triage")).all()
        assert len(events) == 2 and "Letter" not in events[0].details and "in_hiding" not in events[1].details


def test_military_values_change_nothing_in_triage_order(database, users):
    """Two people with the same protection factors and opposite military records sort by age alone."""
    cw = users["caseworker"]
    with database.transaction() as db:
        general = make_case(db, {"full_name": "A", "rank": "general", "unit": "commando", "service_start": "1380"})
        soldier = make_case(db, {"full_name": "B", "rank": "private", "unit": "logistics", "service_start": "1398"})
        for c in (soldier, general):
            triage.assess_case(db, cw.actor, c.id, {"threat": "recent"})
        order = [r.case_id for r in triage.list_by_risk(db)]
        assert order.index(general.id) < order.index(soldier.id)  # opened first, nothing else
        assert general.risk_level == soldier.risk_level
        critical = make_case(db, {"full_name": "C", "rank": "private"})
        triage.assess_case(db, cw.actor, critical.id, {"threat": "recent", "in_hiding": "on", "deportation": "order"})
        # Same level: the higher score first, then the oldest.
        assert triage.list_by_risk(db)[0].case_id == critical.id
