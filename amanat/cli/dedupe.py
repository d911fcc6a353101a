"""`amanat dedupe A.xlsx B.csv … --out clusters.xlsx`: the standalone spreadsheet dedupe.

Registered by the main app as ``app.command("dedupe")(dedupe_command)``. Prints counts, file
names and column headers only; record values go nowhere but the output file the user named, and
that file appears only complete (Ctrl-C or an error leaves none).
"""

from __future__ import annotations

import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from amanat.errors import AmanatError
from amanat.linkage.progress import Progress as JobProgress

if TYPE_CHECKING:
    from amanat.linkage.dedupe import DedupeResult, SourceColumns

console = Console(stderr=True, soft_wrap=True)  # a message stays one line when stderr is a file


class _RichProgress(JobProgress):
    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.task: TaskID | None = None

    def stage(self, name: str, total: int | None = None) -> None:
        if self.task is not None:
            t = self.bar.tasks[-1]
            self.bar.update(self.task, total=t.completed or 1, completed=t.completed or 1)
        self.task = self.bar.add_task(name, total=total)

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.bar.advance(self.task, n)

    def finish(self) -> None:
        self.stage("done", 1)
        self.advance()


def _show_columns(sources: list[SourceColumns]) -> None:
    """How each file's columns are read, before any row is: headers and field names, no values."""
    for s in sources:
        name = escape(s.file)
        read = ", ".join(f"{letter} '{escape(h)}' → {f}" for letter, h, f in s.read)
        console.print(f"{name}: columns read as fields: {read or 'none'}")
        if s.compared:
            console.print(f"{name}: compared as text (--compare): "
                          + ", ".join(f"{letter} '{escape(h)}'" for letter, h in s.compared))
        if s.kept:
            console.print(f"{name}: not read, only copied to the output: "
                          + ", ".join(f"{letter} '{escape(h)}'" for letter, h in s.kept))
        for line in s.warnings:
            console.print(f"[yellow]warning:[/yellow] {escape(line)}")


class _Interrupts:
    """Ctrl-C while a run is under way. This process stops (KeyboardInterrupt) and remembers it:
    DuckDB and Splink turn the interrupt into errors of their own ("Query interrupted"), which are
    then known for what they are. Forked workers alive at that moment ignore it (their pool ends
    them) instead of each printing a traceback."""

    def __init__(self) -> None:
        self.seen = False
        self._parent = os.getpid()
        self._previous: Any = None

    def _on_interrupt(self, signum: int, frame: object) -> None:
        if os.getpid() == self._parent:
            self.seen = True
            raise KeyboardInterrupt

    def __enter__(self) -> _Interrupts:
        self._previous = signal.signal(signal.SIGINT, self._on_interrupt)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)


