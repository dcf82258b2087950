"""Scale-out on Spark (docs/design.md §11): featforge where the data already lives.

- ``transform(df, pipeline)``: applies a fitted pipeline, every step type, with ``mapInArrow``;
  window steps after ``repartition(key)`` (one shuffle per distinct window key); rows are computed
  exactly as on one machine.
- ``fit_idmap(df, column, ...)``: counts keys in a shuffle by key (each task a disjoint set of
  keys) and builds the frequency-frozen map on the driver from the disjoint shards: equal to one
  machine's ``freeze("frequency")`` map, with no process holding more than its share.
- ``window_features(df, spec)``: window features per key partition (``repartition(key)`` and a
  sort within partitions), each partition computed by ``featforge.window_features``: every key's
  events are in one partition, so the features equal the single-machine ones.

Needs ``pyspark`` (``pip install 'featforge[spark]'``); imported only when these are called.
"""

from __future__ import annotations

import pickle
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .hashing import set_num_threads as _set_num_threads
from .idmap import IdMap
from .pipeline import Pipeline, shuffle_segments
from .window import WindowSpec
from .window import window_features as _window_features


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def _arrow_schema(df: Any) -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema

    timezone = df.sparkSession.conf.get("spark.sql.session.timeZone")
    return to_arrow_schema(df.schema, timezone=timezone)


# Spark has no unsigned integers. uint64 columns (xxh3/xxh64 hashes) keep their 64 bits as a
# signed long, as Spark's own xxhash64 returns them; narrower ones widen, keeping their values.
_SPARK_SIGNED = {pa.uint8(): pa.int16(), pa.uint16(): pa.int32(), pa.uint32(): pa.int64()}


def _spark_type(t: pa.DataType) -> pa.DataType:
    if t == pa.uint64():
        return pa.int64()
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return pa.list_(_spark_type(t.value_type))
    return _SPARK_SIGNED.get(t, t)


def for_spark(table: pa.Table) -> pa.Table:
    """``table`` with unsigned columns as Spark can hold them (uint64 reinterpreted as int64)."""
    schema = pa.schema([f.with_type(_spark_type(f.type)) for f in table.schema])
    if schema == table.schema:
        return table
    return table.cast(schema, safe=False)  # uint64 -> int64 wraps: the same 64 bits


def _shipped(df: Any, payload: bytes) -> Any:
    """A fitted pipeline for the executors: broadcast once (vocabularies and window state can be
    large), or in the task closure where broadcasting is not available (Spark Connect)."""
    try:
        return df.sparkSession.sparkContext.broadcast(payload)
    except Exception:  # Spark Connect has no SparkContext
        return payload


def _value(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else payload.value


def transform(df: Any, pipeline: Pipeline) -> Any:
    """The Spark DataFrame with the pipeline's columns, equal to ``pipeline.transform`` on one
    machine (row order aside). Row-by-row steps run in ``mapInArrow`` where the data is; window
    steps after ``repartition(key)``, each partition computed whole (all of a key's events are
    in one partition, in any order), continuing from fitted window state if any. Window steps
    with different keys cost one shuffle each, in pipeline order. A partition is held in memory
    while its windows are computed: use enough partitions (``spark.sql.shuffle.partitions``).
    Spark has no unsigned integers: uint64 hashes arrive as the same 64 bits in a signed long
    (``for_spark``)."""
    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"pipeline must be a featforge.Pipeline, got {type(pipeline).__name__}")
    schema = _arrow_schema(df)
    pipeline.validate(schema)
    pipeline._check_fitted()
    for keys, members in shuffle_segments(pipeline.steps):
        segment = Pipeline(members)
        out_schema = for_spark(segment.transform(schema.empty_table())).schema
        payload = _shipped(df, pickle.dumps(segment))
        if keys is None:

            def apply(batches, payload=payload):
                _set_num_threads(1)  # Spark runs one task per core
                local = pickle.loads(_value(payload))
                for batch in batches:
                    table = pa.Table.from_batches([batch])
                    yield from for_spark(local.transform(table)).to_batches()

        else:
            df = df.repartition(*keys)

            def apply(batches, payload=payload):
                _set_num_threads(1)  # Spark runs one task per core
                batches = [b for b in batches if b.num_rows]
                if batches:  # the whole partition: every event of its keys, in any order
                    table = pa.Table.from_batches(batches)
                    yield from for_spark(
                        pickle.loads(_value(payload)).transform(table)
                    ).to_batches()

        df = df.mapInArrow(apply, _spark_schema(out_schema))
        schema = out_schema
    return df


