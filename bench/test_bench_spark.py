"""featforge inside Spark against Spark's own functions, on a local Spark (local[2]), same data,
same run: window features (featforge.spark.window_features vs Spark SQL window functions with
rangeBetween, results checked equal), hashing a column (featforge in mapInArrow vs Spark's JVM
xxhash64, results checked equal) and vocabulary fitting (featforge.spark.fit_idmap vs
StringIndexer, same order checked). Each Spark action is timed end to end, writing every
column to Spark's "noop" sink: a count() would let Spark prune the unused window columns and
measure nothing, while nothing is collected to the driver either."""

from __future__ import annotations

import os
import shutil
import sys

import pyarrow as pa
import pytest
from conftest import N


def consume(df) -> None:
    """Compute every column of df, keeping nothing."""
    df.write.format("noop").mode("overwrite").save()


pyspark = pytest.importorskip("pyspark")
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")
if shutil.which("java") is None:  # pragma: no cover
    pytest.skip("Spark needs Java", allow_module_level=True)

from featforge import WindowSpec, datagen  # noqa: E402
from featforge import spark as ffspark  # noqa: E402
from featforge.compat import spark as compat_spark  # noqa: E402

ROWS = max(N // 50, 5_000)  # 200k events at the default N = 10M (Spark SQL windows are slow)
WINDOWS = {"1h": 3600, "1d": 86400, "7d": 7 * 86400}


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def events(spark):
    table = pa.Table.from_batches(list(datagen.events(ROWS, batch_rows=100_000, seed=3)))
    table = table.select(["event_time", "user_id", "item_id", "price", "quantity"])
    table = table.set_column(0, "event_time", table.column("event_time").cast(pa.timestamp("us")))
    table = table.append_column("row", pa.array(range(table.num_rows), pa.int64()))
    df = spark.createDataFrame(table).repartition(8).cache()
    df.count()
    return df


def spark_sql_windows(df):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    ts = F.col("event_time").cast("long")  # seconds
    out = df
    for label, seconds in WINDOWS.items():
        # closed="left": [t - w, t) in whole seconds (the demo's times have millisecond parts,
        # so the featforge side runs on second-truncated times too)
        w = Window.partitionBy("user_id").orderBy(ts).rangeBetween(-seconds, -1)
        out = (
            out.withColumn(f"count_{label}", F.count(F.lit(1)).over(w))
            .withColumn(f"price_sum_{label}", F.coalesce(F.sum("price").over(w), F.lit(0.0)))
            .withColumn(f"price_mean_{label}", F.avg("price").over(w))
            .withColumn(f"price_max_{label}", F.max("price").over(w))
        )
    return out


SPEC = WindowSpec(
    key="user_id",
    time="event_time",
    aggs={"price": ["sum", "mean", "max"]},
    windows=list(WINDOWS),
)


def seconds_only(df):
    from pyspark.sql import functions as F

    return df.withColumn("event_time", F.col("event_time").cast("long").cast("timestamp"))


@pytest.mark.benchmark(group="spark-windows")
def test_featforge_spark_windows(benchmark, events):
    df = seconds_only(events)
    benchmark.pedantic(
        lambda: consume(ffspark.window_features(df, SPEC)), rounds=3, iterations=1, warmup_rounds=1
    )


@pytest.mark.benchmark(group="spark-windows")
def test_spark_sql_windows(benchmark, events):
    df = seconds_only(events)
    benchmark.pedantic(
        lambda: consume(spark_sql_windows(df)), rounds=3, iterations=1, warmup_rounds=1
    )
    # the same results (floats within 1e-9: Spark sums in row order, featforge compensated)
    ours = ffspark.window_features(df, SPEC).toArrow().sort_by("row")
    theirs = spark_sql_windows(df).toArrow().sort_by("row")
    assert ours.column("count_7d").equals(theirs.column("count_7d"))
    import numpy as np

    for name in ("price_sum_1d", "price_mean_7d", "price_max_1h"):
        a = ours.column(name).to_numpy(zero_copy_only=False).astype(float)
        b = theirs.column(name).to_numpy(zero_copy_only=False).astype(float)
        assert np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True), name


@pytest.mark.benchmark(group="spark-hash")
def test_featforge_spark_xxhash64(benchmark, events):
    from pyspark.sql.types import LongType, StructField, StructType

    def hashed(batches):
        for batch in batches:
            values = compat_spark.xxhash64(batch.column(0))
            yield pa.record_batch({"h": values})

    schema = StructType([StructField("h", LongType())])
    df = events.select("item_id")
    benchmark.pedantic(
        lambda: consume(df.mapInArrow(hashed, schema)), rounds=3, iterations=1, warmup_rounds=1
    )
    from pyspark.sql import functions as F

    ours = df.mapInArrow(hashed, schema).limit(1000).toArrow().column("h")
    theirs = df.select(F.xxhash64("item_id").alias("h")).limit(1000).toArrow().column("h")
    assert ours.to_pylist() == theirs.to_pylist()


@pytest.mark.benchmark(group="spark-hash")
def test_spark_xxhash64(benchmark, events):
    from pyspark.sql import functions as F

    df = events.select("item_id")
    benchmark.pedantic(
        lambda: consume(df.select(F.xxhash64("item_id"))), rounds=3, iterations=1, warmup_rounds=1
    )


@pytest.mark.benchmark(group="spark-idmap")
def test_featforge_spark_fit_idmap(benchmark, events):
    benchmark.pedantic(
        lambda: ffspark.fit_idmap(events, "item_id"), rounds=3, iterations=1, warmup_rounds=1
    )


@pytest.mark.benchmark(group="spark-idmap")
def test_spark_string_indexer(benchmark, events):
    from pyspark.ml.feature import StringIndexer

    indexer = StringIndexer(inputCol="item_id", outputCol="idx", stringOrderType="frequencyDesc")
    model = benchmark.pedantic(lambda: indexer.fit(events), rounds=3, iterations=1, warmup_rounds=1)
    # the same vocabulary in the same order: count descending, ties by key ascending
    ours = ffspark.fit_idmap(events, "item_id", num_oov_buckets=0).to_arrow()
    assert ours.column("key").to_pylist() == list(model.labelsArray[0])
