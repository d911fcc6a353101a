"""Standalone spreadsheet dedupe: CSV/XLSX files in, one clustered table out. No server.

Everything happens in memory (DuckDB in-memory, no spilling). The output file holds what
the inputs held — names, IDs, phones — and is written only where the user asked.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from amanat.errors import InvalidInput
from amanat.intake.spreadsheet_safety import escape_formula
from amanat.intake.tables import read_table
from amanat.linkage.batch import cluster_positions, predict_pairs
from amanat.linkage.batch_features import LINKAGE_FIELDS, batch_features
from amanat.linkage.blocking import Codes, blocked_pairs, pair_counts
from amanat.linkage.comparisons import compare_feature_names
from amanat.linkage.features import BLOCKING_RULES, BlockRule
from amanat.linkage.incremental import reasons_of_level_arrays, score_pair
from amanat.linkage.model import EM_RULES, LinkType, TrainedModel, train_model
from amanat.linkage.progress import Progress
from amanat.linkage.workers import default_jobs
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
# with ten values would otherwise compare everyone with everyone. A name or date rule's
# blocks grow with the file, so its pairs per row do too (own + family name: 2 a row at
# 200k records, 9 at 1M): past two a row it stops being selective and costs more than it
# finds (at 1M, 20M more pairs, predict 3x slower and 1.3 GB more, for recall 0.989 → 0.992).
PAIRS_PER_ROW = 2
# A store rule over that budget (own + father's name key: 9.4M pairs at 1M records, 82 % of
# all candidates) is kept within one home province for the file: at 197k records recall
# 0.9952 → 0.9948 (dropping the rule instead: 0.9891).
NARROW_BY = "province_pcode"
PAIRS_FLOOR = 100_000  # every rule FEBRL's address columns need stays in (postcode: 53k pairs)
# EM for a file: the store's rounds, then, if one of them could not run or a comparison is
# still untrained, one on the full date of birth: it trains the ID and any compared columns
# when the file has no fathers' names for the first round.
STANDALONE_EM_FALLBACK: tuple[tuple[str, ...], ...] = (("dob_day",),)


@dataclass
class SourceRow:
    source_file: str
    source_row: int
    fields: dict[str, object]


@dataclass
class DedupeResult:
    lead: pd.DataFrame  # one row per input row: the OUTPUT_LEAD columns
    rows: Sequence[SourceRow]  # the input rows, in the same order
    model: TrainedModel
    trained: bool
    pair_count: int
    skipped_rows: list[str] = field(default_factory=list)  # "file row N: problem", no values
    notes: list[str] = field(default_factory=list)  # e.g. a blocking rule left out; no values

    @cached_property
    def field_names(self) -> list[str]:
        """Every field the rows hold, in order of first appearance."""
        names: dict[str, None] = {}
        for r in self.rows:
            if r.fields.keys() <= names.keys():  # the usual row: nothing new (a C-level check)
                continue
            names.update((k, None) for k, v in r.fields.items() if k not in names and not isinstance(v, list))
        return list(names)

    @cached_property
    def table(self) -> pd.DataFrame:
        """The whole output as a table: the lead columns, then every field as read. Built on
        request only: writing a file streams the rows instead (a million rows' fields as
        columns took seconds and held every value a second time)."""
        return _with_fields(self.rows, self.lead, self.field_names)

    def output_rows(self) -> Iterable[list[Any]]:
        """The output's rows in order, as the table's columns (a field a row lacks is None)."""
        names = self.field_names
        for lead, r in zip(self.lead.itertuples(index=False, name=None), self.rows, strict=True):
            get = r.fields.get
            yield [*lead, *(get(k) for k in names)]


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


def _label(rule: BlockRule, labels: dict[str, str]) -> str:
    return labels.get(rule.name, "+".join(rule.columns))


def standalone_blocking(frame: pd.DataFrame, compare: Sequence[str] = (), cache: Codes | None = None) -> tuple[
        list[BlockRule], list[str]]:
    """The rules to predict this file with, and notes on what was left out or narrowed.

    The store's BLOCKING_RULES, each narrowed to one province (``NARROW_BY``) when it alone
    would pass the pair budget; then STANDALONE_RULES and one per compared column, each
    kept only within the budget. ``cache``: what the rules share, kept for blocked_pairs."""
    budget = max(PAIRS_FLOOR, PAIRS_PER_ROW * len(frame))
    labels = {f"s_{c}": h for c, h in zip(compare_feature_names(compare), compare, strict=True)}
    rules: list[BlockRule] = []
    notes: list[str] = []
    extra = [*STANDALONE_RULES, *(BlockRule(f"s_{c}", (c,)) for c in compare_feature_names(compare))]
    counts = pair_counts(frame, [*BLOCKING_RULES, *extra], jobs=default_jobs(), cache=cache)
    for rule in BLOCKING_RULES:
        n = counts[rule.name]
        if n > budget and NARROW_BY not in rule.columns:
            narrow = BlockRule(f"s_{rule.name}_p", (*rule.columns, NARROW_BY), rule.explode)
            notes.append(f"blocking on {_label(rule, labels)} narrowed to one province: {n} pairs, "
                         f"over the budget of {budget}")
            rules.append(narrow)
        else:
            rules.append(rule)
    for rule in extra:
        n = counts[rule.name]
        if n > budget:
            notes.append(f"blocking on {_label(rule, labels)} left out: {n} pairs, over the budget of {budget}")
        else:
            rules.append(rule)
    return rules, notes


def train_standalone(frame: pd.DataFrame, *, compare: Sequence[str] = (), seed: int = 42,
                     link_type: LinkType = "dedupe_only") -> TrainedModel:
    """Train on the file itself (no labels), its extra columns included."""
    return train_model(frame, seed=seed, link_type=link_type, compare=compare, em_rules=EM_RULES,
                       em_fallback=STANDALONE_EM_FALLBACK)


Plan = tuple[list[BlockRule], list[str], pa.Table]


def plan_standalone(frame: pd.DataFrame, compare: Sequence[str] = ()) -> Plan:
    """The file's blocking rules (standalone_blocking), the notes on them, and their pairs
    (blocking.blocked_pairs): none of it needs the model."""
    codes = Codes()
    rules, notes = standalone_blocking(frame, compare, codes)
    return rules, notes, blocked_pairs(frame, rules, jobs=default_jobs(), cache=codes)


def predict_standalone(model: TrainedModel, frame: pd.DataFrame, *, threshold_match_weight: float,
                       notes: list[str] | None = None, plan: Plan | None = None) -> pd.DataFrame:
    """Every pair any of the store's rules or this file's standalone rules generates, scored.
    ``plan``: plan_standalone's, made already (for the model's compared columns)."""
    rules, said, pairs = plan or plan_standalone(frame, model.compare_columns)
    if notes is not None:
        notes.extend(said)
    return predict_pairs(model, frame, threshold_match_weight=threshold_match_weight, blocking=rules,
                         blocked=pairs if model.link_type == "dedupe_only" else None)


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
    notes: list[str] = []
    with ThreadPoolExecutor(1) as side:
        # The file's blocking needs no model: its rules and pairs are listed while the model
        # trains (DuckDB leaves a core idle part of the time; a million rows: 3 s of 12 hidden).
        plan = side.submit(plan_standalone, frame, compare) if len(frame) > 1 else None
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
        pairs = predict_standalone(model, frame, threshold_match_weight=model.thresholds.weight(review_at),
                                   notes=notes, plan=plan.result()) if plan is not None else pd.DataFrame(
            columns=["unique_id_l", "unique_id_r", "match_weight", "match_probability"])
    progress.stage("clustering")
    left, right = (pairs[c].astype(int).to_numpy() for c in ("unique_id_l", "unique_id_r"))  # row numbers
    clusters = cluster_positions(left, right, pairs["match_probability"].to_numpy(dtype=float), len(frame), link_at,
                                 strict=model.thresholds.strict)
    progress.stage("explaining links", len(frame))
    lead = _lead_columns(rows, frame, pairs, clusters, model, link_at)
    pair_count = len(pairs)
    # The features go now, and Arrow's allocator hands their pages back instead of keeping them.
    del frame, pairs, clusters
    pa.default_memory_pool().release_unused()
    progress.advance(len(rows))
    # copy=False: the columns are used as they are (not gathered into one block)
    return DedupeResult(pd.DataFrame(lead, columns=list(OUTPUT_LEAD), copy=False), rows, model, trained,
                        pair_count, skipped, notes)


def _best_links(pairs: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each of ``n`` rows (ids "0".."n-1"): its strongest link's other row (-1: none),
    weight, probability and row in ``pairs``. Ties go to the pair listed first, as a scan in
    order would."""
    other = np.full(n, -1, dtype=np.int64)
    at = np.full(n, -1, dtype=np.int64)
    weight = np.full(n, np.nan)
    prob = np.full(n, np.nan)
    if not len(pairs):
        return other, weight, prob, at
    left = pairs["unique_id_l"].astype(int).to_numpy()
    right = pairs["unique_id_r"].astype(int).to_numpy()
    w = pairs["match_weight"].to_numpy(dtype=float)
    p = pairs["match_probability"].to_numpy(dtype=float)
    src, dst = np.concatenate([left, right]), np.concatenate([right, left])
    ww, pp = np.concatenate([w, w]), np.concatenate([p, p])
    seen = np.concatenate([np.arange(len(w)) * 2, np.arange(len(w)) * 2 + 1])  # scan order
    order = np.lexsort((seen, -ww, src))
    first = order[np.r_[True, src[order][1:] != src[order][:-1]]]
    other[src[first]], weight[src[first]], prob[src[first]] = dst[first], ww[first], pp[first]
    at[src[first]] = seen[first] // 2
    return other, weight, prob, at


