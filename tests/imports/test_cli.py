"""`amanat intake whatsapp|table` against the test database (SQLite and PostgreSQL), then the worker."""

from __future__ import annotations

import json
import zipfile

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from amanat.cases.models import Case
from amanat.cli.main import app
from amanat.core.audit import AuditEvent, verify_chain
from amanat.intake.models import Submission, SubmissionPart
from amanat.jobs.pipeline import drain
from amanat.records.models import Document, Record
from tests.imports.data import CHAT_NAME, JPEG, MAPPING_CSV, PNG, chat_zip, table_csv, table_xlsx

BASIS = ["--consent-basis", "paper_intermediary"]  # every import states how consent was given
runner = CliRunner()


@pytest.fixture
def env(database, tmp_path, monkeypatch):
    monkeypatch.setenv("AMANAT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMANAT_DATABASE_URL", database.url)
    monkeypatch.delenv("AMANAT_PASSPHRASE", raising=False)  # sealing needs the public key only
    return tmp_path


def count(database, model=Submission) -> int:
    with database.reading() as db:
        return db.scalar(select(func.count()).select_from(model)) or 0


def test_every_intake_command_has_help():
    for args in (["intake", "--help"], ["intake", "whatsapp", "--help"], ["intake", "table", "--help"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and "Usage" in result.output, (args, result.output)


def test_whatsapp_preview_json_needs_no_database(tmp_path, monkeypatch):
    monkeypatch.setenv("AMANAT_DATA_DIR", str(tmp_path / "nowhere"))
    export = tmp_path / f"{CHAT_NAME}.zip"
    export.write_bytes(chat_zip())
    result = runner.invoke(app, ["intake", "whatsapp", str(export), "--intermediary", "Commander T",
                                 "--preview", "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) == {"messages", "submissions", "skipped"}
    assert len(doc["messages"]) == 8
    first, second = doc["submissions"]
    assert first["fields"]["full_name"] == "زرمینه آزمون"
    assert first["field_sources"]["full_name"].startswith("message 2, line 1 (2021-05-30T18:44")
    assert first["attachments"] == [{"name": "IMG-20210530-WA0001.jpg", "content_type": "image/jpeg",
                                     "size": len(JPEG)}]
    assert first["provenance"]["intermediary"] == "Commander T"
    assert [c["index"] for c in first["context"]] == [0, 1]    # the greeting and the photo's caption
    assert second["attachments"][0]["content_type"] == "image/png"
    assert [(s["message"], s["reason"]) for s in doc["skipped"]] == [(7, "no name field")]
    assert not (tmp_path / "nowhere").exists()                # no database was opened


def test_whatsapp_preview_lists_field_names_not_values(tmp_path):
    export = tmp_path / "chat.zip"
    export.write_bytes(chat_zip())
    result = runner.invoke(app, ["intake", "whatsapp", str(export), "--intermediary", "T", "--preview"])
    assert result.exit_code == 0, result.output
    assert "full_name" in result.stdout and "no name field" in result.stdout
    assert "زرمینه" not in result.output and "Testa" not in result.output


def test_whatsapp_import_is_sealed_then_stored_with_provenance_and_context(env, database):
    export = env / f"{CHAT_NAME}.zip"
    export.write_bytes(chat_zip())
    result = runner.invoke(app, ["intake", "whatsapp", str(export), "--intermediary", "Commander T", *BASIS])
    assert result.exit_code == 0, result.output
    assert "Sealed 2 submissions" in result.output
    with database.reading() as db:
        subs = db.scalars(select(Submission).order_by(Submission.received_at)).all()
        assert len(subs) == 2 and {s.status for s in subs} == {"sealed"} and {s.channel for s in subs} == {"whatsapp"}
        assert len({s.batch_id for s in subs}) == 1 and subs[0].batch_id
        for s in subs:
            assert s.sealed and "زرمینه".encode() not in s.sealed and b"Testa" not in s.sealed
            assert b"Commander" not in s.sealed
        parts = db.scalars(select(SubmissionPart)).all()
        assert len(parts) == 2 and all(JPEG not in p.sealed and PNG not in p.sealed for p in parts)
        actions = [a for a, in db.execute(select(AuditEvent.action).order_by(AuditEvent.seq))]
        assert actions.count("submission:receive") == 2 and actions[-1] == "import:store"
    assert all(step.ok for step in drain(database))
    with database.reading() as db:
        records = {r.data["full_name"]: r for r in db.scalars(select(Record))}
        rec = records["زرمینه آزمون"]
        prov = rec.provenance
        assert prov["provenance"]["intermediary"] == "Commander T"
        assert prov["provenance"]["messages"] == [2, 4]
        origin = prov["provenance"]["import"]
        assert origin["file"] == f"{CHAT_NAME}.zip" and origin["channel"] == "whatsapp"
        assert origin["batch"] == subs[0].batch_id and origin["original_kept"] is False
        assert len(origin["file_sha256"]) == 64 and origin["at"]
        assert prov["field_sources"]["rank"].startswith("message 2, line 4")
        assert [c["text"] for c in prov["context"]] == ["سلام، فورم دو نفر دیگر", "تذکره اش"]
        docs = db.scalars(select(Document).where(Document.record_id == rec.id)).all()
        assert [(d.filename, d.content) for d in docs] == [("IMG-20210530-WA0001.jpg", JPEG)]
        assert records["Testa Khanova"].data["unit"] == "215 Corps"
        assert db.scalar(select(func.count()).select_from(Case)) == 2
        assert verify_chain(db).ok


def test_truncated_zip_is_one_clear_line_and_stores_nothing(env, database):
    export = env / "chat.zip"
    export.write_bytes(chat_zip()[:-200])
    result = runner.invoke(app, ["intake", "whatsapp", str(export), "--intermediary", "T", *BASIS])
    assert result.exit_code == 1
    assert "chat.zip: not a readable zip archive (truncated or damaged)" in result.output
    assert "Traceback" not in result.output
    assert count(database) == 0


def test_chat_without_forms_stores_nothing(env, database):
    export = env / "chat.txt"
    export.write_text("12/07/2021, 22:35 - A: hello\n12/07/2021, 22:36 - B: hi\n", encoding="utf-8")
    result = runner.invoke(app, ["intake", "whatsapp", str(export), "--intermediary", "T", *BASIS])
    assert result.exit_code == 1 and "no typed forms found" in result.output
    assert count(database) == 0


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_table_import_with_a_mapping_file(env, database, kind):
    table = env / f"kobo.{kind}"
    table.write_bytes(table_csv() if kind == "csv" else table_xlsx())
    mapping = env / "map.csv"
    mapping.write_text(MAPPING_CSV, encoding="utf-8")
    result = runner.invoke(app, ["intake", "table", str(table), "--mapping", str(mapping), *BASIS])
    assert result.exit_code == 0, result.output
    assert "Sealed 2 submissions" in result.output
    with database.reading() as db:
        subs = db.scalars(select(Submission)).all()
        assert {s.instance_id for s in subs} == {"uuid:5f8a2c1e-0000-4000-8000-000000000001",
                                                 "uuid:5f8a2c1e-0000-4000-8000-000000000002"}
        assert all(b"Testa" not in s.sealed for s in subs)
    assert all(step.ok for step in drain(database))
    with database.reading() as db:
        recs = sorted(db.scalars(select(Record)), key=lambda r: r.provenance["provenance"]["row"])
        assert [r.data.get("unit") for r in recs] == ["Kandak 1", "Kandak 2"]    # by the mapping file
        assert recs[0].data["date_of_birth"] == "1365"                          # by its Dari label
        # A CSV cell is kept as typed; in a workbook it is a formula, read as its (absent) cached value.
        assert recs[1].data.get("full_name") == ('=HYPERLINK("x")' if kind == "csv" else None)
        assert recs[0].provenance["field_sources"]["unit"] == "row 2, column G"
        assert recs[1].provenance["provenance"]["import"]["file"] == f"kobo.{kind}"
    # The same export again: every row was already received.
    again = runner.invoke(app, ["intake", "table", str(table), "--mapping", str(mapping), *BASIS])
    assert again.exit_code == 0 and "Nothing new" in again.output
    assert count(database) == 2


def test_a_bad_row_stores_nothing_and_names_row_and_column(env, database):
    rows = [["1", "", "Testa One", "", "", "", ""], ["2", "", "Testa Two", "", "", "", "", "stray"]]
    table = env / "list.csv"
    table.write_bytes(table_csv(rows))
    result = runner.invoke(app, ["intake", "table", str(table), *BASIS])
    assert result.exit_code == 1
    assert "list.csv, row 3, column H: a value in a column that has no header" in result.output
    assert "Testa" not in result.output and "stray" not in result.output
    assert count(database) == 0 and count(database, AuditEvent) == 0
    preview = runner.invoke(app, ["intake", "table", str(table), "--preview"])
    assert preview.exit_code == 1 and "row 3, column H" in preview.stdout


def test_damaged_xlsx_is_one_clear_line(env, database):
    table = env / "list.xlsx"
    with zipfile.ZipFile(table, "w") as zf:
        zf.writestr("nothing.txt", "x")
    result = runner.invoke(app, ["intake", "table", str(table), *BASIS])
    assert result.exit_code == 1 and "list.xlsx: not a readable XLSX workbook" in result.output
    assert count(database) == 0
