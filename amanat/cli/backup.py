"""`amanat backup` (make, keygen, verify) and `amanat restore`.

``backup keygen`` makes the office's backup key pair, best on a machine that is not the server: the public half
goes into AMANAT_BACKUP_PUBLIC_KEY, the private half into a file kept offline (it is the only way to read a
backup). ``backup --out FILE`` seals the database to that public key (or a passphrase), so the server that
makes backups cannot read them. ``backup verify`` and ``restore`` need the private key (or the passphrase).
Each is audited by ids and counts: backup made, verified, restored.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from amanat.cli.base import CLI, console, friendly, progress, settings_of, write_key_pair
from amanat.cli.organisation import is_initialised, open_organisation, sqlite_file_missing
from amanat.config import Settings
from amanat.core import crypto
from amanat.core.audit import count_events, record_event, verify_chain
from amanat.core.backup import Manifest, OpenWith, SealTo, make_backup, restore_backup, verify_backup
from amanat.core.db import Database, open_database
from amanat.errors import AmanatError, InvalidInput

backup_app = typer.Typer(help="Encrypted, verifiable backups of the organisation's database.",
                         invoke_without_command=True)
PASSPHRASE_ENV = "AMANAT_BACKUP_PASSPHRASE"  # noqa: S105 - the name of a variable, not a secret  # nosec B105


def _read_key(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        raise InvalidInput(f"cannot read the private key file {path.name}.", code="key_unreadable") from None


def _opening(key: Path | None, passphrase_env: str) -> OpenWith:
    if key is not None:
        return OpenWith(secret_key=_read_key(key))
    passphrase = os.environ.get(passphrase_env) or None
    if passphrase is None and sys.stdin.isatty():
        passphrase = str(typer.prompt("Backup passphrase", hide_input=True))
    if passphrase is None:
        raise InvalidInput(f"Give the backup key's private key file (--key), or the passphrase in {passphrase_env}.",
                           code="key_needed")
    return OpenWith(passphrase=passphrase)


def _bytes_bar(description: str, total: int | None) -> tuple[object, Callable[[int], None]]:
    bar = progress()
    task = bar.add_task(description, total=total)
    return bar, lambda n: bar.advance(task, n)


@backup_app.callback()
@friendly
def backup(ctx: typer.Context,
           out: Annotated[Path | None, typer.Option("--out", help="The backup file to write (mode 600).")] = None,
           to: Annotated[str | None, typer.Option("--to", help="Seal to this backup public key (amanat-pk1:…); "
                                                             "default AMANAT_BACKUP_PUBLIC_KEY.")] = None,
           passphrase: Annotated[bool, typer.Option("--passphrase", help=f"Seal with a passphrase instead (from "
                                                                         f"{PASSPHRASE_ENV}, else asked).")] = False,
           force: Annotated[bool, typer.Option(help="Overwrite an existing backup file.")] = False) -> None:
    """Write an encrypted backup of the database (consistent while the server runs): `amanat backup --out FILE`."""
    if ctx.invoked_subcommand is not None:
        return
    if out is None:
        raise InvalidInput("Where should the backup go? Pass --out FILE.", code="out_missing")
    settings = settings_of(ctx)
    database = open_organisation(settings, keys="none")  # refuses, in one line, a database never initialised
    seal_to = _sealing(settings, to, passphrase)
    bar = progress()
    task = bar.add_task("Dumping and encrypting", total=None)
    with bar:
        manifest = make_backup(database.url, out, seal_to, force=force, progress=lambda n: bar.advance(task, n),
                               kdf=(settings.kdf_time_cost, settings.kdf_memory_kib),
                               size_known=lambda n: bar.update(task, total=n))
    how = {"key": crypto.key_fingerprint(seal_to.public_key)} if seal_to.public_key else {"key": "passphrase"}
    with database.transaction() as db:
        record_event(db, CLI, "backup:create", "backup", manifest.backup_id, database=manifest.database,
                     bytes=manifest.size, audit_seq=manifest.audit_seq, **how)
    console.print(f"[green]Backup written[/green] to {out}: {manifest.database}, {manifest.size:,} bytes of dump, "
                  f"audit chain at event {manifest.audit_seq}, sealed to {how['key']}")


def _sealing(settings: Settings, to: str | None, passphrase: bool) -> SealTo:
    if passphrase:
        secret = os.environ.get(PASSPHRASE_ENV) or None
        if secret is None and sys.stdin.isatty():
            secret = str(typer.prompt("Backup passphrase", hide_input=True, confirmation_prompt=True))
        if secret is None:
            raise InvalidInput(f"No passphrase: set {PASSPHRASE_ENV} for unattended use.", code="passphrase_missing")
        return SealTo(passphrase=secret)
    text = to or settings.backup_public_key
    if not text:
        raise InvalidInput("No backup key: run `amanat backup keygen` and set AMANAT_BACKUP_PUBLIC_KEY (or pass --to), "
                           "or seal with --passphrase.", code="backup_key_missing")
    return SealTo(public_key=crypto.parse_public_key(text))


@backup_app.command("keygen")
@friendly
def backup_keygen(private_key: Annotated[Path, typer.Option("--private-key", help="Where to write the private key "
                                                                                   "(mode 600; keep it offline).")],
                  force: Annotated[bool, typer.Option(help="Overwrite an existing key file.")] = False) -> None:
    """Make the backup key pair: writes the private key to a file, prints the public key to configure."""
    public = write_key_pair(private_key, force=force)
    typer.echo(f"AMANAT_BACKUP_PUBLIC_KEY={public}")
    console.print(f"fingerprint: {crypto.key_fingerprint(crypto.parse_public_key(public))}. Put the line above in "
                  f"the server's environment; keep {private_key} offline, in two places: without it no backup opens.")


@backup_app.command("verify")
@friendly
def backup_verify(ctx: typer.Context,
                  file: Annotated[Path, typer.Argument(help="The backup file.")],
                  key: Annotated[Path | None, typer.Option("--key", help="The backup key's private key file.")] = None,
                  passphrase_env: Annotated[str, typer.Option(
                      help="For a backup sealed with a passphrase: the variable holding it.")] = PASSPHRASE_ENV,
                  ) -> None:
    """Decrypt a backup in memory, check its hash and that its database opens; nothing is restored."""
    opening = _opening(key, passphrase_env)
    bar, advance = _bytes_bar("Decrypting and checking", file.stat().st_size if file.exists() else None)
    try:
        with bar:  # type: ignore[attr-defined]
            manifest = verify_backup(file, opening, progress=advance)
    except AmanatError as exc:
        _record_verify(settings_of(ctx), None, exc.code)
        raise
    _record_verify(settings_of(ctx), manifest, "ok")
    console.print(f"[green]OK[/green]: backup {manifest.backup_id} of {manifest.created_at} ({manifest.database}, "
                  f"migration {manifest.migration_head}, {manifest.size:,} bytes, audit chain at event "
                  f"{manifest.audit_seq}): hash matches and the database opens")


def _record_verify(settings: Settings, manifest: Manifest | None, outcome: str) -> None:
    """Audit the check in this machine's organisation, when there is one (verify also runs on a bare machine)."""
    try:
        if sqlite_file_missing(settings) or not is_initialised(open_database(settings)):
            return
        database = open_organisation(settings, keys="none")
    except Exception:  # no database here, or none reachable: the check itself stands
        return
    with database.transaction() as db:
        record_event(db, CLI, "backup:verify", "backup", manifest.backup_id if manifest else None, outcome=outcome)