def dedupe_command(
    files: Annotated[list[Path], typer.Argument(help="CSV or XLSX files to deduplicate together.",
                                                exists=True, dir_okay=False, readable=True)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the clusters: .csv or .xlsx.")],
    threshold: Annotated[float | None, typer.Option(
        min=0.0, max=1.0, help="Match probability at which rows are put in one cluster "
        "(default: the model's auto-link threshold).")] = None,
    model_path: Annotated[Path | None, typer.Option(
        "--model", exists=True, dir_okay=False, help="A trained model JSON to use instead of training.")] = None,
    train: Annotated[bool | None, typer.Option(
        "--train/--no-train", help="Train on these files (default: only when they hold enough rows).")] = None,
    save_model: Annotated[Path | None, typer.Option(help="Also write the model used to this JSON file.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for training's random sampling.")] = 42,
    compare: Annotated[list[str] | None, typer.Option(
        "--compare", metavar="COLUMN",
        help="Also compare this column (by its header; repeat for more), e.g. an address or a "
        "unit: as text, with typo-tolerant levels, and used to find candidates. Each file must "
        "have it. The model is then trained on these files.")] = None,
    mapping: Annotated[Path | None, typer.Option(
        exists=True, dir_okay=False, readable=True,
        help="column → field mapping for every file, as for `amanat intake table` (CSV with two columns, JSON "
        "or YAML; a field of \"ignore\" leaves the column out of the comparison); other columns are matched by "
        "XLSForm name or label in English, Dari or Pashto.")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace the --out (and --save-model) file if it exists.")] = False,
    spark: Annotated[str | None, typer.Option(
        "--spark", metavar="MASTER", envvar="AMANAT_SPARK_MASTER",
        help="Score the candidate pairs on Spark: a master such as local[8] or spark://host:7077 (needs "
        "pip install 'amanat[spark]' and Java 17; see docs/linkage.md for memory and cores). Files are read, "
        "normalised and blocked here; training, if any, reads a sample here.")] = None,
) -> None:
    """Find the same person across spreadsheets, in any script, and write one row per input
    row with its cluster, its strongest link and the reasons for it.

    The output has every input row and column, Amanat's columns first and each cluster's rows
    together. It contains what the inputs contained (names, IDs, phones): keep it as safe as them.
    """
    interrupts = _Interrupts()
    written = False
    try:
        with interrupts:
            # pandas and Splink load here, not on every `amanat` command
            from amanat.intake.tables import load_mapping
            from amanat.linkage import dedupe as dd
            from amanat.linkage.dedupe_output import atomic_target, check_suffix, check_target
            from amanat.linkage.model import TrainedModel

            logging.getLogger("splink").setLevel(logging.ERROR)  # training chatter, no values, but noise
            # What can be refused is refused before anything is shown or read.
            check_target(out, files, force=force)
            check_suffix(out)
            columns = load_mapping(mapping) if mapping else None
            if save_model:
                if save_model.resolve() == out.resolve():
                    raise AmanatError("--save-model and --out name the same file", code="usage")
                check_target(save_model, files, force=force, option="--save-model")
            model = TrainedModel.from_json(model_path.read_text(encoding="utf-8")) if model_path else None
            session = None
            if spark:
                from amanat.linkage.spark import open_spark

                console.print(f"starting Spark on {escape(spark)}")
                session = open_spark(spark)
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console) as bar:
                progress = _RichProgress(bar)
                result = dd.dedupe_files(files, out, model=model, train=train, seed=seed, threshold=threshold,
                                         progress=progress, compare=compare or (), mapping=columns, force=force,
                                         on_columns=_show_columns, spark=session)
                written = True
                progress.finish()
            if save_model:
                with atomic_target(save_model, replace=force) as tmp:
                    tmp.write_text(result.model.to_json(), encoding="utf-8")
    except BaseException as exc:
        if interrupts.seen or isinstance(exc, KeyboardInterrupt):
            if not written:
                console.print("interrupted: nothing was written")
            else:
                console.print(f"interrupted: {escape(str(out))} was written"
                              + ("; the model was not saved" if save_model else ""))
            raise typer.Exit(130) from None
        if isinstance(exc, AmanatError):
            console.print(f"[red]error:[/red] {escape(exc.public_message)} [dim]({exc.code})[/dim]")
            raise typer.Exit(1) from None
        if isinstance(exc, ValueError):  # a model file from another version, or not a model at all
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(1) from None
        raise
    _summary(result, "trained on these files" if result.trained else "bundled" if not model_path else "given")
    for line in result.notes:
        console.print(f"[dim]note:[/dim] {escape(line)}")
    for line in result.skipped_rows[:20]:
        console.print(f"[yellow]skipped:[/yellow] {escape(line)}")
    console.print(f"written to {escape(str(out))}" + (f"; model to {escape(str(save_model))}" if save_model else ""))


# What a list with little evidence can and cannot decide, by what it lacks.
_THIN_ADVICE = ("With no father's name, date of birth, ID or phone, a name cannot tell one man from his namesake: "
                "rows with the same name are one possible group, to check with whoever sent the list. Add any of "
                "those columns for more.")


def _summary(result: DedupeResult, model_kind: str) -> None:
    """Counts in words: what was compared, what no row gave, and each outcome — never a bare 0."""
    table = result.lead
    given = [f"{what} ({share:.0%})" for what, share in result.coverage.items() if share > 0]
    absent = [what for what, share in result.coverage.items() if share == 0]
    console.print(f"{len(table)} rows; compared: {', '.join(given) or 'nothing linkage reads'}.")
    if absent:
        console.print(f"not in these files: {', '.join(absent)}.")
    status = table["status"]
    in_clusters = table["cluster_size"] > 1
    clusters = table.loc[in_clusters, "cluster_id"].nunique()
    linked = (f"{int(in_clusters.sum())} rows in {clusters} groups of one person" if clusters
              else "none (no pair had the evidence to be one person without a person's check)")
    console.print(f"linked as one person: {linked}.")
    grouped = table["possible_group"] > 0
    groups = table.loc[grouped, "possible_group"].nunique()
    possible = (f"{int(grouped.sum())} rows in {groups} possible groups (column possible_group; the rows of one "
                "group are next to each other)" if groups else "none")
    console.print(f"possible, for a person to check: {possible}; likely relatives, kept apart (status relatives): "
                  f"{int((status == 'relatives').sum())} rows.")
    identity = ("father's name", "date of birth", "tazkira", "passport", "phone")
    if all(result.coverage.get(w, 0) < 0.2 for w in identity):
        console.print(f"[dim]{escape(_THIN_ADVICE)}[/dim]")
    console.print(f"model {result.model.version} ({model_kind}).")

