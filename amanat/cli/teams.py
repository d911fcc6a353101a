"""amanat users team …: teams of staff who share cases (see amanat/accounts/teams.py, amanat/cases/scope.py)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from amanat.accounts import teams
from amanat.cli.base import CLI, console, friendly, settings_of
from amanat.cli.organisation import open_organisation

team_app = typer.Typer(help="Teams of staff who share cases (the queue's Team view; case_scope = team).",
                       no_args_is_help=True)
Provinces = Annotated[list[str] | None, typer.Option("--province", "-p",
                                                     help="A province code the team covers (AF01 … AF34); repeat.")]
Intake = Annotated[bool, typer.Option(help="The intake team: it takes every unassigned case.")]


@team_app.command("create")
@friendly
def team_create(ctx: typer.Context, name: str, province: Provinces = None, intake: Intake = False) -> None:
    """Create a team, with the provinces whose unassigned cases it takes."""
    database = open_organisation(settings_of(ctx))
    with database.transaction() as db:
        team = teams.create_team(db, CLI, name, provinces=province or (), intake=intake)
        covers = "every unassigned case" if team.intake else (team.provinces or "no province")
    console.print(f"[green]Created[/green] team {name} ({covers})")


@team_app.command("coverage")
@friendly
def team_coverage(ctx: typer.Context, name: str, province: Provinces = None, intake: Intake = False) -> None:
    """Set which unassigned cases a team takes (replaces its provinces)."""
    database = open_organisation(settings_of(ctx))
    with database.transaction() as db:
        teams.set_coverage(db, CLI, name, provinces=province or (), intake=intake)
    console.print(f"[green]Updated[/green] team {name}")


@team_app.command("add")
@friendly
def team_add(ctx: typer.Context, name: str, username: str) -> None:
    """Put a user in a team."""
    database = open_organisation(settings_of(ctx))
    with database.transaction() as db:
        teams.add_member(db, CLI, name, username)
    console.print(f"[green]Added[/green] {username} to {name}")


@team_app.command("remove")
@friendly
def team_remove(ctx: typer.Context, name: str, username: str) -> None:
    """Take a user out of a team."""
    database = open_organisation(settings_of(ctx))
    with database.transaction() as db:
        teams.remove_member(db, CLI, name, username)
    console.print(f"[green]Removed[/green] {username} from {name}")


@team_app.command("delete")
@friendly
def team_delete(ctx: typer.Context, name: str) -> None:
    """Delete a team (its members keep their accounts)."""
    database = open_organisation(settings_of(ctx))
    with database.transaction() as db:
        teams.delete_team(db, CLI, name)
    console.print(f"[green]Deleted[/green] team {name}")


@team_app.command("list")
@friendly
def team_list(ctx: typer.Context) -> None:
    """List teams, what they cover and their members."""
    database = open_organisation(settings_of(ctx))
    with database.reading() as db:
        rows = teams.list_teams(db)
    table = Table("team", "covers", "members")
    for t in rows:
        covers = "intake (every unassigned case)" if t.intake else " ".join(t.provinces) or "—"
        table.add_row(t.name, covers, ", ".join(t.members) or "—")
    Console().print(table)