# --- restore -----------------------------------------------------------------------------------------------
# What runs after the database is back and migrated, before anyone uses it, each in its own transaction
# and audited by itself: (database, manifest) -> a one-line summary. Erasures recorded after the backup was
# made (amanat person erase's ledger) are re-applied here, so a person erased stays erased.
PostRestoreStep = Callable[[Database, Manifest], str]
POST_RESTORE_STEPS: list[PostRestoreStep] = []


def after_restore(database: Database, manifest: Manifest) -> list[str]:
    """The restored audit chain must verify and end where the backup's manifest says; then the restore is
    audited and the post-restore steps run in order."""
    with database.reading() as db:
        bar, advance = _bytes_bar("Verifying the audit chain", count_events(db))
        with bar:  # type: ignore[attr-defined]
            verdict = verify_chain(db, progress=lambda: advance(1))
    if not verdict.ok:
        raise AmanatError(f"The restored audit chain is broken at event {verdict.first_broken_seq}: {verdict.reason}.",
                          code="audit_broken")
    if verdict.checked != manifest.audit_seq or verdict.head != manifest.audit_head:
        raise AmanatError(f"The restored audit chain ends at event {verdict.checked}, the backup's manifest says "
                          f"{manifest.audit_seq}: this is not the database the backup was made of.",
                          code="audit_mismatch")
    with database.transaction() as db:
        record_event(db, CLI, "backup:restore", "backup", manifest.backup_id, database=manifest.database,
                     audit_seq=manifest.audit_seq, migration_from=manifest.migration_head or "none")
    return [step(database, manifest) for step in POST_RESTORE_STEPS]


@friendly
def restore(ctx: typer.Context,
            file: Annotated[Path, typer.Argument(help="The backup file.")],
            key: Annotated[Path | None, typer.Option("--key", help="The backup key's private key file.")] = None,
            passphrase_env: Annotated[str, typer.Option(
                help="For a backup sealed with a passphrase: the variable holding it.")] = PASSPHRASE_ENV,
            force: Annotated[bool, typer.Option(help="Replace a database that is not empty (stop the server "
                                                     "first).")] = False) -> None:
    """Restore a backup into an empty data dir or database, migrate it to this version and verify its audit log.

    The target is AMANAT_DATA_DIR (SQLite) or AMANAT_DATABASE_URL (PostgreSQL: an existing, empty database)."""
    from amanat.core import migrate  # alembic: only for the commands that migrate

    settings = settings_of(ctx)
    opening = _opening(key, passphrase_env)
    url = settings.effective_database_url
    if not file.is_file():
        raise InvalidInput(f"{file} is not a file.", code="file_unreadable")
    bar, advance = _bytes_bar("Decrypting and restoring", file.stat().st_size)
    with bar:  # type: ignore[attr-defined]
        manifest = restore_backup(file, opening, url, force=force, progress=advance)
    known = migrate.known_revisions()
    if manifest.migration_head is not None and manifest.migration_head not in known:
        raise AmanatError(f"The backup is at migration {manifest.migration_head}, which this version of Amanat does "
                          "not know: restore it with the version that made it (or a newer one).",
                          code="migration_unknown")
    database = open_database(settings)
    migrate.upgrade(database.url)
    summaries = after_restore(database, manifest)
    where = make_url(url).render_as_string(hide_password=True).split("?")[0]
    console.print(f"[green]Restored[/green] backup {manifest.backup_id} of {manifest.created_at} into {where}; "
                  f"migrated to {migrate.current_head()}; audit chain verified ({manifest.audit_seq} events)")
    for line in summaries:
        console.print(line)


__all__ = ["POST_RESTORE_STEPS", "after_restore", "backup_app", "restore"]
