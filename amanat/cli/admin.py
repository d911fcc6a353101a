"""init, db, users, audit, keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from amanat.cli.main import (
    app,
    audit_app,
    console,
    db_app,
    friendly,
    keys_app,
    progress,
    read_passphrase,
    settings_of,
    users_app,
)
from amanat.config import Settings
from amanat.core import crypto
from amanat.core.audit import Actor, count_events, record_event, verify_chain
from amanat.core.db import Database, open_database
from amanat.core.keystore import load_keystore, save_keystore, store_rotated_key
from amanat.errors import AmanatError, Conflict

CLI = Actor("system:cli")


def open_unlocked(settings: Settings) -> Database:
    database = open_database(settings)
    with database.reading() as db:
        keystore = load_keystore(db)
    if keystore is None:
        raise AmanatError("This database has no keys yet: run `amanat init` first.", code="not_initialised")
    database.keys.set(crypto.unlock(keystore, read_passphrase(settings)))
    return database


def initialise(settings: Settings, organisation: str, passphrase: str) -> Database:
    """Create the schema and the organisation's keys (refuses to overwrite existing keys)."""
    from amanat.core import migrate  # alembic: only for the commands that migrate

    database = open_database(settings)
    migrate.upgrade(database.url)
    with database.transaction() as db:
        if load_keystore(db) is not None:
            raise Conflict("This database already has keys; refusing to replace them.", code="already_initialised")
        keystore = crypto.create_keystore(passphrase, time_cost=settings.kdf_time_cost,
                                          memory_kib=settings.kdf_memory_kib)
        save_keystore(db, keystore, organisation)
        database.keys.set(crypto.unlock(keystore, passphrase))
        record_event(db, CLI, "keys:create", "organisation", None, keys=len(keystore.keys))
    return database


@app.command()
@friendly
def init(ctx: typer.Context,
         organisation: Annotated[str, typer.Option(help="The organisation's name.")] = "Amanat",
         admin: Annotated[str | None, typer.Option(help="Also create this admin user.")] = None) -> None:
    """Create the database and the organisation's keys, protected by a passphrase."""
    settings = settings_of(ctx)
    passphrase = read_passphrase(settings, confirm=True)
    if len(passphrase) < 12 and settings.environment == "production":
        raise AmanatError("The passphrase must have at least 12 characters.", code="passphrase_weak")
    database = initialise(settings, organisation, passphrase)
    if admin:
        from amanat.accounts.service import Accounts

        password = typer.prompt(f"Password for {admin}", hide_input=True, confirmation_prompt=True)
        with database.transaction() as db:
            Accounts().create_user(db, CLI, username=admin, password=password, role="admin")
    console.print(f"[green]Initialised[/green] {organisation} at {settings.effective_database_url.split('?')[0]}")


@db_app.command("upgrade")
@friendly
def db_upgrade(ctx: typer.Context) -> None:
    """Apply all migrations (alembic upgrade head)."""
    settings = settings_of(ctx)
    from amanat.core import migrate  # alembic: only for the commands that migrate

    database = open_database(settings)
    migrate.upgrade(database.url)
    console.print(f"[green]Database at revision[/green] {migrate.current_head()}")


@users_app.command("add")
@friendly
def users_add(ctx: typer.Context, username: str,
              role: Annotated[str, typer.Option(help="admin, caseworker, verifier, referrer or auditor.")],
              display_name: Annotated[str, typer.Option(help="Name shown to colleagues.")] = "",
              totp: Annotated[bool, typer.Option(help="Require an authenticator code at sign-in.")] = False) -> None:
    """Add a staff user (the password is asked for, or read from AMANAT_NEW_PASSWORD)."""
    import os

    from amanat.accounts.service import Accounts

    settings = settings_of(ctx)
    password = os.environ.get("AMANAT_NEW_PASSWORD") or typer.prompt("Password", hide_input=True,
                                                                      confirmation_prompt=True)
    database = open_unlocked(settings)
    with database.transaction() as db:
        user, uri = Accounts(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib).create_user(
            db, CLI, username=username, password=password, role=role, display_name=display_name, totp=totp)
    console.print(f"[green]Added[/green] {user.username} ({user.role})")
    if uri:
        typer.echo(f"Authenticator set-up URI (show once, then clear your terminal): {uri}")


@users_app.command("list")
@friendly
def users_list(ctx: typer.Context) -> None:
    """List staff users and their roles."""
    from amanat.accounts.service import Accounts

    database = open_unlocked(settings_of(ctx))
    with database.reading() as db:
        rows = Accounts(time_cost=1, memory_kib=8).list_users(db)
    table = Table("username", "role", "2FA", "state")
    for user, disabled, totp in rows:
        table.add_row(user.username, user.role, "yes" if totp else "no", "disabled" if disabled else "active")
    Console().print(table)


@users_app.command("disable")
@friendly
def users_disable(ctx: typer.Context, username: str) -> None:
    """Disable a user and end their sessions."""
    from amanat.accounts.service import Accounts

    database = open_unlocked(settings_of(ctx))
    with database.transaction() as db:
        Accounts(time_cost=1, memory_kib=8).set_disabled(db, CLI, username, True)
    console.print(f"[green]Disabled[/green] {username}")


@audit_app.command("verify")
@friendly
def audit_verify(ctx: typer.Context) -> None:
    """Recompute the audit log's hash chain; exit 1 naming the first broken link."""
    database = open_database(settings_of(ctx))
    with database.reading() as db:
        total = count_events(db)
        with progress() as bar:
            task = bar.add_task("Verifying audit chain", total=total)
            verdict = verify_chain(db, progress=lambda: bar.advance(task))
    if verdict.ok:
        console.print(f"[green]OK[/green]: {verdict.checked} events, chain unbroken. Head {verdict.head}")
        return
    console.print(f"[red]BROKEN[/red] at event {verdict.first_broken_seq}: {verdict.reason} "
                  f"({verdict.checked} events before it verified)")
    raise typer.Exit(1)


@keys_app.command("rotate")
@friendly
def keys_rotate(ctx: typer.Context) -> None:
    """Make a new field-encryption key active; older keys stay to read existing data."""
    settings = settings_of(ctx)
    database = open_database(settings)
    passphrase = read_passphrase(settings)
    with database.transaction() as db:
        keystore = load_keystore(db)
        if keystore is None:
            raise AmanatError("This database has no keys yet: run `amanat init` first.", code="not_initialised")
        new, retired = crypto.rotate_field_key(keystore, passphrase)
        store_rotated_key(db, new, retired)
        record_event(db, CLI, "keys:rotate", "key", new.key_id, retired=[k.key_id for k in retired])
    console.print(f"[green]Active field key is now[/green] {new.key_id}")


@keys_app.command("odk-public")
@friendly
def keys_odk_public(ctx: typer.Context) -> None:
    """Print the base64 RSA public key that goes into encrypted ODK forms."""
    settings = settings_of(ctx)
    database = open_database(settings)
    with database.reading() as db:
        keystore = load_keystore(db)
    if keystore is None:
        raise AmanatError("This database has no keys yet: run `amanat init` first.", code="not_initialised")
    database.keys.set(crypto.public_ring(keystore))
    typer.echo(database.keys.odk_public_key_b64())
