"""The flat linkage row: what Splink and the incremental scorer compare.

One row per record, built from a ``NormalizedRecord``. Every value here is derived
plaintext, so rows live only in memory (pandas / an in-memory DuckDB) and are never
logged. The store persists only ``blocking_keys`` — as HMACs — to find candidates.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from amanat.normalize import record as normalize_parts

if TYPE_CHECKING:
    from amanat.normalize.record import NormalizedRecord

# Form field -> column prefix for the four name parts.
NAME_PARTS: dict[str, str] = {
    "full_name": "full",
    "father_name": "father",
    "grandfather_name": "grand",
    "family_name": "family",
}

_NAME_SUFFIXES = ("fold", "latin", "phon")
STRING_COLUMNS: tuple[str, ...] = (
    "unique_id",
    *(f"{p}_{s}" for p in NAME_PARTS.values() for s in _NAME_SUFFIXES),
    *(f"{p}_first" for p in NAME_PARTS.values()),
    "names_phon",
    "names_set",
    "dob_iso",
    "dob_day",
    "dob_alt",
    "dob_precision",
    "dob_month_lo",
    "dob_month_hi",
    "birth_pcode",
    "birth_prov",
    "district_pcode",
    "province_pcode",
    "tazkira",
    "tazkira_kind",
    "tazkira_sorted",
    "passport",
    "gender",
)
INT_COLUMNS: tuple[str, ...] = ("dob_year", "dob_year_lo", "dob_year_hi")
LIST_COLUMNS: tuple[str, ...] = (*(f"{p}_tok" for p in NAME_PARTS.values()), "phones")
FEATURE_COLUMNS: tuple[str, ...] = (*STRING_COLUMNS, *INT_COLUMNS, *LIST_COLUMNS)

# Arrow schema used wherever rows cross into DuckDB/Spark, so an all-null or all-empty
# column keeps its type (pandas alone would guess NULL or INTEGER[]).
FEATURE_SCHEMA = pa.schema(
    [pa.field(c, pa.string()) for c in STRING_COLUMNS]
    + [pa.field(c, pa.int32()) for c in INT_COLUMNS]
    + [pa.field(c, pa.list_(pa.string())) for c in LIST_COLUMNS]
)


@dataclass(frozen=True)
class BlockRule:
    """An equi-join blocking rule: records sharing every column's value are compared.

    ``explode`` names a list column whose elements are joined one at a time.
    """

    name: str
    columns: tuple[str, ...]
    explode: str | None = None


# The single definition of blocking. model.py turns it into Splink ``block_on`` rules and
# ``blocking_keys`` into index keys, so batch and incremental candidates are the same set.
BLOCKING_RULES: tuple[BlockRule, ...] = (
    BlockRule("nf", ("full_phon", "father_phon")),
    BlockRule("tz", ("tazkira",)),
    BlockRule("ts", ("tazkira_sorted", "dob_year")),
    BlockRule("pp", ("passport",)),
    BlockRule("ph", ("phones",), explode="phones"),
    BlockRule("dd", ("dob_day", "district_pcode")),
    BlockRule("gy", ("father_phon", "grand_phon", "dob_year")),
    BlockRule("ff", ("full_first", "father_first", "dob_year", "province_pcode")),
    BlockRule("fd", ("full_phon", "dob_day")),
    BlockRule("nm", ("full_phon", "family_phon", "dob_year")),
    BlockRule("md", ("family_phon", "dob_day")),
    BlockRule("ns", ("names_set", "dob_year")),
)


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _tokens(value: object) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        items: Iterable[object] = value.split()
    else:
        items = value  # type: ignore[assignment]
    # Sorted and unique: list_intersect in DuckDB/Spark and Python set logic then agree.
    return sorted({t for t in (_clean(i) for i in items) if t})


def _name_columns(prefix: str, name: Any, family: Any = None) -> dict[str, Any]:
    if name is None:
        return {f"{prefix}_fold": None, f"{prefix}_latin": None, f"{prefix}_phon": None,
                f"{prefix}_first": None, f"{prefix}_tok": []}
    keys = {k: _clean(getattr(name, attr, None)) for k, attr in
            (("fold", "folded"), ("latin", "latin"), ("phon", "phonetic"))}
    tokens = [t for t in (_clean(t) for t in (getattr(name, "tokens", ()) or ())) if t]
    if family is not None:
        keys, tokens = _without_family(keys, tokens, family)
    ordered = keys["phon"].split() if keys["phon"] else tokens
    return {
        f"{prefix}_fold": keys["fold"],
        f"{prefix}_latin": keys["latin"],
        f"{prefix}_phon": keys["phon"],
        f"{prefix}_first": ordered[0] if ordered else None,
        f"{prefix}_tok": _tokens(tokens or ordered),
    }


def _without_family(keys: dict[str, str | None], tokens: list[str], family: Any) -> tuple[
        dict[str, str | None], list[str]]:
    """Drop a trailing family name from a full name ("Aminullah Zamani" with family name
    Zamani): forms write it there about one time in five, and it would hide the given name."""
    out = dict(keys)
    stripped = False
    for k, attr in (("fold", "folded"), ("latin", "latin"), ("phon", "phonetic")):
        own, fam = (keys[k] or "").split(), (_clean(getattr(family, attr, None)) or "").split()
        if fam and len(own) > len(fam) and own[-len(fam):] == fam:
            out[k] = " ".join(own[: -len(fam)])
            stripped = True
    if stripped:
        fam_tokens = set(getattr(family, "tokens", ()) or ())
        kept = [t for t in tokens if t not in fam_tokens]
        tokens = kept or tokens
    return out, tokens


def _dob_columns(dob: Any) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(("dob_iso", "dob_day", "dob_alt", "dob_precision", "dob_year",
                                         "dob_year_lo", "dob_year_hi", "dob_month_lo", "dob_month_hi"))
    if dob is None or not getattr(dob, "iso", None):
        return out
    iso = str(dob.iso)
    year = int(getattr(dob, "year", None) or iso[:4])
    precision = _clean(getattr(dob, "precision", None)) or {4: "year", 7: "month"}.get(len(iso), "day")
    alts = [str(a) for a in (getattr(dob, "alternatives", ()) or ()) if a and len(str(a)) == 10 and a != iso]
    # A partial Solar Hijri date spans two Gregorian years (1350 = 1971-03-21 … 1972-03-20)
    # and a Hijri month two Gregorian months: compare on the range the date can take.
    rng = getattr(dob, "date_range", None)
    first, last = (str(rng[0]), str(rng[1])) if rng and len(iso) < 10 else (iso, iso)
    out.update(
        dob_iso=iso,
        dob_day=iso if len(iso) == 10 else None,
        dob_alt=alts[0] if len(iso) == 10 and alts else None,  # the day/month-swapped reading
        dob_precision=precision,
        dob_year=year,
        dob_year_lo=int(first[:4]),
        dob_year_hi=int(last[:4]),
        dob_month_lo=first[:7] if len(iso) >= 7 else None,
        dob_month_hi=last[:7] if len(iso) >= 7 else None,
    )
    return out


def _province_of(pcode: str | None) -> str | None:
    # OCHA P-codes nest: AF01 is a province, AF0101 one of its districts.
    if pcode and len(pcode) >= 4 and pcode[:2].upper() == "AF":
        return pcode[:4].upper()
    return None


def _id_value(idn: Any) -> str | None:
    if idn is None:
        return None
    return _clean(getattr(idn, "value", idn))


def _whole_name_columns(full: str | None, father: str | None, family: str | None) -> dict[str, Any]:
    """From the phonetic keys of the own, father's and family name."""
    whole = [k for k in (full, father) if k]
    own = {t for k in (full, family) for t in (k or "").split()}
    return {
        # The whole name (own + father's) as one key: common combinations get their own frequency.
        "names_phon": " / ".join(whole) if len(whole) == 2 else None,
        # Own and family name as an unordered set: the same whichever field each was written in
        # (only with a family name: otherwise it would just repeat the own name's key).
        "names_set": " ".join(sorted(own)) if family and full else None,
    }


