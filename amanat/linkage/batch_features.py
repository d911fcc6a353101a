"""Linkage features of many records at once: the frame ``features.features_frame`` builds row
by row, built per distinct value, columnar, and across processes.

Each group of output columns depends only on a few form fields whose raw values repeat
heavily in a population (names, dates, places): each distinct raw value (or tuple) is
normalised once, through the same functions ``normalize_record`` and
``features_from_normalized`` use, and every column is built by index. Equal to the row-by-row
frame (tested).
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from amanat.errors import AmanatError
from amanat.linkage.features import (
    _NAME_SUFFIXES,
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
)
from amanat.normalize import record as normalize_parts
from amanat.normalize.phones import DEFAULT_REGIONS, mobile_e164_many

_NAME_FIELDS = {prefix: (field, f"{field}_latin") for field, prefix in NAME_PARTS.items()}


@lru_cache(maxsize=1 << 16)
def _name(text: str | None, latin: str | None) -> Any:
    # The full name's key is (name, Latin, family, family Latin): many more distinct tuples
    # than distinct names, so each name pair is normalised once here.
    return normalize_parts.name_part(text, latin)


def _name_group(prefix: str) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
    def compute(raw: tuple[Any, ...]) -> dict[str, Any]:
        name = _name(raw[0], raw[1])
        # the family name is set aside from the full name (see features._without_family)
        family = _name(raw[2], raw[3]) if prefix == "full" else None
        return _name_columns(prefix, name, family)
    return compute


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
    (_NAME_FIELDS["full"] + _NAME_FIELDS["family"], tuple(f"full_{s}" for s in (*_NAME_SUFFIXES, "first", "tok")),
     _name_group("full")),
    *((_NAME_FIELDS[p], tuple(f"{p}_{s}" for s in (*_NAME_SUFFIXES, "first", "tok")), _name_group(p))
      for p in ("father", "grand", "family")),
    (("date_of_birth",), ("dob_iso", "dob_day", "dob_alt", "dob_precision", "dob_year", "dob_year_lo",
                          "dob_year_hi", "dob_month_lo", "dob_month_hi"), _group_dob),
    (("place_of_birth",), ("birth_pcode", "birth_prov"), _group_birth),
    (_HOME, ("district_pcode", "province_pcode"), _group_home),
    (_TAZKIRA, ("tazkira", "tazkira_kind", "tazkira_sorted"), _group_tazkira),
    (_PASSPORT, ("passport",), _group_passport),
    (_PHONES, ("phones",), _group_phones),
    (("gender",), ("gender",), _group_gender),
)

# The form fields linkage reads; any other field (unit, rank, city…) is not compared.
_INPUT_FIELDS: tuple[str, ...] = tuple(dict.fromkeys(f for fields, _, _ in _GROUPS for f in fields))
LINKAGE_FIELDS: frozenset[str] = frozenset(_INPUT_FIELDS)


def _codes_of(values: np.ndarray) -> tuple[np.ndarray, list[str | None]]:
    """Codes per row and the distinct values, cleaned as normalize_record cleans a form value
    (``clean_text``: stripped text, else None), each distinct raw value cleaned once. Arrow's
    hash dictionary encoding (C++) finds the distinct values; not text is no value."""
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
    cleaned = [normalize_parts.clean_text(v) for v in encoded.dictionary.to_pylist()]
    merged, distinct = pd.factorize(pd.Series(cleaned, dtype=object), use_na_sentinel=False)
    # "Ali" and " Ali " are one value from here on
    return merged[codes], [v if v.__class__ is str else None for v in distinct]  # pandas' NaN back to None


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


# Per process: each group's outputs by raw key, kept across the chunks a worker takes (a
# name or a date seen in one chunk comes back in the next). Bounded: cleared when full.
_MEMO: dict[int, dict[tuple[Any, ...], tuple[Any, ...] | None]] = {}
_MEMO_MAX = 300_000


_FAILED = object()


def _phone_e164(values: list[str | None]) -> dict[str | None, object]:
    """Each distinct phone value's valid E.164 (None: no valid number; _FAILED: normalising it
    raised, as phones_part would): mobile numbers decided in Arrow, the rest one by one."""
    fast = mobile_e164_many(values)
    out: dict[str | None, object] = {None: None}
    for value, got in zip(values, fast, strict=True):
        if value is None or got is not None:
            out[value] = got
            continue
        try:
            phone = normalize_parts._phone(value, DEFAULT_REGIONS)
            out[value] = phone.e164 if phone.valid and phone.e164 else None
        except AmanatError:  # phones_part notes it and goes on
            out[value] = None
        except Exception:
            out[value] = _FAILED
    return out


def _phone_outputs(keys: list[tuple[Any, ...]], e164: dict[str | None, object]) -> list[tuple[Any, ...] | None]:
    """_group_outputs for the phones group, each value's number looked up (see _phone_e164):
    the sorted distinct valid numbers of phone and whatsapp_phone, as _phone_list gives them."""
    outs: list[tuple[Any, ...] | None] = []
    for phone, whatsapp in keys:
        a, b = e164[phone], e164[whatsapp]
        if a is _FAILED or b is _FAILED:
            outs.append(None)  # normalize_record gives such a record no values at all
        elif a and b and a != b:
            outs.append(([a, b] if a < b else [b, a],))  # type: ignore[operator]
        else:
            outs.append(([a or b] if a or b else [],))
    return outs


def _group_outputs(g: int, keys: list[tuple[Any, ...]]) -> list[tuple[Any, ...] | None]:
    """The output columns' values of each key (None: the record cannot be normalised)."""
    _, out_cols, fn = _GROUPS[g]
    pick = itemgetter(*out_cols) if len(out_cols) > 1 else (lambda got: (got[out_cols[0]],))
    memo = _MEMO.setdefault(g, {})
    if len(memo) > _MEMO_MAX:
        memo.clear()
    outs: list[tuple[Any, ...] | None] = []
    for k in keys:
        if k in memo:
            outs.append(memo[k])
            continue
        try:
            got = fn(k)
            out: tuple[Any, ...] | None = pick(got)
        except Exception:  # normalize_record gives such a record no values at all: so do we
            out = None
        memo[k] = out
        outs.append(out)
    return outs


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


