"""`serve --sealed-only`: the public form and OpenRosa only, no wrapped private key or KDF salt read, and on
PostgreSQL a database role that can store sealed submissions and nothing else."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.exc import ProgrammingError

from amanat.core import crypto
from amanat.core.db import Database
from amanat.core.keystore import load_public_keys, organisation_name
from amanat.core.sealed_role import drop_role_sql, sealed_role_sql
from amanat.intake.models import Submission
from tests.web.test_intake_flow import form


def sealed_node(url: str) -> Database:
    node = Database(url, crypto.KeyHolder(), synchronous="NORMAL")
    with node.reading() as db:
        node.keys.set(crypto.public_ring(load_public_keys(db)))
    return node


def post_form(client: TestClient):
    client.get("/intake")
    return client.post("/intake", data={**form(), "csrf_token": client.cookies.get("amanat_csrf", "")})


def test_a_sealed_only_node_serves_intake_and_openrosa_only(settings, database):
    from amanat.web.app import create_app

    node = sealed_node(database.url)
    seen: list[str] = []
    event.listen(node.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *a: seen.append(statement.lower()))
    app = create_app(settings.model_copy(update={"sealed_only": True}), node)
    with TestClient(app) as client:
        for path in ("/login", "/admin/users", "/cases", "/audit", "/imports", "/admin/alarms", "/review"):
            assert client.get(path).status_code == 404, path
        assert client.post("/login", data={"username": "admin", "password": "x"}).status_code in (403, 404)
        assert client.get("/formList").status_code == 401  # Collect's routes are there
        assert post_form(client).status_code == 201
    assert not node.keys.unlocked
    assert not any("wrapped_private" in s or "keystore_meta.kdf" in s or "keystore_meta.check" in s for s in seen)
    node.dispose()


@pytest.mark.parametrize("backend", ["postgres"])
def test_the_sealed_role_stores_submissions_and_reads_no_keys_or_records(backend, settings, database):
    from amanat.web.app import create_app

    admin = create_engine(database.url, isolation_level="AUTOCOMMIT")
    role = f"intake_{uuid.uuid4().hex[:8]}"
    dbname = database.url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        for statement in sealed_role_sql(role, dbname):
            conn.execute(text(statement))
    url = database.url.replace("://postgres@", f"://{role}@")
    try:
        probe = create_engine(url)
        with probe.connect() as conn:
            for forbidden in ("SELECT wrapped_private FROM org_keys", "SELECT kdf FROM keystore_meta",
                              'SELECT "check" FROM keystore_meta', "SELECT count(*) FROM records",
                              "SELECT count(*) FROM persons", "SELECT count(*) FROM cases",
                              "DELETE FROM audit_events", "UPDATE audit_events SET actor = 'x'"):
                with pytest.raises(ProgrammingError, match="permission denied"):
                    conn.execute(text(forbidden))
                conn.rollback()
        probe.dispose()

        node = sealed_node(url)
        with node.reading() as db:
            assert organisation_name(db) == "Test organisation"
        app = create_app(settings.model_copy(update={"sealed_only": True}), node)
        with TestClient(app) as client:
            assert post_form(client).status_code == 201
        with database.reading() as db:  # read back as the owner: one sealed submission
            assert db.scalar(select(func.count()).select_from(Submission).where(Submission.status == "sealed")) == 1
        node.dispose()
    finally:
        with admin.connect() as conn:
            for statement in drop_role_sql(role):
                conn.execute(text(statement))
        admin.dispose()


@pytest.mark.parametrize("name", ["intake; DROP TABLE records", "Intake", 'intake"', ""])
def test_role_sql_takes_only_plain_identifiers(name: str) -> None:
    # DDL cannot bind parameters: a name that is not a plain identifier never reaches the SQL
    with pytest.raises(ValueError, match="plain lower-case identifiers"):
        sealed_role_sql(name, "amanat")
    with pytest.raises(ValueError, match="plain lower-case identifiers"):
        drop_role_sql(name)
