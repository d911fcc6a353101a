"""Uploads that cannot hurt intake: every limit is counted while the file is read, named in a 413, and nothing
of a refused file is stored; the file is parsed before any write transaction begins."""

from __future__ import annotations

import io
import sqlite3
import zipfile

import pytest
from sqlalchemy import func, select

from amanat.core.audit import Actor
from amanat.intake import imports
from amanat.intake.models import Submission
from amanat.intake.upload_limits import UploadLimitExceeded, UploadLimits
from tests.conftest import login
from tests.imports.data import BASIS, CHAT, CHAT_NAME, CONSENT, TABLE_HEADER, table_csv, table_xlsx
from tests.imports.test_odk_zip import build_zip, upload
from tests.imports.test_web import upload_chat
from tests.openrosa.conftest import FORM, new_instance_id, submission_xml

ACTOR = Actor("test:import")


def stored(database) -> int:
    with database.reading() as db:
        return db.scalar(select(func.count()).select_from(Submission)) or 0


def deflated(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buf.getvalue()


def test_a_chat_zip_of_newlines_is_refused_by_its_lines(client, database):
    """A small zip holding one message and a flood of newlines (the 1 MB → 1000 MiB bomb, scaled down)."""
    login(client, "referrer")
    bomb = deflated({f"{CHAT_NAME}.txt": CHAT.encode() + b"\n" * 600_000})
    assert len(bomb) < 10_000
    r = upload_chat(client, bomb)
    assert r.status_code == 413, r.text[:300]
    assert f"{CHAT_NAME}.zip" in r.text and "500000 lines" in r.text
    assert stored(database) == 0


def test_a_chat_zip_is_stopped_at_the_unpacked_limit_while_reading():
    """The counting reader stops the member at the limit; the header's declared size is not what decides."""
    bomb = deflated({"_chat.txt": CHAT.encode() + b" " * (3 << 20)})
    limits = UploadLimits(max_unpacked_bytes=1 << 20)
    with pytest.raises(UploadLimitExceeded) as caught:
        imports.preview_whatsapp(bomb, file_name="chat.zip", intermediary="T", limits=limits)
    assert caught.value.status == 413 and "chat.zip" in str(caught.value) and "1 MiB" in str(caught.value)


def test_a_chat_with_too_many_attachments_is_refused():
    media = {f"IMG-{i:04d}.jpg": b"\xff\xd8\xff" for i in range(12)}
    with pytest.raises(UploadLimitExceeded, match="files"):
        imports.preview_whatsapp(deflated({"_chat.txt": CHAT.encode(), **media}), file_name="c.zip",
                                 intermediary="T", limits=UploadLimits(max_attachments=10))


def test_a_table_past_the_row_limit_is_refused_and_nothing_is_stored(client, database):
    login(client, "referrer")
    rows = [[str(i), "", f"Testa {i}", "", "", "", ""] for i in range(50_001)]
    r = client.post("/imports/table", data={"csrf_token": client.cookies.get("amanat_csrf"), **BASIS},
                    files={"table": ("list.csv", io.BytesIO(table_csv(rows)), "text/csv")})
    assert r.status_code == 413, r.text[:300]
    assert "list.csv" in r.text and "50000 rows" in r.text
    assert stored(database) == 0


def test_an_xlsx_that_unpacks_past_the_limit_is_refused_before_openpyxl_reads_it(database):
    rows: list[list[object]] = [["1", "", "Testa", "", "", "", ""]] * 3000
    data = table_xlsx(rows)
    with pytest.raises(UploadLimitExceeded, match="unpacks to more than the limit"), database.transaction() as db:
        imports.import_table(db, database.keys, io.BytesIO(data), file_name="big.xlsx", mapping=None, actor=ACTOR,
                             consent=CONSENT, limits=UploadLimits(max_unpacked_bytes=64 * 1024))
    assert stored(database) == 0


def test_columns_and_cells_are_limited(database):
    wide = ",".join(f"c{i}" for i in range(300)).encode() + b"\n" + b"x," * 299 + b"x\n"
    with pytest.raises(UploadLimitExceeded, match="300 columns"):
        imports.preview_table(io.BytesIO(wide), file_name="wide.csv")
    long_cell = table_csv([["1", "", "T" * 20_000, "", "", "", ""]])
    result = imports.preview_table(io.BytesIO(long_cell), file_name="long.csv")
    assert result.errors and "10000 characters" in str(result.errors[0])
    assert TABLE_HEADER  # the header of the shared fixture is what the tables above extend


def test_the_odk_zip_path_has_the_per_file_limit(client, database):
    """A 0.9 MB zip whose photo unpacks to 12 MiB (the 900 MiB document, scaled down) is refused, named."""
    login(client, "referrer")
    iid = new_instance_id()
    data = build_zip({"a/submission.xml": submission_xml(iid, photo="p.jpg"),
                      "a/p.jpg": b"\xff\xd8\xff" + b"\0" * (12 << 20)})
    assert len(data) < 1 << 20
    r = upload(client, data, "photos.zip")
    assert r.status_code == 413, r.text[:300]
    assert "photos.zip" in r.text and "10 MiB" in r.text and "for one file" in r.text
    assert stored(database) == 0


def test_an_upload_is_parsed_before_the_write_lock_is_taken(client, database, monkeypatch):
    """While the table is being read another writer commits at once: the import holds no write transaction.
    (On SQLite an upload used to hold the lock from its first statement until the last row was sealed.)"""
    if not database.is_sqlite:
        pytest.skip("the write lock is SQLite's")
    path = database.engine.url.database
    seen: list[str] = []
    real = imports.read_table

    def reading_table(*args, **kwargs):  # type: ignore[no-untyped-def]
        other = sqlite3.connect(path, timeout=0.2, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            seen.append("free")
        except sqlite3.OperationalError:
            seen.append("locked")
        finally:
            other.close()
        return real(*args, **kwargs)

    monkeypatch.setattr(imports, "read_table", reading_table)
    login(client, "referrer")
    r = client.post("/imports/table", data={"csrf_token": client.cookies.get("amanat_csrf"), **BASIS},
                    files={"table": ("list.csv", io.BytesIO(table_csv()), "text/csv")})
    assert r.status_code == 200, r.text[:300]
    assert seen == ["free"]


def test_a_failure_while_storing_leaves_nothing(database, monkeypatch):
    """Written in short transactions; if one fails, the rows already written are deleted."""
    rows = [[str(i), "", f"Testa {i}", "", "", "", ""] for i in range(1200)]
    plan = imports.plan_table(database.keys, io.BytesIO(table_csv(rows)), file_name="l.csv", mapping=None,
                              spec=imports.load_form(), actor=ACTOR, consent=CONSENT)
    from amanat.intake import import_plan

    calls = {"n": 0}
    real = import_plan._write_chunk

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(import_plan, "_write_chunk", failing)
    with pytest.raises(RuntimeError):
        imports.store_plan_bounded(database, plan, actor=ACTOR, hold=True)
    assert stored(database) == 0


def test_instance_ids_already_received_are_skipped_when_stored(database):
    iid = new_instance_id()
    data = build_zip({"a/submission.xml": submission_xml(iid)})
    with database.transaction() as db:
        first = imports.import_odk_zip(db, database.keys, data, file_name="a.zip", actor=ACTOR)
    plan = imports.plan_odk_zip(database.keys, data, file_name="a.zip", forms={FORM.form_id}, actor=ACTOR)
    again = imports.store_plan_bounded(database, plan, actor=ACTOR)
    assert first.submissions == 1 and again.submissions == 0 and again.skipped and again.batch_id is None
    assert stored(database) == 1
