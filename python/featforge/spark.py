"""Scale-out on Spark (DESIGN.md section 7): featforge where the data already lives.

- ``transform(df, pipeline)``: applies a fitted pipeline, every step type, with ``mapInArrow``;
  window steps after ``repartition(key)`` (one shuffle per distinct window key); rows are computed
  exactly as on one machine.
- ``fit_idmap(df, column, ...)``: fits an IdMap per partition and merges the partial maps on the
  driver. Counts add, so after ``freeze("frequency")`` the map equals one fitted on all the data
  on one machine (first-seen order depends on how Spark splits the data; frequency order does not).
- ``window_features(df, spec)``: window features per key partition (``repartition(key)`` and a
  sort within partitions), each partition computed by ``featforge.window_features``: every key's
  events are in one partition, so the features equal the single-machine ones.

Needs ``pyspark`` (``pip install 'featforge[spark]'``); imported only when these are called.
"""

from __future__ import annotations

import pickle
from typing import Any

import pyarrow as pa

from .idmap import IdMap
from .pipeline import Pipeline
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


def _segments(steps: list) -> list[tuple[tuple[str, ...] | None, list]]:
    """The pipeline cut where rows must move: each window step whose key differs from the
    partitioning before it starts a segment run after ``repartition(key)``; the steps before the
    first window step run with it (they are row by row), so a pipeline whose window steps share
    one key needs one shuffle."""
    segments: list[tuple[tuple[str, ...] | None, list]] = [(None, [])]
    for step in steps:
        if step.op == "window":
            keys = tuple(step.spec().keys)
            current, members = segments[-1]
            if current is None:
                segments[-1] = (keys, members)
            elif current != keys:
                segments.append((keys, []))
        segments[-1][1].append(step)
    return segments


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
    for keys, members in _segments(pipeline.steps):
        segment = Pipeline(members)
        out_schema = for_spark(segment.transform(schema.empty_table())).schema
        payload = _shipped(df, pickle.dumps(segment))
        if keys is None:

            def apply(batches, payload=payload):
                local = pickle.loads(_value(payload))
                for batch in batches:
                    table = pa.Table.from_batches([batch])
                    yield from for_spark(local.transform(table)).to_batches()

        else:
            df = df.repartition(*keys)

            def apply(batches, payload=payload):
                batches = [b for b in batches if b.num_rows]
                if batches:  # the whole partition: every event of its keys, in any order
                    table = pa.Table.from_batches(batches)
                    yield from for_spark(
                        pickle.loads(_value(payload)).transform(table)
                    ).to_batches()

        df = df.mapInArrow(apply, _spark_schema(out_schema))
        schema = out_schema
    return df


def fit_idmap(df: Any, column: str, **options: Any) -> IdMap:
    """An IdMap fitted on ``df[column]`` across all partitions (not frozen: freeze it, by
    ``"frequency"`` for a result independent of partitioning)."""
    if column not in df.columns:
        raise KeyError(f"column {column!r} not found; the DataFrame has {df.columns}")
    key_type = options.get("key_type")
    if key_type is None:
        arrow_type = _arrow_schema(df.select(column)).field(0).type
        options["key_type"] = "int64" if pa.types.is_integer(arrow_type) else "string"
    IdMap(**options)  # validate the options on the driver before running a job
    from pyspark.sql.types import BinaryType, StructField, StructType

    def partial(batches):
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
        table = pa.Table.from_batches(list(batches), schema=schema)
        if table.num_rows:
            yield from _window_features(table, spec).to_batches()

    ordered = df.repartition(*spec.keys).sortWithinPartitions(*spec.keys, spec.time)
    return ordered.mapInArrow(per_partition, _spark_schema(out_schema))
