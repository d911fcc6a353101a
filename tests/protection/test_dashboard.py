"""The dashboard: aggregates only, and no count between 1 and 4 ever shown."""

from __future__ import annotations

import csv
import io

from amanat.cases import dashboard as dash
from amanat.cases import pathways as pw
from amanat.cases import triage
from tests.protection.factories import make_case


def test_suppress():
    assert [dash.suppress(n) for n in (0, 1, 4, 5, 12)] == ["0", "<5", "<5", "5", "12"]


def test_counts_by_status_pathway_province_risk_and_channel(database, users):
    cw = users["caseworker"]
    cat = pw.load_catalog()
    with database.transaction() as db:
        kabul = [make_case(db, province="AF01") for _ in range(6)]
        herat = [make_case(db, province="AF32", channel="whatsapp") for _ in range(2)]
        for c in kabul[:5]:
            pw.add_pathway(db, cw.actor, cat, c.id, "us_siv_com")
            triage.assess_case(db, cw.actor, c.id, {"threat": "recent"})
        pw.add_pathway(db, cw.actor, cat, herat[0].id, "uk_arap")
        board = dash.build_dashboard(db)
        assert board.total_open == 8
        assert {b.key: b.shown for b in board.by_status} == {"new": "8"}
        assert {b.key: b.shown for b in board.by_province} == {"AF01": "6", "AF32": "<5"}
        assert {b.key: b.shown for b in board.by_pathway} == {"us_siv_com": "5", "uk_arap": "<5"}
        assert {b.key: b.shown for b in board.by_risk} == {"high": "5", "not_assessed": "<5"}
        assert {b.key: b.shown for b in board.by_channel} == {"web": "6", "whatsapp": "<5"}
        assert sum(v.get("web", 0) for _d, v in board.intake_days) == 6
        assert board.unassigned == 8 and board.review_backlog == 0
        new = dict((s, (m, n)) for s, m, n in board.days_in_status)["new"]
        assert new[1] == 8 and new[0] is not None
        rows = list(csv.reader(io.StringIO(dash.monthly_report_csv(db, board.intake_days[-1][0][:7]).decode())))
        assert rows[0] == ["section", "key", "count"]
        counts = [r[2] for r in rows[2:]]
        assert all(c == "<5" or c == "0" or int(c) >= 5 for c in counts)
        assert ["intake_by_channel", "whatsapp", "<5"] in rows and ["cases", "opened", "8"] in rows
