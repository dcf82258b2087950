"""featforge.spark on a local Spark equals the single-machine results (needs pyspark + Java)."""

from __future__ import annotations

import os
import shutil
import sys

import pyarrow as pa
import pytest

pyspark = pytest.importorskip("pyspark")
# PySpark 4.x warns about pandas 3 on import paths it touches; featforge.spark itself uses Arrow.
pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")
if shutil.which("java") is None:  # pragma: no cover - depends on the machine
    pytest.skip("Spark needs Java", allow_module_level=True)

from featforge import IdMap, Pipeline, WindowSpec, datagen, window_features  # noqa: E402
from featforge import spark as ffspark  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture(scope="module")
def events() -> pa.Table:
    table = pa.Table.from_batches(list(datagen.events(20_000, batch_rows=5_000, seed=9)))
    table = table.append_column("row", pa.array(range(table.num_rows), pa.int64()))
    # Spark keeps microsecond timestamps; give it those so both sides see the same values.
    return table.set_column(0, "event_time", table.column("event_time").cast(pa.timestamp("us")))


def to_spark(spark, table: pa.Table):
    return spark.createDataFrame(table)  # Spark 4 takes Arrow tables directly


def collect(df) -> pa.Table:
    return df.toArrow().sort_by("row")


SPEC = {
    "steps": [
        {"op": "hash_bucket", "column": "country", "num_buckets": 64, "out": "cb"},
        {"op": "cross", "columns": ["country", "category"], "num_buckets": 1024, "out": "cx"},
        {"op": "id_map", "column": "item_id", "out": "item_idx", "min_count": 2},
        {"op": "text_hash", "column": "query", "num_buckets": 512, "out": "qt"},
    ]
}


def test_transform_equals_local(spark, events):
    pipeline = Pipeline.from_spec(SPEC).fit(events)
    local = pipeline.transform(events)
    distributed = collect(ffspark.transform(to_spark(spark, events), pipeline))
    for name in ("cb", "cx", "item_idx", "qt"):
        assert distributed.column(name).to_pylist() == local.column(name).to_pylist(), name


def test_fit_idmap_merges_partitions(spark, events):
    df = to_spark(spark, events).repartition(3)
    merged = ffspark.fit_idmap(df, "item_id", min_count=2, order=None).freeze("frequency")
    local = IdMap("string", min_count=2).fit(events.column("item_id")).freeze("frequency")
    assert (
        merged.to_arrow()
        .select(["key", "index", "count"])
        .equals(local.to_arrow().select(["key", "index", "count"]))
    )


@pytest.mark.parametrize(
    ("column", "options"),
    [("item_id", {"min_count": 2}), ("user_id", {"num_oov_buckets": 3}), ("country", {})],
)
def test_fit_idmap_by_key_shuffle_equals_one_machine(spark, events, column, options):
    """Disjoint shards (16 partitions, skewed keys), assembled without re-counting."""
    df = to_spark(spark, events).repartition(16)
    frozen = ffspark.fit_idmap(df, column, **options)
    key_type = "int64" if column == "user_id" else "string"
    local = IdMap(key_type, **options).fit(events.column(column)).freeze("frequency")
    assert frozen.frozen and len(frozen) == len(local)
    assert (
        frozen.to_arrow()
        .select(["key", "index", "count"])
        .equals(local.to_arrow().select(["key", "index", "count"]))
    )
    probe = events.column(column)
    assert frozen.lookup(probe).equals(local.lookup(probe))
    with pytest.raises(ValueError, match="max_size"):
        ffspark.fit_idmap(df, column, max_size=10)


def test_window_features_per_key_partition(spark, events):
    spec = WindowSpec(
        key="user_id", time="event_time", aggs={"price": ["sum", "max"]}, windows=["1h", "1d"]
    )
    local = window_features(events, spec)
    distributed = collect(ffspark.window_features(to_spark(spark, events), spec))
    for name in spec.output_names():
        assert distributed.column(name).to_pylist() == local.column(name).to_pylist(), name


WHOLE_SPEC = {
    "steps": [
        *SPEC["steps"],
        {"op": "hash", "column": "user_id", "out": "uh"},
        {"op": "window", "key": "user_id", "time": "event_time", "windows": ["1h", "1d"],
         "aggs": {"price": ["sum", "max"]}},
        {"op": "window", "key": "item_id", "time": "event_time", "windows": ["7d"],
         "aggs": {"quantity": ["mean"]}},
        {"op": "drop", "columns": ["query"]},
    ]
}  # fmt: skip


def test_whole_pipeline_with_windows_equals_local(spark, events):
    """Every step type, two window keys (two shuffles), 8 partitions, shuffled rows."""
    pipeline = Pipeline.from_spec(WHOLE_SPEC).fit(events)
    for step in pipeline.steps:  # windows from empty state: the table's own backfill
        if step.op == "window":
            step._history = None
    local = ffspark.for_spark(Pipeline.from_spec(WHOLE_SPEC).fit_transform(events))
    assert local.schema.field("uh").type == pa.int64()  # uint64 hash as Spark's signed long
    df = to_spark(spark, events).repartition(8)
    distributed = collect(ffspark.transform(df, pipeline))
    assert distributed.num_rows == events.num_rows
    assert sorted(distributed.column_names) == sorted(local.column_names)
    for name in local.column_names:
        if name not in events.column_names:  # the features (Spark adds a time zone to inputs)
            assert distributed.column(name).to_pylist() == local.column(name).to_pylist(), name
    # fitted window state is continued on the executors as on one machine
    history, new = events.slice(0, 15_000), events.slice(15_000)
    fitted = Pipeline.from_spec(WHOLE_SPEC).fit(history)
    local_new = fitted.transform(new)
    distributed_new = collect(ffspark.transform(to_spark(spark, new).repartition(8), fitted))
    for name in ("count_1h", "price_sum_1d", "quantity_mean_7d", "item_idx"):
        assert distributed_new.column(name).to_pylist() == local_new.column(name).to_pylist()


def test_bad_input(spark, events):
    df = to_spark(spark, events.slice(0, 10))
    with pytest.raises(KeyError, match="'nope'"):
        ffspark.fit_idmap(df, "nope")
    with pytest.raises(Exception, match=r"step 0 \(id_map\): not fitted"):
        ffspark.transform(
            df, Pipeline.from_spec({"steps": [{"op": "id_map", "column": "item_id"}]})
        )
