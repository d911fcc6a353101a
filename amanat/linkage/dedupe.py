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
import pyarrow as pa

from amanat.errors import InvalidInput
from amanat.intake.spreadsheet_safety import escape_formula
from amanat.intake.tables import read_table
from amanat.linkage.batch import cluster, predict_pairs
from amanat.linkage.batch_features import LINKAGE_FIELDS, batch_features
from amanat.linkage.comparisons import compare_feature_names
from amanat.linkage.features import BlockRule
from amanat.linkage.incremental import score_pair
from amanat.linkage.model import EM_RULES, LinkType, TrainedModel, train_model
from amanat.linkage.progress import Progress
from amanat.normalize.script import fold

# Below this many rows the file's own statistics are too thin to train on: use the
# bundled model (trained on the synthetic population, see docs/linkage.md).
MIN_TRAIN_ROWS = 5000
OUTPUT_LEAD = ("source_file", "source_row", "cluster_id", "cluster_size", "status", "linked_to",
               "match_weight", "match_probability", "reasons", "weak_link")


# Blocking for the standalone dedupe only, on top of features.BLOCKING_RULES. The store's
# index (blocking_keys, HMACs in the database) never holds these keys, so they must not be
# used to predict stored records: batch and incremental candidates would drift apart. They
# are the broad rules a one-off file can afford and the store at a million records cannot:
# own + family name without a year, the two names in either field, the full date of birth,
# and the ID's digits in any order.
STANDALONE_RULES: tuple[BlockRule, ...] = (
    BlockRule("s_nm", ("full_phon", "family_phon")),
    BlockRule("s_ns", ("names_set",)),
    BlockRule("s_dd", ("dob_day",)),
    BlockRule("s_ts", ("tazkira_sorted",)),
)
# A standalone rule (or one on a --compare column) that would generate more candidate pairs
# than this many per row, plus a floor, is left out for that file: a column such as "city"
# with ten values would otherwise compare everyone with everyone.
PAIRS_PER_ROW = 10
PAIRS_FLOOR = 50_000
# EM for a file: the store's rounds, then one on the full date of birth, which trains the
# ID and any compared columns when the file has no father's names for the first round.
STANDALONE_EM_RULES: tuple[tuple[str, ...], ...] = (*EM_RULES, ("dob_day",))


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
    notes: list[str] = field(default_factory=list)  # e.g. a blocking rule left out; no values


def _compare_mapping(path: str | os.PathLike[str], name: str, compare: Sequence[str]) -> dict[str, str | None]:
    """Header → field for the extra columns: each must be in the file, under its own name, and
    not be a column linkage compares already (a name, a date, an ID…). A form field linkage
    does not use (unit, rank) may be compared; its values then appear under its header."""
    if not compare:
        return {}
    with read_table(path, file_name=name) as reader:  # the header row only
        headers = {h.strip(): reader.columns.get(h) for h in reader.headers if h.strip()}
    for col in compare:
        if col not in headers:
            raise InvalidInput(f"the column '{col}' given to --compare is not in {name}", field="compare")
        if headers[col] in LINKAGE_FIELDS:
            raise InvalidInput(f"the column '{col}' in {name} is read as the form field '{headers[col]}', "
                               "which is compared already", field="compare")
    return {col: col for col in compare}


def _check_compare(compare: Sequence[str]) -> tuple[str, ...]:
    cols = tuple(c.strip() for c in compare)
    if any(not c for c in cols) or len(set(cols)) != len(cols):
        raise InvalidInput("--compare takes each column once, by its header", field="compare")
    clash = [c for c in cols if c in OUTPUT_LEAD]
    if clash:
        raise InvalidInput(f"the column '{clash[0]}' cannot be compared: the output has a column of that name",
                           field="compare")
    return cols


def _compare_for(compare: Sequence[str], model: TrainedModel | None, train: bool | None) -> tuple[str, ...]:
    """The extra columns a run compares: those named, or a given model's own."""
    cols = _check_compare(compare)
    if model is not None:
        if cols and cols != model.compare_columns:
            raise InvalidInput("the model given was trained to compare other columns than --compare names",
                               field="compare")
        return model.compare_columns
    if cols and train is False:
        raise InvalidInput("--compare needs a model trained on these files: leave out --no-train", field="compare")
    return cols