def _birth_columns(pcode: Any) -> dict[str, Any]:
    birth = _clean(pcode)
    return {"birth_pcode": birth, "birth_prov": _province_of(birth)}


def _tazkira_columns(tazkira: Any) -> dict[str, Any]:
    value = _id_value(tazkira)
    digits = "" if not value or value.startswith("paper:") else "".join(c for c in value if c.isdigit())
    return {
        "tazkira": value,
        "tazkira_kind": _clean(getattr(tazkira, "kind", None)) if value else None,
        # Its digits in order: two digits swapped in typing (the commonest ID typo) still meet.
        "tazkira_sorted": "".join(sorted(digits)) if len(digits) >= 7 else None,
    }


def _phone_list(phones: Any) -> list[str]:
    return sorted({p for p in (phones or ()) if p})


def _gender(gender: Any) -> str | None:
    g = _clean(gender)
    return g if g in ("m", "f") else None


def features_from_normalized(record_id: str, norm: NormalizedRecord) -> dict[str, Any]:
    """The flat linkage row for one normalised record."""
    row: dict[str, Any] = {"unique_id": str(record_id)}
    names: Mapping[str, Any] = getattr(norm, "names", {}) or {}
    family = names.get("family_name")
    for field, prefix in NAME_PARTS.items():
        row.update(_name_columns(prefix, names.get(field), family if field == "full_name" else None))
    row.update(_whole_name_columns(row["full_phon"], row["father_phon"], row["family_phon"]))
    row.update(_dob_columns(getattr(norm, "dob", None)))
    row.update(_birth_columns(getattr(norm, "birth_pcode", None)))
    row["district_pcode"] = _clean(getattr(norm, "district_pcode", None))
    row["province_pcode"] = _clean(getattr(norm, "province_pcode", None))
    row.update(_tazkira_columns(getattr(norm, "tazkira", None)))
    row["passport"] = _id_value(getattr(norm, "passport", None))
    row["phones"] = _phone_list(getattr(norm, "phones", ()))
    row["gender"] = _gender(getattr(norm, "gender", None))
    return row


