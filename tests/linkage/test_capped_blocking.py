"""A standalone rule over the pair budget is kept with its largest blocks left out
(blocking.cap_rule) rather than dropped: a names-only list whose commonest names pass the
budget still gets candidates for its rare names."""

from __future__ import annotations

import pickle
from collections import defaultdict
from functools import lru_cache
from itertools import combinations

import pandas as pd
import pyarrow as pa
import pytest

from amanat.linkage import file_blocking
from amanat.linkage.blocking import Cap, blocked_pairs, cap_rule, rule_pairs
from amanat.linkage.dedupe import SourceRow, _features, add_compare_columns
from amanat.linkage.features import BLOCKING_RULES, BlockRule
from amanat.linkage.file_blocking import NAME_RULES, STANDALONE_RULES, plan_standalone, standalone_blocking
from amanat.linkage.model import bundled_model, model_linker, new_connection
from amanat.linkage.progress import Progress
from bench.synth import generate_population

RARE = ("نثار احمد صافی", "Nisar Ahmad Safi")
COMMON = (("محمد", "Mohammad", 460), ("احمد", "Ahmad", 300))  # 105,570 and 44,850 pairs


@lru_cache(maxsize=1)
def _people() -> tuple[dict[str, object], ...]:
    return tuple(generate_population(300, seed=5))  # 373 records


def _rows(province: bool = False) -> list[SourceRow]:
    keep = ("full_name", "full_name_latin", *(("province",) if province else ()))
    rows = [SourceRow("list.csv", i + 2, {k: r[k] for k in keep if r.get(k)}) for i, r in enumerate(_people())]
    at = len(rows) + 2
    for dari, latin, times in COMMON:  # a very common name, then a common one (in Kabul, given provinces)
        for _ in range(times):
            rows.append(SourceRow("list.csv", at, {"full_name": dari, "full_name_latin": latin, "province": "Kabul"}
                                  if province else {"full_name": dari, "full_name_latin": latin}))
            at += 1
    for latin in (None, RARE[1]):  # a rare name twice: once in Dari alone, once with its romanisation
        fields = {"full_name": RARE[0], **({"full_name_latin": latin} if latin else {})}
        rows.append(SourceRow("list.csv", at, {**fields, "province": "Kunduz"} if province else fields))
        at += 1
    return rows


@lru_cache(maxsize=2)
def _frame(province: bool = False) -> pd.DataFrame:
    return _features(_rows(province), Progress(), [])


def _pairs(table: pa.Table) -> set[frozenset[int]]:
    t = table.to_pandas()
    return {frozenset((int(a), int(b))) for a, b in zip(t["join_key_l"], t["join_key_r"], strict=True)}


def _python_pairs(keys: list[tuple[object, ...] | None], largest: int | None = None) -> set[frozenset[int]]:
    """Every pair within each block of at most ``largest`` rows, row by row in Python."""
    blocks: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        if k is not None:
            blocks[k].append(i)
    return {frozenset(p) for rows in blocks.values() if largest is None or len(rows) <= largest
            for p in combinations(rows, 2)}


def _keys(frame: pd.DataFrame, *columns: str) -> list[tuple[object, ...] | None]:
    """Each row's key on these columns (None where one has no value), full_phon_joined made here."""
    values = [frame["full_phon"].map(lambda v: v.replace(" ", ""), na_action="ignore") if c == "full_phon_joined"
              else frame[c] for c in columns]
    return [None if any(pd.isna(v) for v in row) else row for row in zip(*values, strict=True)]


