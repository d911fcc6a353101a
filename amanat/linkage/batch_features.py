"""Linkage features of many records at once: the frame ``features.features_frame`` builds row
by row, built per distinct value, columnar, and across processes.

Each group of output columns depends only on a few form fields whose raw values repeat
heavily in a population (names, dates, places): each distinct raw value (or tuple) is
normalised once, through the same functions ``normalize_record`` and
``features_from_normalized`` use, and every column is built by index. Equal to the row-by-row
frame (tested).
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from amanat.linkage.arrow_paths import clean_array, passport_column, phone_e164, phones_column, tazkira_columns
from amanat.linkage.features import (
    _NAME_SUFFIXES,
    EVENT_FIELDS,
    FEATURE_COLUMNS,
    FEATURE_SCHEMA,
    NAME_PARTS,
    _arrow_value,
    _birth_columns,
    _dob_columns,
    _gender,
    _id_value,
    _name_columns,
    _phone_list,
    _tazkira_columns,
    _whole_name_columns,
    event_columns_of_texts,
)
from amanat.linkage.workers import ForkPool, Shares, default_jobs, reported
from amanat.normalize import record as normalize_parts
from amanat.normalize.phonetic import house
from amanat.normalize.relations import may_name_relative_array

# Per-process caches of a batch's values, emptied when it ends.
_CACHES: list[Any] = []
_NAME_FIELDS = {prefix: (field, f"{field}_latin") for field, prefix in NAME_PARTS.items()}


@lru_cache(maxsize=1 << 18)
def _name(text: str | None, latin: str | None) -> Any:
    # A name pair is normalised for its own columns and again where a family name may end
    # it (_with_family): once, here.
    return normalize_parts.name_part(text, latin)


_CACHES.append(_name)


def _name_group(prefix: str) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
    def compute(raw: tuple[Any, ...]) -> dict[str, Any]:
        return _name_columns(prefix, _name(raw[0], raw[1]))

    return compute


# The father's name group reads the full name too, as normalize_record does: a father's name
# written into it ("… s/o …") fills an empty father's name (normalize_parts.father_part). Only
# the full names that may name a relative are read (the rest count as no value), so nearly every
# row keeps the father's name's own key.
_HINTED = "~relative:"
_FATHER_FIELDS = (*_NAME_FIELDS["father"], *(_HINTED + f for f in _NAME_FIELDS["full"]))


def _group_father(raw: tuple[Any, ...]) -> dict[str, Any]:
    return _name_columns("father", normalize_parts.father_part(*raw, []))


def _hinted(field: tuple[np.ndarray, pa.Array]) -> tuple[np.ndarray, pa.Array]:
    codes, distinct = field
    kept = pc.if_else(pa.array(may_name_relative_array(distinct)), distinct, pa.scalar(None, pa.string()))
    again = pc.dictionary_encode(kept, null_encoding="encode")
    return again.indices.to_numpy(zero_copy_only=False)[codes].astype(np.int32), again.dictionary


# Each group gets its fields' values already cleaned (normalize_parts.clean_text, once per
# distinct raw value), as normalize_record hands them on.
def _group_dob(raw: tuple[Any, ...]) -> dict[str, Any]:
    return _dob_columns(normalize_parts.date_part("date_of_birth", raw[0], []))


def _group_birth(raw: tuple[Any, ...]) -> dict[str, Any]:
    return _birth_columns(normalize_parts.birth_part(raw[0]))


def _fields_text(names: tuple[str, ...], raw: tuple[Any, ...]) -> Callable[[str], str | None]:
    return dict(zip(names, raw)).get  # noqa: B905 (the groups' tuples are built from these names)


_HOME = ("province", "district")
_TAZKIRA = ("tazkira_number", "tazkira_volume", "tazkira_page", "tazkira_record")
_PASSPORT = ("passport_number", "passport_mrz")
_PHONES = ("phone", "whatsapp_phone")


def _group_home(raw: tuple[Any, ...]) -> dict[str, Any]:
    province, district = normalize_parts.home_part(_fields_text(_HOME, raw), [])
    return {"district_pcode": district, "province_pcode": province}


def _group_tazkira(raw: tuple[Any, ...]) -> dict[str, Any]:
    return _tazkira_columns(normalize_parts.tazkira_part(_fields_text(_TAZKIRA, raw), []))


def _group_passport(raw: tuple[Any, ...]) -> dict[str, Any]:
    return {"passport": _id_value(normalize_parts.passport_part(_fields_text(_PASSPORT, raw), []))}


def _group_phones(raw: tuple[Any, ...]) -> dict[str, Any]:
    return {"phones": _phone_list(normalize_parts.phones_part(_fields_text(_PHONES, raw), []))}


def _group_gender(raw: tuple[Any, ...]) -> dict[str, Any]:
    return {"gender": _gender(normalize_parts.gender_part(raw[0], []))}


# (input form fields, output columns, compute): the same functions normalize_record and
# features_from_normalized use, so the batch equals the row-by-row path (tested).
_GROUPS: tuple[tuple[tuple[str, ...], tuple[str, ...], Callable[[tuple[Any, ...]], dict[str, Any]]], ...] = (
    # the full name's own columns; where a family name may end it, _with_family's
    # (the father's name's group reads the full name too: _group_father)
    *((_FATHER_FIELDS if p == "father" else _NAME_FIELDS[p],
       tuple(f"{p}_{s}" for s in (*_NAME_SUFFIXES, "first", "tok")),
       _group_father if p == "father" else _name_group(p))
      for p in ("full", "father", "grand", "family")),
    (("date_of_birth",), ("dob_iso", "dob_day", "dob_alt", "dob_precision", "dob_year", "dob_year_lo",
                          "dob_year_hi", "dob_month_lo", "dob_month_hi"), _group_dob),
    (("place_of_birth",), ("birth_pcode", "birth_prov"), _group_birth),
    (_HOME, ("district_pcode", "province_pcode"), _group_home),
    (_TAZKIRA, ("tazkira", "tazkira_kind", "tazkira_sorted"), _group_tazkira),
    (_PASSPORT, ("passport",), _group_passport),
    (_PHONES, ("phones",), _group_phones),
    (("gender",), ("gender",), _group_gender),
    (EVENT_FIELDS, ("events", "event_kinds"), event_columns_of_texts),
)

# The form fields linkage reads; any other field (unit, rank, city…) is not compared.
_INPUT_FIELDS: tuple[str, ...] = tuple(dict.fromkeys(f for fields, _, _ in _GROUPS for f in fields
                                                     if not f.startswith(_HINTED)))
LINKAGE_FIELDS: frozenset[str] = frozenset(_INPUT_FIELDS)


def _encode(values: np.ndarray) -> tuple[np.ndarray, pa.Array]:
    """Codes per row and the distinct values, cleaned as normalize_record cleans a form value
    (``clean_text``: stripped text, else None); not text is no value. Arrow's hash dictionary
    encoding (C++) finds the distinct values."""
    text = None
    if pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):  # text and gaps only (C)
        try:  # a gap may be None, NaN (a key the record lacks) or pd.NA: each is no value
            text = pa.array(values, type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            text = None
    if text is None:
        text = pa.array([v if isinstance(v, str) else None for v in values], type=pa.string())
    encoded = pc.dictionary_encode(text, null_encoding="encode")
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    distinct = clean_array(encoded.dictionary)
    if distinct is not encoded.dictionary:  # "Ali" and " Ali " are one value from here on
        again = pc.dictionary_encode(distinct, null_encoding="encode")
        codes = again.indices.to_numpy(zero_copy_only=False)[codes]
        distinct = again.dictionary
    return codes.astype(np.int32), distinct


def _codes_of(values: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
    """_encode with the distinct values as Python strings (None: no value)."""
    codes, distinct = _encode(values)
    return codes, distinct.to_pylist()


def _group_codes(cols: list[tuple[np.ndarray, list[Any]]]) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
    """Codes of the distinct tuples of several factorized columns, and those tuples."""
    codes = cols[0][0].astype(np.int64)
    for c, u in cols[1:]:
        codes = codes * len(u) + c  # mixed radix: distinct per tuple (sizes are far below 2**63)
    key_codes, first = pd.factorize(codes)
    # each distinct key back to its tuple of field values, through one row that has it
    rows = np.zeros(len(first), dtype=np.int64)
    rows[key_codes] = np.arange(len(codes))  # some row with each key: all such rows hold the same tuple
    tuples = list(zip(*([u[i] for i in c[rows]] for c, u in cols), strict=True))
    return key_codes, tuples


class _Keys:
    """A group's distinct keys, column by column: per field, each key's code into the field's
    distinct values. Tuples are made only for a slice, in the worker that takes it."""

    def __init__(self, fields: list[tuple[np.ndarray, pa.Array]]) -> None:
        self.fields = fields
        self.size = len(fields[0][0]) if fields else 0
        self.families: _Families | None = None  # the full name's: the family names it comes with

    def arrays(self, a: int, b: int) -> list[pa.Array]:
        return [u.take(pa.array(c[a:b])) for c, u in self.fields]

    def tuples(self, a: int, b: int) -> list[tuple[Any, ...]]:
        return list(zip(*(v.to_pylist() for v in self.arrays(a, b)), strict=True))

    def tuples_at(self, at: np.ndarray) -> list[tuple[Any, ...]]:
        return list(zip(*(u.take(pa.array(c[at])).to_pylist() for c, u in self.fields), strict=True))

    def given(self) -> np.ndarray:
        """Per key, whether any of its fields has a value."""
        out = np.zeros(self.size, dtype=bool)
        for c, u in self.fields:
            out |= u.is_valid().to_numpy(zero_copy_only=False)[c]
        return out


class _Families:
    """Each distinct (full name key, family name key) of the rows that have a family name,
    ordered by full name key: features._without_family sets a family name aside from a full
    name it ends, so those rows' full name columns depend on both."""

    def __init__(self, full: np.ndarray, family: np.ndarray, family_keys: _Keys) -> None:
        rows = np.flatnonzero(family_keys.given()[family])
        combo, pairs = pd.factorize(full[rows].astype(np.int64) * max(family_keys.size, 1) + family[rows])
        self.row_combo = np.full(len(full), -1, dtype=np.int64)  # per row: its combination, or -1
        self.row_combo[rows] = combo
        names, families = np.divmod(np.asarray(pairs, dtype=np.int64), max(family_keys.size, 1))
        order = np.argsort(names, kind="stable")
        self.ids, self.names, self.families = order, names[order], families[order]
        self.family_keys = family_keys
        self.count = len(pairs)

    def within(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The combinations of the full name keys a..b: ids, full name keys, family keys."""
        lo, hi = np.searchsorted(self.names, [a, b])
        return self.ids[lo:hi], self.names[lo:hi], self.families[lo:hi]


def _key_index(cols: list[tuple[np.ndarray, pa.Array]]) -> tuple[np.ndarray, _Keys]:
    """Each row's key code and the distinct keys of several encoded fields (_group_codes
    without the tuples)."""
    if len(cols) == 1:
        codes, u = cols[0]
        return codes, _Keys([(np.arange(len(u)), u)])
    codes = cols[0][0].astype(np.int64)
    for c, u in cols[1:]:
        codes = codes * len(u) + c
    key_codes, first = pd.factorize(codes)
    rows = np.zeros(len(first), dtype=np.int64)
    rows[key_codes] = np.arange(len(codes))
    return key_codes, _Keys([(c[rows], u) for c, u in cols])


def _picker(out_cols: Sequence[str]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    return itemgetter(*out_cols) if len(out_cols) > 1 else (lambda got: (got[out_cols[0]],))


def _group_outputs(g: int, keys: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...] | None]:
    """The output columns' values of each key (None: the record cannot be normalised)."""
    _, out_cols, fn = _GROUPS[g]
    pick = _picker(out_cols)
    outs: list[tuple[Any, ...] | None] = []
    for k in keys:
        try:
            outs.append(pick(fn(k)))
        except Exception:  # normalize_record gives such a record no values at all: so do we
            outs.append(None)
    return outs


