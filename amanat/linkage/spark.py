"""The stored model on Splink's Spark backend, for populations one machine cannot hold.

The model is the same object the DuckDB path trains (TrainedModel): its m/u, prior and
term-frequency tables are reused as they are; only the SQL of each comparison level and
blocking rule is regenerated for Spark from the same spec. Term frequencies are joined on
as registered lookups (the model's frequency, else its rare default), exactly the
values batch.py puts in its ``tf_<col>`` columns.

pyspark is optional (``pip install pyspark``) and needs Java 17; Splink's Jaro-Winkler
UDF ships as a jar inside Splink and is put on the session by ``local_spark``.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import shutil
import sys
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from amanat.errors import InvalidInput
from amanat.linkage.batch import scored_pairs
from amanat.linkage.features import FEATURE_SCHEMA, INT_COLUMNS, LIST_COLUMNS, to_arrow
from amanat.linkage.model import TrainedModel, blocking_rule_creators

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from splink import Linker


def local_spark(*, cores: int = 2, memory: str = "4g", app_name: str = "amanat-linkage",
                shuffle_partitions: int | None = None) -> SparkSession:
    """A local-mode session with Splink's similarity UDF jar. In a cluster, put the same jar
    (``splink.internals.spark.jar_location.similarity_jar_location()``) on ``spark.jars``."""
    return spark_session(f"local[{cores}]", memory=memory, app_name=app_name,
                         shuffle_partitions=shuffle_partitions or max(2, cores * 2))


def open_spark(master: str, *, memory: str | None = None) -> SparkSession:
    """spark_session, or one clear line (InvalidInput) when pyspark or Java is missing or the
    master cannot be reached."""
    if importlib.util.find_spec("pyspark") is None:
        raise InvalidInput("--spark needs pyspark: pip install 'amanat[spark]'", field="spark")
    if shutil.which("java") is None:
        raise InvalidInput("--spark needs a Java 17 runtime on PATH (Debian: apt install openjdk-17-jre-headless)",
                           field="spark")
    try:
        session = spark_session(master, memory=memory)
    except Exception as exc:  # Spark's errors are many; the first line says which
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise InvalidInput(f"Spark could not start on {master}: {first}", field="spark") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_session(master: str, *, memory: str | None = None, app_name: str = "amanat-linkage",
                  shuffle_partitions: int | None = None) -> SparkSession:
    """A session on ``master`` (``local[4]``, ``spark://host:7077``, ``yarn``…) with Splink's
    similarity UDF jar on it. ``memory``: the driver's (it holds the features and the scored
    pairs); else Spark's own setting (spark-defaults.conf, ``--driver-memory``) stands."""
    from pyspark.sql import SparkSession
    from splink.internals.spark.jar_location import similarity_jar_location

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers need rapidfuzz for the JW UDF
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if memory:
        builder = builder.config("spark.driver.memory", memory)
    if shuffle_partitions:
        builder = (builder.config("spark.sql.shuffle.partitions", str(shuffle_partitions))
                   .config("spark.default.parallelism", str(shuffle_partitions)))
    return builder.getOrCreate()


# Splink's Scala jaro_winkler scores differently from DuckDB's (0.910 vs 0.929 on one
# pair), which would move pairs across levels; this UDF is DuckDB's algorithm (rapidfuzz).
JW_UDF = "amanat_jaro_winkler"


def register_udfs(spark: SparkSession) -> None:
    import pandas as pd
    from pyspark.sql.functions import pandas_udf
    from rapidfuzz.distance import JaroWinkler

    @pandas_udf("double")  # type: ignore[call-overload,untyped-decorator]
    def jw(a: pd.Series, b: pd.Series) -> pd.Series:
        return pd.Series([None if x is None or y is None else JaroWinkler.similarity(x, y)
                          for x, y in zip(a, b, strict=True)], dtype="float64")

    spark.udf.register(JW_UDF, jw)


def spark_settings(model: TrainedModel) -> dict[str, Any]:
    """The model's Splink settings with every SQL condition rendered for Spark."""
    settings = copy.deepcopy(model.settings_json)
    settings["sql_dialect"] = "spark"
    for spec, comp in zip(model.specs, settings["comparisons"], strict=True):
        for lv, stored in zip(spec.levels, comp["comparison_levels"], strict=True):
            sql = lv.creator.get_comparison_level("spark").sql_condition
            stored["sql_condition"] = sql.replace("jaro_winkler(", f"{JW_UDF}(")
    settings["blocking_rules_to_generate_predictions"] = [
        c.create_blocking_rule_dict("spark") for c in blocking_rule_creators()
    ]
    return settings


def _spark_schema() -> Any:
    from pyspark.sql import types as T

    fields = []
    for f in FEATURE_SCHEMA:
        if f.name in LIST_COLUMNS:
            dtype: Any = T.ArrayType(T.StringType())
        elif f.name in INT_COLUMNS:
            dtype = T.IntegerType()
        else:
            dtype = T.StringType()
        fields.append(T.StructField(f.name, dtype, True))
    return T.StructType(fields)