def test_a_very_common_name_leaves_out_its_own_block_and_the_rare_names_get_candidates() -> None:
    frame = _frame()
    n = len(frame)
    rules, notes, table = plan_standalone(frame)
    by_name = {r.name: r for r in rules}
    # every name rule passed the budget (the 460 Mohammads alone: 105,570 pairs of 100,000): kept, capped
    for rule in NAME_RULES:
        assert rule.name not in by_name
        capped = by_name[f"{rule.name}_c"]
        assert capped.columns[:-1] == rule.columns and isinstance(capped.columns[-1], Cap)
        assert 300 <= capped.columns[-1].largest < 460  # the Ahmads' block (and the list's two) fits
        assert 0 < rule_pairs(frame, capped) <= 100_000 < rule_pairs(frame, rule)
    # the notes say, in words, how many names went and how many rows they held
    assert notes == [f"blocking on {words}: the commonest name (a block of 460 rows) left out: too common to "
                     "compare on names alone" for words in file_blocking.NAME_WORDS.values()], notes
    pairs = _pairs(table)
    assert frozenset((n - 2, n - 1)) in pairs  # the rare name: without the cap, no name rule and no pair
    people = len(_people())
    mohammad, ahmad = range(people, people + 460), range(people + 460, people + 760)
    assert not any(frozenset((a, b)) in pairs for a, b in combinations(mohammad, 2))
    assert all(frozenset((a, b)) in pairs for a, b in combinations(ahmad, 2))
    # the other rules fit, and are the rules they were
    assert [r for r in rules if r.name not in {f"{x.name}_c" for x in NAME_RULES}] == [
        *BLOCKING_RULES, *(r for r in STANDALONE_RULES if r not in NAME_RULES)]


def test_rules_within_the_budget_are_unchanged() -> None:
    rows = _rows()[:len(_people())] + _rows()[-2:]  # no common name
    frame = _features(rows, Progress(), [])
    rules, notes = standalone_blocking(frame)
    assert rules == [*BLOCKING_RULES, *STANDALONE_RULES] and notes == []
    assert not any(isinstance(c, Cap) for r in rules for c in r.columns)
    latin = NAME_RULES[0]
    assert _pairs(blocked_pairs(frame, [latin])) == _python_pairs(_keys(frame, "full_latin")) != set()
    fits = cap_rule(frame, latin, rule_pairs(frame, latin))  # a budget it fits: as it is
    assert fits is not None and fits.rule == latin and fits.keys == 0


def test_a_name_rule_still_over_the_budget_within_a_province_is_capped_there(monkeypatch: pytest.MonkeyPatch
                                                                             ) -> None:
    frame = _frame(province=True)
    rules, notes = standalone_blocking(frame)  # the Mohammads are all in Kabul: still over, and no district
    by_name = {r.name: r for r in rules}
    for rule in NAME_RULES:
        assert by_name[f"{rule.name}_p_c"].columns[:-1] == (*rule.columns, "province_pcode")
    WORDS = file_blocking.NAME_WORDS["s_nl"]
    assert f"blocking on {WORDS} within one province: the commonest name (a block of 460 " \
           "rows) left out: too common to compare on names alone" in notes, notes
    monkeypatch.setattr(file_blocking, "PAIRS_FLOOR", 5000)  # both common names go, and the note counts them
    monkeypatch.setattr(file_blocking, "PAIRS_PER_ROW", 0)
    _, notes = standalone_blocking(frame)
    assert any(n.startswith(f"blocking on {WORDS} within one province: the 2 commonest names "
                            "(blocks of more than ") and "760 rows in all" in n for n in notes), notes
    monkeypatch.setattr(file_blocking, "PAIRS_FLOOR", 0)  # no block fits: left out, as before
    rules, notes = standalone_blocking(frame)
    assert not {r.name for r in rules} & {f"{r.name}_p_c" for r in NAME_RULES}
    assert sum("left out: " in n and n.endswith("over the budget of 0") for n in notes) >= len(NAME_RULES)