def _columns(out_cols: Sequence[str], outs: list[tuple[Any, ...] | None]) -> list[pa.Array]:
    return [_column(c, [o[j] if o is not None else None for o in outs]) for j, c in enumerate(out_cols)]


# (combinations, their full name columns, which failed): _with_family's, for one slice
_SetAside = tuple[np.ndarray, list[pa.Array], np.ndarray]


def _with_family(families: _Families, a: int, names: list[tuple[Any, ...]],
                 outs: list[tuple[Any, ...] | None]) -> _SetAside | None:
    """The full name columns of each combination of the full name keys a.. (``names``, whose
    own columns are ``outs``) with a family name that may end it: where a key of the name ends
    with the family name's last token (necessary for _without_family to set it aside).
    Elsewhere the name's own columns stand."""
    ids, full, family = families.within(a, a + len(names))
    if not len(ids):
        return None
    last: dict[str, int] = {}

    def code(text: str | None, none: int, j: int) -> int:  # the last word's number; ``none`` without one
        words = (text or "").split()
        if not words:
            return none
        word = house(words[-1]) if j == 1 else words[-1]  # the latin, as _without_family reads it
        return last.setdefault(word, len(last))

    own = np.array([[code(o[j], -1, j) for j in range(3)] if o is not None else [-1] * 3 for o in outs],
                   dtype=np.int64).reshape(-1, 3)
    wanted = np.unique(family)
    norms = []
    for t in families.family_keys.tuples_at(wanted):
        try:
            norms.append(_name(*t))
        except Exception:  # the family name's own group fails these rows
            norms.append(None)
    theirs = np.array([[code(getattr(n, attr, None), -2, j) for j, attr in enumerate(("folded", "latin", "phonetic"))]
                       if n is not None else [-2] * 3 for n in norms], dtype=np.int64).reshape(-1, 3)
    at = np.searchsorted(wanted, family)
    ends = np.flatnonzero((own[full - a] == theirs[at]).any(axis=1))
    if not len(ends):
        return None
    out_cols = _GROUPS[_FULL][1]
    pick = _picker(out_cols)
    got: list[tuple[Any, ...] | None] = []
    for i in ends:
        try:
            got.append(pick(_name_columns("full", _name(*names[full[i] - a]), norms[at[i]])))
        except Exception:
            got.append(None)
    return ids[ends], _columns(out_cols, got), np.array([o is None for o in got], dtype=bool)


