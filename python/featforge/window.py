"""Sliding-window aggregation: backfill and streaming (docs/design.md §8)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from . import _core

AGGREGATIONS = ("count", "sum", "mean", "min", "max", "last", "std")
CLOSED = ("left", "right", "both", "none")
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
    "d": 86400 * 10**9,
    "w": 7 * 86400 * 10**9,
}
DURATION_UNITS = "ns, us, ms, s, m, h, d, w"  # "1d" = 24h, "1w" = 7d: fixed lengths
_DURATION = re.compile(r"^\s*(\d+)\s*(ns|us|ms|s|m|h|d|w|i)\s*$")


@dataclass(frozen=True)
class WindowSpec:
    """What to aggregate: per ``key``, over the ``time`` column, in each of ``windows``.

    Args:
        key: the key column, or several (a composite key).
        time: an int64 or timestamp column. Windows on a timestamp column are durations
            (``"30s"``, ``"5m"``, ``"1h"``, ``"1d"``, ``"7d"``; fixed lengths, ``"1d"`` = 24h);
            on an int64 column they are ints (or ``"100i"``).
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
                        f"unknown aggregation {name!r} for {column!r}; "
                        f"expected one of {AGGREGATIONS}"
                    )
            repeated = sorted({n for n in names if list(names).count(n) > 1})
            if repeated:
                raise ValueError(
                    f"aggs[{column!r}] repeats {repeated}: output names must be unique"
                )
        if isinstance(self.windows, (str, int)) or not self.windows:
            raise ValueError(f"windows must be a non-empty list, got {self.windows!r}")
        for w in self.windows:
            _parse_window(w, None)  # syntax check; units are checked against the data
        repeated = sorted({str(w) for w in self.windows if self.labels().count(str(w)) > 1})
        if repeated:
            raise ValueError(f"windows repeat {repeated}: output names must be unique")

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
        raise ValueError(
            f"bad window {w!r}: expected a positive duration such as '30s', '1h', '7d' "
            f"(units: {DURATION_UNITS}; 'i' for an integer time column, e.g. '100i')"
        )
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


def _single_array(column: pa.ChunkedArray) -> pa.Array:
    """The column as one array: its only chunk as is (combine_chunks would copy it)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _columns(table: pa.Table, spec: WindowSpec) -> tuple[list[pa.Array], list[int]]:
    """The key, time and value columns as single arrays, and the windows in the time unit."""
    names = list(spec.keys) + [spec.time] + list(spec.aggs)
    for name in names:
        if name not in table.column_names:
            raise KeyError(f"column {name!r} not found; the data has {table.column_names}")
    for key in spec.keys:
        t = table.column(key).type
        if pa.types.is_floating(t):  # the core would only say "key column 0"
            raise TypeError(
                f"key column {key!r} is {t}; expected an integer or string column (pandas turns "
                f"an integer column with nulls into float64: df[{key!r}].astype('Int64'))"
            )
    columns = [_single_array(table.column(n)) for n in names]
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


def _time_scalar(value: Any, time_type: pa.DataType) -> int:
    """A point in time as the time column's integer storage."""
    if isinstance(value, bool):
        raise TypeError("at must be an int or a timestamp")
    if isinstance(value, int):
        return value
    try:
        return pa.scalar(value, type=time_type).cast(pa.int64()).as_py()
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        raise TypeError(f"at must be an int or a timestamp, got {type(value).__name__}") from None