def features_to_spark(spark: SparkSession, frame: pd.DataFrame) -> DataFrame:
    """A features_frame as a Spark DataFrame (for tests and small jobs; large jobs build
    the feature columns in Spark directly, with the same schema)."""
    rows = to_arrow(frame).to_pylist()
    return spark.createDataFrame([tuple(r[f.name] for f in FEATURE_SCHEMA) for r in rows], _spark_schema())


def tf_lookup_spark(model: TrainedModel, sdf: DataFrame, col: str) -> DataFrame:
    """``col, tf_col`` for every value present: the model's frequency, else its rare default."""
    from pyspark.sql import functions as F

    spark = sdf.sparkSession
    default = float(model.tf_defaults.get(col, 1.0))
    table = spark.createDataFrame(list(model.tf_tables.get(col, {}).items()), schema="__v string, __tf double")
    values = sdf.select(col).where(F.col(col).isNotNull()).distinct()
    return (
        values.join(F.broadcast(table), values[col] == table["__v"], "left")
        .select(F.col(col), F.coalesce(F.col("__tf"), F.lit(default)).alias(f"tf_{col}"))
    )


def spark_linker(model: TrainedModel, sdf: DataFrame, *, break_lineage_method: str = "persist") -> Linker:
    """A linker on Spark. ``persist`` keeps intermediate tables in executor memory (spilling
    only to spark.local.dir) rather than writing parquet checkpoints of plaintext."""
    from splink import Linker
    from splink.backends.spark import SparkAPI

    register_udfs(sdf.sparkSession)
    api = SparkAPI(spark_session=sdf.sparkSession, break_lineage_method=break_lineage_method)
    linker = Linker(api.register(sdf), spark_settings(model), log_level=None)
    # Frequencies as registered lookups (Spark's SQL would see precomputed tf_ columns twice).
    for col in model.tf_tables:
        lookup = api.register(tf_lookup_spark(model, sdf, col))
        linker.table_management.register_term_frequency_lookup(lookup, col)
    return linker


def predict_blocked_spark(model: TrainedModel, frame: pd.DataFrame, blocked: pa.Table, spark: SparkSession, *,
                          threshold_match_weight: float) -> pd.DataFrame:
    """The pairs ``blocked`` (blocking.blocked_pairs' table, listed on this machine as the DuckDB
    path lists them) of a dedupe's ``frame``, scored by Splink on Spark with the stored model: the
    same pairs, the same columns as batch.predict_pairs (tested equal). The blocked pairs stand
    where Splink's own blocking would put its pairs, as predict_pairs does in DuckDB."""
    from splink.internals.chunking import _blocked_pairs_cache_key

    linker = spark_linker(model, features_to_spark(spark, frame))
    api = linker._db_api
    pairs = spark.createDataFrame(blocked.to_pandas(), schema="match_key string, join_key_l string, join_key_r string")
    registered = api.register(pairs)
    linker._intermediate_table_cache[_blocked_pairs_cache_key()] = api.table_to_splink_dataframe(
        "__splink__blocked_id_pairs", registered.physical_name)
    pred = linker.inference.predict(threshold_match_weight=threshold_match_weight, warning_mode="never")
    out = pred.as_spark_dataframe()
    keep = [c for c in out.columns if not c.startswith("tf_") and c != "match_key"]
    scored = out.select(*keep).toPandas()
    for c in ("unique_id_l", "unique_id_r"):
        scored[c] = scored[c].astype(str)
    return scored_pairs(model, scored)


def predict_stored_spark(model: TrainedModel, frame: pd.DataFrame, spark: SparkSession, *,
                         threshold_match_weight: float) -> pd.DataFrame:
    """batch.predict_pairs for stored records (the store's BLOCKING_RULES), scored on Spark."""
    out = predict_pairs_spark(model, features_to_spark(spark, frame),
                              threshold_match_weight=threshold_match_weight).toPandas()
    for c in ("unique_id_l", "unique_id_r"):
        out[c] = out[c].astype(str)
    return scored_pairs(model, out)


def predict_pairs_spark(model: TrainedModel, sdf: DataFrame, *,
                        threshold_match_weight: float | None = None) -> DataFrame:
    """Splink predict on Spark with the stored model: unique_id_l/_r, match_weight,
    match_probability and the per-comparison ``mw_`` columns, as a Spark DataFrame."""
    if threshold_match_weight is None:
        threshold_match_weight = model.thresholds.weight(model.thresholds.review)
    linker = spark_linker(model, sdf)
    pred = linker.inference.predict(threshold_match_weight=threshold_match_weight, warning_mode="never")
    out = pred.as_spark_dataframe()
    keep = [c for c in out.columns if not c.startswith("tf_") and c != "match_key"]
    return out.select(*keep)
