"""init, db, users, audit, keys: the organisation's set-up and its staff."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from amanat.cli.base import CLI, console, friendly, progress, settings_of
from amanat.cli.organisation import keystore_of, open_organisation, read_passphrase
from amanat.config import Settings
from amanat.core import crypto
from amanat.core.audit import count_events, record_event, verify_chain
from amanat.core.db import Database, open_database
from amanat.core.keystore import load_keystore, save_keystore, store_rotated_key
from amanat.core.passwords import passphrase_problem
from amanat.errors import AmanatError, Conflict

users_app = typer.Typer(help="Manage staff accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="Read and verify the audit log.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="The organisation's keys.", no_args_is_help=True)


def initialise(settings: Settings, organisation: str, passphrase: str,
               admin: tuple[str, str] | None = None) -> Database:
    """Create the schema and the organisation's keys (refuses to overwrite existing keys), and the admin user
    (username, password) when given, in the same transaction: a refused password leaves nothing behind."""
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
        if admin is not None:
            _accounts(settings).create_user(db, CLI, username=admin[0], password=admin[1], role="admin")
    return database


def new_password(prompt: str) -> str:
    """A new user's password: AMANAT_NEW_PASSWORD for unattended set-up, else asked twice on a terminal."""
    env = os.environ.get("AMANAT_NEW_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        raise AmanatError("No password for the new user: set AMANAT_NEW_PASSWORD for unattended use.",
                          code="password_missing")
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=True))


def _accounts(settings: Settings):  # type: ignore[no-untyped-def]
    from amanat.accounts.service import Accounts

    return Accounts(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)


@friendly
def init(ctx: typer.Context,
         organisation: Annotated[str, typer.Option(help="The organisation's name.")] = "Amanat",
         admin: Annotated[str | None, typer.Option(help="Also create this admin user.")] = None) -> None:
    """Create the database and the organisation's keys, protected by a passphrase.

    The passphrase is AMANAT_PASSPHRASE, else asked; --admin also creates an admin user, whose password is
    AMANAT_NEW_PASSWORD, else asked (so `init --admin NAME` can run unattended)."""
    settings = settings_of(ctx)
    passphrase = read_passphrase(settings, confirm=True)
    problem = passphrase_problem(passphrase) if settings.environment == "production" else None
    if problem:
        raise AmanatError(f"The passphrase is too weak for production: {problem}.", code="passphrase_weak")
    user = (admin, new_password(f"Password for {admin}")) if admin else None
    initialise(settings, organisation, passphrase, admin=user)
    if admin:
        console.print(f"[green]Added[/green] {admin} (admin)")
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


@db_app.command("sealed-role")
@friendly
def db_sealed_role(role: Annotated[str, typer.Argument(help="The PostgreSQL role to create.")] = "amanat_intake",
                   database: Annotated[str, typer.Option(help="The database it may use.")] = "amanat") -> None:
    """Print the SQL creating the PostgreSQL role of a `serve --sealed-only` node: it may store sealed
    submissions and nothing else (no records, no wrapped private keys, no KDF salt). Run it with psql as the
    database owner, set the role's password with \\password, and give the node that login."""
    from amanat.core.sealed_role import sealed_role_sql

    try:
        statements = sealed_role_sql(role, database)
    except ValueError as exc:
        raise AmanatError(str(exc), code="invalid_name") from None
    typer.echo(";\n".join(statements) + ";")


@users_app.command("add")
@friendly
def users_add(ctx: typer.Context, username: str,
              role: Annotated[str, typer.Option(help="admin, caseworker, verifier, referrer or auditor.")],
              display_name: Annotated[str, typer.Option(help="Name shown to colleagues.")] = "",
              totp: Annotated[bool, typer.Option(help="Require an authenticator code at sign-in.")] = False) -> None:
    """Add a staff user (the password is asked for, or read from AMANAT_NEW_PASSWORD)."""
    settings = settings_of(ctx)
    database = open_organisation(settings)
    password = new_password("Password")
    with database.transaction() as db:
        user, uri = _accounts(settings).create_user(
            db, CLI, username=username, password=password, role=role, display_name=display_name, totp=totp)
    console.print(f"[green]Added[/green] {user.username} ({user.role})")
    if uri:
        typer.echo(f"Authenticator set-up URI (show once, then clear your terminal): {uri}")