def _link_reasons(model: TrainedModel, frame: pd.DataFrame, pairs: pd.DataFrame, at: np.ndarray) -> list[str]:
    """The reasons of the pairs at rows ``at`` of ``pairs``, "; "-joined, read from the levels
    Splink scored (incremental.reasons_of_level_arrays); a pair with a level Splink's weights
    do not name is compared again (score_pair)."""
    names = [c["output_column_name"] for c in model.settings_json["comparisons"]]
    got: list[tuple[str, ...] | None]
    if len(pairs) and all(f"gamma_{c}" in pairs.columns for c in names):
        picked = pairs.iloc[at]
        gammas = picked[[f"gamma_{c}" for c in names]].to_numpy(dtype=np.int64)
        weights = np.column_stack([
            picked[f"mw_{c}"].to_numpy(dtype=float)
            + (picked[f"mw_tf_adj_{c}"].to_numpy(dtype=float) if f"mw_tf_adj_{c}" in picked.columns else 0.0)
            for c in names])
        got = reasons_of_level_arrays(model, gammas, weights)
    else:
        got = [None] * len(at)
    joined: dict[tuple[str, ...], str] = {}  # rows with the same reasons share one tuple
    out: list[str] = []
    for row, reasons in zip(at.tolist(), got, strict=True):
        if reasons is None:
            ids = [int(pairs["unique_id_l"].iat[row]), int(pairs["unique_id_r"].iat[row])]
            left, right = pa.Table.from_pandas(frame.iloc[ids], preserve_index=False).to_pylist()
            reasons = score_pair(model, left, right).reasons
        text = joined.get(reasons)
        if text is None:
            text = joined[reasons] = "; ".join(reasons)
        out.append(text)
    return out


