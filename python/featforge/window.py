"""Sliding-window aggregation: backfill and streaming (DESIGN.md section 5)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from . import _core

AGGREGATIONS = ("count", "sum", "mean", "min", "max", "last", "std")
CLOSED = ("left", "right", "both", "none")
_UNIT_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9,
            "h": 3600 * 10**9, "d": 86400 * 10**9, "w": 7 * 86400 * 10**9}
_DURATION = re.compile(r"^\s*(\d+)\s*(ns|us|ms|s|m|h|d|w|i)\s*$")


@dataclass(frozen=True)
class WindowSpec:
    """What to aggregate: per ``key``, over the ``time`` column, in each of ``windows``.

    Args:
        key: the key column, or several (a composite key).
        time: an int64 or timestamp column. Windows on a timestamp column are durations
            (``"30s"``, ``"5m"``, ``"1h"``, ``"1d"``, ``"7d"``; fixed lengths, ``"1d"`` = 24h); on an
            int64 column they are ints (or ``"100i"``).
        aggs: ``{value_column: ["count", "sum", "mean", "min", "max", "last", "std"]}``.
        windows: window lengths.
        closed: as polars ``rolling``: ``"left"`` ``[t-w, t)`` (default: strictly past, leak-free
            training features), ``"right"`` ``(t-w, t]``, ``"both"`` ``[t-w, t]``, ``"none"``
            ``(t-w, t)``. Rows with equal times always see each other or not at all.

    Output columns, per window: ``count_{w}`` (events in the window) and ``{value}_{agg}_{w}``;
    ``{value}_count_{w}`` counts non-null values. Empty window: counts 0, sum 0, others null.
    Null values are skipped; ``last`` is the latest non-null value; ``std`` is the sample
    standard deviation (ddof=1), null under two values. A row whose key is null gets nulls.
    Aggregates other than counts are float64.
    """

    key: str | Sequence[str]
    time: str
    aggs: Mapping[str, Sequence[str]]
    windows: Sequence[str | int]
    closed: str = "left"
    keys: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        keys = (self.key,) if isinstance(self.key, str) else tuple(self.key)
        if not keys or not all(isinstance(k, str) for k in keys):
            raise TypeError(f"key must be a column name or a list of names, got {self.key!r}")
        object.__setattr__(self, "keys", keys)
        if not isinstance(self.time, str):
            raise TypeError(f"time must be a column name, got {self.time!r}")
        if self.closed not in CLOSED:
            raise ValueError(f"closed must be one of {CLOSED}, got {self.closed!r}")
        if not isinstance(self.aggs, Mapping):
            raise TypeError(f"aggs must be a mapping {{column: [aggregations]}}, got {self.aggs!r}")
        for column, names in self.aggs.items():
            if isinstance(names, str) or not all(isinstance(n, str) for n in names):
                raise TypeError(f"aggs[{column!r}] must be a list of aggregation names")
            for name in names:
                if name not in AGGREGATIONS:
                    raise ValueError(
                        f"unknown aggregation {name!r} for {column!r}; expected one of {AGGREGATIONS}"
                    )
        if isinstance(self.windows, (str, int)) or not self.windows:
            raise ValueError(f"windows must be a non-empty list, got {self.windows!r}")
        for w in self.windows:
            _parse_window(w, None)  # syntax check; units are checked against the data

    def labels(self) -> list[str]:
        return [str(w) for w in self.windows]

    def output_names(self) -> list[str]:
        names = []
        for label in self.labels():
            names.append(f"count_{label}")
            for column, aggs in self.aggs.items():
                names.extend(f"{column}_{agg}_{label}" for agg in aggs)
        return names


def _parse_window(w: Any, time_type: pa.DataType | None) -> int:
    """A window length in the time column's unit."""
    if isinstance(w, bool):
        raise ValueError(f"bad window {w!r}")
    if isinstance(w, int):
        if w <= 0:
            raise ValueError(f"window lengths must be > 0, got {w}")
        if time_type is not None and pa.types.is_timestamp(time_type):
            raise ValueError(
                f"window {w!r}: on a timestamp column give durations such as '1h' or '7d'"
            )
        return w
    if not isinstance(w, str):
        raise ValueError(f"bad window {w!r}: expected a duration such as '1h' or an int")
    match = _DURATION.match(w)
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"bad window {w!r}: expected a positive duration such as '30s', '1h', '7d'")
    amount, unit = int(match.group(1)), match.group(2)
    if time_type is None:
        return 1
    if unit == "i":
        if pa.types.is_timestamp(time_type):
            raise ValueError(f"window {w!r}: integer windows need an int64 time column")
        return amount
    if not pa.types.is_timestamp(time_type) and not pa.types.is_date(time_type):
        raise ValueError(
            f"window {w!r}: durations need a timestamp time column, got {time_type}; "
            "use ints (or '100i') for an integer time column"
        )
    unit_ns = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[
        time_type.unit if pa.types.is_timestamp(time_type) else "s"
    ]
    if pa.types.is_date(time_type):
        unit_ns = 86400 * 10**9 if pa.types.is_date32(time_type) else 10**6
    total_ns = amount * _UNIT_NS[unit]
    if total_ns % unit_ns:
        raise ValueError(f"window {w!r} is not a whole number of the time column's unit")
    return total_ns // unit_ns


def _table(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__"):
        return pa.table(data)
    raise TypeError(f"data: expected a table (pyarrow, polars, pandas), got {type(data).__name__}")


def _columns(table: pa.Table, spec: WindowSpec) -> tuple[list[pa.Array], list[int]]:
    """The key, time and value columns as single arrays, and the windows in the time unit."""
    names = list(spec.keys) + [spec.time] + list(spec.aggs)
    for name in names:
        if name not in table.column_names:
            raise KeyError(f"column {name!r} not found; the data has {table.column_names}")
    columns = [table.column(n).combine_chunks() for n in names]
    time_type = table.column(spec.time).type
    windows = [_parse_window(w, time_type) for w in spec.windows]
    return columns, windows


def window_features(data: Any, spec: WindowSpec) -> pa.Table:
    """Backfill: the input table plus the window feature columns, one row per input row in input
    order, point-in-time correct for every row. Input need not be sorted. Equal to polars
    ``rolling(index_column=time, period=w, group_by=key, closed=closed)``."""
    if not isinstance(spec, WindowSpec):
        raise TypeError(f"spec must be a WindowSpec, got {type(spec).__name__}")
    table = _table(data)
    columns, windows = _columns(table, spec)
    batch = pa.RecordBatch.from_arrays(columns, names=[f"c{i}" for i in range(len(columns))])
    aggs = [list(a) for a in spec.aggs.values()]
    try:
        result = _core.window_backfill(batch, len(spec.keys), windows, spec.closed, aggs)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"window_features: {exc}") from None
    features = pa.array(result)
    out = table
    for name, column in zip(spec.output_names(), features.flatten()):
        out = out.append_column(name, column)
    return out