def _column(c: str, values: list[Any]) -> pa.Array:
    """One output column of distinct values, with _arrow_value's rules done by Arrow: an empty
    string or an empty list is no value. Anything Arrow will not take as is (a number where
    text belongs) goes through _arrow_value one by one."""
    kind = FEATURE_SCHEMA.field(c).type
    try:
        arr = pa.array(values, type=kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([_arrow_value(c, v) for v in values], type=kind)
    if pa.types.is_list(kind):
        return pc.if_else(pc.greater(pc.list_value_length(arr), 0), arr, pa.scalar(None, kind))
    if pa.types.is_string(kind):
        return pc.if_else(pc.not_equal(arr, ""), arr, pa.scalar(None, kind))
    return arr


# What the forked workers read from the parent's memory (copy-on-write) instead of having it
# pickled to them: the records in the first round, the distinct keys in the second.
_SHARED: tuple[Sequence[Mapping[str, object]], dict[int, _Keys]] | None = None
_PHONE_VALUES = -1  # the second round's task over distinct phone values, not a group's keys


def _encode_chunk(bounds: tuple[int, int]) -> tuple[int, dict[str, tuple[np.ndarray, pa.Array]], int]:
    """First round: one slice of the records, each linkage field's codes and distinct values."""
    assert _SHARED is not None
    fields = _SHARED[0][bounds[0]:bounds[1]]
    # pandas transposes the dicts in C (a .get per record and field was a fifth of the time)
    block = pd.DataFrame(list(fields), columns=list(_INPUT_FIELDS), dtype=object)
    return bounds[0], {f: _encode(block[f].to_numpy()) for f in _INPUT_FIELDS}, len(fields)


def _key_slice(task: tuple[int, int, int]) -> tuple[int, int, list[pa.Array], np.ndarray, _SetAside | None]:
    """Second round: one slice of a group's distinct keys, each output column's values and
    which keys cannot be normalised (and for the full name, _with_family's)."""
    assert _SHARED is not None
    g, a, b = task
    keys = _SHARED[1][g]
    if g == _PHONE_VALUES:
        e164, bad = phone_e164(keys.arrays(a, b)[0])
        return g, a, [e164], bad, None
    out_cols = _GROUPS[g][1]
    values = keys.arrays(a, b)
    columnar = _COLUMNAR.get(g)
    done, got = columnar(values) if columnar else (np.zeros(b - a, dtype=bool), [])
    rest = np.flatnonzero(~done)  # the keys the columnar path does not decide: one by one
    tuples = list(zip(*(v.take(pa.array(rest)).to_pylist() for v in values), strict=True))
    outs = _group_outputs(g, tuples)
    bad = np.zeros(b - a, dtype=bool)
    bad[rest] = [o is None for o in outs]
    arrays = _columns(out_cols, outs)
    if got:
        arrays = [fast if not len(rest) else pc.replace_with_mask(fast, pa.array(~done), slow)
                  for fast, slow in zip(got, arrays, strict=True)]
    # names have no columnar path: ``tuples`` are the keys a..b
    set_aside = _with_family(keys.families, a, tuples, outs) if keys.families is not None else None
    return g, a, arrays, bad, set_aside


def _together(parts: list[tuple[np.ndarray, pa.Array]]) -> tuple[list[np.ndarray], pa.Array]:
    """Each part's codes as codes into the distinct values of all the parts' values together."""
    everything = pc.dictionary_encode(pa.concat_arrays([d for _, d in parts]), null_encoding="encode")
    to_all = everything.indices.to_numpy(zero_copy_only=False)
    codes, at = [], 0
    for c, d in parts:
        codes.append(to_all[at:at + len(d)][c])
        at += len(d)
    return codes, everything.dictionary


def _merge(parts: list[tuple[np.ndarray, pa.Array]]) -> tuple[np.ndarray, pa.Array]:
    """The chunks' codes of one field as codes into the distinct values of all chunks."""
    if not parts:
        return np.zeros(0, dtype=np.int32), pa.array([], pa.string())
    codes, distinct = _together(parts)
    return np.concatenate(codes), distinct


def batch_features(ids: Sequence[Any], fields: Sequence[Mapping[str, object]], *, jobs: int | None = None,
                   min_chunk: int = 20_000, failed: list[int] | None = None,
                   progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """The features_frame of many records at once: the same frame as
    ``features_frame(features_from_fields(i, f) for i, f in zip(ids, fields))``, built
    columnar per distinct value, in ``jobs`` processes (default: every core this process may
    use).

    Two rounds: the records' linkage fields are encoded in slices (codes per row, distinct
    cleaned values), then each group's distinct keys over all records (a name, a date, an ID
    number) are normalised once, split among the workers, and every column is built by index.
    Plaintext stays in memory: workers are forked, read their share from the parent's memory
    and send back Arrow arrays over the pool's pipes; nothing is written to disk. Without
    fork (not Linux) it runs in this process. A record that cannot be normalised gets no
    values (as ``empty_row``); its position is appended to ``failed`` if given. ``progress``
    is called with numbers of records that add up to ``len(fields)``."""
    global _SHARED
    n = len(fields)
    jobs = max(1, min(jobs or default_jobs(), n // min_chunk))
    if "fork" not in mp.get_all_start_methods():
        jobs = 1
    pool = ForkPool(jobs)
    report = Shares(n, progress)
    try:
        # Round 1, a fifth of the progress: a few slices per worker, so progress moves.
        step = max(min_chunk, -(-n // (jobs * 4)), 1)
        _SHARED = (fields, {})
        slices = {start: cols for start, cols, _ in reported(
            pool.run(_encode_chunk, [(a, min(a + step, n)) for a in range(0, n, step)]),
            lambda got: report.add(0.2 * got[2] / max(n, 1)))}
        ordered = [slices.pop(s) for s in sorted(slices)]  # each field's parts, the slices in order
        per_field = [[part[f] for part in ordered] for f in _INPUT_FIELDS]
        ordered.clear()
        key_codes: dict[int, np.ndarray] = {}
        keys: dict[int, _Keys] = {}
        with ThreadPoolExecutor(jobs) as threads:  # Arrow's hashing and numpy let go of the GIL
            raw = dict(zip(_INPUT_FIELDS, threads.map(_merge, per_field), strict=True))
            per_field.clear()
            raw.update({_HINTED + f: _hinted(raw[f]) for f in _NAME_FIELDS["full"]})
            phones = threads.submit(_either, [raw[f] for f in _PHONES])  # per distinct value of either field
            groups = [g for g, (fields, _, _) in enumerate(_GROUPS) if fields != _PHONES]
            for g, (codes, distinct) in zip(groups, threads.map(
                    lambda g: _key_index([raw[f] for f in _GROUPS[g][0]]), groups), strict=True):
                key_codes[g], keys[g] = codes, distinct
            phone_rows, keys[_PHONE_VALUES] = phones.result()
        keys[_FULL].families = _Families(key_codes[_FULL], key_codes[_FAMILY], keys[_FAMILY])
        # Round 2: every group's distinct keys in slices of about equal work, the largest first
        # (so the last slices, which one worker may finish alone, are short).
        tasks = _slices(keys, jobs * 8)
        costs = {(g, a): cost for g, a, _, cost in tasks}
        total = sum(costs.values()) or 1.0
        _SHARED = (fields, keys)
        done: dict[int, list[_Slice]] = {}
        for g, a, arrays, bad, set_aside in reported(
                pool.run(_key_slice, [t[:3] for t in tasks]),
                lambda got: report.add(0.75 * costs[got[0], got[1]] / total)):
            done.setdefault(g, []).append((a, arrays, bad, set_aside))
    finally:
        _SHARED = None
        for cache in _CACHES:  # filled here when the work ran in this process (one job)
            cache.cache_clear()
    table, bad_rows = _assemble(ids, key_codes, phone_rows, done, jobs, keys[_FULL].families)
    report.finish()
    if failed is not None:
        failed.extend(np.flatnonzero(bad_rows).tolist())
    return table.to_pandas(types_mapper=pd.ArrowDtype)


# Rough microseconds a distinct key of each group takes (by its first output column; phones by
# value): only for cutting the second round into slices of about equal work.
_COST_US = {"full_fold": 35.0, "father_fold": 22.0, "grand_fold": 10.0, "dob_iso": 22.0, "tazkira": 3.0,
            "passport": 8.0, "phones": 2.5}


def _slices(keys: dict[int, _Keys], pieces: int) -> list[tuple[int, int, int, float]]:
    """(group, start, stop, estimated cost) of about ``pieces`` slices of equal work, the
    costliest first."""
    cost = {g: k.size * _COST_US.get("phones" if g == _PHONE_VALUES else _GROUPS[g][1][0], 10.0)
            for g, k in keys.items()}
    each = max(sum(cost.values()) / max(pieces, 1), 1.0)
    out = []
    for g, k in keys.items():
        step = max(1_000, -(-k.size // max(1, round(cost[g] / each))))
        out.extend((g, a, min(a + step, k.size), cost[g] * (min(a + step, k.size) - a) / k.size)
                   for a in range(0, k.size, step))
    return sorted(out, key=lambda t: -t[3])


def _either(fields: Iterable[tuple[np.ndarray, pa.Array]]) -> tuple[list[np.ndarray], _Keys]:
    """The distinct values of several encoded fields together, and each field's rows as
    positions among them."""
    rows, distinct = _together(list(fields))
    return rows, _Keys([(np.arange(len(distinct)), distinct)])


def _distinct(parts: list[_Slice], cols: Sequence[str]) -> tuple[
        list[pa.Array], np.ndarray]:
    """One group's slices put back in order: each output column over all distinct keys."""
    parts = sorted(parts, key=itemgetter(0))
    arrays = [pa.concat_arrays([p[1][j] for p in parts]) if parts else pa.array([], FEATURE_SCHEMA.field(c).type)
              for j, c in enumerate(cols)]
    return arrays, np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, dtype=bool)


def _assemble(ids: Sequence[Any], key_codes: dict[int, np.ndarray], phone_rows: list[np.ndarray],
              done: dict[int, list[_Slice]], jobs: int, families: _Families | None) -> tuple[pa.Table, np.ndarray]:
    """The feature table from each group's outputs per distinct key, and the rows that failed."""
    n = len(ids)
    bad_rows = np.zeros(n, dtype=bool)
    gathers: list[tuple[str, pa.Array, pa.Array]] = []
    for g, (_, out_cols, _) in enumerate(_GROUPS):
        if g not in key_codes:
            continue
        arrays, bad = _distinct(done.get(g, []), out_cols)
        codes = key_codes[g]
        if g == _FULL and families is not None:
            codes, arrays, bad = _set_aside(codes, arrays, bad, families, done.get(g, []))
        take = pa.array(codes.astype(np.int32))
        gathers.extend((c, arr, take) for c, arr in zip(out_cols, arrays, strict=True))
        if bad.any():
            bad_rows |= bad[codes]
    # phones: each row's two values looked up among the distinct ones
    (e164,), bad = _distinct(done.get(_PHONE_VALUES, []), ("passport",))  # a string column
    for rows in phone_rows:
        if bad.any():
            bad_rows |= bad[rows]
    # Arrow's take lets go of the GIL: the columns are gathered on every core, the phone lists beside
    with ThreadPoolExecutor(max(1, jobs)) as threads:
        phones = threads.submit(lambda: phones_column(e164.take(pa.array(phone_rows[0])),
                                                      e164.take(pa.array(phone_rows[1]))))
        columns = dict(zip((c for c, _, _ in gathers),
                           threads.map(lambda job: job[1].take(job[2]), gathers), strict=True))
        # names_phon and names_set from the full, father's and family name keys
        full, father, family = columns["full_phon"], columns["father_phon"], columns["family_phon"]
        columns["names_phon"] = pc.binary_join_element_wise(full, father, " / ")  # null unless both
        columns["names_set"] = _pairwise(full, family, lambda a, b: _whole_name_columns(a, None, b)["names_set"])
        columns["phones"] = phones.result()
    try:
        columns["unique_id"] = pa.array(ids, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        columns["unique_id"] = pa.array([str(i) for i in ids], type=pa.string())
    table = pa.Table.from_arrays([columns[c] for c in FEATURE_COLUMNS], schema=FEATURE_SCHEMA)
    if bad_rows.any():
        keep = pa.array(~bad_rows)
        table = pa.Table.from_arrays(
            [table.column(c) if c == "unique_id" else
             pc.if_else(keep, table.column(c), pa.scalar(None, FEATURE_SCHEMA.field(c).type))
             for c in FEATURE_COLUMNS], schema=FEATURE_SCHEMA)
    return table, bad_rows


def _set_aside(codes: np.ndarray, arrays: list[pa.Array], bad: np.ndarray, families: _Families,
               parts: list[_Slice]) -> tuple[np.ndarray, list[pa.Array], np.ndarray]:
    """The full name's rows whose family name ends it: their columns from _with_family's,
    appended after the names' own."""
    got = [p[3] for p in parts if p[3] is not None]
    if not got:
        return codes, arrays, bad
    combos = np.concatenate([g[0] for g in got])
    where = np.full(families.count, -1, dtype=np.int64)
    where[combos] = len(bad) + np.arange(len(combos))
    row = np.where(families.row_combo >= 0, where[families.row_combo], -1)
    return (np.where(row >= 0, row, codes),
            [pa.concat_arrays([arr, *(g[1][j] for g in got)]) for j, arr in enumerate(arrays)],
            np.concatenate([bad, *(g[2] for g in got)]))


def _pairwise(left: pa.Array, right: pa.Array, fn: Callable[[Any, Any], str | None]) -> pa.Array:
    """fn of each row's two values, called once per distinct pair where both have a value
    (null otherwise)."""
    both = pc.and_(left.is_valid(), right.is_valid())
    out = pa.nulls(len(left), pa.string())
    if not pc.any(both).as_py():
        return out
    where = np.flatnonzero(both.to_numpy(zero_copy_only=False))
    pick = pa.array(where)
    cols = []
    for side in (left, right):
        encoded = pc.dictionary_encode(side.take(pick))
        cols.append((encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary.to_pylist()))
    codes, pairs = _group_codes(cols)
    got = _column("names_set", [fn(a, b) for a, b in pairs]).take(pa.array(codes.astype(np.int32)))
    mask = np.zeros(len(left), dtype=bool)
    mask[where] = True
    return pc.replace_with_mask(out, pa.array(mask), got)


_FULL, _FAMILY = (next(g for g, group in enumerate(_GROUPS) if group[0] == _NAME_FIELDS[p]) for p in ("full", "family"))
# a slice of the second round: (first key, output columns, failures, _with_family's)
_Slice = tuple[int, list[pa.Array], np.ndarray, "_SetAside | None"]

_COLUMNAR: dict[int, Callable[[list[pa.Array]], tuple[np.ndarray, list[pa.Array]]]] = {
    next(g for g, group in enumerate(_GROUPS) if group[0] == fields): fn
    for fields, fn in ((_TAZKIRA, tazkira_columns), (_PASSPORT, passport_column))
}