def read_sources(paths: Sequence[str | os.PathLike[str]], progress: Progress | None = None,
                 skipped: list[str] | None = None, compare: Sequence[str] = ()) -> list[SourceRow]:
    """Every row of every file, with canonical fields (header names per intake.tables) and the
    ``compare`` columns under their headers."""
    progress = progress or Progress()
    compare = _check_compare(compare)
    mappings = [_compare_mapping(path, Path(path).name, compare) for path in paths]  # fail before reading
    rows: list[SourceRow] = []
    for path, mapping in zip(paths, mappings, strict=True):
        name = Path(path).name
        progress.stage(f"reading {name}")
        reader = read_table(path, file_name=name, on_error="collect", mapping=mapping)
        for row_number, parsed in reader:
            rows.append(SourceRow(name, row_number, dict(parsed.fields)))
            progress.advance()
        if skipped is not None:
            skipped.extend(str(e) for e in reader.errors)
    return rows


def compare_values(values: Iterable[object]) -> list[str | None]:
    """An extra column's values as compared: folded (case, accents, letter variants, digits,
    spaces) and otherwise as given; not text or empty is missing."""
    out: list[str | None] = []
    for v in values:
        text = fold(v) if isinstance(v, str) and v.strip() else ""
        out.append(text or None)
    return out


def add_compare_columns(frame: pd.DataFrame, fields: Sequence[dict[str, object]],
                        compare: Sequence[str]) -> pd.DataFrame:
    """``frame`` (a batch_features frame, same row order as ``fields``) with one ``cmp_<i>``
    column per extra column in ``compare``."""
    out = frame.copy()
    for name, header in zip(compare_feature_names(compare), compare, strict=True):
        out[name] = pd.Series(compare_values(f.get(header) for f in fields), index=out.index,
                              dtype="string[pyarrow]")
    return out


