"""``amanat intake …``: import WhatsApp chat exports, CSV/XLSX tables and ODK zips as sealed submissions.

An import needs only the organisation's public key (as `serve --sealed-only` does), so it runs on an intake
node that cannot read what it stores; ``--preview`` needs no keys and no database at all. Without
``--preview`` a file is imported all or nothing, in one transaction.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from amanat.cli.base import CLI, console, friendly, progress, settings_of
from amanat.cli.organisation import open_organisation
from amanat.errors import AmanatError
from amanat.intake.consent import ImportConsent, import_consent
from amanat.intake.errors import IntakeError

if TYPE_CHECKING:  # the importers (pyxform, openpyxl) load when a command runs, not on every `amanat`
    from amanat.core.db import Database
    from amanat.intake.imports import ImportResult

intake_app = typer.Typer(help="Import WhatsApp chat exports and CSV/XLSX tables (Kobo, ODK Central, lists).",
                         no_args_is_help=True)
out = Console()  # previews go to stdout; progress and errors to stderr

ConsentBasis = Annotated[str | None, typer.Option(
    "--consent-basis", help="How the people in this file gave their consent (required to import): "
    "paper_intermediary (recorded on paper by the intermediary), messenger_conversation (given in the messenger "
    "conversation) or phone_verbal (verbal, recorded by phone).", show_default=False)]
ConsentVersion = Annotated[str | None, typer.Option("--consent-form-version",
                                                    help="The consent form's version, where known (e.g. 2024-1).")]
ConsentLanguage = Annotated[str | None, typer.Option("--consent-language",
                                                     help="The language consent was given in, where known: "
                                                          "en, fa_AF or ps_AF.")]


def _consent(basis: str | None, version: str | None, language: str | None, source: str) -> ImportConsent:
    return import_consent(basis, version, language, source=source)


ExistingFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, resolve_path=True)]
Preview = Annotated[bool, typer.Option("--preview", help="Show what would be imported and why messages or rows "
                                                         "are left out; store nothing (needs no keys).")]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IntakeError("file cannot be read", source=path.name) from exc


def _print_preview(result: ImportResult) -> None:
    where = "messages" if result.channel == "whatsapp" else "rows"
    read = result.messages if result.channel == "whatsapp" else result.rows
    out.print(f"{escape(result.file_name)}: {read} {where} read, [bold]{result.submissions}[/bold] submissions with "
              f"{result.attachments} attachments would be created; {len(result.skipped)} skipped; "
              f"{len(result.errors)} row errors.")
    if result.columns:
        cols = Table("column", "field", title="Columns")
        for header, fld in result.columns.items():
            unmatched = header in result.unmapped
            cols.add_row(escape(header), fld or ("[yellow]not matched[/yellow]" if unmatched else "not imported"))
        out.print(cols)
    for line in result.warnings:
        out.print(f"[yellow]warning:[/yellow] {escape(line)}")
    if result.samples:
        subs = Table("#", "from", "fields found", "attachments", title="Submissions (field names only)")
        for s in result.samples:
            subs.add_row(str(s.number), s.ref, ", ".join(s.fields), str(s.attachments))
        out.print(subs)
        if result.submissions > len(result.samples):
            out.print(f"… and {result.submissions - len(result.samples)} more.")
    if result.field_counts:
        out.print("Fields found: " + ", ".join(f"{k} ({v})" for k, v in result.field_counts.items()))
    if result.skipped:
        skipped = Table("message" if result.channel == "whatsapp" else "row", "line", "why skipped", title="Skipped")
        for s in result.skipped:
            skipped.add_row(str(s.get("message", s.get("row", ""))), str(s.get("line", "")), escape(str(s["reason"])))
        out.print(skipped)
    for err in result.errors[:50]:
        out.print(f"[red]row error:[/red] {escape(err.public_message)}")
    if len(result.errors) > 50:
        out.print(f"… and {len(result.errors) - 50} more row errors.")


def _done(database: Database, result: ImportResult) -> None:
    """What was stored, and how long the worker will take: "N queued; the worker will take about T"."""
    from amanat.intake.throughput import backlog, duration_words

    console.print(f"[green]Sealed[/green] {result.submissions} submissions ({result.attachments} attachments) "
                  f"from {escape(result.file_name)} as batch {result.batch_id}; {len(result.skipped)} skipped.")
    with database.reading() as db:
        queue = backlog(db)
    if queue.seconds is not None and queue.rate is not None:
        console.print(f"{result.submissions:,} queued; the worker will take about {duration_words(queue.seconds)} "
                      f"({queue.waiting:,} waiting in all, at its recent {queue.rate:,.0f} per second).")
    else:
        console.print(f"{result.submissions:,} queued; the worker has not yet processed enough to measure its "
                      f"rate, so how long it will take is not known ({queue.waiting:,} waiting in all; it runs "
                      "inside `amanat serve`, or as `amanat worker`).")


def _nothing_new(result: ImportResult, what: str) -> None:
    console.print(f"Nothing new: all {len(result.skipped)} {what} of {escape(result.file_name)} were already "
                  "received (same instance ID).")


@intake_app.command("whatsapp")
@friendly
def whatsapp(ctx: typer.Context, export: ExistingFile,
             intermediary: Annotated[str, typer.Option(help="Who collected these forms and sent the chat.")],
             consent_basis: ConsentBasis = None, consent_form_version: ConsentVersion = None,
             consent_language: ConsentLanguage = None, preview: Preview = False,
             as_json: Annotated[bool, typer.Option("--json", help="With --preview: print one JSON document "
                                                                  "{messages, submissions, skipped}.")] = False,
             ) -> None:
    """Import the forms typed into a WhatsApp chat export (.zip with media, or the .txt)."""
    from amanat.intake.imports import import_whatsapp, preview_whatsapp, whatsapp_preview_document
    data = _read(export)
    if preview:
        if as_json:
            doc = whatsapp_preview_document(data, file_name=export.name, intermediary=intermediary)
            typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        else:
            with progress() as bar:
                bar.add_task("Reading the chat", total=None)
                result = preview_whatsapp(data, file_name=export.name, intermediary=intermediary)
            _print_preview(result)
        return
    if as_json:
        raise AmanatError("--json goes with --preview.", code="usage")
    consent = _consent(consent_basis, consent_form_version, consent_language, export.name)
    database = open_organisation(settings_of(ctx), keys="public")
    with progress() as bar:
        task = bar.add_task("Reading the chat", total=None)

        def tick(done: int, total: int | None) -> None:
            bar.update(task, description="Sealing submissions", completed=done, total=total)

        with database.transaction() as db:
            result = import_whatsapp(db, database.keys, data, file_name=export.name, intermediary=intermediary,
                                     actor=CLI, consent=consent, progress=tick)
            if result.submissions == 0:
                raise IntakeError("no typed forms found in the chat; nothing stored (see --preview)",
                                  source=result.file_name)
    _done(database, result)


@intake_app.command("table")
@friendly
def table(ctx: typer.Context, file: ExistingFile,
          mapping: Annotated[Path | None, typer.Option(
              exists=True, dir_okay=False, readable=True,
              help="column → field mapping (CSV with two columns, JSON or YAML); unnamed columns are matched by "
                   "XLSForm name or label in English, Dari or Pashto.")] = None,
          consent_basis: ConsentBasis = None, consent_form_version: ConsentVersion = None,
          consent_language: ConsentLanguage = None, preview: Preview = False) -> None:
    """Import a CSV, XLSX or XLS table (Kobo or ODK Central export, or a list kept by hand): one submission per
    row."""
    from amanat.intake.imports import import_table, preview_table
    from amanat.intake.tables import load_mapping
    columns = load_mapping(mapping) if mapping else None
    consent = None if preview else _consent(consent_basis, consent_form_version, consent_language, file.name)
    database = None if preview else open_organisation(settings_of(ctx), keys="public")
    try:
        stream = file.open("rb")
    except OSError as exc:
        raise IntakeError("file cannot be read", source=file.name) from exc
    with stream, progress() as bar:
        task = bar.add_task("Reading rows" if preview else "Sealing rows", total=None)

        def tick(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=max(total, done) if total else None)

        if database is None:
            result = preview_table(stream, file_name=file.name, mapping=columns, progress=tick)
        else:
            with database.transaction() as db:
                result = import_table(db, database.keys, stream, file_name=file.name, mapping=columns, actor=CLI,
                                      consent=consent, progress=tick)
                if result.submissions == 0 and not result.skipped:
                    raise IntakeError("no row holds a value in a matched column; nothing stored (see --preview)",
                                      source=result.file_name)
        bar.update(task, completed=result.submissions, total=result.submissions)
    if database is None:
        _print_preview(result)
        if result.errors:
            raise typer.Exit(1)
        return
    for line in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(line)}")
    if result.submissions == 0:
        _nothing_new(result, "rows")
    else:
        _done(database, result)


@intake_app.command("odk")
@friendly
def odk(ctx: typer.Context, export: ExistingFile) -> None:
    """Import ODK instances from a .zip (ODK Briefcase, or a copy of a phone's instances folder), plain or
    encrypted, each as the OpenRosa server would receive it."""
    from amanat.intake.imports import import_odk_zip
    data = _read(export)
    database = open_organisation(settings_of(ctx), keys="public")
    with database.transaction() as db:
        result = import_odk_zip(db, database.keys, data, file_name=export.name, actor=CLI)
    if result.submissions == 0:
        _nothing_new(result, "instances")
    else:
        _done(database, result)


@intake_app.command("odk-instances")
@friendly
def odk_instances(ctx: typer.Context, folder: Annotated[Path, typer.Argument(
        exists=True, file_okay=False, dir_okay=True, readable=True, resolve_path=True,
        help="The instances folder copied off a phone (or one submission's folder, or the phone's odk folder).")],
                  ) -> None:
    """Import an ODK Collect instances folder copied off a phone by cable: one folder per submission
    (submission.xml, or an encrypted form's manifest and submission.xml.enc, with media), each sealed as the
    OpenRosa server would receive it. A submission already received (same instance ID) is skipped and named."""
    from amanat.intake.form_versions import known_form_ids
    from amanat.intake.imports import plan_odk_instances, store_plan
    from amanat.intake.odk_folder import read_instances_folder
    from amanat.intake.upload_limits import UploadLimits

    settings = settings_of(ctx)
    database = open_organisation(settings, keys="public")
    with database.reading() as db:
        forms = known_form_ids(db)
    with progress() as bar:
        task = bar.add_task("Reading instances", total=None)
        instances, digest, size = read_instances_folder(
            folder, limits=UploadLimits.from_settings(settings), progress=lambda n: bar.update(task, completed=n))
        bar.update(task, description="Sealing instances", completed=0, total=len(instances))
        plan = plan_odk_instances(database.keys, instances, file_name=folder.name, digest=digest, size=size,
                                  kind="odk_folder", forms=forms, actor=CLI,
                                  progress=lambda done, total: bar.update(task, completed=done, total=total))
        bar.update(task, completed=len(instances))
        with database.transaction() as db:
            result = store_plan(db, plan, actor=CLI)
    for skipped in result.skipped:
        console.print(f"skipped {escape(str(skipped.get('member', '')))}: {skipped['reason']}")
    if result.submissions == 0:
        _nothing_new(result, "instances")
    else:
        _done(database, result)


__all__ = ["intake_app"]
