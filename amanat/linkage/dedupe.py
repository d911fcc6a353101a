"""Standalone spreadsheet dedupe: CSV/XLSX files in, one clustered table out. No server.

Everything happens in memory (DuckDB in-memory, no spilling). The output file holds what
the inputs held — names, IDs, phones — and is written only where the user asked.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from amanat.errors import InvalidInput
from amanat.intake.labels import is_serial_label
from amanat.intake.tables import column_letter, read_table
from amanat.linkage.batch import cluster_positions, predict_pairs
from amanat.linkage.batch_features import LINKAGE_FIELDS, batch_features
from amanat.linkage.comparisons import compare_feature_names
from amanat.linkage.decision import (
    LINKED,
    RELATIVES,
    REVIEW,
    Decision,
    PairDecisions,
    decide_pairs,
    reasons_with_core,
    scoring_floor,
)
from amanat.linkage.dedupe_output import (
    cell_columns,
    check_suffix,
    check_target,
    input_columns,
    output_records,
    output_table,
    write_output,
)
from amanat.linkage.file_blocking import (
    Plan,
    plan_standalone,
)
from amanat.linkage.incremental import reasons_of_level_arrays, score_pair
from amanat.linkage.model import EM_RULES, LinkType, TrainedModel, bundled_model, train_model
from amanat.linkage.possible_groups import possible_groups, thin_rows
from amanat.linkage.progress import Progress
from amanat.normalize.script import fold

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Below this many rows the file's own statistics are too thin to train on: use the
# bundled model (trained on the synthetic population, see docs/linkage.md).
MIN_TRAIN_ROWS = 5000
# status: linked (one person, clustered), review (perhaps one person: a person decides), relatives
# (the same household, not the same person: never clustered), or empty. ``possible_group``: the
# clusters a person should look at together (possible_groups; 0: none). ``relatives`` lists the rows
# proposed as the row's household members.
OUTPUT_LEAD = ("source_file", "source_row", "cluster_id", "cluster_size", "possible_group", "status", "linked_to",
               "match_weight", "match_probability", "reasons", "weak_link", "relatives")


# EM for a file: the store's rounds, then, if one of them could not run or a comparison is
# still untrained, one on the full date of birth: it trains the ID and any compared columns
# when the file has no fathers' names for the first round.
STANDALONE_EM_FALLBACK: tuple[tuple[str, ...], ...] = (("dob_day",),)


@dataclass
class SourceRow:
    source_file: str
    source_row: int
    fields: dict[str, object]  # canonical fields (and --compare columns under their headers): what is linked
    # Read from a file: every cell of the row as read, in its file's column order, and the output
    # column each goes to (dedupe_output.cell_columns; one tuple shared by the file's rows). Without
    # them the output shows ``fields``.
    cells: tuple[object, ...] | None = None
    columns: tuple[str | None, ...] | None = None


@dataclass
class SourceColumns:
    """How one input file's columns are read: headers and field names, never values."""

    file: str
    read: list[tuple[str, str, str]] = field(default_factory=list)  # (column letter, header, field)
    compared: list[tuple[str, str]] = field(default_factory=list)  # (letter, header): --compare, as text
    kept: list[tuple[str, str]] = field(default_factory=list)  # (letter, header): in the output only
    warnings: list[str] = field(default_factory=list)  # two columns read as one field, no name column


# What linkage compares, in words, and the form fields that carry it (any one of them will do).
EVIDENCE_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("own name", ("full_name", "full_name_latin")),
    ("father's name", ("father_name", "father_name_latin")),
    ("grandfather's name", ("grandfather_name",)),
    ("family name", ("family_name",)),
    ("date of birth", ("date_of_birth",)),
    ("gender", ("gender",)),
    ("province or district", ("province", "district")),
    ("place of birth", ("place_of_birth",)),
    ("tazkira", ("tazkira_number", "tazkira_volume")),
    ("passport", ("passport_number", "passport_mrz")),
    ("phone", ("phone", "whatsapp_phone")),
)


