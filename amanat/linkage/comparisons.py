"""Amanat's comparisons, written once and rendered twice.

Each level carries a Splink level creator (SQL for DuckDB or Spark) and a Python twin
with the same three-valued logic, so the incremental scorer lands on exactly the level
Splink's ``predict()`` would. Changing a level here changes ``SPEC_VERSION``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from rapidfuzz.distance import JaroWinkler, Levenshtein
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator
from splink.internals.dialects import SplinkDialect

SPEC_VERSION = 2  # 2: the events comparison (dates of entry and of joining service)
_NA = pd.NA

Row = Mapping[str, Any]
Test = Callable[[Row, Row], bool | None]


def value(row: Row, col: str) -> Any:
    """A column's value with every kind of missing folded to None (as SQL NULL)."""
    v = row.get(col)
    if v is None or v is _NA:
        return None
    cls = v.__class__
    if cls is str or cls is list or cls is tuple:
        return v or None  # "" and [] are missing
    if cls is float and v != v:
        return None
    return v


@dataclass(frozen=True)
class Level:
    label: str
    creator: ComparisonLevelCreator
    test: Test
    reason: str | None = None  # short English phrase shown when this level decides a link
    is_null: bool = False
    tf_col: str | None = None


@dataclass(frozen=True)
class ComparisonSpec:
    name: str
    levels: tuple[Level, ...]

    def creator(self) -> ComparisonCreator:
        return cl.CustomComparison(
            comparison_levels=[lv.creator for lv in self.levels], output_column_name=self.name
        )

    def level_of(self, left: Row, right: Row) -> int:
        """Index (in ``levels``) of the first level whose condition holds; the last is ELSE."""
        for i, lv in enumerate(self.levels):
            if lv.test(left, right) is True:
                return i
        return len(self.levels) - 1


# --- the level kinds, each a (Splink creator, Python test) pair --------------------------


def null(col: str, label: str) -> Level:
    def test(a: Row, b: Row) -> bool:
        return value(a, col) is None or value(b, col) is None

    return Level(label, cll.NullLevel(col), test, is_null=True)


def null_or_differ(col: str, kind_col: str, label: str) -> Level:
    """Missing on either side, or of different kinds (paper vs e-tazkira): not comparable."""
    sql = f'"{col}_l" IS NULL OR "{col}_r" IS NULL OR "{kind_col}_l" <> "{kind_col}_r"'

    def test(a: Row, b: Row) -> bool:
        if value(a, col) is None or value(b, col) is None:
            return True
        ka, kb = value(a, kind_col), value(b, kind_col)
        return ka is not None and kb is not None and ka != kb

    creator = cll.CustomLevel(sql, label_for_charts=label, base_dialect_str="duckdb").configure(
        is_null_level=True
    )
    return Level(label, creator, test, is_null=True)


def exact(col: str, label: str, reason: str | None, *, tf: bool = False) -> Level:
    def test(a: Row, b: Row) -> bool | None:
        x, y = value(a, col), value(b, col)
        return None if x is None or y is None else x == y

    creator = cll.ExactMatchLevel(col, term_frequency_adjustments=tf).configure(label_for_charts=label)
    return Level(label, creator, test, reason, tf_col=col if tf else None)


class _HasAnyLevel(ComparisonLevelCreator):
    """Arrays share an element: list_has_any in DuckDB (≈1.7× faster than sizing
    list_intersect), arrays_overlap in Spark."""

    def __init__(self, col: str) -> None:
        self.col = col

    def create_sql(self, sql_dialect: SplinkDialect) -> str:
        fn = "arrays_overlap" if sql_dialect.sql_dialect_str == "spark" else "list_has_any"
        q = "`" if sql_dialect.sql_dialect_str == "spark" else '"'
        return f"{fn}({q}{self.col}_l{q}, {q}{self.col}_r{q})"

    def create_label_for_charts(self) -> str:
        return f"{self.col} share an element"


def shares(col: str, label: str, reason: str | None) -> Level:
    def test(a: Row, b: Row) -> bool | None:
        x, y = value(a, col), value(b, col)
        if x is None or y is None:
            return None
        return not set(x).isdisjoint(y)

    return Level(label, _HasAnyLevel(col).configure(label_for_charts=label), test, reason)