def _rule_pairs(frame: pd.DataFrame, rule: BlockRule) -> int:
    """Pairs a rule would generate within the frame (every record against every other)."""
    keys = frame[list(rule.columns)].dropna()
    if keys.empty:
        return 0
    n = keys.groupby(list(rule.columns), observed=True).size().astype("int64")
    return int((n * (n - 1) // 2).sum())


def standalone_blocking(frame: pd.DataFrame, compare: Sequence[str] = ()) -> tuple[list[BlockRule], list[str]]:
    """The extra rules for this file: STANDALONE_RULES and one per compared column, each kept
    only if it stays within the pair budget. Returns (rules, notes on rules left out)."""
    budget = max(PAIRS_FLOOR, PAIRS_PER_ROW * len(frame))
    candidates = [*STANDALONE_RULES, *(BlockRule(f"s_{c}", (c,)) for c in compare_feature_names(compare))]
    labels = {f"s_{c}": h for c, h in zip(compare_feature_names(compare), compare, strict=True)}
    rules: list[BlockRule] = []
    notes: list[str] = []
    for rule in candidates:
        n = _rule_pairs(frame, rule)
        if n > budget:
            notes.append(f"blocking on {labels.get(rule.name, '+'.join(rule.columns))} left out: "
                         f"{n} pairs, over the budget of {budget}")
        else:
            rules.append(rule)
    return rules, notes


def train_standalone(frame: pd.DataFrame, *, compare: Sequence[str] = (), seed: int = 42,
                     link_type: LinkType = "dedupe_only") -> TrainedModel:
    """Train on the file itself (no labels), its extra columns included."""
    return train_model(frame, seed=seed, link_type=link_type, compare=compare, em_rules=STANDALONE_EM_RULES)


def predict_standalone(model: TrainedModel, frame: pd.DataFrame, *, threshold_match_weight: float,
                       notes: list[str] | None = None) -> pd.DataFrame:
    """Every pair any of the store's rules or this file's standalone rules generates, scored."""
    extra, left_out = standalone_blocking(frame, model.compare_columns)
    if notes is not None:
        notes.extend(left_out)
    return predict_pairs(model, frame, threshold_match_weight=threshold_match_weight, extra_blocking=extra)


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
    compare: Sequence[str] = (),
) -> DedupeResult:
    """Cluster the rows. ``train``: None = train on the rows when there are enough of them,
    or whenever ``compare`` names extra columns (the bundled model knows none).
    ``compare``: headers of extra columns (in each row's fields) compared as text; a given
    ``model`` brings its own."""
    progress = progress or Progress()
    compare = _compare_for(compare, model, train)
    skipped: list[str] = []
    frame = add_compare_columns(_features(rows, progress, skipped), [r.fields for r in rows], compare)
    trained = False
    if model is None:
        if train or (train is None and (len(rows) >= MIN_TRAIN_ROWS or compare)):
            progress.stage("training the model")
            model = train_standalone(frame, compare=compare, seed=seed)
            trained = True
        else:
            model = bundled_model()
    link_at = threshold if threshold is not None else model.thresholds.auto_link
    review_at = min(model.thresholds.review, link_at)
    progress.stage("scoring candidate pairs")
    notes: list[str] = []
    pairs = predict_standalone(model, frame, threshold_match_weight=model.thresholds.weight(review_at),
                               notes=notes) if len(frame) > 1 else pd.DataFrame(
        columns=["unique_id_l", "unique_id_r", "match_weight", "match_probability"])
    progress.stage("clustering")
    clusters = cluster(pairs, frame["unique_id"], link_at, strict=model.thresholds.strict)
    progress.stage("explaining links", len(frame))
    table = _assemble(rows, frame, pairs, clusters, model, link_at, progress)
    return DedupeResult(table, model, trained, len(pairs), skipped, notes)


def _assemble(rows: Sequence[SourceRow], frame: pd.DataFrame, pairs: pd.DataFrame, clusters: pd.DataFrame,
              model: TrainedModel, link_at: float, progress: Progress) -> pd.DataFrame:
    best: dict[str, tuple[float, str, float]] = {}
    for a, b, w, p in zip(pairs["unique_id_l"].astype(str), pairs["unique_id_r"].astype(str),
                          pairs["match_weight"].to_numpy(dtype=float), pairs["match_probability"].to_numpy(dtype=float),
                          strict=True):
        for x, y in ((a, b), (b, a)):
            if x not in best or w > best[x][0]:
                best[x] = (float(w), y, float(p))
    # Only the rows on a link are needed as dicts (for their reasons): Arrow gives them quickly.
    linked = sorted({int(x) for x in best} | {int(y) for _, y, _ in best.values()})
    by_id = {str(r["unique_id"]): r for r in
             pa.Table.from_pandas(frame.iloc[linked], preserve_index=False).to_pylist()} if linked else {}
    reasons: dict[tuple[str, str], str] = {}  # two rows are often each other's best link: score once
    # clusters come in input order (cluster() keeps the ids' order): read them by position
    cluster_ids = clusters["cluster_id"].astype(str).tolist()
    sizes = clusters["cluster_size"].astype(int).tolist()
    weak = [str(r) if bool(w) else "" for r, w in zip(clusters["weak_reason"], clusters["weak_link"], strict=True)]
    # Cluster ids become short numbers in input order: stable and free of record content.
    numbering: dict[str, int] = {}
    field_names: list[str] = []
    for r in rows:
        field_names.extend(k for k in r.fields if k not in field_names and not isinstance(r.fields[k], list))
    out: list[dict[str, Any]] = []
    for i, r in enumerate(rows):
        rid = str(i)
        cid = numbering.setdefault(cluster_ids[i], len(numbering) + 1)
        rec: dict[str, Any] = {"source_file": r.source_file, "source_row": r.source_row, "cluster_id": cid,
                               "cluster_size": sizes[i], "status": "", "linked_to": "",
                               "match_weight": None, "match_probability": None, "reasons": "",
                               "weak_link": weak[i]}
        if rid in best:
            w, other, p = best[rid]
            o = rows[int(other)]
            key = (rid, other) if int(rid) < int(other) else (other, rid)
            if key not in reasons:
                reasons[key] = "; ".join(score_pair(model, by_id[key[0]], by_id[key[1]]).reasons)
            rec["status"] = "linked" if p >= link_at else "review"
            rec["linked_to"] = f"{o.source_file} row {o.source_row}"
            rec["match_weight"] = round(w, 2)
            rec["match_probability"] = round(p, 4)
            rec["reasons"] = reasons[key]
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
    # Checked before reading: a wrong option fails at once, not after a large file.
    compare = _compare_for(kwargs.get("compare", ()), kwargs.get("model"), kwargs.get("train"))
    rows = read_sources(paths, progress, skipped, compare)
    if not rows:
        raise InvalidInput("the input files hold no rows")
    result = dedupe_rows(rows, progress=progress, **kwargs)
    result.skipped_rows[:0] = skipped
    progress.stage("writing")
    write_output(result.table, out)
    return result