def evidence_coverage(rows: Sequence[SourceRow]) -> dict[str, float]:
    """Share of rows that give each kind of evidence (EVIDENCE_FIELDS), counts only."""
    counts = dict.fromkeys((what for what, _ in EVIDENCE_FIELDS), 0)
    for r in rows:
        f = r.fields
        for what, names in EVIDENCE_FIELDS:
            if any(isinstance(f.get(n), str) and f[n].strip() for n in names):
                counts[what] += 1
    n = max(len(rows), 1)
    return {what: c / n for what, c in counts.items()}


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
    def coverage(self) -> dict[str, float]:
        """Share of rows giving each kind of evidence: what could be compared, what was missing."""
        return evidence_coverage(self.rows)

    @cached_property
    def input_columns(self) -> list[str]:
        """The columns after the lead ones: every input file's own columns under their headers
        (rows read from files), else every field the rows hold; in order of first appearance."""
        return input_columns(self.rows)

    @cached_property
    def table(self) -> pd.DataFrame:
        """The whole output as a table, in the output's order (each cluster's rows together): the
        lead columns, then the input's, as read. Built on request only: writing a file streams
        the rows instead (a million rows' fields as columns took seconds and held every value a
        second time)."""
        return output_table(self.rows, self.lead, self.input_columns)

    def output_rows(self) -> Iterable[list[Any]]:
        """The output's rows in order, as the table's columns (what a row lacks is None)."""
        return output_records(self.rows, self.lead, self.input_columns)


def source_columns(paths: Sequence[str | os.PathLike[str]], compare: Sequence[str] = (),
                   mapping: Mapping[str, str | None] | None = None) -> list[SourceColumns]:
    """How each file's columns will be read, from its header row alone, with ``mapping`` (header →
    field, as intake.tables.load_mapping gives) over intake's matching by label. Each ``compare``
    column must be in every file, under its own name, and not be a column linkage compares already
    (a name, a date, an ID…); a form field linkage does not use (unit, rank) may be compared, and
    its values then appear under its header."""
    compare = _check_compare(compare)
    out: list[SourceColumns] = []
    for path in paths:
        name = Path(path).name
        with read_table(path, file_name=name, mapping=mapping) as reader:  # the header row only
            headers = [h.strip() for h in reader.headers]
            fields = reader.column_fields
            info = SourceColumns(name, warnings=list(reader.warnings))
        first: dict[str, str | None] = {}
        for h, f in zip(headers, fields, strict=True):
            if h:
                first.setdefault(h, f)
        for col in compare:
            if col not in first:
                raise InvalidInput(f"the column '{col}' given to --compare is not in {name}", field="compare")
            if first[col] in LINKAGE_FIELDS:
                raise InvalidInput(f"the column '{col}' in {name} is read as the form field '{first[col]}', "
                                   "which is compared already", field="compare")
        for index, (h, f) in enumerate(zip(headers, fields, strict=True)):
            if not h:
                continue
            letter = column_letter(index)
            if h in compare:
                info.compared.append((letter, h))
            elif f:
                info.read.append((letter, h, f))
            else:
                info.kept.append((letter, h))
        out.append(info)
    return out


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
                 skipped: list[str] | None = None, compare: Sequence[str] = (),
                 mapping: Mapping[str, str | None] | None = None) -> list[SourceRow]:
    """Every row of every file that holds a value: its canonical fields (header names per
    intake.tables, or ``mapping``), the ``compare`` columns under their headers, and all its
    cells for the output."""
    compare = _check_compare(compare)
    if compare:
        source_columns(paths, compare, mapping)  # fail before reading
    return _read_rows(paths, progress or Progress(), skipped, compare, mapping)


def _read_rows(paths: Sequence[str | os.PathLike[str]], progress: Progress, skipped: list[str] | None,
               compare: Sequence[str], mapping: Mapping[str, str | None] | None) -> list[SourceRow]:
    file_mapping = {**(mapping or {}), **{col: col for col in compare}}
    rows: list[SourceRow] = []
    for path in paths:
        name = Path(path).name
        progress.stage(f"reading {name}")
        reader = read_table(path, file_name=name, on_error="collect", mapping=file_mapping)
        columns = cell_columns(reader.headers, OUTPUT_LEAD)
        # A row with values only in columns linkage does not read is kept too (the output has every
        # row), unless all it holds is its number: a list numbered further than it was filled in.
        counted = [not is_serial_label(h) for h in reader.headers]
        for row_number, parsed, cells in reader.with_cells():
            if parsed is None and not any(c is not None for c, n in zip(cells, counted, strict=True) if n):
                continue
            rows.append(SourceRow(name, row_number, dict(parsed.fields) if parsed else {}, cells, columns))
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


