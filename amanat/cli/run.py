"""serve, worker, demo."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from amanat.cli.admin import initialise
from amanat.cli.base import console, friendly, progress, settings_of
from amanat.cli.organisation import is_initialised, open_organisation, sqlite_file_missing
from amanat.config import Settings
from amanat.core.audit import Actor
from amanat.core.db import open_database
from amanat.errors import AmanatError

DEMO_PASSPHRASE = "amanat demo passphrase"  # noqa: S105 - demo organisation only, synthetic data  # nosec B105
DEMO_PASSWORD = "amanat-demo-2021"  # noqa: S105 - printed to the person starting the demo  # nosec B105
DEMO_ROLES = ("admin", "caseworker", "verifier", "referrer", "auditor")


def _serve(settings: Settings, database: object, workers: int = 1) -> None:
    from amanat.web.processes import run_server, serve_processes

    if workers > 1:
        serve_processes(settings, database, workers)  # type: ignore[arg-type]
    else:
        run_server(settings, database)  # type: ignore[arg-type]


@friendly
def serve(ctx: typer.Context, host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
          port: Annotated[int | None, typer.Option(help="Port.")] = None,
          workers: Annotated[int, typer.Option(
              min=1, max=64, help="Server processes sharing the port (about one per core). Each stores its own "
                                  "intake; only the first runs the worker.")] = 1,
          sealed_only: Annotated[bool, typer.Option(
              help="Hold only the public key: accept and seal submissions, open nothing (run `amanat worker` "
                   "elsewhere).")] = False) -> None:
    """Run the web server (with the worker inside it, unless --sealed-only)."""
    settings = settings_of(ctx).model_copy(update={k: v for k, v in {"host": host, "port": port}.items() if v})
    database = open_organisation(settings, keys="public" if sealed_only else "private")
    if sealed_only:  # intake and OpenRosa only: no staff sign-in, no admin, no worker
        settings = settings.model_copy(update={"run_worker_in_process": False, "sealed_only": True})
    processes = f" ({workers} processes)" if workers > 1 else ""
    console.print(f"Amanat listening on http://{settings.host}:{settings.port}/{processes}")
    _serve(settings, database, workers)


@friendly
def worker(ctx: typer.Context,
           once: Annotated[bool, typer.Option(help="Process what is queued, then exit.")] = False) -> None:
    """Open, normalise, store and link sealed submissions in batches (the production worker process; on
    PostgreSQL several may run at once). Logs its rate and the backlog every few seconds."""
    from amanat.intake.service import count_by_status
    from amanat.jobs.worker import run_worker

    database = open_organisation(settings_of(ctx))
    with database.reading() as db:
        waiting = count_by_status(db).get("sealed", 0)
    if not once:
        console.print(f"Worker running: {waiting} waiting; Ctrl-C stops it.")
    with progress() as bar:
        task = bar.add_task("Processing submissions", total=waiting or None)
        done, failed = run_worker(database, once=once, poll_seconds=settings_of(ctx).worker_poll_seconds,
                                  advance=lambda n: bar.advance(task, n))
    console.print(f"Stored {done}, failed {failed}.")


@friendly
def demo(ctx: typer.Context,
         applicants: Annotated[int, typer.Option(help="How many synthetic applicants to create.")] = 40,
         host: Annotated[str | None, typer.Option(help="Address to listen on (default: AMANAT_HOST, else "
                                                       "127.0.0.1).")] = None,
         port: Annotated[int | None, typer.Option(help="Port (default: AMANAT_PORT, else 8000).")] = None,
         no_serve: Annotated[bool, typer.Option("--no-serve", help="Set up only; do not start the server.")] = False,
         ) -> None:
    """Start a demo organisation with synthetic applicants (development only, fixed passphrase)."""
    from amanat.accounts.service import Accounts
    from amanat.cli.demo_data import demo_applicants
    from amanat.forms.spec import load_form
    from amanat.intake.parsed import ParsedSubmission
    from amanat.intake.service import seal_submission
    from amanat.jobs.pipeline import process_next

    base = settings_of(ctx)
    data_dir = base.data_dir if os.environ.get("AMANAT_DATA_DIR") else Path("var/demo")
    host = host or base.host
    port = port or base.port
    settings = base.model_copy(update={"data_dir": data_dir, "host": host, "port": port, "demo": True,
                                       "passphrase": None})  # none set: the demo's own is used  # nosec B105
    if settings.environment == "production":
        raise AmanatError("The demo refuses to run in production.", code="demo_in_production")
    if not sqlite_file_missing(settings) and is_initialised(open_database(settings)):
        database = open_organisation(settings, passphrase=DEMO_PASSPHRASE)
        console.print("Using the existing demo organisation.")
    else:
        database = initialise(settings, "Demo organisation (synthetic data)", DEMO_PASSPHRASE)
        accounts = Accounts(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)
        cli = Actor("system:demo")
        with database.transaction() as db:
            for role in DEMO_ROLES:
                accounts.create_user(db, cli, username=role, password=DEMO_PASSWORD, role=role,
                                     display_name=f"Demo {role}")
        spec = load_form()
        people = demo_applicants(applicants)
        with progress() as bar:
            task = bar.add_task("Sealing synthetic submissions", total=len(people))
            for fields in people:
                with database.transaction() as db:
                    seal_submission(db, database.keys, ParsedSubmission("web", fields), actor=cli,
                                    form_id=spec.form_id, form_version=spec.version, language="prs")
                bar.advance(task)
            task2 = bar.add_task("Opening, normalising and storing", total=len(people))
            while process_next(database) is not None:
                bar.advance(task2)
    typer.echo(f"Demo organisation ready in {data_dir}/ (synthetic applicants only).")
    typer.echo(f"Sign in at http://{host}:{port}/login as one of {', '.join(DEMO_ROLES)} "
               f"with the password {DEMO_PASSWORD}")
    typer.echo(f"The public intake form is at http://{host}:{port}/intake")
    if not no_serve:
        _serve(settings, database)


__all__ = ["DEMO_PASSPHRASE", "DEMO_PASSWORD", "demo", "serve", "worker"]
