"""The import service directly: the current form's version, row errors collected at once, the language guess."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select

from amanat.core.audit import Actor
from amanat.forms.spec import SHIPPED_FORM
from amanat.intake.form_versions import upload_form
from amanat.intake.imports import ImportRejected, import_table, import_whatsapp, preview_table
from amanat.intake.models import Submission
from tests.imports.data import CONSENT, chat_zip, table_csv

ACTOR = Actor("test:import")


def test_submissions_carry_the_current_form_version(database):
    wb = openpyxl.load_workbook(SHIPPED_FORM)
    wb["settings"]["B2"] = "2026120101"
    buf = io.BytesIO()
    wb.save(buf)
    with database.transaction() as db:
        upload_form(db, ACTOR, buf.getvalue(), public_key_b64=database.keys.odk_public_key_b64())
        result = import_whatsapp(db, database.keys, chat_zip(), file_name="chat.zip", intermediary="T", actor=ACTOR,
                                 consent=CONSENT)
    assert result.submissions == 2 and result.status == "sealed"
    with database.reading() as db:
        subs = db.scalars(select(Submission)).all()
        assert {s.form_version for s in subs} == {"2026120101"}
        # Dari typed form → prs, the Latin one → en.
        assert sorted(s.language for s in subs) == ["en", "prs"]


def test_every_row_error_is_collected_and_nothing_is_left(database):
    rows = [["1", "", "Testa One", "", "", "", ""], *[[str(i), "", "", "", "", "", "", "x"] for i in range(2, 6)]]
    with pytest.raises(ImportRejected) as caught, database.transaction() as db:
        import_table(db, database.keys, io.BytesIO(table_csv(rows)), file_name="list.csv", mapping=None,
                     actor=ACTOR, consent=CONSENT)
    exc = caught.value
    assert [(e.row, e.column) for e in exc.errors] == [(3, "H"), (4, "H"), (5, "H"), (6, "H")]
    assert str(exc) == "list.csv, row 3, column H: a value in a column that has no header (and 3 more row errors)"
    with database.reading() as db:
        assert db.scalars(select(Submission)).all() == []
    preview = preview_table(io.BytesIO(table_csv(rows)), file_name="list.csv")
    assert len(preview.errors) == 4 and preview.submissions == 1 and preview.rows == 5


def test_result_reprs_hold_no_values(database):
    with database.transaction() as db:
        result = import_table(db, database.keys, io.BytesIO(table_csv()), file_name="Testa list.csv",
                              mapping=None, actor=ACTOR, consent=CONSENT, hold=True)
    assert "Testa" not in repr(result) and result.status == "held"
    assert [s.row for s in result.samples] == [2, 4]
    assert result.columns["Colonne X"] is None and "Colonne X" in result.unmapped
