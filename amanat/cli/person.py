"""`amanat person`: erasure (with a second person's approval), retention and the erasure ledger; and
`amanat keys reencrypt`: old records onto per-record keys, data keys onto the active field key.

The command line has no sign-in, so each erasure step names the staff member taking it (``--as``) and asks
for their password (or reads AMANAT_USER_PASSWORD): the one who asks and the one who approves are two
accounts, each proven, as on the web.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from amanat.cli.base import CLI, console, friendly, progress, settings_of
from amanat.cli.organisation import open_organisation
from amanat.config import Settings
from amanat.core.audit import Actor, record_event
from amanat.core.db import Database
from amanat.core.permissions import Permission, has_permission
from amanat.errors import AmanatError, PermissionDenied

person_app = typer.Typer(help="Erase a person (crypto-shredding), apply retention rules, keep the erasure ledger.",
                         no_args_is_help=True)
# Who may ask for an erasure, and who may approve one (never the same account for one request).
MAY_REQUEST = (Permission.CASE_WRITE, Permission.KEY_MANAGE)
MAY_APPROVE = (Permission.CASE_APPROVE, Permission.KEY_MANAGE)


LEDGER_ENV = "AMANAT_ERASURE_LEDGER"  # where `amanat restore` reads it from instead (a copy kept with the backups)


def _keep_ledger(settings: Settings, database: Database) -> None:
    """After an erasure: the WAL truncated (SQLite) and the ledger written to the data dir, where `amanat
    restore` finds it (copy it beside the backups: it holds ids and dates only)."""
    from amanat.cases.erasure import LEDGER_FILE, save_ledger

    database.truncate_wal()
    with database.reading() as db:
        save_ledger(db, settings.data_dir / LEDGER_FILE)


def reapply_after_restore(restored: Database, manifest: object) -> str:
    """`amanat restore`'s step: everyone erased after the backup was made is erased again, from the ledger in
    AMANAT_ERASURE_LEDGER or the data dir (the restored database's own ledger is as old as the backup)."""
    from amanat.cases.erasure import LEDGER_FILE, reapply_erasures

    # the restored database, wherever --data-dir or AMANAT_DATABASE_URL put it (a SQLite file's folder is its data dir)
    sqlite = make_url(restored.url).database if restored.is_sqlite else None
    settings = Settings(database_url=restored.url, **({"data_dir": Path(sqlite).parent} if sqlite else {}))
    path = Path(os.environ.get(LEDGER_ENV) or settings.data_dir / LEDGER_FILE)
    if not path.is_file():
        return (f"No erasure ledger at {path}: nobody was erased again. If people were erased after this backup "
                f"was made, run `amanat person reapply <ledger>` with the ledger kept beside the backups.")
    text = path.read_text(encoding="utf-8")
    restored.dispose()
    database = open_organisation(settings)  # the keys: the erased records' values are rewritten
    with database.transaction() as db:
        n = reapply_erasures(db, database.keys, CLI, text)
    _keep_ledger(settings, database)
    database.dispose()
    return f"Erasures re-applied from {path}: {n} record(s) erased after the backup was made are erased again."


def _staff(settings: Settings, db: object, username: str, may: tuple[Permission, ...]) -> Actor:
    """The named, enabled staff member, proven by their password, holding one of ``may``."""
    from sqlalchemy import select

    from amanat.accounts.models import User
    from amanat.accounts.service import Accounts

    user = db.scalar(select(User).where(User.username == username.strip().lower()))  # type: ignore[attr-defined]
    password = os.environ.get("AMANAT_USER_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise AmanatError("No password: set AMANAT_USER_PASSWORD for unattended use.", code="password_missing")
        password = str(typer.prompt(f"Password of {username}", hide_input=True))
    accounts = Accounts(time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib)
    if not accounts.check_password(user.password_hash if user else None, password) or user is None or user.disabled:
        raise PermissionDenied("Unknown user or wrong password.")
    if not any(has_permission(user.role, p) for p in may):
        raise PermissionDenied(f"{user.username}: this role may not do that.")
    return Actor(f"user:{user.username}", user.id)


@person_app.command("erase")
@friendly
def person_erase(ctx: typer.Context,
                 target: Annotated[str, typer.Argument(help="A case number (12 or #12) or a record id.")],
                 reason: Annotated[str, typer.Option(
                     help="applicant_request, safety_concern, wrongly_collected or other.")],
                 as_user: Annotated[str, typer.Option("--as", help="The staff member asking (password asked).")],
                 note: Annotated[str, typer.Option(help="A few words why (needed with --reason other).")] = ""
                 ) -> None:
    """Ask to erase a person: every record of theirs, crypto-shredded. A second person approves with
    `amanat person approve`; until then nothing is erased."""
    from amanat.cases.erasure import request_erasure

    settings = settings_of(ctx)
    database = open_organisation(settings)  # the reason is kept encrypted
    with database.transaction() as db:
        actor = _staff(settings, db, as_user, MAY_REQUEST)
        approval = request_erasure(db, actor, target, reason_code=reason, reason_text=note or None)
    console.print(f"Erasure requested: approval {approval.id}. A second person approves it with "
                  f"`amanat person approve {approval.id} --as <their username>`.")


@person_app.command("approve")
@friendly
def person_approve(ctx: typer.Context,
                   approval: Annotated[str, typer.Argument(help="The request's id, as `person erase` printed it.")],
                   as_user: Annotated[str, typer.Option("--as", help="The approver (not the one who asked).")],
                   reject: Annotated[bool, typer.Option(help="Refuse the request instead.")] = False) -> None:
    """Approve (the person is erased now, irreversibly) or reject an erasure request."""
    from amanat.cases.erasure import decide_erasure

    settings = settings_of(ctx)
    database = open_organisation(settings)
    with database.transaction() as db:
        actor = _staff(settings, db, as_user, MAY_APPROVE)
        done = decide_erasure(db, database.keys, actor, approval, approve=not reject)
    if done is None:
        console.print("Erasure request rejected; nothing was erased.")
        return
    _keep_ledger(settings, database)
    console.print(f"Erased: {done.records} record(s); their keys are destroyed. The case shows "
                  f"'erased on {done.erased_at.date().isoformat()} by approval #{approval[:8]}'.")


@person_app.command("retention")
@friendly
def person_retention(ctx: typer.Context,
                     closed_days: Annotated[int, typer.Option(
                         help="Erase people whose cases were all closed more than this many days ago.",
                         envvar="AMANAT_RETENTION_CLOSED_DAYS", min=1)],
                     apply: Annotated[bool, typer.Option(help="Erase; without it, only count (a dry run).")] = False
                     ) -> None:
    """The retention rule: counts what is due (dry run), or erases it with --apply. Audited either way."""
    from amanat.cases.erasure import apply_retention

    settings = settings_of(ctx)
    database = open_organisation(settings, keys="private" if apply else "none")
    with database.transaction() as db:
        due, records = apply_retention(db, database.keys, CLI, closed_days, apply=apply)
    if apply:
        _keep_ledger(settings, database)
        console.print(f"Retention: {due} case(s) due; {records} record(s) erased.")
    else:
        console.print(f"Retention (dry run): {due} case(s) closed more than {closed_days} days ago would be "
                      "erased. Run again with --apply to erase them.")


@person_app.command("ledger")
@friendly
def person_ledger(ctx: typer.Context,
                  out: Annotated[Path, typer.Option(help="Where to write the ledger (JSON, ids and dates only).")]
                  ) -> None:
    """Write the erasure ledger, to keep beside the backups: `amanat person reapply` uses it after a restore."""
    from amanat.cases.erasure import save_ledger

    database = open_organisation(settings_of(ctx), keys="none")
    with database.reading() as db:
        save_ledger(db, out)
    console.print(f"Wrote the erasure ledger to {out}.")


@person_app.command("reapply")
@friendly
def person_reapply(ctx: typer.Context,
                   ledger: Annotated[Path, typer.Argument(help="A ledger `amanat person ledger` wrote.")]) -> None:
    """After restoring an older backup: erase again everyone the ledger names."""
    from amanat.cases.erasure import reapply_erasures

    try:
        text = ledger.read_text(encoding="utf-8")
    except OSError as exc:
        raise AmanatError(f"ledger: cannot read {ledger} ({exc.strerror}).", code="ledger_unreadable") from None
    settings = settings_of(ctx)
    database = open_organisation(settings)
    with database.transaction() as db:
        n = reapply_erasures(db, database.keys, CLI, text)
    _keep_ledger(settings, database)
    console.print(f"Erased again: {n} record(s).")


@friendly
def keys_reencrypt(ctx: typer.Context) -> None:
    """Move records stored before per-record keys onto keys of their own, and data keys wrapped by a retired
    field key onto the active one (after `amanat keys rotate`). Resumable: each batch commits."""
    from amanat.records.data_keys import move_records_to_own_keys, records_without_keys, rewrap_data_keys

    database = open_organisation(settings_of(ctx))
    with database.reading() as db:
        todo = records_without_keys(db)
    with progress() as bar:
        task = bar.add_task("Records onto their own keys", total=len(todo))
        for at in range(0, len(todo), 500):
            with database.transaction() as db:
                move_records_to_own_keys(db, database.keys, todo[at:at + 500])
            bar.update(task, completed=min(at + 500, len(todo)))
        wrap = bar.add_task("Data keys onto the active field key", total=None)
        with database.transaction() as db:
            rewrapped = rewrap_data_keys(db, database.keys,
                                         progress=lambda done, total: bar.update(wrap, completed=done, total=total))
            record_event(db, CLI, "keys:reencrypt", "organisation", None, records=len(todo), rewrapped=rewrapped)
    console.print(f"{len(todo)} record(s) moved onto their own keys; {rewrapped} data key(s) rewrapped.")


__all__ = ["keys_reencrypt", "person_app", "reapply_after_restore"]
