"""The stored model on Splink's Spark backend (local mode) scores as the DuckDB path does."""

from __future__ import annotations

import importlib.util
import shutil
from collections import Counter

import pandas as pd
import pytest

from amanat.linkage.batch import predict_pairs
from tests.linkage._shared import frame, model, population

if importlib.util.find_spec("pyspark") is None:
    pytest.skip("pyspark is not installed (pip install 'amanat[test]' adds it); Spark backend untested",
                allow_module_level=True)
if shutil.which("java") is None:
    pytest.skip("no Java runtime on PATH (Spark needs Java 17); Spark backend untested", allow_module_level=True)


@pytest.mark.slow
def test_spark_predict_equals_duckdb_predict() -> None:
    from amanat.linkage.spark import features_to_spark, local_spark, predict_pairs_spark

    trained = model()
    # A sample rich in duplicates, so blocking yields plenty of pairs to compare.
    person = {str(r["record_id"]): r["person_id"] for r in population()}
    counts = Counter(person.values())
    dup_ids = [rid for rid, p in person.items() if counts[p] > 1][:240]
    singles = [rid for rid, p in person.items() if counts[p] == 1][:60]
    df = frame()[frame()["unique_id"].isin(dup_ids + singles)].reset_index(drop=True)
    spark = local_spark(cores=2, memory="1g", shuffle_partitions=1)
    spark.sparkContext.setLogLevel("ERROR")
    on_spark = predict_pairs_spark(trained, features_to_spark(spark, df), threshold_match_weight=-1e9).toPandas()
    on_duckdb = predict_pairs(trained, df, threshold_match_weight=-1e9)
    assert len(on_duckdb) >= 50  # enough blocked pairs to compare
    merged = on_duckdb.merge(on_spark, on=["unique_id_l", "unique_id_r"], how="outer", suffixes=("_d", "_s"),
                             indicator=True)
    assert (merged["_merge"] == "both").all()  # the same blocked pairs
    diff = (merged["match_weight_d"] - merged["match_weight_s"]).abs()
    assert diff.max() < 1e-6, pd.concat([merged[["unique_id_l", "unique_id_r"]], diff], axis=1).nlargest(3, 0)


@pytest.mark.slow
def test_dedupe_on_spark_gives_the_duckdb_output(tmp_path) -> None:
    # The command line's --spark: the file's own blocking (name rules included) listed here, scored
    # on Spark with the same model; every output column as the DuckDB run gives it.
    from amanat.linkage.dedupe import SourceRow, dedupe_rows
    from amanat.linkage.model import bundled_model
    from amanat.linkage.spark import local_spark

    rows = [SourceRow("a.csv", i + 2, {k: v for k, v in r.items() if k in _FORM and v})
            for i, r in enumerate(population()[:400])]
    rows += [SourceRow("b.csv", 2, {"full_name": "مسعود"}), SourceRow("b.csv", 3, {"full_name": "Masud"})]
    spark = local_spark(cores=2, memory="1g", shuffle_partitions=1)
    spark.sparkContext.setLogLevel("ERROR")
    on_duckdb = dedupe_rows(rows, model=bundled_model()).lead
    on_spark = dedupe_rows(rows, model=bundled_model(), spark=spark).lead
    assert (on_duckdb["cluster_size"] > 1).sum() >= 20  # duplicates were found, so the comparison says something
    pd.testing.assert_frame_equal(on_spark, on_duckdb)


_FORM = ("full_name", "full_name_latin", "father_name", "grandfather_name", "family_name", "gender", "date_of_birth",
         "province", "district", "tazkira_number", "passport_number", "phone")


@pytest.mark.slow
def test_the_command_line_scores_on_spark(tmp_path) -> None:
    from typer.testing import CliRunner

    from tests.linkage.test_dedupe_cli import _app

    src = tmp_path / "list.csv"
    src.write_text("No.,Name,Father,DOB\n1,محمد نبی,عبدالکریم,1365\n2,Mohammad Nabi,Abdul Karim,1365\n"
                   "3,Ali,Karim,1370\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(_app(), ["dedupe", str(src), "--out", str(out), "--spark", "local[1]"])
    assert result.exit_code == 0, result.output
    assert "starting Spark on local[1]" in result.output and out.exists()


def test_spark_missing_java_is_one_clear_line(monkeypatch) -> None:
    from amanat.errors import InvalidInput
    from amanat.linkage import spark as sp

    monkeypatch.setattr(sp.shutil, "which", lambda _: None)
    with pytest.raises(InvalidInput, match="needs a Java 17 runtime"):
        sp.open_spark("local[1]")


@pytest.mark.slow
def test_link_run_scores_stored_records_on_spark_as_on_duckdb() -> None:
    # `amanat link run --spark`: the store's rules on Spark give predict_pairs' frame, column for column.
    from amanat.linkage.spark import local_spark, predict_stored_spark

    trained = model()
    df = frame().head(600).reset_index(drop=True)
    spark = local_spark(cores=2, memory="1g", shuffle_partitions=1)
    floor = trained.thresholds.weight(0.01)
    key = ["unique_id_l", "unique_id_r"]
    on_spark = predict_stored_spark(trained, df, spark, threshold_match_weight=floor)
    on_duckdb = predict_pairs(trained, df, threshold_match_weight=floor)
    assert len(on_duckdb) >= 20
    on_spark = on_spark[list(on_duckdb.columns)].sort_values(key).reset_index(drop=True)
    on_duckdb = on_duckdb.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(on_spark, on_duckdb, check_dtype=False, atol=1e-6)
