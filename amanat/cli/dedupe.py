"""`amanat dedupe A.xlsx B.csv … --out clusters.xlsx`: the standalone spreadsheet dedupe.

Registered by the main app as ``app.command("dedupe")(dedupe_command)``. Prints counts only;
record values go nowhere but the output file the user named.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from amanat.errors import AmanatError
from amanat.linkage.progress import Progress as JobProgress

console = Console(stderr=True)


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
) -> None:
    """Find the same person across spreadsheets, in any script, and write one row per input
    row with its cluster, its strongest link and the reasons for it.

    The output contains what the inputs contained (names, IDs, phones): keep it as safe as them.
    """
    # pandas and Splink load here, not on every `amanat` command
    from amanat.linkage import dedupe as dd
    from amanat.linkage.model import TrainedModel

    logging.getLogger("splink").setLevel(logging.ERROR)  # training chatter, no values, but noise
    try:
        model = TrainedModel.from_json(model_path.read_text(encoding="utf-8")) if model_path else None
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as bar:
            progress = _RichProgress(bar)
            result = dd.dedupe_files(files, out, model=model, train=train, seed=seed, threshold=threshold,
                                     progress=progress, compare=compare or ())
            progress.finish()
    except AmanatError as exc:
        console.print(f"[red]error:[/red] {exc.public_message} [dim]({exc.code})[/dim]")
        raise typer.Exit(1) from None
    except ValueError as exc:  # a model file from another version, or not a model at all
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    if save_model:
        save_model.write_text(result.model.to_json(), encoding="utf-8")
    table = result.lead
    clusters = table.loc[table["cluster_size"] > 1, "cluster_id"].nunique()
    linked = int((table["cluster_size"] > 1).sum())
    review = int((table["status"] == "review").sum())
    console.print(f"{len(table)} rows, {clusters} clusters of the same person covering {linked} rows, "
                  f"{review} rows to review; model {result.model.version}"
                  f" ({'trained on these files' if result.trained else 'bundled' if not model_path else 'given'}).")
    for line in result.notes:
        console.print(f"[dim]note:[/dim] {line}")
    for line in result.skipped_rows[:20]:
        console.print(f"[yellow]skipped:[/yellow] {line}")
    console.print(f"written to {out}")
