"""Standalone spreadsheet dedupe: CSV/XLSX files in, one clustered table out. No server.

Everything happens in memory (DuckDB in-memory, no spilling). The output file holds what
the inputs held — names, IDs, phones — and is written only where the user asked.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from amanat.errors import InvalidInput
from amanat.intake.spreadsheet_safety import escape_formula
from amanat.intake.tables import read_table
from amanat.linkage.batch import cluster, predict_pairs
from amanat.linkage.features import batch_features
from amanat.linkage.incremental import score_pair
from amanat.linkage.model import TrainedModel, train_model

# Below this many rows the file's own statistics are too thin to train on: use the
# bundled model (trained on the synthetic population, see docs/linkage.md).
MIN_TRAIN_ROWS = 5000
OUTPUT_LEAD = ("source_file", "source_row", "cluster_id", "cluster_size", "status", "linked_to",
               "match_weight", "match_probability", "reasons", "weak_link")


@dataclass
class SourceRow:
    source_file: str
    source_row: int
    fields: dict[str, object]


@dataclass
class DedupeResult:
    table: pd.DataFrame  # one row per input row, OUTPUT_LEAD then the canonical fields
    model: TrainedModel
    trained: bool
    pair_count: int
    skipped_rows: list[str] = field(default_factory=list)  # "file row N: problem", no values


class Progress:
    """What the dedupe reports as it goes; the CLI draws it with Rich."""

    def stage(self, name: str, total: int | None = None) -> None: ...

    def advance(self, n: int = 1) -> None: ...


def read_sources(paths: Sequence[str | os.PathLike[str]], progress: Progress | None = None,
                 skipped: list[str] | None = None) -> list[SourceRow]:
    """Every row of every file, with canonical fields (header names per intake.tables)."""
    progress = progress or Progress()
    rows: list[SourceRow] = []
    for path in paths:
        name = Path(path).name
        progress.stage(f"reading {name}")
        reader = read_table(path, file_name=name, on_error="collect")
        for row_number, parsed in reader:
            rows.append(SourceRow(name, row_number, dict(parsed.fields)))
            progress.advance()
        if skipped is not None:
            skipped.extend(str(e) for e in reader.errors)
    return rows


def bundled_model() -> TrainedModel:
    text = resources.files("amanat.linkage").joinpath("default_model.json").read_text(encoding="utf-8")
    return TrainedModel.from_json(text)


def _features(rows: Sequence[SourceRow], progress: Progress, skipped: list[str]) -> pd.DataFrame:
    progress.stage("normalising", len(rows))
    failed: list[int] = []
    frame = batch_features([str(i) for i in range(len(rows))], [r.fields for r in rows],
                           failed=failed, progress=progress.advance)
    for i in failed:  # one odd row must not stop a whole file; it stays unlinked
        skipped.append(f"{rows[i].source_file} row {rows[i].source_row}: could not be normalised")
    return frame


def dedupe_rows(
    rows: Sequence[SourceRow],
    *,
    model: TrainedModel | None = None,
    train: bool | None = None,
    seed: int = 42,
    threshold: float | None = None,
    progress: Progress | None = None,
) -> DedupeResult:
    """Cluster the rows. ``train``: None = train on the rows when there are enough of them."""
    progress = progress or Progress()
    skipped: list[str] = []
    frame = _features(rows, progress, skipped)
    trained = False
    if model is None:
        if train or (train is None and len(rows) >= MIN_TRAIN_ROWS):
            progress.stage("training the model")
            model = train_model(frame, seed=seed)
            trained = True
        else:
            model = bundled_model()
    link_at = threshold if threshold is not None else model.thresholds.auto_link
    review_at = min(model.thresholds.review, link_at)
    progress.stage("scoring candidate pairs")
    pairs = predict_pairs(model, frame, threshold_match_weight=model.thresholds.weight(review_at)) if len(
        frame) > 1 else pd.DataFrame(columns=["unique_id_l", "unique_id_r", "match_weight", "match_probability"])
    progress.stage("clustering")
    clusters = cluster(pairs, frame["unique_id"], link_at, strict=model.thresholds.strict)
    progress.stage("explaining links", len(frame))
    table = _assemble(rows, frame, pairs, clusters, model, link_at, progress)
    return DedupeResult(table, model, trained, len(pairs), skipped)


def _assemble(rows: Sequence[SourceRow], frame: pd.DataFrame, pairs: pd.DataFrame, clusters: pd.DataFrame,
              model: TrainedModel, link_at: float, progress: Progress) -> pd.DataFrame:
    by_id = {r["unique_id"]: r for r in frame.to_dict("records")}
    best: dict[str, tuple[float, str, float]] = {}
    for a, b, w, p in zip(pairs["unique_id_l"], pairs["unique_id_r"], pairs["match_weight"],
                          pairs["match_probability"], strict=True):
        for x, y in ((str(a), str(b)), (str(b), str(a))):
            if x not in best or w > best[x][0]:
                best[x] = (float(w), y, float(p))
    cinfo = {r["unique_id"]: r for r in clusters.to_dict("records")}
    # Cluster ids become short numbers in input order: stable and free of record content.
    numbering: dict[str, int] = {}
    field_names: list[str] = []
    for r in rows:
        field_names.extend(k for k in r.fields if k not in field_names and not isinstance(r.fields[k], list))
    out: list[dict[str, Any]] = []
    for i, r in enumerate(rows):
        rid = str(i)
        c = cinfo[rid]
        cid = numbering.setdefault(str(c["cluster_id"]), len(numbering) + 1)
        rec: dict[str, Any] = {"source_file": r.source_file, "source_row": r.source_row, "cluster_id": cid,
                               "cluster_size": int(c["cluster_size"]), "status": "", "linked_to": "",
                               "match_weight": None, "match_probability": None, "reasons": "",
                               "weak_link": str(c["weak_reason"]) if bool(c["weak_link"]) else ""}
        if rid in best:
            w, other, p = best[rid]
            o = rows[int(other)]
            rec["status"] = "linked" if p >= link_at else "review"
            rec["linked_to"] = f"{o.source_file} row {o.source_row}"
            rec["match_weight"] = round(w, 2)
            rec["match_probability"] = round(p, 4)
            rec["reasons"] = "; ".join(score_pair(model, by_id[rid], by_id[other]).reasons)
        for k in field_names:
            rec[k] = r.fields.get(k)
        out.append(rec)
        progress.advance()
    return pd.DataFrame(out, columns=[*OUTPUT_LEAD, *field_names])


def _cell(v: Any) -> Any:
    if v is None or (isinstance(v, float) and v != v):
        return None
    return escape_formula(v)


def write_output(table: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """CSV (UTF-8 with BOM, so Excel reads Dari/Pashto right) or XLSX, by extension.
    Text that a spreadsheet would run as a formula is escaped."""
    p = Path(path)
    records: Iterable[list[Any]] = ([_cell(v) for v in row] for row in table.itertuples(index=False))
    suffix = p.suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("clusters")
        ws.append(list(table.columns))
        for row in records:
            ws.append(row)
        wb.save(p)
    elif suffix in (".csv", ".txt"):
        with p.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(list(table.columns))
            writer.writerows(["" if v is None else v for v in row] for row in records)
    else:
        raise InvalidInput("output must end in .csv or .xlsx", field="out")


def dedupe_files(paths: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str], *,
                 progress: Progress | None = None, **kwargs: Any) -> DedupeResult:
    progress = progress or Progress()
    if Path(out).suffix.lower() not in (".csv", ".xlsx", ".txt"):
        raise InvalidInput("output must end in .csv or .xlsx", field="out")
    skipped: list[str] = []
    rows = read_sources(paths, progress, skipped)
    if not rows:
        raise InvalidInput("the input files hold no rows")
    result = dedupe_rows(rows, progress=progress, **kwargs)
    result.skipped_rows[:0] = skipped
    progress.stage("writing")
    write_output(result.table, out)
    return result


