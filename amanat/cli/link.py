"""`amanat link`: train the linkage model on everyone known, and re-score everyone in batch."""

from __future__ import annotations

from typing import Annotated

import typer

from amanat.cli.base import CLI, console, friendly, progress, settings_of
from amanat.cli.organisation import open_organisation

link_app = typer.Typer(help="Find people who arrived more than once.", no_args_is_help=True)


@link_app.command("run")
@friendly
def link_run(ctx: typer.Context, spark: Annotated[str | None, typer.Option(
        "--spark", metavar="MASTER", envvar="AMANAT_SPARK_MASTER",
        help="Score the pairs on Spark: local[8], spark://host:7077… (pip install 'amanat[spark]', Java 17). "
        "Records are decrypted and normalised here; Spark holds their comparison features in memory only "
        "if its spark.local.dir is on encrypted storage (docs/linkage.md).")] = None) -> None:
    """Re-score every record with the active model, refresh the blocking index and cluster (connected
    components); pairs between the thresholds go to the review queue, weak clusters are counted."""
    from amanat.linkage.service import run_batch

    session = None
    if spark:
        from amanat.linkage.spark import open_spark

        console.print(f"starting Spark on {spark}")
        session = open_spark(spark)
    database = open_organisation(settings_of(ctx))
    with progress() as bar, database.transaction() as db:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task({"features": "Normalising records", "index": "Indexing blocking keys",
                                             "pairs": "Storing scored pairs"}.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        result = run_batch(db, database.keys, CLI, progress=report, spark=session)
    console.print(f"{result.records} records, {result.pairs_scored} scored pairs: {result.auto} linked, "
                  f"{result.pending} for review, {result.relatives} proposed as relatives (not merged); "
                  f"{result.clusters} clusters, {result.weak_clusters} weak links "
                  f"(model {result.model_version}).")


@link_app.command("train")
@friendly
def link_train(ctx: typer.Context, seed: Annotated[int, typer.Option(help="Random seed for sampling.")] = 1) -> None:
    """Train a new model on everyone known (unsupervised: EM, u by random sampling) and make it active."""
    from amanat.linkage.service import train

    database = open_organisation(settings_of(ctx))
    with progress() as bar, database.transaction() as db:
        task = bar.add_task("Normalising records", total=None)
        model = train(db, CLI, seed=seed, progress=lambda i, n: bar.update(task, completed=i, total=n))
    console.print(f"Active model is now {model.version} ({model.record_count} records).")


@link_app.command("audit-merges")
@friendly
def link_audit_merges(ctx: typer.Context) -> None:
    """List persons whose records disagree on own name or date of birth (brothers merged as one, say),
    with the merges that joined them; undo one with `amanat link unmerge MERGE_ID`. Audited."""
    from amanat.linkage.merge_audit import audit_merges
    from amanat.linkage.service import active_model

    database = open_organisation(settings_of(ctx))
    with database.transaction() as db:
        concerns = audit_merges(db, CLI, active_model(db))
    if not concerns:
        console.print("No person's records disagree on own name or date of birth.")
        return
    for c in concerns:
        what = "; ".join(x for x in (c.relation, *c.notes) if x)
        merges = ", ".join(c.merge_ids) or "none recorded (joined by an exact ID at intake)"
        console.print(f"person {c.person_id}: {len(c.record_ids)} records ({what}); merges: {merges}")
    console.print(f"{len(concerns)} persons to check. Undo a merge with `amanat link unmerge MERGE_ID`, "
                  "or from the case page.")


@link_app.command("unmerge")
@friendly
def link_unmerge(ctx: typer.Context, merge_id: Annotated[str, typer.Argument(help="The merge to undo.")]) -> None:
    """Undo one merge: its records go back to the person they came from, whose case reopens. Audited."""
    from amanat.cases import service as cases
    from amanat.cases import workflow
    from amanat.records.models import PersonMerge

    database = open_organisation(settings_of(ctx))
    with database.transaction() as db:
        case = workflow.undo_merge(db, CLI, merge_id)  # the records go back; cases and their notes follow
        label = cases.case_label(case.number)
        merge = db.get(PersonMerge, merge_id)
        assert merge is not None
        restored, into = merge.from_person, merge.into_person
    console.print(f"Merge {merge_id} undone: person {restored} is separate from {into} again (case {label}).")