def features_from_fields(record_id: str, fields: Mapping[str, object]) -> dict[str, Any]:
    """Normalise canonical form fields and build the linkage row."""
    from amanat.normalize.record import normalize_record

    return features_from_normalized(record_id, normalize_record(fields))


def empty_row(record_id: str) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(FEATURE_COLUMNS)
    row["unique_id"] = str(record_id)
    for c in LIST_COLUMNS:
        row[c] = []
    return row


def _arrow_value(c: str, v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if c in _LIST_SET:
        return list(v) if len(v) else None  # an empty array is NULL: Splink's null levels see it
    if c in _INT_SET:
        return int(v) if v == v else None
    return str(v) if v != "" else None


_LIST_SET, _INT_SET = frozenset(LIST_COLUMNS), frozenset(INT_COLUMNS)


def features_table(rows: Iterable[Mapping[str, Any]], *, batch_size: int = 50_000) -> pa.Table:
    """Rows -> Arrow table with FEATURE_SCHEMA, built in batches so a million rows never sit in
    memory as Python dicts all at once (rows may be a generator)."""
    batches: list[pa.RecordBatch] = []
    chunk: list[list[Any]] = [[] for _ in FEATURE_COLUMNS]

    def flush() -> None:
        batches.append(pa.RecordBatch.from_arrays(
            [pa.array(col, type=FEATURE_SCHEMA.field(i).type) for i, col in enumerate(chunk)], schema=FEATURE_SCHEMA))
        for col in chunk:
            col.clear()

    n = 0
    for row in rows:
        for i, c in enumerate(FEATURE_COLUMNS):
            chunk[i].append(_arrow_value(c, row.get(c)))
        n += 1
        if n % batch_size == 0:
            flush()
    if n % batch_size or not batches:
        flush()
    return pa.Table.from_batches(batches, schema=FEATURE_SCHEMA)


def features_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Rows -> DataFrame with a fixed column order and Arrow-backed dtypes: ``string[pyarrow]``,
    ``int32[pyarrow]``, ``list<string>[pyarrow]``; missing values and empty arrays are null.
    Compact (about a tenth of Python objects) and handed to DuckDB without a copy."""
    return features_table(rows).to_pandas(types_mapper=pd.ArrowDtype)


def to_arrow(frame: pd.DataFrame, extra: Sequence[str] = ()) -> pa.Table:
    """The frame as an Arrow table with FEATURE_SCHEMA (plus any ``extra`` columns as-is)."""
    if all(isinstance(frame[c].dtype, pd.ArrowDtype) for c in FEATURE_COLUMNS):
        table = pa.Table.from_pandas(frame[list(FEATURE_COLUMNS)], preserve_index=False).cast(FEATURE_SCHEMA)
    else:  # a frame built by hand: go through the rows
        table = features_table(frame[list(FEATURE_COLUMNS)].to_dict("records"))
    for c in extra:
        col = frame[c]
        table = table.append_column(c, pa.array(col.astype(object).where(col.notna(), None).tolist()))
    return table


def _key_values(features: Mapping[str, Any], rule: BlockRule) -> list[str]:
    fixed: list[str] = []
    for c in rule.columns:
        if c == rule.explode:
            continue
        v = features.get(c)
        if v is None or v is pd.NA or (isinstance(v, float) and v != v) or v == "":
            return []
        fixed.append(str(v))
    prefix = rule.name + ":" + "\x1f".join(fixed)
    if rule.explode is None:
        return [prefix]
    values = features.get(rule.explode) or []
    sep = "\x1f" if fixed else ""
    return [f"{prefix}{sep}{v}" for v in sorted({str(v) for v in values if v})]


def blocking_keys(features: Mapping[str, Any]) -> list[str]:
    """The blocking key strings of one row: two rows share a key exactly when some batch
    blocking rule would compare them. Keys carry values; the store HMACs them."""
    keys: list[str] = []
    for rule in BLOCKING_RULES:
        keys.extend(_key_values(features, rule))
    return keys


# --- a whole batch: memoised per distinct value, columnar, across processes ---------------

# Each group of output columns depends only on a few form fields, whose raw values repeat
# heavily in a population (names, dates, places): a batch normalises each distinct raw
# value (or tuple) once and builds every column by index, not row by row.
_NAME_FIELDS = {prefix: (field, f"{field}_latin") for field, prefix in NAME_PARTS.items()}


def _name_group(prefix: str) -> Callable[[tuple[Any, ...]], dict[str, Any]]:
    def compute(raw: tuple[Any, ...]) -> dict[str, Any]:
        name = normalize_parts.name_part(normalize_parts.clean_text(raw[0]), normalize_parts.clean_text(raw[1]))
        family = None
        if prefix == "full":  # the family name is set aside from the full name (see _without_family)
            family = normalize_parts.name_part(normalize_parts.clean_text(raw[2]),
                                               normalize_parts.clean_text(raw[3]))
        return _name_columns(prefix, name, family)
    return compute


def _group_dob(raw: tuple[Any, ...]) -> dict[str, Any]:
    return _dob_columns(normalize_parts.date_part("date_of_birth", normalize_parts.clean_text(raw[0]), []))


def _group_birth(raw: tuple[Any, ...]) -> dict[str, Any]:
    return _birth_columns(normalize_parts.birth_part(normalize_parts.clean_text(raw[0])))


def _fields_text(names: tuple[str, ...], raw: tuple[Any, ...]) -> Callable[[str], str | None]:
    return {n: normalize_parts.clean_text(v) for n, v in zip(names, raw, strict=True)}.get


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
    return {"gender": _gender(normalize_parts.gender_part(normalize_parts.clean_text(raw[0]), []))}


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
LINKAGE_FIELDS: frozenset[str] = frozenset(f for fields, _, _ in _GROUPS for f in fields)


def _factorize(keys: Iterable[Any], compute: Callable[[Any], tuple[Any, ...] | None]
               ) -> tuple[list[int], list[tuple[Any, ...] | None]]:
    """Codes into a table of distinct outputs; ``compute`` runs once per distinct key."""
    index: dict[Any, int] = {}
    outs: list[tuple[Any, ...] | None] = []
    codes: list[int] = []
    add = codes.append
    for k in keys:
        c = index.get(k)
        if c is None:
            c = index[k] = len(outs)
            outs.append(compute(k))
        add(c)
    return codes, outs


def _columns_table(ids: Sequence[Any], fields: Sequence[Mapping[str, object]]) -> tuple[pa.Table, list[int]]:
    """The feature table of one chunk (see batch_features), and the positions that failed."""
    raw: dict[str, list[Any]] = {}
    for group_fields, _, _ in _GROUPS:
        for f in group_fields:
            if f not in raw:  # not text (or unhashable) is no value, as in normalize_record
                raw[f] = [v if isinstance(v, str) else None for v in (r.get(f) for r in fields)]
    failed = [False] * len(fields)
    columns: dict[str, pa.Array] = {}
    phon: dict[str, list[Any]] = {}
    for group_fields, out_cols, fn in _GROUPS:
        def compute(key: tuple[Any, ...], fn: Callable[[tuple[Any, ...]], dict[str, Any]] = fn,
                    out_cols: tuple[str, ...] = out_cols) -> tuple[Any, ...] | None:
            try:
                got = fn(key)
            except Exception:  # normalize_record gives such a record no values at all: so do we
                return None
            return tuple(_arrow_value(c, got[c]) for c in out_cols)

        codes, outs = _factorize(zip(*(raw[f] for f in group_fields), strict=True), compute)
        bad = {i for i, o in enumerate(outs) if o is None}
        if bad:
            failed = [f or c in bad for f, c in zip(failed, codes, strict=True)]
        take = pa.array(codes, type=pa.int32())
        for j, c in enumerate(out_cols):
            distinct = pa.array([o[j] if o is not None else None for o in outs], type=FEATURE_SCHEMA.field(c).type)
            columns[c] = distinct.take(take)
            if c.endswith("_phon"):
                phon[c] = [o[j] if o is not None else None for o in outs]
                phon[c + ":codes"] = codes
    keys = zip(*([phon[c][k] for k in phon[c + ":codes"]] for c in ("full_phon", "father_phon", "family_phon")),
               strict=True)
    codes, outs = _factorize(keys, lambda k: tuple(_arrow_value(c, v) for c, v in _whole_name_columns(*k).items()))
    take = pa.array(codes, type=pa.int32())
    for j, c in enumerate(("names_phon", "names_set")):
        columns[c] = pa.array([o[j] for o in outs if o is not None], type=pa.string()).take(take)  # type: ignore[index]
    columns["unique_id"] = pa.array([str(i) for i in ids], type=pa.string())
    table = pa.Table.from_arrays([columns[c] for c in FEATURE_COLUMNS], schema=FEATURE_SCHEMA)
    if any(failed):
        keep = pa.array([not f for f in failed])
        table = pa.Table.from_arrays(
            [table.column(c).combine_chunks() if c == "unique_id" else
             pc.if_else(keep, table.column(c), pa.scalar(None, FEATURE_SCHEMA.field(c).type))
             for c in FEATURE_COLUMNS], schema=FEATURE_SCHEMA)
    return table, [i for i, f in enumerate(failed) if f]


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
            with mp.get_context("fork").Pool(jobs) as pool:
                parts = [_report(p, progress) for p in pool.imap(_chunk_table, bounds)]
    finally:
        _SHARED = None
    if failed is not None:
        failed.extend(i for _, f in parts for i in f)
    return pa.concat_tables([t for t, _ in parts]).to_pandas(types_mapper=pd.ArrowDtype)


def _report(part: tuple[pa.Table, list[int]], progress: Callable[[int], None] | None) -> tuple[pa.Table, list[int]]:
    if progress:
        progress(part[0].num_rows)
    return part
