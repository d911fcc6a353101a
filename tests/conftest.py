"""Shared fixtures: settings, a database per test on SQLite and PostgreSQL, an app client, one actor per role.

PostgreSQL is the local server on 127.0.0.1:5432 (database `test`, trust auth) unless
AMANAT_TEST_POSTGRES_URL says otherwise. Where it is unreachable, its tests skip with a message; under CI
(CI=true) they fail instead, because there they must run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from amanat.accounts.service import Accounts, CurrentUser
from amanat.config import Settings
from amanat.core import crypto, migrate
from amanat.core.audit import Actor
from amanat.core.db import Database
from amanat.core.keystore import save_keystore
from amanat.core.permissions import Role
from amanat.migrations.models import Base

PG_ADMIN_URL = os.environ.get("AMANAT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSPHRASE = "correct horse battery staple"
PASSWORD = "test-password-123"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_data(*parts: str) -> Path:
    path = SHARED.joinpath("data", *parts)
    if not path.exists():
        pytest.skip(f"reference data {path} is not present beside the checkout")
    return path


@pytest.fixture(scope="session")
def keystore() -> crypto.Keystore:
    # A cheap KDF for tests only; production settings refuse these costs.
    return crypto.create_keystore(PASSPHRASE, time_cost=1, memory_kib=64)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means: not here
        return type(exc).__name__


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    reason = _pg_available()
    if reason is not None:
        where = PG_ADMIN_URL.split("@")[-1]
        msg = f"PostgreSQL is not reachable at {where} ({reason}): PostgreSQL storage tests skipped"
        if os.environ.get("CI"):
            pytest.fail(msg + " — but CI must run them")
        pytest.skip(msg)
    name = f"amanat_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(environment="test", data_dir=tmp_path, argon2_time_cost=1, argon2_memory_kib=64,
                    kdf_time_cost=1, kdf_memory_kib=64, run_worker_in_process=False,
                    sqlite_synchronous="NORMAL")


@pytest.fixture
def database(backend: str, settings: Settings, keystore: crypto.Keystore, sqlite_template: Path,
             request: pytest.FixtureRequest) -> Iterator[Database]:
    if backend == "sqlite":
        path = settings.data_dir / "amanat.db"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_url")
        engine = create_engine(url)
        with engine.begin() as conn:
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
        engine.dispose()
    db = Database(url, crypto.KeyHolder(), synchronous="NORMAL")
    with db.transaction() as session:
        save_keystore(session, keystore, "Test organisation")
    db.keys.set(crypto.unlock(keystore, PASSPHRASE))
    yield db
    db.dispose()


@pytest.fixture
def accounts() -> Accounts:
    return Accounts(time_cost=1, memory_kib=64)


@pytest.fixture
def users(database: Database, accounts: Accounts) -> dict[str, CurrentUser]:
    out: dict[str, CurrentUser] = {}
    with database.transaction() as db:
        for role in Role:
            out[role.value], _ = accounts.create_user(db, Actor("test"), username=role.value, password=PASSWORD,
                                                      role=role.value)
    return out


@pytest.fixture
def app(settings: Settings, database: Database, users: dict[str, CurrentUser]):  # type: ignore[no-untyped-def]
    from amanat.web.app import create_app

    return create_app(settings, database)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="http://testserver") as c:
        yield c


def csrf(client: TestClient) -> str:
    """The double-submit token: fetch a page to get the cookie, return its value."""
    if "amanat_csrf" not in client.cookies:
        client.get("/login")
    return str(client.cookies["amanat_csrf"])


def login(client: TestClient, role: str) -> TestClient:
    response = client.post("/login", data={"username": role, "password": PASSWORD, "csrf_token": csrf(client),
                                           "next": "/"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    csrf(client)
    return client