def jaro_winkler(col: str, threshold: float, label: str, reason: str | None) -> Level:
    def test(a: Row, b: Row) -> bool | None:
        x, y = value(a, col), value(b, col)
        if x is None or y is None:
            return None
        return JaroWinkler.similarity(str(x), str(y)) >= threshold

    creator = cll.JaroWinklerLevel(col, threshold).configure(label_for_charts=label)
    return Level(label, creator, test, reason)


def levenshtein(col: str, distance: int, label: str, reason: str | None) -> Level:
    def test(a: Row, b: Row) -> bool | None:
        x, y = value(a, col), value(b, col)
        if x is None or y is None:
            return None
        return Levenshtein.distance(str(x), str(y)) <= distance

    creator = cll.LevenshteinLevel(col, distance).configure(label_for_charts=label)
    return Level(label, creator, test, reason)


def intersect(col: str, size: int, label: str, reason: str | None) -> Level:
    def test(a: Row, b: Row) -> bool | None:
        x, y = value(a, col), value(b, col)
        if x is None or y is None:
            return None
        return len(set(x) & set(y)) >= size

    creator = cll.ArrayIntersectLevel(col, size).configure(label_for_charts=label)
    return Level(label, creator, test, reason)


def within(col: str, distance: int, label: str, reason: str | None) -> Level:
    def test(a: Row, b: Row) -> bool | None:
        x, y = value(a, col), value(b, col)
        if x is None or y is None:
            return None
        return abs(int(x) - int(y)) <= distance

    creator = cll.AbsoluteDifferenceLevel(col, distance).configure(label_for_charts=label)
    return Level(label, creator, test, reason)


def either(first: Level, second: Level, label: str, reason: str | None) -> Level:
    def test(a: Row, b: Row) -> bool | None:
        x, y = first.test(a, b), second.test(a, b)
        if x is True or y is True:
            return True
        return None if x is None or y is None else False

    creator = cll.Or(first.creator, second.creator).configure(label_for_charts=label)
    return Level(label, creator, test, reason)


def both(first: Level, second: Level, label: str, reason: str | None) -> Level:
    def test(a: Row, b: Row) -> bool | None:
        x, y = first.test(a, b), second.test(a, b)
        if x is False or y is False:
            return False
        return None if x is None or y is None else True

    creator = cll.And(first.creator, second.creator).configure(label_for_charts=label)
    return Level(label, creator, test, reason)


def overlap(lo: str, hi: str, label: str, reason: str | None) -> Level:
    """The ranges [lo, hi] of the two records overlap (years as ints, months as "YYYY-MM")."""
    sql = f'"{lo}_l" <= "{hi}_r" AND "{lo}_r" <= "{hi}_l"'

    def test(a: Row, b: Row) -> bool | None:
        al, ah, bl, bh = value(a, lo), value(a, hi), value(b, lo), value(b, hi)
        x = None if al is None or bh is None else al <= bh
        y = None if bl is None or ah is None else bl <= ah
        if x is False or y is False:
            return False
        return None if x is None or y is None else True

    return Level(label, cll.CustomLevel(sql, label_for_charts=label, base_dialect_str="duckdb"), test, reason)


def crossed(col: str, other: str, label: str, reason: str | None) -> Level:
    """One record's ``col`` equals the other's ``other`` (either way round)."""
    sql = f'"{col}_l" = "{other}_r" OR "{other}_l" = "{col}_r"'

    def test(a: Row, b: Row) -> bool | None:
        pairs = ((value(a, col), value(b, other)), (value(a, other), value(b, col)))
        results = [None if x is None or y is None else x == y for x, y in pairs]
        if True in results:
            return True
        return None if None in results else False

    return Level(label, cll.CustomLevel(sql, label_for_charts=label, base_dialect_str="duckdb"), test, reason)


def missing(col: str) -> Level:
    """True when either side lacks ``col`` (a sub-condition, not a null level)."""

    def test(a: Row, b: Row) -> bool:
        return value(a, col) is None or value(b, col) is None

    return Level("", cll.NullLevel(col), test)


def otherwise(label: str, reason: str | None = None) -> Level:
    return Level(label, cll.ElseLevel().configure(label_for_charts=label), lambda a, b: True, reason)


# --- Amanat's comparisons -----------------------------------------------------------------