@users_app.command("list")
@friendly
def users_list(ctx: typer.Context) -> None:
    """List staff users and their roles."""
    from amanat.accounts.service import Accounts

    database = open_organisation(settings_of(ctx))
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

    database = open_organisation(settings_of(ctx))
    with database.transaction() as db:
        Accounts(time_cost=1, memory_kib=8).set_disabled(db, CLI, username, True)
    console.print(f"[green]Disabled[/green] {username}")


@audit_app.command("verify")
@friendly
def audit_verify(ctx: typer.Context,
                 anchor: Annotated[Path | None, typer.Option(
                     help="An anchor file kept elsewhere (see `audit anchor`): also detects a cut tail or a "
                          "rebuilt chain.")] = None) -> None:
    """Recompute the audit log's hash chain; exit 1 naming the first broken link."""
    from amanat.core.audit_anchor import read_anchors, verify_anchors

    settings = settings_of(ctx)
    anchors = read_anchors(anchor) if anchor is not None else None
    database = open_organisation(settings, keys="none")
    with database.reading() as db:
        total = count_events(db)
        with progress() as bar:
            task = bar.add_task("Verifying audit chain", total=total)
            verdict = verify_chain(db, progress=lambda: bar.advance(task))
        anchored = verify_anchors(db, anchors, settings.secret_key.get_secret_value()) if anchors else None
    if not verdict.ok:
        console.print(f"[red]BROKEN[/red] at event {verdict.first_broken_seq}: {verdict.reason} "
                      f"({verdict.checked} events before it verified)")
        raise typer.Exit(1)
    if anchored is not None and not anchored.ok:
        console.print(f"[red]BROKEN[/red]: {anchored.reason} ({anchored.checked} anchors before it held)")
        raise typer.Exit(1)
    held = f"; {anchored.checked} anchors hold" if anchored is not None else ""
    console.print(f"[green]OK[/green]: {verdict.checked} events, chain unbroken{held}. Head {verdict.head}")


@audit_app.command("anchor")
@friendly
def audit_anchor(ctx: typer.Context,
                 out: Annotated[Path | None, typer.Option(
                     help="File to append the anchor to; default AMANAT_AUDIT_ANCHOR_PATH.")] = None) -> None:
    """Append the audit chain's signed head to an anchor file, to be kept where the server cannot rewrite it."""
    from amanat.core.audit_anchor import append_anchor, make_anchor

    settings = settings_of(ctx)
    path = out or settings.audit_anchor_path
    if path is None:
        raise AmanatError("No anchor file: pass --out or set AMANAT_AUDIT_ANCHOR_PATH.", code="anchor_path_missing")
    database = open_organisation(settings, keys="none")
    with database.reading() as db:
        made = make_anchor(db, settings.secret_key.get_secret_value())
    append_anchor(path, made)
    console.print(f"[green]Anchored[/green] event {made.seq} (head {made.head}) in {path}")


@keys_app.command("rotate")
@friendly
def keys_rotate(ctx: typer.Context) -> None:
    """Make a new field-encryption key active; older keys stay to read existing data."""
    settings = settings_of(ctx)
    database = open_organisation(settings, keys="none")
    passphrase = read_passphrase(settings)
    with database.transaction() as db:
        new, retired = crypto.rotate_field_key(keystore_of(db), passphrase)
        store_rotated_key(db, new, retired)
        record_event(db, CLI, "keys:rotate", "key", new.key_id, retired=[k.key_id for k in retired])
    console.print(f"[green]Active field key is now[/green] {new.key_id}")


@keys_app.command("odk-public")
@friendly
def keys_odk_public(ctx: typer.Context) -> None:
    """Print the base64 RSA public key that goes into encrypted ODK forms."""
    database = open_organisation(settings_of(ctx), keys="public")
    typer.echo(database.keys.odk_public_key_b64())