def train_standalone(frame: pd.DataFrame, *, compare: Sequence[str] = (), seed: int = 42,
                     link_type: LinkType = "dedupe_only") -> TrainedModel:
    """Train on the file itself (no labels), its extra columns included."""
    return train_model(frame, seed=seed, link_type=link_type, compare=compare, em_rules=EM_RULES,
                       em_fallback=STANDALONE_EM_FALLBACK)


def predict_standalone(model: TrainedModel, frame: pd.DataFrame, *, threshold_match_weight: float,
                       notes: list[str] | None = None, plan: Plan | None = None,
                       spark: SparkSession | None = None) -> pd.DataFrame:
    """Every pair any of the store's rules or this file's standalone rules generates, scored.
    ``plan``: plan_standalone's, made already (for the model's compared columns). ``spark``: the
    pairs are listed here and scored there (the same pairs and scores)."""
    rules, said, pairs = plan or plan_standalone(frame, model.compare_columns)
    if notes is not None:
        notes.extend(said)
    if spark is not None and model.link_type == "dedupe_only":
        from amanat.linkage.spark import predict_blocked_spark

        return predict_blocked_spark(model, frame, pairs, spark, threshold_match_weight=threshold_match_weight)
    return predict_pairs(model, frame, threshold_match_weight=threshold_match_weight, blocking=rules,
                         blocked=pairs if model.link_type == "dedupe_only" else None)


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
    spark: SparkSession | None = None,
) -> DedupeResult:
    """Cluster the rows. ``train``: None = train on the rows when there are enough of them,
    or whenever ``compare`` names extra columns (the bundled model knows none).
    ``compare``: headers of extra columns (in each row's fields) compared as text; a given
    ``model`` brings its own. ``spark``: candidate pairs are scored on Spark (training, if any,
    stays on this machine: it reads a sample)."""
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
        # relatives score below the review band; on a list of names a possible match may score lower still
        floor_p = THIN_FLOOR if _mostly_names(frame) else scoring_floor(review_at)
        floor = model.thresholds.weight(floor_p)
        pairs = predict_standalone(model, frame, threshold_match_weight=floor,
                                   notes=notes, plan=plan.result(), spark=spark) if plan is not None else pd.DataFrame(
            columns=["unique_id_l", "unique_id_r", "match_weight", "match_probability"])
    progress.stage("clustering")
    # Own name and birth date decide who is one person; the household's shared fields do not.
    decisions = decide_pairs(model, frame, pairs, link_at=link_at, review_at=review_at, floor=floor_p)
    left, right = (pairs[c].astype(int).to_numpy() for c in ("unique_id_l", "unique_id_r"))  # row numbers
    linked = decisions.linked()
    clusters = cluster_positions(left[linked], right[linked], decisions.match_probability[linked], len(frame),
                                 link_at, strict=model.thresholds.strict)
    progress.stage("explaining links", len(frame))
    lead = _lead_columns(rows, frame, pairs, clusters, model, decisions)
    lead["possible_group"] = possible_groups(frame, pairs, decisions, lead["cluster_id"])
    _review_whole_groups(lead)
    pair_count = len(pairs)
    # The features go now, and Arrow's allocator hands their pages back instead of keeping them.
    del frame, pairs, clusters
    pa.default_memory_pool().release_unused()
    progress.advance(len(rows))
    # copy=False: the columns are used as they are (not gathered into one block)
    return DedupeResult(pd.DataFrame(lead, columns=list(OUTPUT_LEAD), copy=False), rows, model, trained,
                        pair_count, skipped, notes)


_RANK = {LINKED: 3, REVIEW: 2, RELATIVES: 1}
# The scoring floor of a list that is mostly names: a pair of names alone scores low even when the names
# agree (Zuhra / زهره: 0.011 on a 10,000-row list), and is still a possible match (decision: thin).
THIN_FLOOR = 1e-4


