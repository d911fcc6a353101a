"""Finding 1: weak passwords and a weak production passphrase were accepted."""

import pytest
from pydantic import ValidationError

from amanat.config import Settings
from amanat.core.audit import Actor
from amanat.errors import InvalidInput

WEAK = ["aaaaaaaaaa", "aaaaaaaaaaaa", "password12", "password1234", " " * 12, "qwertyuiop12",
        "caseworker-2caseworker-2", "short-1"]


@pytest.mark.parametrize("password", WEAK)
def test_weak_passwords_are_refused(database, accounts, password):
    with database.transaction() as db, pytest.raises(InvalidInput) as err:
        accounts.create_user(db, Actor("test"), username="caseworker-2", password=password, role="caseworker")
    assert err.value.field == "password"
    assert password.strip() == "" or password not in err.value.public_message  # the rule, never the value


def test_a_strong_password_is_accepted(database, accounts):
    with database.transaction() as db:
        user, _ = accounts.create_user(db, Actor("test"), username="caseworker-2",
                                       password="lantern orchard quietly 7", role="caseworker")
    assert user.username == "caseworker-2"


def _production(**extra):
    return Settings(environment="production", secret_key="a-real-secret-for-this-test-only-x9",
                    base_url="https://amanat.example.org", **extra)


@pytest.mark.parametrize("passphrase", ["aaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaa", "password12345678"])
def test_a_weak_production_passphrase_is_refused(passphrase):
    with pytest.raises(ValidationError, match="AMANAT_PASSPHRASE"):
        _production(passphrase=passphrase)


def test_a_strong_production_passphrase_is_accepted():
    assert _production(passphrase="copper kettle winter harbour").passphrase is not None


def test_init_refuses_a_weak_passphrase_typed_in_production(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from amanat.cli.main import app

    for key in ("AMANAT_PASSPHRASE", "AMANAT_KDF_MEMORY_KIB", "AMANAT_ARGON2_MEMORY_KIB"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AMANAT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AMANAT_ENVIRONMENT", "production")
    monkeypatch.setenv("AMANAT_SECRET_KEY", "a-real-secret-for-this-test-only-x9")
    monkeypatch.setenv("AMANAT_BASE_URL", "https://amanat.example.org")
    weak = "aaaaaaaaaaaaaaaa"
    monkeypatch.setattr("amanat.cli.admin.read_passphrase", lambda settings, confirm=False: weak)  # as typed
    result = CliRunner().invoke(app, ["init"])
    assert result.exit_code != 0
    assert "passphrase" in result.output.lower() and weak not in result.output
    assert not (tmp_path / "amanat.db").exists() or (tmp_path / "amanat.db").stat().st_size == 0