def test_a_capped_column_keeps_its_rarer_values_and_quotes_them_in_sql() -> None:
    rows = _rows()
    people = len(_people())
    villages = ["Qala'e Nau" if people <= i < people + 760 else f"village {i % 40}" for i in range(len(rows))]
    fields = [{**r.fields, "village": v} for r, v in zip(rows, villages, strict=True)]
    frame = add_compare_columns(_features(rows, Progress(), []), fields, ["village"])
    # a compared column over the budget is left out of the file's rules (capping every rule cost
    # 5x the predict time at a million records); the cap itself still works on any column
    rules, notes = standalone_blocking(frame, ["village"])
    before = rule_pairs(frame, BlockRule("s_cmp_0", ("cmp_0",)))
    assert not any(r.name.startswith("s_cmp_0") for r in rules)
    assert f"blocking on village left out: {before} pairs, over the budget of 100000" in notes, notes
    capped = cap_rule(frame, BlockRule("s_cmp_0", ("cmp_0",)), 100_000)
    assert capped is not None and capped.keys == 1 and capped.rows == 760
    village = capped.rule
    largest = village.columns[-1].largest  # type: ignore[attr-defined]
    assert _pairs(blocked_pairs(frame, [village])) == _python_pairs([(v,) for v in villages], largest) != set()
    # the cap's SQL (what Splink joins on) is null on the village's rows alone, its quote and all
    con = new_connection()
    try:
        con.register("frame", frame[["cmp_0"]])
        marks = con.sql(f"select {village.columns[-1]} as m from frame").df()["m"]
    finally:
        con.close()
    assert village.columns[-1].count("''") == 1
    assert marks.isna().tolist() == [v == "Qala'e Nau" for v in villages]


def _splink_pairs(frame: pd.DataFrame, rules: list[BlockRule]) -> set[tuple[str, str, str]]:
    con = new_connection()
    try:
        linker = model_linker(bundled_model(), frame, con=con, blocking=rules)
        got = linker.inference.predict(threshold_match_weight=-1e9, warning_mode="never").as_pandas_dataframe()
    finally:
        con.close()
    return set(zip(got["unique_id_l"], got["unique_id_r"], got["match_key"].astype(str), strict=True))


def test_capped_rules_block_what_splink_blocks_on_the_kept_keys() -> None:
    for frame in (_frame(), _frame(province=True)):  # capped on one column, and on a name and a province
        rules, _, table = plan_standalone(frame)
        assert any(isinstance(r.columns[-1], Cap) for r in rules)
        ours = table.to_pandas()
        assert len(ours) > 10_000
        assert set(zip(ours["join_key_l"], ours["join_key_r"], ours["match_key"], strict=True)) == _splink_pairs(
            frame, rules)
    frame = _frame(province=True)
    by_name = {r.name: r for r in plan_standalone(frame)[0]}
    for name, columns in (("s_nl_p_c", ("full_latin", "province_pcode")), ("s_nj_p_c", ("full_phon_joined",
                                                                                         "province_pcode"))):
        rule = by_name[name]
        assert _pairs(blocked_pairs(frame, [rule])) == _python_pairs(_keys(frame, *columns), rule.columns[-1].largest)

    # a budget that leaves out most blocks (5, 4 and 3 rows): the SQL lists the one kept instead
    names = [*(["Karim"] * 5), *(["Rahim"] * 4), *(["Wali"] * 3), "O'Neil", "O'Neil", "Zarif", "Sabir"]
    frame = _features([SourceRow("l.csv", i + 2, {"full_name_latin": v}) for i, v in enumerate(names)], Progress(), [])
    small = cap_rule(frame, NAME_RULES[0], 1)
    assert small is not None and (small.largest, small.keys, small.rows, small.pairs) == (2, 3, 12, 1)
    assert small.rule.columns[-1].endswith(" THEN 1 END")
    assert _pairs(blocked_pairs(frame, [small.rule])) == {frozenset((12, 13))}
    ours = blocked_pairs(frame, [small.rule]).to_pandas()
    assert set(zip(ours["join_key_l"], ours["join_key_r"], ours["match_key"], strict=True)) == _splink_pairs(
        frame, [small.rule])
    # the cap travels with the rule
    again = pickle.loads(pickle.dumps(small.rule))
    assert again == small.rule and again.columns[-1].largest == 2  # type: ignore[attr-defined]