def _columns_table(ids: Sequence[Any], fields: Sequence[Mapping[str, object]]) -> tuple[pa.Table, list[int]]:
    """The feature table of one chunk (see batch_features), and the positions that failed."""
    n = len(fields)
    # pandas transposes the dicts in C (a .get per record and field was a fifth of the time)
    block = pd.DataFrame(list(fields), columns=list(_INPUT_FIELDS), dtype=object)
    raw = {f: _codes_of(block[f].to_numpy()) for f in _INPUT_FIELDS}
    del block
    failed = np.zeros(n, dtype=bool)
    columns: dict[str, pa.Array] = {}
    phon: dict[str, tuple[np.ndarray, list[Any]]] = {}
    for g, (group_fields, out_cols, _) in enumerate(_GROUPS):
        if len(group_fields) == 1:
            codes, u = raw[group_fields[0]]
            keys: list[tuple[Any, ...]] = [(v,) for v in u]
        else:
            codes, keys = _group_codes([raw[f] for f in group_fields])
        if group_fields == _PHONES:  # numbers decided in Arrow, per distinct value of either field
            outs = _phone_outputs(keys, _phone_e164(list(dict.fromkeys(v for f in _PHONES for v in raw[f][1]))))
        else:
            outs = _group_outputs(g, keys)
        bad = np.fromiter((o is None for o in outs), dtype=bool, count=len(outs))
        if bad.any():
            failed |= bad[codes]
        take = pa.array(codes.astype(np.int32))
        for j, c in enumerate(out_cols):
            distinct = [o[j] if o is not None else None for o in outs]
            columns[c] = _column(c, distinct).take(take)
            if c in ("full_phon", "father_phon", "family_phon"):
                phon[c] = (codes, distinct)
    # names_phon / names_set from the full, father's and family name keys (in _GROUPS order)
    codes, keys = _group_codes([phon[c] for c in ("full_phon", "father_phon", "family_phon")])
    whole = [_whole_name_columns(k[0], k[1], k[2]) for k in keys]
    take = pa.array(codes.astype(np.int32))
    for c in ("names_phon", "names_set"):
        columns[c] = _column(c, [w[c] for w in whole]).take(take)
    columns["unique_id"] = pa.array([str(i) for i in ids], type=pa.string())
    table = pa.Table.from_arrays([columns[c] for c in FEATURE_COLUMNS], schema=FEATURE_SCHEMA)
    if failed.any():
        keep = pa.array(~failed)
        table = pa.Table.from_arrays(
            [table.column(c) if c == "unique_id" else
             pc.if_else(keep, table.column(c), pa.scalar(None, FEATURE_SCHEMA.field(c).type))
             for c in FEATURE_COLUMNS], schema=FEATURE_SCHEMA)
    return table, np.flatnonzero(failed).tolist()