def _name(prefix: str, what: str, *, partial_levels: bool) -> ComparisonSpec:
    levels = [
        null(f"{prefix}_phon", f"{what} missing"),
        exact(f"{prefix}_fold", f"same {what} as written", f"same {what} as written", tf=True),
        # The romanisation tells محمد (mohammad) from محمود (mahmood); the consonant key does not.
        exact(f"{prefix}_latin", f"{what} agree across scripts", f"{what} agree across scripts", tf=True),
        exact(f"{prefix}_phon", f"{what} sound alike", f"{what} sound alike", tf=True),
        jaro_winkler(f"{prefix}_latin", 0.92, f"{what} spelt alike", f"{what} spelt alike"),
    ]
    if prefix in ("full", "family"):
        # Given and family name written in each other's field.
        other = "family" if prefix == "full" else "full"
        levels.append(crossed(f"{prefix}_phon", f"{other}_phon", f"{what} written in the other field",
                              "names agree, written in swapped fields"))
    if partial_levels:
        levels += [
            intersect(f"{prefix}_tok", 2, f"{what} share two parts", f"{what} share two parts"),
            either(
                jaro_winkler(f"{prefix}_latin", 0.8, "", None),
                shares(f"{prefix}_tok", "", None),
                f"{what} partly agree",
                f"{what} partly agree",
            ),
        ]
    levels.append(otherwise(f"{what} differ", f"{what} differ"))
    return ComparisonSpec(f"{prefix}_name", tuple(levels))


def _agree(prefix: str) -> Level:
    """Same name as written or the same romanisation (not just the consonant key)."""
    return either(exact(f"{prefix}_fold", "", None), exact(f"{prefix}_latin", "", None), "", None)


def _paternal() -> ComparisonSpec:
    """Father's and grandfather's names as one comparison: brothers and cousins share both,
    so counting them as independent evidence would add their weight twice."""
    return ComparisonSpec(
        "paternal",
        (
            null("father_phon", "father's name missing"),
            both(_agree("father"), _agree("grand"), "father's and grandfather's names agree",
                 "father's and grandfather's names agree"),
            both(_agree("father"), missing("grand_phon"), "father's name agrees (no grandfather)",
                 "father's name agrees"),
            either(exact("father_fold", "", None), exact("father_latin", "", None),
                   "father's name agrees, grandfathers' differ", "father's name agrees"),
            either(exact("father_phon", "", None), jaro_winkler("father_latin", 0.92, "", None),
                   "fathers' names sound or are spelt alike", "fathers' names sound alike"),
            either(shares("father_tok", "", None), jaro_winkler("father_latin", 0.8, "", None),
                   "fathers' names partly agree", "fathers' names partly agree"),
            otherwise("fathers' names differ", "fathers' names differ"),
        ),
    )


def _dob() -> ComparisonSpec:
    return ComparisonSpec(
        "dob",
        (
            null("dob_year", "date of birth missing"),
            exact("dob_day", "same date of birth", "same date of birth"),
            crossed("dob_day", "dob_alt", "date of birth agrees read another way",
                    "date of birth agrees with day and month swapped"),
            levenshtein("dob_day", 1, "date of birth one digit apart", "date of birth one digit apart"),
            overlap("dob_month_lo", "dob_month_hi", "same month of birth", "same month and year of birth"),
            both(overlap("dob_year_lo", "dob_year_hi", "", None), missing("dob_day"),
                 "same year of birth (partial date)", "same year of birth"),
            overlap("dob_year_lo", "dob_year_hi", "same year, different month", "same year of birth"),
            within("dob_year", 1, "date of birth ±1 year", "date of birth ±1 year"),
            otherwise("dates of birth differ", "dates of birth differ"),
        ),
    )


def _origin() -> ComparisonSpec:
    return ComparisonSpec(
        "origin",
        (
            null("province_pcode", "province missing"),
            exact("district_pcode", "same district", "same district"),
            exact("province_pcode", "same province", "same province"),
            otherwise("provinces differ", "provinces differ"),
        ),
    )


def _birthplace() -> ComparisonSpec:
    return ComparisonSpec(
        "birthplace",
        (
            null("birth_pcode", "place of birth missing"),
            exact("birth_pcode", "same place of birth", "same place of birth"),
            exact("birth_prov", "place of birth in the same province", "born in the same province"),
            otherwise("places of birth differ", "places of birth differ"),
        ),
    )


