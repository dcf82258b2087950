"""Ray Data: featforge pipelines, vocabularies and window features on ``ray.data.Dataset``.

- ``transform(ds, pipeline)``: a fitted pipeline, every step type. Row-by-row steps run in
  ``map_batches`` where the blocks are; window steps after grouping rows by a hash of the window
  key into ``partitions`` groups (``groupby(...).map_groups``), so every event of a key is in one
  call, computed whole (any row order), continuing from fitted window state if any.
- ``fit_idmap(ds, column, ...)``: keys counted per block in C++, the counts summed on the driver
  per key; the map is frozen by frequency, equal to one machine's ``freeze("frequency")`` map.
- ``window_features(ds, spec)``: ``featforge.window_features`` per key group.

Every task sets featforge to one thread: Ray runs one task per core. Row order is not kept (Ray
does not keep it through a shuffle). Needs ``ray[data]`` (``pip install 'featforge[ray]'``).
"""

from __future__ import annotations

import pickle
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .hashing import cross as _cross
from .hashing import hash_bucket as _hash_bucket
from .hashing import set_num_threads as _set_num_threads
from .idmap import IdMap
from .pipeline import Pipeline, shuffle_segments
from .window import WindowSpec
from .window import window_features as _window_features

_PART = "__featforge_partition__"


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("featforge.ray needs Ray Data: pip install 'featforge[ray]'") from exc
    return ray


def _default_partitions() -> int:
    ray = _ray()
    cpus = int(ray.cluster_resources().get("CPU", 1)) if ray.is_initialized() else 1
    return max(2 * cpus, 2)


def _schema(ds: Any) -> pa.Schema:
    schema = ds.schema()
    base = getattr(schema, "base_schema", schema)
    if not isinstance(base, pa.Schema):
        raise TypeError("ds: expected a Ray Dataset of Arrow blocks (a pyarrow schema)")
    return base


def _with_partition(keys: tuple[str, ...], partitions: int):
    def add(table: pa.Table) -> pa.Table:
        columns = [table.column(k) for k in keys]
        if len(columns) == 1:
            part = _hash_bucket(columns[0], partitions)
        else:
            part = _cross(columns, partitions)
        return table.append_column(_PART, pc.fill_null(part, 0))  # null keys: any one group

    return add


def _by_key(ds: Any, keys: tuple[str, ...], partitions: int, compute) -> Any:
    """``compute(table)`` on groups of rows holding every row of their keys."""

    def whole(table: pa.Table) -> pa.Table:
        _set_num_threads(1)
        return compute(table.drop_columns([_PART]))

    partitioned = ds.map_batches(_with_partition(keys, partitions), batch_format="pyarrow")
    return partitioned.groupby(_PART).map_groups(whole, batch_format="pyarrow")


def transform(ds: Any, pipeline: Pipeline, *, partitions: int | None = None) -> Any:
    """The Dataset with the pipeline's columns, equal to ``pipeline.transform`` on one machine
    (row order aside)."""
    if not isinstance(pipeline, Pipeline):
        raise TypeError(f"pipeline must be a featforge.Pipeline, got {type(pipeline).__name__}")
    ray = _ray()
    pipeline.validate(_schema(ds))
    pipeline._check_fitted()
    partitions = partitions or _default_partitions()
    for keys, members in shuffle_segments(pipeline.steps):
        ref = ray.put(pickle.dumps(Pipeline(members)))  # once, not in every task's closure

        def apply(table: pa.Table, ref=ref) -> pa.Table:
            _set_num_threads(1)
            return pickle.loads(ray.get(ref)).transform(table)

        if keys is None:
            ds = ds.map_batches(apply, batch_format="pyarrow")
        else:
            ds = _by_key(ds, keys, partitions, apply)
    return ds


def fit_idmap(ds: Any, column: str, **options: Any) -> IdMap:
    """An IdMap fitted on ``ds[column]``, frozen by frequency (count descending, ties by key):
    equal to ``IdMap(...).fit(all).freeze("frequency")`` on one machine. ``max_size`` is not
    supported (which keys a full map keeps depends on row order)."""
    schema = _schema(ds)
    if column not in schema.names:
        raise KeyError(f"column {column!r} not found; the Dataset has {schema.names}")
    if options.get("max_size") is not None:
        raise ValueError("max_size: a frequency-frozen map holds every key seen min_count times")
    if options.get("key_type") is None:
        t = schema.field(column).type
        options["key_type"] = "int64" if pa.types.is_integer(t) else "string"
    IdMap(**options)  # validate the options before running tasks
    min_count = options.get("min_count", 1)
    counting = {k: v for k, v in options.items() if k not in ("min_count", "max_candidates")}

    def count(table: pa.Table) -> pa.Table:
        _set_num_threads(1)
        local = IdMap(**counting).fit(table.column(column))
        counted = local.to_arrow()
        return pa.table({"key": counted.column("key"), "count": counted.column("count")})

    counts = ds.select_columns([column]).map_batches(count, batch_format="pyarrow")
    parts = [t for t in _ray().get(counts.to_arrow_refs()) if t.num_rows]
    if parts:
        table = pa.concat_tables(parts).group_by("key").aggregate([("count", "sum")])
        table = table.rename_columns(["key", "count"])
    else:
        key_type = pa.int64() if options["key_type"] == "int64" else pa.string()
        table = pa.table({"key": pa.array([], key_type), "count": pa.array([], pa.int64())})
    table = table.filter(pc.greater_equal(table.column("count"), min_count))
    table = table.take(
        pc.sort_indices(table, sort_keys=[("count", "descending"), ("key", "ascending")])
    )
    first = options.get("num_oov_buckets", 1)
    n = table.num_rows
    rows = pa.table(
        {
            "key": table.column("key"),
            "index": pa.array(range(first, first + n), pa.int64()),
            "count": table.column("count").cast(pa.int64()),
            "last_seen": pa.array([0] * n, pa.int64()),
        }
    )
    return IdMap.from_arrow(rows, **options).freeze("first_seen")


def window_features(ds: Any, spec: WindowSpec, *, partitions: int | None = None) -> Any:
    """``featforge.window_features`` on a Ray Dataset, per group of keys (row order not kept)."""
    if not isinstance(spec, WindowSpec):
        raise TypeError(f"spec must be a WindowSpec, got {type(spec).__name__}")
    names = _schema(ds).names
    missing = [c for c in [*spec.keys, spec.time, *spec.aggs] if c not in names]
    if missing:
        raise KeyError(f"column {missing[0]!r} not found; the Dataset has {names}")
    return _by_key(
        ds,
        tuple(spec.keys),
        partitions or _default_partitions(),
        lambda table: _window_features(table, spec),
    )


__all__ = ["fit_idmap", "transform", "window_features"]
