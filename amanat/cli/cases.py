"""`amanat cases`: upkeep of the casework indexes."""

from __future__ import annotations

import typer

from amanat.cli.base import console, friendly, progress, settings_of
from amanat.cli.organisation import open_organisation

cases_app = typer.Typer(help="Casework upkeep.", no_args_is_help=True)


@cases_app.command("reindex")
@friendly
def cases_reindex(ctx: typer.Context) -> None:
    """Give records stored before name search existed their name blind indexes and household members
    (idempotent: records already indexed are skipped). Audited as one event with the count."""
    from amanat.cases.search import reindex_records

    database = open_organisation(settings_of(ctx))
    with progress() as bar, database.transaction() as db:
        task = bar.add_task("Indexing names and family members", total=None)

        def report(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        n = reindex_records(db, database.keys, progress=report)
    console.print(f"{n} records indexed for search." if n else "Every record is already indexed for search.")