def _tazkira() -> ComparisonSpec:
    return ComparisonSpec(
        "tazkira",
        (
            null_or_differ("tazkira", "tazkira_kind", "tazkira missing or not comparable"),
            exact("tazkira", "same tazkira", "same tazkira"),
            levenshtein("tazkira", 1, "tazkira one typo apart", "tazkira one typo apart"),
            levenshtein("tazkira", 2, "tazkira two typos apart", "tazkira two typos apart"),
            otherwise("tazkira differ", "different tazkira"),
        ),
    )


def _passport() -> ComparisonSpec:
    return ComparisonSpec(
        "passport",
        (
            null("passport", "passport missing"),
            exact("passport", "same passport", "same passport"),
            levenshtein("passport", 1, "passport one typo apart", "passport one typo apart"),
            otherwise("passports differ", "different passport"),
        ),
    )


def _phones() -> ComparisonSpec:
    return ComparisonSpec(
        "phones",
        (
            null("phones", "phone missing"),
            shares("phones", "a phone number in common", "a phone number in common"),
            otherwise("no phone in common", "no phone in common"),
        ),
    )


def _events() -> ComparisonSpec:
    """The day he entered the country of refuge and the day his service began (features.EVENT_KINDS):
    a re-registration repeats them. No date in common says next to nothing, whatever its cause (one
    gave his entry, the other his service; or a date misremembered): a level of its own for dates that
    differ learnt m = 0 on synthetic data, a veto no real misremembered date deserves."""
    return ComparisonSpec(
        "events",
        (
            null("events", "dates of entry and service missing"),
            shares("events", "a date of entry or of joining service in common",
                   "the same date of entry into the country of refuge or of joining service"),
            Level(_NO_EVENT_IN_COMMON, cll.ElseLevel().configure(
                label_for_charts=_NO_EVENT_IN_COMMON, m_probability=NO_EVENT_IN_COMMON_M, fix_m_probability=True),
                lambda a, b: True),
        ),
    )


# No date in common is left (almost) without weight: m held at NO_EVENT_IN_COMMON_M against a u near 1
# (-0.15 bits). Trained, it learnt m = 0.21 on synthetic data (-2.2 bits), and that extra doubt on
# pairs sharing a tazkira drove EM's m for fathers' names that differ to 0 within the tazkira round,
# where Splink stops; and a date misremembered should not count against a man.
_NO_EVENT_IN_COMMON = "no date of entry or of joining service in common"
NO_EVENT_IN_COMMON_M = 0.9


def _gender() -> ComparisonSpec:
    return ComparisonSpec(
        "gender",
        (
            null("gender", "gender missing"),
            exact("gender", "same gender", None),
            otherwise("genders differ", "genders differ"),
        ),
    )


def compare_feature_names(columns: Sequence[str]) -> list[str]:
    """Feature column names for the extra columns a standalone dedupe compares as given
    (``amanat dedupe --compare``): by position, so any header text is safe in SQL."""
    return [f"cmp_{i}" for i in range(len(columns))]


def text_comparison(col: str, what: str) -> ComparisonSpec:
    """An extra column compared as folded text. Levenshtein catches a typo in a short code (a
    postcode, a house number) where Jaro-Winkler gives up; Jaro-Winkler a typo in long text."""
    return ComparisonSpec(
        col,
        (
            null(col, f"{what} missing"),
            exact(col, f"same {what}", f"same {what}", tf=True),
            either(levenshtein(col, 1, "", None), jaro_winkler(col, 0.92, "", None), f"{what} nearly the same",
                   f"{what} nearly the same"),
            jaro_winkler(col, 0.8, f"{what} similar", f"{what} similar"),
            otherwise(f"{what} differs", f"{what} differs"),
        ),
    )


def amanat_comparisons(compare: Sequence[str] = ()) -> tuple[ComparisonSpec, ...]:
    """The form's comparisons, then one text comparison per extra column in ``compare``
    (headers, in order; only standalone dedupe models have any)."""
    extra = tuple(text_comparison(c, h) for c, h in zip(compare_feature_names(compare), compare, strict=True))
    return (
        _name("full", "names", partial_levels=True),
        _paternal(),
        _name("family", "family names", partial_levels=False),
        _dob(),
        _origin(),
        _birthplace(),
        _tazkira(),
        _passport(),
        _phones(),
        _gender(),
        _events(),
        *extra,
    )


def tf_columns(specs: tuple[ComparisonSpec, ...]) -> list[str]:
    cols: list[str] = []
    for spec in specs:
        for lv in spec.levels:
            if lv.tf_col and lv.tf_col not in cols:
                cols.append(lv.tf_col)
    return cols