def fit_idmap(df: Any, column: str, *, order: str | None = "frequency", **options: Any) -> IdMap:
    """An IdMap fitted on ``df[column]`` across all partitions.

    ``order="frequency"`` (default): keys are counted in a shuffle by key, so each task counts a
    disjoint set of keys and no process holds more than its share; the driver receives each
    admitted key once with its total count and builds the frozen map (indices by count
    descending, ties by key ascending) without re-counting. Equal to one machine's
    ``IdMap(...).fit(all).freeze("frequency")``. ``max_size`` is not supported there (which keys
    a full map keeps depends on the order rows arrive in).

    ``order=None``: each partition's whole partial map is merged on the driver and the result is
    returned unfrozen (counts kept; its first-seen order follows Spark's partitions). The driver
    then holds every partition's map at once: for small vocabularies only.
    """
    if column not in df.columns:
        raise KeyError(f"column {column!r} not found; the DataFrame has {df.columns}")
    if order not in ("frequency", None):
        raise ValueError(f"order must be 'frequency' or None, got {order!r}")
    key_type = options.get("key_type")
    if key_type is None:
        arrow_type = _arrow_schema(df.select(column)).field(0).type
        options["key_type"] = "int64" if pa.types.is_integer(arrow_type) else "string"
    IdMap(**options)  # validate the options on the driver before running a job
    if order is None:
        return _fit_idmap_merging(df, column, options)
    if options.get("max_size") is not None:
        raise ValueError(
            "max_size: with order='frequency' the map holds every key seen min_count times; "
            "which keys a size-bounded map keeps depends on row order (use order=None)"
        )
    return _fit_idmap_by_key(df, column, options)


def _fit_idmap_by_key(df: Any, column: str, options: dict) -> IdMap:
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    string_keys = options["key_type"] == "string"
    min_count = options.get("min_count", 1)
    counting = {k: v for k, v in options.items() if k not in ("min_count", "max_candidates")}

    def count(batches):
        _set_num_threads(1)  # Spark runs one task per core
        # Every key of this task is in no other task: its count here is its total.
        local = IdMap(**counting)
        for batch in batches:
            local.fit(batch.column(0))
        counted = local.to_arrow()
        admitted = counted.filter(pc.greater_equal(counted.column("count"), min_count))
        keys = admitted.column("key")
        if string_keys and keys.type != pa.string():
            keys = keys.cast(pa.string())
        yield from pa.table({"key": keys, "count": admitted.column("count")}).to_batches()

    keyed = df.select(column).where(F.col(column).isNotNull()).repartition(column)
    schema = StructType(
        [
            StructField("key", StringType() if string_keys else LongType()),
            StructField("count", LongType()),
        ]
    )
    shards = keyed.mapInArrow(count, schema).toArrow()
    ranked = shards.take(
        pc.sort_indices(shards, sort_keys=[("count", "descending"), ("key", "ascending")])
    )
    first = options.get("num_oov_buckets", 1)
    n = ranked.num_rows
    table = pa.table(
        {
            "key": ranked.column("key"),
            "index": pa.array(range(first, first + n), pa.int64()),
            "count": ranked.column("count").cast(pa.int64()),
            "last_seen": pa.array([0] * n, pa.int64()),
        }
    )
    return IdMap.from_arrow(table, **options).freeze("first_seen")


def _fit_idmap_merging(df: Any, column: str, options: dict) -> IdMap:
    from pyspark.sql.types import BinaryType, StructField, StructType

    def partial(batches):
        _set_num_threads(1)  # Spark runs one task per core
        local = IdMap(**options)
        for batch in batches:
            local.fit(batch.column(0))
        yield pa.record_batch({"state": pa.array([local.__getstate__()], pa.binary())})

    schema = StructType([StructField("state", BinaryType())])
    merged = IdMap(**options)
    for row in df.select(column).mapInArrow(partial, schema).collect():
        part = IdMap.__new__(IdMap)
        part.__setstate__(bytes(row["state"]))
        merged.merge(part)
    return merged


def window_features(df: Any, spec: WindowSpec) -> Any:
    """``featforge.window_features`` on a Spark DataFrame, per key partition."""
    if not isinstance(spec, WindowSpec):
        raise TypeError(f"spec must be a WindowSpec, got {type(spec).__name__}")
    missing = [c for c in [*spec.keys, spec.time, *spec.aggs] if c not in df.columns]
    if missing:
        raise KeyError(f"column {missing[0]!r} not found; the DataFrame has {df.columns}")
    schema = _arrow_schema(df)
    out_schema = _window_features(schema.empty_table(), spec).schema

    def per_partition(batches):
        _set_num_threads(1)  # Spark runs one task per core
        table = pa.Table.from_batches(list(batches), schema=schema)
        if table.num_rows:
            yield from _window_features(table, spec).to_batches()

    ordered = df.repartition(*spec.keys).sortWithinPartitions(*spec.keys, spec.time)
    return ordered.mapInArrow(per_partition, _spark_schema(out_schema))
