"""Device logins for ODK Collect / KoboCollect: `amanat users device-add|device-list|device-revoke` (registered
on the users group by main.py)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from amanat.accounts.devices import create_device_credential, list_device_credentials, revoke_device_credential
from amanat.accounts.service import Accounts
from amanat.cli.base import CLI, console, friendly, settings_of
from amanat.cli.organisation import open_organisation


@friendly
def device_add(ctx: typer.Context, username: Annotated[str, typer.Argument(help="The staff user who owns the phone.")],
               device_username: Annotated[str | None, typer.Option(
                   help="Login name to type into Collect (default: the username, or username-2, -3 …).")] = None,
               ) -> None:
    """Create an ODK Collect login for a user whose role may submit forms; prints its password once."""
    settings = settings_of(ctx)
    database = open_organisation(settings)  # HA1 is stored encrypted with the field key
    accounts = Accounts(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)
    with database.transaction() as db:
        name, password = create_device_credential(db, accounts, CLI, username, device_username=device_username)
    console.print(f"[green]Device login created[/green] for {username}. The password is shown only now:")
    typer.echo(f"username: {name}")
    typer.echo(f"password: {password}")
    if settings.base_url:
        console.print(f"In Collect: Settings → Project settings → Server: URL {settings.base_url.rstrip('/')}, "
                      "then this username and password.")
    else:
        console.print("[yellow]warning:[/yellow] AMANAT_BASE_URL is not set, so the server's address a phone can "
                      f"reach is unknown (this machine listens on http://{settings.host}:{settings.port}, which "
                      "a phone cannot reach if it is a loopback address). Set AMANAT_BASE_URL to the address "
                      "phones use, then in Collect: Settings → Project settings → Server: that URL, then this "
                      "username and password.")


@friendly
def device_list(ctx: typer.Context) -> None:
    """List device logins and whose they are (never their passwords)."""
    database = open_organisation(settings_of(ctx))
    with database.reading() as db:
        rows = list_device_credentials(db)
    table = Table("device login", "user", "role", "created", "state")
    for row in rows:
        table.add_row(row.device_username, row.username, row.role, row.created_at.strftime("%Y-%m-%d"),
                      "revoked" if row.revoked else "active")
    Console().print(table)


@friendly
def device_revoke(ctx: typer.Context, device_username: str) -> None:
    """Revoke a device login (a lost or handed-on phone); the phone can no longer fetch forms or submit."""
    database = open_organisation(settings_of(ctx))
    with database.transaction() as db:
        revoke_device_credential(db, CLI, device_username)
    console.print(f"[green]Revoked[/green] {device_username}")