def _mostly_names(frame: pd.DataFrame) -> bool:
    """Most rows give names (and perhaps a father's name) and nothing else that tells a person."""
    return bool(len(frame)) and float(thin_rows(frame).mean()) >= 0.5


def _best_links(pairs: pd.DataFrame, n: int, decisions: PairDecisions
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each of ``n`` rows (ids "0".."n-1"): its strongest link's other row (-1: none),
    weight, probability and row in ``pairs``: a link before a review before relatives, then
    the heavier. Ties go to the pair listed first, as a scan in order would."""
    other = np.full(n, -1, dtype=np.int64)
    at = np.full(n, -1, dtype=np.int64)
    weight = np.full(n, np.nan)
    prob = np.full(n, np.nan)
    rank = np.fromiter((_RANK.get(o, 0) for o in decisions.outcome), dtype=np.int64, count=len(pairs))
    if not len(pairs) or not rank.any():
        return other, weight, prob, at
    left = pairs["unique_id_l"].astype(int).to_numpy()
    right = pairs["unique_id_r"].astype(int).to_numpy()
    w, p = decisions.match_weight, decisions.match_probability
    src, dst = np.concatenate([left, right]), np.concatenate([right, left])
    ww, pp, rr = np.concatenate([w, w]), np.concatenate([p, p]), np.concatenate([rank, rank])
    seen = np.concatenate([np.arange(len(w)) * 2, np.arange(len(w)) * 2 + 1])  # scan order
    keep = rr > 0
    src, dst, ww, pp, rr, seen = src[keep], dst[keep], ww[keep], pp[keep], rr[keep], seen[keep]
    order = np.lexsort((seen, -ww, -rr, src))
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


def _relatives(pairs: pd.DataFrame, decisions: PairDecisions, n: int, where: np.ndarray) -> np.ndarray:
    """Each row's proposed household members ("file row N", at most five), from its relatives pairs."""
    out = np.full(n, "", dtype=object)
    rel = np.flatnonzero(decisions.outcome == RELATIVES)
    if not len(rel):
        return out
    left = pairs["unique_id_l"].to_numpy()[rel].astype(int)
    right = pairs["unique_id_r"].to_numpy()[rel].astype(int)
    members: dict[int, list[int]] = {}
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        members.setdefault(a, []).append(b)
        members.setdefault(b, []).append(a)
    for row, others in members.items():
        out[row] = "; ".join(str(where[o]) for o in sorted(others)[:5]) + ("; …" if len(others) > 5 else "")
    return out


# A row in a possible group only by its name (its best pair fell under the scoring floor, or its name's
# block was too common to score) says so in status, linked_to and reasons too: a reader who filters on
# status must not miss it.
SAME_NAME_REASON = "the same own name; only names to compare"


def _review_whole_groups(lead: dict[str, np.ndarray]) -> None:
    """Status "review" for every row of a possible group that has no status, linked_to the group's
    first other row (another cluster's)."""
    group, status = lead["possible_group"], lead["status"]
    bare = np.flatnonzero((group > 0) & (status == ""))
    if not len(bare):
        return
    cluster = lead["cluster_id"]
    frame = pd.DataFrame({"g": group, "c": cluster})[group > 0]
    firsts = frame.groupby(["g", "c"], sort=False).head(1)  # each cluster's first row, in input order
    by_group = firsts.groupby("g")
    first = by_group.nth(0).reset_index().set_index("g")["index"]  # a group has two clusters at least
    second = by_group.nth(1).reset_index().set_index("g")["index"]
    one, two = first.reindex(group[bare]).to_numpy(), second.reindex(group[bare]).to_numpy()
    other = np.where(cluster[one] == cluster[bare], two, one).astype(np.int64)
    status[bare] = REVIEW
    lead["linked_to"][bare] = (pd.Series(lead["source_file"][other]) + " row "
                               + pd.Series(lead["source_row"][other]).astype(str)).to_numpy(dtype=object)
    lead["reasons"][bare] = SAME_NAME_REASON


def _lead_columns(rows: Sequence[SourceRow], frame: pd.DataFrame, pairs: pd.DataFrame, clusters: pd.DataFrame,
                  model: TrainedModel, decisions: PairDecisions) -> dict[str, np.ndarray]:
    """The output's OUTPUT_LEAD columns, built column by column (a million rows as dicts would
    take minutes)."""
    n = len(rows)
    other, weight, prob, at = _best_links(pairs, n, decisions)
    has = other >= 0
    linked = np.flatnonzero(has)
    reason_col = np.full(n, "", dtype=object)
    texts = _link_reasons(model, frame, pairs, at[linked])
    for k, (row, pair) in enumerate(zip(linked.tolist(), at[linked].tolist(), strict=True)):
        relation, notes = decisions.relation[pair], decisions.notes[pair]
        if relation or notes:  # the identity core stated beside what agrees
            decision = Decision(str(decisions.outcome[pair]), relation, 0.0, 0.0, notes)
            texts[k] = "; ".join(reasons_with_core(texts[k].split("; ") if texts[k] else [], decision))
        reason_col[row] = texts[k]
    files = np.array([r.source_file for r in rows], dtype=object)
    numbers = np.fromiter((r.source_row for r in rows), dtype=np.int64, count=n)
    where = (pd.Series(files) + " row " + pd.Series(numbers).astype(str)).to_numpy(dtype=object)
    linked_to = np.full(n, "", dtype=object)
    linked_to[linked] = where[other[linked]]
    status = np.full(n, "", dtype=object)
    status[linked] = decisions.outcome[at[linked]]
    # clusters come in input order (row numbers); cluster ids become short numbers in order of
    # first appearance: stable and free of record content.
    cluster_numbers = pd.factorize(clusters["cluster_id"])[0] + 1
    return {
        "source_file": files,
        "source_row": numbers,
        "cluster_id": cluster_numbers.astype(np.int64),
        "cluster_size": clusters["cluster_size"].to_numpy(dtype=np.int64),
        "status": status,
        "linked_to": linked_to,
        "match_weight": np.round(weight, 2),
        "match_probability": np.round(prob, 4),
        "reasons": reason_col,
        "weak_link": np.where(clusters["weak_link"].to_numpy(dtype=bool),
                              clusters["weak_reason"].astype(str).to_numpy(dtype=object), "").astype(object),
        "relatives": _relatives(pairs, decisions, n, where),
    }


def dedupe_files(paths: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str], *,
                 progress: Progress | None = None, force: bool = False,
                 mapping: Mapping[str, str | None] | None = None,
                 on_columns: Callable[[list[SourceColumns]], None] | None = None, **kwargs: Any) -> DedupeResult:
    """Dedupe the files into ``out`` (.csv or .xlsx; dedupe_output). Checked before any row is
    read, so a wrong option fails at once and not after a large file: the output's name and
    folder, that it is none of the inputs, that it does not exist unless ``force``, and the
    options. ``mapping``: header → field for every file (intake.tables.load_mapping).
    ``on_columns`` is shown how each file's columns are read before the rows are."""
    progress = progress or Progress()
    check_target(out, paths, force=force)
    check_suffix(out)
    compare = _compare_for(kwargs.get("compare", ()), kwargs.get("model"), kwargs.get("train"))
    columns = source_columns(paths, compare, mapping)
    if on_columns is not None:
        on_columns(columns)
    skipped: list[str] = []
    rows = _read_rows(paths, progress, skipped, compare, mapping)
    if not rows:
        raise InvalidInput("the input files hold no rows")
    result = dedupe_rows(rows, progress=progress, **kwargs)
    result.skipped_rows[:0] = skipped
    bare = sum(1 for r in rows if not r.fields)
    if bare:
        result.notes.append(f"{bare} {'row holds' if bare == 1 else 'rows hold'} values only in columns that are "
                            "not read: in the output, each on its own")
    progress.stage("writing")
    write_output(result, out, replace=force)
    return result


__all__ = ["OUTPUT_LEAD", "DedupeResult", "SourceColumns", "SourceRow", "dedupe_files", "dedupe_rows",
           "read_sources", "source_columns", "write_output"]