def _lead_columns(rows: Sequence[SourceRow], frame: pd.DataFrame, pairs: pd.DataFrame, clusters: pd.DataFrame,
                  model: TrainedModel, link_at: float) -> dict[str, np.ndarray]:
    """The output's OUTPUT_LEAD columns, built column by column (a million rows as dicts would
    take minutes)."""
    n = len(rows)
    other, weight, prob, at = _best_links(pairs, n)
    has = other >= 0
    linked = np.flatnonzero(has)
    reason_col = np.full(n, "", dtype=object)
    reason_col[linked] = _link_reasons(model, frame, pairs, at[linked])
    files = np.array([r.source_file for r in rows], dtype=object)
    numbers = np.fromiter((r.source_row for r in rows), dtype=np.int64, count=n)
    linked_to = np.full(n, "", dtype=object)
    to = other[linked]
    linked_to[linked] = (pd.Series(files[to]) + " row " + pd.Series(numbers[to]).astype(str)).to_numpy(dtype=object)
    # clusters come in input order (row numbers); cluster ids become short numbers in order of
    # first appearance: stable and free of record content.
    cluster_numbers = pd.factorize(clusters["cluster_id"])[0] + 1
    return {
        "source_file": files,
        "source_row": numbers,
        "cluster_id": cluster_numbers.astype(np.int64),
        "cluster_size": clusters["cluster_size"].to_numpy(dtype=np.int64),
        "status": np.where(has, np.where(prob >= link_at, "linked", "review"), "").astype(object),
        "linked_to": linked_to,
        "match_weight": np.round(weight, 2),
        "match_probability": np.round(prob, 4),
        "reasons": reason_col,
        "weak_link": np.where(clusters["weak_link"].to_numpy(dtype=bool),
                              clusters["weak_reason"].astype(str).to_numpy(dtype=object), "").astype(object),
    }


def _with_fields(rows: Sequence[SourceRow], lead: pd.DataFrame, field_names: list[str]) -> pd.DataFrame:
    """The output table: the lead columns, then the rows' fields, as read."""
    n = len(rows)
    columns: dict[str, np.ndarray] = {c: lead[c].to_numpy() for c in lead.columns}
    for k in field_names:
        columns[k] = np.empty(n, dtype=object)
    # pandas transposes the rows' dicts in C, a slice at a time so the table is not held twice;
    # dtype object keeps every value as read, and a field a row lacks is None, as .get gives.
    for a in range(0, n, 50_000):
        block = pd.DataFrame([r.fields for r in rows[a:a + 50_000]], columns=field_names, dtype=object)
        for k in field_names:
            values = block[k].to_numpy()
            values[pd.isna(values)] = None
            columns[k][a:a + len(values)] = values
    return pd.DataFrame(columns, columns=[*lead.columns, *field_names], copy=False)


def _cell(v: Any) -> Any:
    if v is None or (isinstance(v, float) and v != v):
        return None
    return escape_formula(v)


def write_output(result: DedupeResult, path: str | os.PathLike[str]) -> None:
    """CSV (UTF-8 with BOM, so Excel reads Dari/Pashto right) or XLSX, by extension, streamed
    row by row. Text that a spreadsheet would run as a formula is escaped."""
    p = Path(path)
    header = [*OUTPUT_LEAD, *result.field_names]
    records: Iterable[list[Any]] = ([_cell(v) for v in row] for row in result.output_rows())
    suffix = p.suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("clusters")
        ws.append(header)
        for row in records:
            ws.append(row)
        wb.save(p)
    elif suffix in (".csv", ".txt"):
        with p.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
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
    write_output(result, out)
    return result


