"""The audit log's tail cannot be cut, nor the chain rebuilt, without an anchor kept elsewhere saying so."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from amanat.cli.main import app
from amanat.core.audit import GENESIS, Actor, AuditEvent, _digest, record_event, verify_chain
from amanat.core.audit_anchor import AnchorWriter, make_anchor, read_anchors, verify_anchors

runner = CliRunner()
SECRET = "anchor-test-secret"


def events(database, n: int, action: str = "record:reveal") -> None:
    with database.transaction() as db:
        for i in range(n):
            record_event(db, Actor("user:x"), action, "record", f"r{i}", field="tazkira_number")


def rebuild_chain(db) -> None:
    """What an attacker with the database does: rewrite the events, recompute every hash from genesis."""
    prev = GENESIS
    for ev in db.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all():
        action = "case:open" if ev.action == "record:reveal" else ev.action
        at = ev.at - timedelta(seconds=1)
        digest = _digest(prev, ev.seq, at, ev.actor, ev.actor_id, action, ev.subject_type, ev.subject_id,
                         ev.details)
        db.execute(update(AuditEvent).where(AuditEvent.seq == ev.seq)
                   .values(action=action, at=at, prev_hash=prev, hash=digest))
        prev = digest


def test_a_cut_tail_verifies_without_an_anchor_and_fails_with_one(database):
    events(database, 6)
    with database.reading() as db:
        anchor = make_anchor(db, SECRET)
    assert anchor.seq == 6
    with database.transaction() as db:  # the newest reveals deleted
        db.execute(delete(AuditEvent).where(AuditEvent.seq > 3))
    with database.reading() as db:
        assert verify_chain(db).ok  # the chain alone cannot see it
        verdict = verify_anchors(db, [anchor], SECRET)
    assert not verdict.ok and "TRUNCATED" in verdict.reason and "event 6" in verdict.reason


def test_a_rebuilt_chain_verifies_without_an_anchor_and_fails_with_one(database):
    events(database, 5)
    with database.reading() as db:
        anchor = make_anchor(db, SECRET)
    with database.transaction() as db:
        rebuild_chain(db)
    with database.reading() as db:
        assert verify_chain(db).ok
        verdict = verify_anchors(db, [anchor], SECRET)
    assert not verdict.ok and "REBUILT" in verdict.reason


def test_a_forged_anchor_is_refused_and_a_true_one_holds(database):
    events(database, 3)
    with database.reading() as db:
        anchor = make_anchor(db, SECRET)
        assert verify_anchors(db, [anchor], SECRET).ok
        assert not verify_anchors(db, [anchor], "another-secret").ok


def test_the_writer_anchors_at_each_checkpoint_where_the_head_moved(database, tmp_path):
    path = tmp_path / "anchors" / "audit.anchors"
    writer = AnchorWriter(database.reading, path, SECRET, interval=3600)
    events(database, 2)
    assert writer.checkpoint() is True
    assert writer.checkpoint() is False  # the head did not move
    events(database, 1)
    assert writer.checkpoint() is True
    anchors = read_anchors(path)
    assert [a.seq for a in anchors] == [2, 3]
    assert path.stat().st_mode & 0o777 == 0o600
    with database.reading() as db:
        assert verify_anchors(db, anchors, SECRET).ok


def test_the_server_writes_an_anchor_on_start_and_stop(settings, database, tmp_path):
    from fastapi.testclient import TestClient

    from amanat.web.app import create_app

    events(database, 2)
    path = tmp_path / "server.anchors"
    configured = settings.model_copy(update={"audit_anchor_path": path, "secret_key": settings.secret_key})
    with TestClient(create_app(configured, database)):
        assert read_anchors(path)[-1].seq == 2
    assert len(read_anchors(path)) == 1  # the head did not move in between


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("AMANAT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMANAT_PASSPHRASE", "a long enough passphrase for tests")
    monkeypatch.setenv("AMANAT_KDF_MEMORY_KIB", "64")
    monkeypatch.setenv("AMANAT_KDF_TIME_COST", "1")
    monkeypatch.setenv("AMANAT_ARGON2_MEMORY_KIB", "64")
    monkeypatch.setenv("AMANAT_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("AMANAT_SECRET_KEY", SECRET)
    return tmp_path


def test_cli_anchor_then_verify_detects_truncation_and_rebuilding(env):
    assert runner.invoke(app, ["init", "--organisation", "Test NGO"]).exit_code == 0
    for name in ("amina", "bashir"):
        monkey = runner.invoke(app, ["users", "add", name, "--role", "caseworker"],
                               env={"AMANAT_NEW_PASSWORD": "a-long-new-user-password-42"})
        assert monkey.exit_code == 0, monkey.output
    anchors = env / "kept-elsewhere.anchors"
    made = runner.invoke(app, ["audit", "anchor", "--out", str(anchors)])
    assert made.exit_code == 0, made.output
    assert json.loads(anchors.read_text().splitlines()[0])["seq"] >= 3
    ok = runner.invoke(app, ["audit", "verify", "--anchor", str(anchors)])
    assert ok.exit_code == 0 and "1 anchors hold" in ok.output, ok.output

    con = sqlite3.connect(env / "amanat.db")
    last = con.execute("SELECT max(seq) FROM audit_events").fetchone()[0]
    con.execute("DELETE FROM audit_events WHERE seq = ?", (last,))
    con.commit()
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0  # unseen without the anchor
    cut = runner.invoke(app, ["audit", "verify", "--anchor", str(anchors)])
    assert cut.exit_code == 1 and "TRUNCATED" in cut.output, cut.output

    con.execute("DELETE FROM audit_events")
    con.commit()
    con.close()
    gone = runner.invoke(app, ["audit", "verify", "--anchor", str(anchors)])
    assert gone.exit_code == 1 and "TRUNCATED" in gone.output


def test_cli_refuses_a_damaged_anchor_file(env, tmp_path):
    assert runner.invoke(app, ["init", "--organisation", "Test NGO"]).exit_code == 0
    bad = tmp_path / "bad.anchors"
    bad.write_text("not json\n")
    result = runner.invoke(app, ["audit", "verify", "--anchor", str(bad)])
    assert result.exit_code == 1 and "line 1: not an audit anchor" in result.output
