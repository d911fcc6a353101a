"""The flat linkage row: what Splink and the incremental scorer compare.

One row per record, built from a ``NormalizedRecord``. Every value here is derived
plaintext, so rows live only in memory (pandas / an in-memory DuckDB) and are never
logged. The store persists only ``blocking_keys`` — as HMACs — to find candidates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from amanat.normalize.phonetic import house

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
LIST_COLUMNS: tuple[str, ...] = (*(f"{p}_tok" for p in NAME_PARTS.values()), "phones", "events", "event_kinds")
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


def _name_keys(prefix: str) -> tuple[str, str, str, str, str]:
    return f"{prefix}_fold", f"{prefix}_latin", f"{prefix}_phon", f"{prefix}_first", f"{prefix}_tok"


_NAME_KEYS = {prefix: _name_keys(prefix) for prefix in NAME_PARTS.values()}


def _name_columns(prefix: str, name: Any, family: Any = None) -> dict[str, Any]:
    fold_c, latin_c, phon_c, first_c, tok_c = _NAME_KEYS.get(prefix) or _name_keys(prefix)
    if name is None:
        return {fold_c: None, latin_c: None, phon_c: None, first_c: None, tok_c: []}
    keys = {"fold": _clean(getattr(name, "folded", None)), "latin": _clean(getattr(name, "latin", None)),
            "phon": _clean(getattr(name, "phonetic", None))}
    tokens = [t for t in map(_clean, getattr(name, "tokens", ()) or ()) if t]
    if family is not None:
        keys, tokens = _without_family(keys, tokens, family)
    ordered = keys["phon"].split() if keys["phon"] else tokens
    items = tokens or ordered  # each already clean: sorted and unique, as DuckDB's list_intersect wants
    return {fold_c: keys["fold"], latin_c: keys["latin"], phon_c: keys["phon"],
            first_c: ordered[0] if ordered else None, tok_c: sorted(set(items))}


def _without_family(keys: dict[str, str | None], tokens: list[str], family: Any) -> tuple[
        dict[str, str | None], list[str]]:
    """Drop a trailing family name from a full name ("Aminullah Zamani" with family name
    Zamani): forms write it there about one time in five, and it would hide the given name."""
    out = dict(keys)
    stripped = False
    for k, attr in (("fold", "folded"), ("latin", "latin"), ("phon", "phonetic")):
        own, fam = (keys[k] or "").split(), (_clean(getattr(family, attr, None)) or "").split()
        tail = own[-len(fam):] if fam else []
        if k == "latin":  # Noori in the name, Nuri as the family name: one name in two house styles
            tail, fam = [house(t) for t in tail], [house(t) for t in fam]
        if fam and len(own) > len(fam) and tail == fam:
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


# Dates of a man's life that a second registration repeats: the day he entered the country of refuge
# and the day his service began (full dates only: a year is shared by thousands). "e2022-10-16",
# "s2012-05-02"; event_kinds says which he gave.
EVENT_KINDS: tuple[tuple[str, str], ...] = (("e", "refuge_entry"), ("s", "service_start"))


def _event_columns(dates: Mapping[str, Any]) -> dict[str, Any]:
    events, kinds = [], []
    for kind, name in EVENT_KINDS:
        iso = getattr(dates.get(name), "iso", None)
        if iso and len(str(iso)) == 10:
            events.append(f"{kind}{iso}")
            kinds.append(kind)
    return {"events": events, "event_kinds": kinds}


EVENT_FIELDS = ("refuge_entry_date", "service_start")  # the form's fields, in EVENT_KINDS' order


def event_columns_of_texts(texts: Sequence[Any]) -> dict[str, Any]:
    """_event_columns of the form's texts (EVENT_FIELDS' order), read as normalize_record reads them."""
    from amanat.normalize.record import date_part

    return _event_columns({name: date_part(field, text, [])
                           for (_, name), field, text in zip(EVENT_KINDS, EVENT_FIELDS, texts, strict=True)})


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
    row.update(_event_columns({name: getattr(norm, name, None) for _, name in EVENT_KINDS}))
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


def phone_lists(frame: pd.DataFrame) -> pa.ListArray:
    """The frame's phone lists as one Arrow list array (a row without phones: null)."""
    if isinstance(frame["phones"].dtype, pd.ArrowDtype):
        return pa.array(frame["phones"].array).cast(pa.list_(pa.string()))  # type: ignore[no-any-return]
    return pa.array([v if isinstance(v, list | tuple | np.ndarray) else None  # type: ignore[no-any-return]
                     for v in frame["phones"].to_numpy(dtype=object)], type=pa.list_(pa.string()))