class WindowAggregator:
    """Streaming window features: ``transform(batch)`` returns, for each row of a batch, the
    features backfill would give it over everything seen so far, and updates per-key state.

    Feeding a time-ordered stream in any batch sizes gives exactly the ``window_features``
    result (``closed="left"``/``"none"`` always; ``"right"``/``"both"`` when a key's equal
    timestamps do not straddle batches).

    Args:
        spec: the WindowSpec.
        allowed_lateness: an event is *late* when its time is earlier than the latest time
            already seen for its key minus this (a duration like the windows). Out-of-order events
            within it are inserted in time order (later rows see them).
        late: ``"drop"`` (null features, counted in ``stats()["late_dropped"]``) or ``"raise"``
            (``ValueError``, nothing of the batch applied).
        ttl: drop the state of keys idle for longer than this behind the newest time seen. Must
            be at least the longest window plus ``allowed_lateness``, so no result can change
            (assuming the stream as a whole is ordered up to ``allowed_lateness``).
    """

    def __init__(
        self,
        spec: WindowSpec,
        *,
        allowed_lateness: str | int = "0s",
        late: str = "drop",
        ttl: str | int | None = None,
    ) -> None:
        if not isinstance(spec, WindowSpec):
            raise TypeError(f"spec must be a WindowSpec, got {type(spec).__name__}")
        if late not in ("drop", "raise"):
            raise ValueError(f"late must be 'drop' or 'raise', got {late!r}")
        for value in (allowed_lateness, ttl):
            if value is not None and not (value == "0s" or value == 0):
                _parse_window(value, None)  # syntax only: units are checked against the data
        self.spec = spec
        self.allowed_lateness = allowed_lateness
        self.late = late
        self.ttl = ttl
        self._core: Any = None
        self._time_type: pa.DataType | None = None

    def _durations(self, time_type: pa.DataType) -> tuple[list[int], int, int]:
        windows = [_parse_window(w, time_type) for w in self.spec.windows]
        lateness = (
            0
            if self.allowed_lateness in ("0s", 0)
            else _parse_window(self.allowed_lateness, time_type)
        )
        ttl = -1 if self.ttl is None else _parse_window(self.ttl, time_type)
        return windows, lateness, ttl

    def _ensure(self, time_type: pa.DataType) -> None:
        if self._core is not None:
            if time_type != self._time_type:
                raise TypeError(
                    f"{self.spec.time}: this aggregator's time column is {self._time_type}, "
                    f"got {time_type}"
                )
            return
        windows, lateness, ttl = self._durations(time_type)
        aggs = [list(a) for a in self.spec.aggs.values()]
        self._core = _core.WindowAggregator(
            windows, self.spec.closed, aggs, lateness, self.late, ttl
        )
        self._time_type = time_type

    def transform(self, batch: Any) -> pa.Table:
        """The batch plus its window feature columns (see ``window_features``)."""
        table = _table(batch)
        columns, _ = _columns(table, self.spec)
        self._ensure(table.column(self.spec.time).type)
        record = pa.RecordBatch.from_arrays(columns, names=[f"c{i}" for i in range(len(columns))])
        try:
            result = self._core.transform(record, len(self.spec.keys))
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"transform: {exc}") from None
        out = table
        for name, column in zip(self.spec.output_names(), pa.array(result).flatten()):
            out = out.append_column(name, column)
        return out

    def query(self, keys: Any, *, at: Any) -> pa.Table:
        """Current features for ``keys`` at time ``at`` (serving): what backfill would give a
        row of that key at that time. ``keys`` is a column (one key) or a table of the key
        columns. Unknown keys get empty windows."""
        if isinstance(keys, (pa.Table, pa.RecordBatch)) or hasattr(keys, "columns"):
            table = _table(keys)
            key_columns = [_single_array(table.column(k)) for k in self.spec.keys]
        else:
            if len(self.spec.keys) != 1:
                raise ValueError(f"keys: give a table with the key columns {list(self.spec.keys)}")
            from ._arrow import to_pyarrow

            column = to_pyarrow(keys, "keys")
            key_columns = [_single_array(column) if isinstance(column, pa.ChunkedArray) else column]
        if self._core is None:
            raise ValueError("query before any transform: the aggregator has no state yet")
        when = _time_scalar(at, self._time_type)
        record = pa.RecordBatch.from_arrays(key_columns, names=list(self.spec.keys))
        result = pa.array(self._core.query(record, when))
        out = pa.table(dict(zip(self.spec.keys, key_columns)))
        for name, column in zip(self.spec.output_names(), result.flatten()):
            out = out.append_column(name, column)
        return out

    def stats(self) -> dict:
        """keys, events, buffered_events, late_dropped, out_of_order, expired_keys, bytes,
        watermark."""
        if self._core is None:
            return {
                "keys": 0,
                "events": 0,
                "buffered_events": 0,
                "late_dropped": 0,
                "out_of_order": 0,
                "expired_keys": 0,
                "bytes": 0,
                "watermark": None,
            }
        return dict(self._core.stats())

    # -- checkpoints ---------------------------------------------------------------------------

    def _header(self) -> dict:
        return {
            "format": "featforge-window-aggregator",
            "version": 1,
            "spec": {
                "key": list(self.spec.keys),
                "time": self.spec.time,
                "aggs": {k: list(v) for k, v in self.spec.aggs.items()},
                "windows": list(self.spec.windows),
                "closed": self.spec.closed,
            },
            "allowed_lateness": self.allowed_lateness,
            "late": self.late,
            "ttl": self.ttl,
            "time_type": None if self._time_type is None else str(self._time_type),
        }

    def __getstate__(self) -> bytes:
        import json

        header = json.dumps(self._header()).encode()
        state = b"" if self._core is None else self._core.serialize()
        return len(header).to_bytes(8, "little") + header + state

    def __setstate__(self, data: bytes) -> None:
        import json

        try:
            size = int.from_bytes(data[:8], "little")
            header = json.loads(data[8 : 8 + size].decode())
            if header.get("format") != "featforge-window-aggregator":
                raise ValueError("not a featforge window aggregator checkpoint")
            if header.get("version") != 1:
                raise ValueError(f"checkpoint version {header.get('version')} is not supported")
            s = header["spec"]
            spec = WindowSpec(
                key=s["key"],
                time=s["time"],
                aggs=s["aggs"],
                windows=s["windows"],
                closed=s["closed"],
            )
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"window checkpoint is truncated or corrupt ({exc})") from None
        self.__init__(
            spec,
            allowed_lateness=header["allowed_lateness"],
            late=header["late"],
            ttl=header["ttl"],
        )
        state = data[8 + size :]
        if header["time_type"] is not None:
            time_type = _type_from_string(header["time_type"])
            windows, _, _ = self._durations(time_type)
            aggs = [list(a) for a in spec.aggs.values()]
            self._core = _core.WindowAggregator.deserialize(state, windows, spec.closed, aggs)
            self._time_type = time_type
        elif state:
            raise ValueError("window checkpoint is corrupt (state without a time type)")

    def save(self, path: Any) -> None:
        """Checkpoint atomically (temp file, fsync, rename); versioned and checksummed."""
        import os

        path = os.fspath(path)
        tmp = f"{path}.tmp.{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(self.__getstate__())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Any) -> WindowAggregator:
        """Restore a checkpoint exactly; a damaged file raises ValueError."""
        with open(path, "rb") as f:
            data = f.read()
        self = cls.__new__(cls)
        self.__setstate__(data)
        return self


def _type_from_string(name: str) -> pa.DataType:
    if name in ("int64", "int32"):
        return getattr(pa, name)()
    match = re.match(r"^timestamp\[(s|ms|us|ns)(?:, tz=(.+))?\]$", name)
    if match:
        return pa.timestamp(match.group(1), tz=match.group(2))
    if name in ("date32[day]", "date64[ms]"):
        return pa.date32() if name.startswith("date32") else pa.date64()
    raise ValueError(f"window checkpoint names an unknown time type {name!r}")
