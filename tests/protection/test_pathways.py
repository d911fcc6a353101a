"""Pathways as data: the catalog file, a case's checklist from documents, attestations and fields."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from amanat.cases import pathways as pw
from amanat.core.audit import AuditEvent
from amanat.errors import InvalidInput
from tests.protection.factories import make_case


def test_shipped_catalog_has_the_pathways_in_three_languages():
    cat = pw.load_catalog()
    assert {"us_siv_com", "us_p1_p2", "uk_arap", "de_bap", "ca_humanitarian", "local_protection"} <= set(cat.pathways)
    siv = cat.get("us_siv_com")
    assert {"hr_letter", "supervisor_recommendation", "ds157", "national_id"} <= {i.code for i in siv.items}
    for p in cat.pathways.values():
        for labels in [p.name, *(i.label for i in p.items), *(d.label for d in p.deadlines)]:
            assert set(labels) == {"en", "fa_AF", "ps_AF"}, (p.code, labels)


def test_an_admin_file_replaces_the_catalog_and_errors_name_the_place(tmp_path):
    path = tmp_path / "pathways.yaml"
    path.write_text("pathways:\n  - code: only_one\n    name: {en: Only one}\n    items:\n"
                    "      - {code: id, kind: document, documents: [doc_tazkira], label: {en: ID}}\n",
                    encoding="utf-8")
    cat = pw.load_catalog(path)
    assert list(cat.pathways) == ["only_one"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"pathways": [{"code": "x", "name": {"en": "X"},
                                             "items": [{"code": "a", "kind": "wish", "label": {"en": "A"}}]}]}))
    with pytest.raises(InvalidInput, match="pathway x item 1 kind"):
        pw.load_catalog(bad)
    with pytest.raises(InvalidInput, match="does not exist"):
        pw.load_catalog(tmp_path / "missing.json")


def test_checklist_state_from_evidence_and_manual(database, users):
    cw = users["caseworker"]
    cat = pw.load_catalog()
    with database.transaction() as db:
        case = make_case(db)
        row = pw.add_pathway(db, cw.actor, cat, case.id, "us_siv_com")
        assert case.pathway == "us_siv_com"
        with pytest.raises(InvalidInput, match="already"):
            pw.add_pathway(db, cw.actor, cat, case.id, "us_siv_com")
        evidence = pw.Evidence(documents=frozenset({"doc_tazkira", "doc_service"}),
                               attestations=frozenset({("document_check", "confirmed"), ("vouching", "inconclusive")}))
        [checklist] = pw.checklists(db, cat, case, evidence)
        met = {s.item.code: s.source for s in checklist.items if s.met}
        assert met == {"hr_letter": "document", "national_id": "document", "identity_checked": "attestation"}
        assert {i.code for i in checklist.missing} == {"supervisor_recommendation", "ds157", "employment_confirmed"}
        assert checklist.deadlines[0].due == row.added_at.date() + timedelta(days=90)
        pw.confirm_item(db, cw.actor, cat, case.id, row.id, "ds157", confirmed=True)
        [checklist] = pw.checklists(db, cat, case, evidence)
        assert {s.item.code: s.source for s in checklist.items if s.met}["ds157"] == "manual"
        pw.confirm_item(db, cw.actor, cat, case.id, row.id, "ds157", confirmed=False)
        [checklist] = pw.checklists(db, cat, case, pw.Evidence(risk_level="high"))
        assert not any(s.met for s in checklist.items)
        with pytest.raises(InvalidInput, match="not on this pathway"):
            pw.confirm_item(db, cw.actor, cat, case.id, row.id, "nonsense", confirmed=True)
        actions = [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.seq))]
        assert actions.count("case:pathway_item") == 2 and "case:pathway_add" in actions
