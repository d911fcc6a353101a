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