# Set by batch_features just before it forks its workers: they read their slice from the
# parent's memory (copy-on-write) instead of having the records pickled to them.
_SHARED: tuple[Sequence[Any], Sequence[Mapping[str, object]]] | None = None


def _chunk_table(bounds: tuple[int, int]) -> tuple[pa.Table, list[int]]:
    assert _SHARED is not None
    ids, fields = _SHARED
    table, failed = _columns_table(ids[bounds[0]:bounds[1]], fields[bounds[0]:bounds[1]])
    return table, [bounds[0] + i for i in failed]


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def batch_features(ids: Sequence[Any], fields: Sequence[Mapping[str, object]], *, jobs: int | None = None,
                   min_chunk: int = 20_000, failed: list[int] | None = None,
                   progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """The features_frame of many records at once: the same frame as
    ``features_frame(features_from_fields(i, f) for i, f in zip(ids, fields))``, built
    memoised and columnar, in ``jobs`` processes (default: every core this process may use).

    Plaintext stays in memory: workers are forked, read their records from the parent's
    memory and send back Arrow tables over the pool's pipes; nothing is written to disk.
    Without fork (not Linux) it runs in this process. A record that cannot be normalised gets
    no values (as ``empty_row``); its position is appended to ``failed`` if given.
    ``progress`` is called with the number of records each finished chunk held."""
    global _SHARED
    n = len(fields)
    jobs = max(1, min(jobs or default_jobs(), n // min_chunk))
    if "fork" not in mp.get_all_start_methods():
        jobs = 1
    # A few chunks per worker: one slow core does not hold up the rest, and progress moves.
    step = max(min_chunk, -(-n // (jobs * 4)), 1)
    bounds = [(a, min(a + step, n)) for a in range(0, n, step)] or [(0, 0)]
    parts: list[tuple[pa.Table, list[int]]] = []
    _SHARED = (ids, fields)
    try:
        if jobs == 1:
            done: Iterable[tuple[pa.Table, list[int]]] = map(_chunk_table, bounds)
            parts = [_report(p, progress) for p in done]
        else:
            # The records are the parent's objects: frozen, a worker's collections never walk
            # them (at a million records each full collection touched 2 GB and copied its pages).
            gc.freeze()
            try:
                with mp.get_context("fork").Pool(jobs) as pool:
                    parts = [_report(p, progress) for p in pool.imap(_chunk_table, bounds)]
            finally:
                gc.unfreeze()
    finally:
        _SHARED = None
        _MEMO.clear()
    if failed is not None:
        failed.extend(i for _, f in parts for i in f)
    return pa.concat_tables([t for t, _ in parts]).to_pandas(types_mapper=pd.ArrowDtype)


def _report(part: tuple[pa.Table, list[int]], progress: Callable[[int], None] | None) -> tuple[pa.Table, list[int]]:
    if progress:
        progress(part[0].num_rows)
    return part
