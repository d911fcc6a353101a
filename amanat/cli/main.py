"""The `amanat` command line. Every command has --help; long jobs show a progress bar; errors are one line
and a non-zero exit, never a traceback with values in it.

Every command is registered here, explicitly: the modules that hold commands import only base.py and
organisation.py, never this module, so the command line has no import cycle.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape

from amanat.cli import admin, devices, run, teams
from amanat.cli.base import console
from amanat.cli.cases import cases_app
from amanat.cli.dedupe import dedupe_command
from amanat.cli.intake import intake_app
from amanat.cli.link import link_app
from amanat.cli.normalize import normalize_app
from amanat.cli.odk import odk_app
from amanat.config import Settings

app = typer.Typer(help="Amanat: secure intake, normalisation, linkage and casework.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)


def settings_problem(exc: ValidationError) -> str:
    """A refused setting in one line: the setting and why (the value itself is never repeated)."""
    parts = []
    for error in exc.errors():
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"AMANAT_{where.upper()}: {message}" if where else message)
    return "; ".join(parts)


@app.callback()
def main(ctx: typer.Context,
         data_dir: Annotated[Path | None, typer.Option(help="Where the SQLite database lives.",
                                                       envvar="AMANAT_DATA_DIR")] = None,
         database_url: Annotated[str | None, typer.Option(help="SQLAlchemy URL; default SQLite in the data dir.",
                                                          envvar="AMANAT_DATABASE_URL")] = None) -> None:
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if database_url:
        overrides["database_url"] = database_url
    try:
        ctx.obj = Settings(**overrides)
    except ValidationError as exc:
        console.print(f"[red]error:[/red] {escape(settings_problem(exc))} [dim](settings_refused)[/dim]")
        raise typer.Exit(1) from None
    logging.basicConfig(level=ctx.obj.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


# The organisation and its staff.
app.command("init")(admin.init)
admin.users_app.command("device-add")(devices.device_add)
admin.users_app.command("device-list")(devices.device_list)
admin.users_app.command("device-revoke")(devices.device_revoke)
admin.users_app.add_typer(teams.team_app, name="team")
app.add_typer(admin.users_app, name="users")
app.add_typer(admin.audit_app, name="audit")
app.add_typer(admin.db_app, name="db")
app.add_typer(admin.keys_app, name="keys")
# Running it.
app.command("serve")(run.serve)
app.command("worker")(run.worker)
app.command("demo")(run.demo)
# The pipeline's stages.
app.add_typer(normalize_app, name="normalize")
app.add_typer(odk_app, name="odk")
app.command("dedupe")(dedupe_command)
app.add_typer(link_app, name="link")
app.add_typer(intake_app, name="intake")
app.add_typer(cases_app, name="cases")

__all__ = ["app"]

# A partner's side of referrals and exports (issue 18): no database needed.
from amanat.cli.referral import referral_app  # noqa: E402

app.add_typer(referral_app, name="referral")

# Backups (issue 16): amanat backup [keygen|verify], amanat restore.
from amanat.cli.backup import backup_app, restore  # noqa: E402

app.add_typer(backup_app, name="backup")
app.command("restore")(restore)

# Erasure (issue 16): amanat person erase|approve|retention|ledger|reapply; amanat keys reencrypt.
from amanat.cli.backup import POST_RESTORE_STEPS  # noqa: E402
from amanat.cli.person import keys_reencrypt, person_app, reapply_after_restore  # noqa: E402

app.add_typer(person_app, name="person")
admin.keys_app.command("reencrypt")(keys_reencrypt)
POST_RESTORE_STEPS.append(reapply_after_restore)  # a person erased after the backup stays erased
