"""What every command shares: the console, the settings, progress bars, and how an error or Ctrl-C ends a
command (one line and a non-zero exit, never a traceback with values in it)."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from amanat.config import Settings
from amanat.core import crypto
from amanat.core.audit import Actor
from amanat.errors import AmanatError, Conflict

console = Console(stderr=True, soft_wrap=True)  # a message stays one line when stderr is a file
CLI = Actor("system:cli")
INTERRUPTED = 130  # what a shell reports for a process ended by Ctrl-C (128 + SIGINT)

F = TypeVar("F", bound=Callable[..., Any])


def database_problem(exc: BaseException) -> str | None:
    """The driver's one-line reason when the database cannot be reached or read (a path that cannot be
    created, a server that refuses the connection); None for any other error. SQLAlchemy keeps statement
    parameters hidden (hide_parameters), and the driver's own message names no values."""
    from sqlalchemy.exc import OperationalError

    if not isinstance(exc, OperationalError):
        return None
    first = (str(exc.orig) or type(exc.orig).__name__).strip().splitlines()
    return (first[0] if first else "unknown")[:200]


def friendly(fn: F) -> F:
    """Domain errors become one line on stderr and exit 1; Ctrl-C (also at a prompt) one line and exit 130."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AmanatError as exc:
            console.print(f"[red]error:[/red] {escape(exc.public_message)} [dim]({exc.code})[/dim]")
            raise typer.Exit(1) from None
        except (KeyboardInterrupt, typer.Abort):  # Abort: Ctrl-C at a prompt
            console.print("interrupted: stopped; what was not yet committed was rolled back")
            raise typer.Exit(INTERRUPTED) from None
        except Exception as exc:
            reason = database_problem(exc)
            if reason is None:
                raise
            console.print(f"[red]error:[/red] the database cannot be opened: {escape(reason)} "
                          "[dim](database_unavailable)[/dim]")
            raise typer.Exit(1) from None

    wrapper.friendly = True  # type: ignore[attr-defined]  # tests check that every command has it
    return wrapper  # type: ignore[return-value]


def progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


def settings_of(ctx: typer.Context) -> Settings:
    """The settings the `amanat` callback built for this run (each command receives them, never a global)."""
    found = ctx.find_root().obj
    return found if isinstance(found, Settings) else Settings()


__all__ = ["CLI", "INTERRUPTED", "console", "database_problem", "friendly", "progress", "settings_of"]


def write_key_pair(private_key: Path, *, force: bool) -> str:
    """A new recipient key pair: the private key written to ``private_key`` (mode 600, also when --force
    replaces a file that had another mode), the public key returned for the caller to show."""
    if private_key.exists() and not force:
        raise Conflict(f"{private_key.name} exists: refusing to overwrite a private key (use --force).",
                       code="key_exists")
    public, secret = crypto.generate_recipient_keypair()
    fd = os.open(private_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secret + "\n")
    os.chmod(private_key, 0o600)  # an existing file keeps its mode through O_TRUNC
    return public
