"""The `amanat` command line. Every command has --help; long jobs show a progress bar; errors are one line
and a non-zero exit, never a traceback with values in it."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from amanat.config import Settings
from amanat.errors import AmanatError

console = Console(stderr=True)
app = typer.Typer(help="Amanat: secure intake, normalisation, linkage and casework.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
users_app = typer.Typer(help="Manage staff accounts.", no_args_is_help=True)
audit_app = typer.Typer(help="Read and verify the audit log.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="The organisation's keys.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")

F = TypeVar("F", bound=Callable[..., Any])


def friendly(fn: F) -> F:
    """Render domain errors as one line on stderr and exit 1."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AmanatError as exc:
            console.print(f"[red]error:[/red] {exc.public_message} [dim]({exc.code})[/dim]")
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


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
    ctx.obj = Settings(**overrides)
    logging.basicConfig(level=ctx.obj.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def settings_of(ctx: typer.Context) -> Settings:
    return ctx.obj if isinstance(ctx.obj, Settings) else Settings()


def read_passphrase(settings: Settings, *, confirm: bool = False) -> str:
    if settings.passphrase is not None:
        return settings.passphrase.get_secret_value()
    env = os.environ.get("AMANAT_PASSPHRASE")
    if env:
        return env
    if not sys.stdin.isatty():
        raise AmanatError("No passphrase: set AMANAT_PASSPHRASE for unattended use.", code="passphrase_missing")
    return str(typer.prompt("Organisation passphrase", hide_input=True, confirmation_prompt=confirm))


# Sub-commands live in their own modules; importing them registers them on `app`.
from amanat.cli import admin as _admin  # noqa: E402,F401
from amanat.cli import run as _run  # noqa: E402,F401
from amanat.cli import stages as _stages  # noqa: E402,F401
