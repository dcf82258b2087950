"""Scale-out on Spark (docs/design.md §11): featforge where the data already lives.

- ``transform(df, pipeline)``: applies a fitted pipeline (stateless and frozen steps) to every
  partition with ``mapInArrow``; rows are computed exactly as on one machine.
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
from .steps import StepError
from .window import WindowSpec
from .window import window_features as _window_features


def _spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def _arrow_schema(df: Any) -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema

    timezone = df.sparkSession.conf.get("spark.sql.session.timeZone")
    return to_arrow_schema(df.schema, timezone=timezone)


def transform(df: Any, pipeline: Pipeline) -> Any:
    """The Spark DataFrame with the pipeline's columns, computed partition by partition."""
    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"pipeline must be a featforge.Pipeline, got {type(pipeline).__name__}")
    for i, step in enumerate(pipeline.steps):
        if step.op == "window":
            raise StepError(
                f"step {i} (window): window features need all of a key's events in one partition; "
                "use featforge.spark.window_features(df, spec) for them"
            )
        if step.stateful and getattr(step, "_map", None) is None:
            raise StepError(f"step {i} ({step.op}): not fitted; fit the pipeline first")
    empty = _arrow_schema(df).empty_table()
    out_schema = pipeline.transform(empty).schema
    payload = pickle.dumps(pipeline)

    def apply(batches):
        local = pickle.loads(payload)
        for batch in batches:
            yield from local.transform(pa.Table.from_batches([batch])).to_batches()

    return df.mapInArrow(apply, _spark_schema(out_schema))


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
