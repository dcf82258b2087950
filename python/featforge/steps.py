"""Pipeline steps: each reads named input columns and adds one named output column (Window adds
its feature columns, Drop removes columns). Constructor arguments mirror the functions.

Every step checks its arguments without data (``check``) and against the input schema
(``check_schema``) before any data is read, so a bad spec fails up front, naming the column and
the fix."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import hashing
from .idmap import IdMap as _IdMap
from .window import WindowAggregator, WindowSpec, _parse_window, window_features

# What a late event is, and the ways out, in one place (the CLI and Python API share it).
LATE_POLICIES = ("raise", "drop")
PANDAS_FLOAT_FIX = (
    "pandas turns an integer column with nulls into float64: convert it back with "
    "df[{column!r}] = df[{column!r}].astype('Int64') before passing the frame"
)


class StepError(ValueError):
    """A step cannot run on this data (missing column, bad argument): names the step."""


def _is_hashable_type(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return _is_hashable_type(t.value_type)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _is_hashable_type(t.value_type)
    if pa.types.is_struct(t):
        return all(_is_hashable_type(f.type) for f in t)
    return (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_boolean(t)
        or _is_bytes_type(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_date(t)
        or pa.types.is_duration(t)
        or pa.types.is_null(t)
    )


def _is_bytes_type(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        return _is_bytes_type(t.value_type)
    return (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_string_view(t)
        or pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_binary_view(t)
    )


def _is_key_type(t: pa.DataType) -> bool:
    """Integer or string/binary: what IdMap and window keys accept."""
    return pa.types.is_integer(t) or _is_bytes_type(t)


def _key_type_error(column: str, t: pa.DataType, what: str) -> str:
    message = f"{what} {column!r} is {t}; expected an integer or string column"
    if pa.types.is_floating(t):
        message += " (" + PANDAS_FLOAT_FIX.format(column=column) + ")"
    return message


@dataclasses.dataclass
class Step:
    op: ClassVar[str] = ""
    stateful: ClassVar[bool] = False

    def inputs(self) -> list[str]:
        raise NotImplementedError

    def outputs(self, schema: pa.Schema) -> list[str]:
        raise NotImplementedError

    def output_types(self, fields: dict[str, pa.DataType]) -> dict[str, pa.DataType]:
        """The output columns and their types, given the input columns' types."""
        return {name: pa.int64() for name in self.outputs(pa.schema([]))}

    def check(self) -> None:
        """Argument checks that need no data (called by the pipeline before reading anything)."""

    def check_schema(self, fields: dict[str, pa.DataType]) -> None:
        """Checks against the input columns' types, before reading data: raises ValueError
        naming the column, what it is, what was expected and how to fix it."""

    @property
    def fitted(self) -> bool:
        return True

    def fit_table(self, table: pa.Table) -> None:
        """Learn from a whole table (stateful steps)."""

    def fit_transform_table(self, table: pa.Table) -> pa.Table:
        """Learn from ``table`` and return its features as computed without earlier state."""
        self.fit_table(table)
        return self.transform(table)

    def fit_batch(self, batch: pa.Table) -> pa.Table:
        """Learn from one batch of a stream; returns the batch's features."""
        return self.transform(batch)

    def finish_fit(self) -> None:
        """Called after the last fit batch."""

    def transform(self, table: pa.Table) -> pa.Table:
        raise NotImplementedError

    def start_stream(self, late: str = "raise") -> None:
        """Called before transforming a stream of batches."""

    def transform_stream_batch(self, table: pa.Table) -> pa.Table:
        return self.transform(table)

    def to_dict(self) -> dict:
        d = {"op": self.op}
        for f in dataclasses.fields(self):
            if f.init and not f.name.startswith("_"):
                value = getattr(self, f.name)
                if isinstance(value, tuple):
                    value = list(value)
                d[f.name] = value
        return d

    @classmethod
    def arguments(cls) -> tuple[list[str], list[str]]:
        """(required, optional) argument names, as a spec file spells them."""
        required, optional = [], []
        for f in dataclasses.fields(cls):
            if not f.init or f.name.startswith("_"):
                continue
            has_default = (
                f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            )
            (optional if has_default else required).append(f.name)
        return required, optional


def _append(table: pa.Table, name: str, column: Any) -> pa.Table:
    if name in table.column_names:
        table = table.drop_columns([name])
    return table.append_column(name, column)


def _check_hashable(column: str, t: pa.DataType) -> None:
    if not _is_hashable_type(t):
        raise ValueError(
            f"column {column!r} is {t}; hashing takes integer, float, bool, string, binary, "
            "timestamp/date, dictionary and list columns"
        )


def _list_of(t: pa.DataType, inner: pa.DataType) -> pa.DataType:
    return pa.list_(inner) if pa.types.is_list(t) or pa.types.is_large_list(t) else inner


class ColumnStep(Step):
    """A step that reads one column (``self.column``) and adds ``self.out`` (by default the
    column name plus ``suffix``), computed by ``compute``."""

    suffix: ClassVar[str] = ""

    def inputs(self) -> list[str]:
        return [self.column]

    def outputs(self, schema: pa.Schema) -> list[str]:
        return [self.out or f"{self.column}{self.suffix}"]

    def check_schema(self, fields: dict[str, pa.DataType]) -> None:
        _check_hashable(self.column, fields[self.column])

    def compute(self, column: Any) -> Any:
        raise NotImplementedError

    def transform(self, table: pa.Table) -> pa.Table:
        return _append(
            table, self.outputs(table.schema)[0], self.compute(table.column(self.column))
        )


@dataclasses.dataclass
class Hash(ColumnStep):
    suffix: ClassVar[str] = "_hash"
    op: ClassVar[str] = "hash"
    column: str
    algo: str = "xxh3"
    seed: int = 0
    out: str | None = None

    def check(self) -> None:
        hashing._check_algo_seed(self.algo, self.seed)

    def output_types(self, fields: dict[str, pa.DataType]) -> dict[str, pa.DataType]:
        inner = pa.int32() if self.algo == "murmur3" else pa.uint64()
        return {self.outputs(pa.schema([]))[0]: _list_of(fields[self.column], inner)}

    def compute(self, column: Any) -> Any:
        return hashing.hash(column, algo=self.algo, seed=self.seed)


@dataclasses.dataclass
class HashBucket(ColumnStep):
    suffix: ClassVar[str] = "_bucket"
    op: ClassVar[str] = "hash_bucket"
    column: str
    num_buckets: int
    algo: str = "xxh3"
    seed: int = 0
    out: str | None = None

    def check(self) -> None:
        hashing._check_positive_int("num_buckets", self.num_buckets)
        hashing._check_algo_seed(self.algo, self.seed)

    def output_types(self, fields: dict[str, pa.DataType]) -> dict[str, pa.DataType]:
        return {self.outputs(pa.schema([]))[0]: _list_of(fields[self.column], pa.int64())}

    def compute(self, column: Any) -> Any:
        return hashing.hash_bucket(column, self.num_buckets, algo=self.algo, seed=self.seed)


@dataclasses.dataclass
class Fid(ColumnStep):
    suffix: ClassVar[str] = "_fid"
    op: ClassVar[str] = "fid"
    column: str
    slot: int
    algo: str = "xxh3"
    seed: int = 0
    out: str | None = None

    def check(self) -> None:
        if (
            isinstance(self.slot, bool)
            or not isinstance(self.slot, int)
            or not 0 <= self.slot <= hashing.MAX_SLOT
        ):
            raise ValueError(f"slot must be an int in [0, 32768), got {self.slot!r}")
        hashing._check_algo_seed(self.algo, self.seed)

    def output_types(self, fields: dict[str, pa.DataType]) -> dict[str, pa.DataType]:
        return {self.outputs(pa.schema([]))[0]: _list_of(fields[self.column], pa.int64())}

    def compute(self, column: Any) -> Any:
        return hashing.fid(column, self.slot, algo=self.algo, seed=self.seed)


@dataclasses.dataclass
class Cross(Step):
    op: ClassVar[str] = "cross"
    columns: Sequence[str]
    num_buckets: int
    algo: str = "xxh3"
    seed: int = 0
    out: str | None = None

    def inputs(self) -> list[str]:
        return list(self.columns)

    def outputs(self, schema: pa.Schema) -> list[str]:
        return [self.out or "_x_".join(self.columns)]

    def output_types(self, fields: dict[str, pa.DataType]) -> dict[str, pa.DataType]:
        any_list = any(
            pa.types.is_list(fields[c]) or pa.types.is_large_list(fields[c]) for c in self.columns
        )
        return {self.outputs(pa.schema([]))[0]: pa.list_(pa.int64()) if any_list else pa.int64()}

    def check(self) -> None:
        if isinstance(self.columns, str) or len(self.columns) < 2:
            raise ValueError(f"columns must list at least two columns, got {self.columns!r}")
        hashing._check_positive_int("num_buckets", self.num_buckets)
        hashing._check_algo_seed(self.algo, self.seed)

    def check_schema(self, fields: dict[str, pa.DataType]) -> None:
        for column in self.columns:
            _check_hashable(column, fields[column])

    def transform(self, table: pa.Table) -> pa.Table:
        col = hashing.cross(
            [table.column(c) for c in self.columns],
            self.num_buckets,
            algo=self.algo,
            seed=self.seed,
        )
        return _append(table, self.outputs(table.schema)[0], col)


@dataclasses.dataclass
class TextHash(ColumnStep):
    suffix: ClassVar[str] = "_tokens"
    op: ClassVar[str] = "text_hash"
    column: str
    num_buckets: int
    ngram_range: Sequence[int] = (1, 1)
    lowercase: bool = True
    algo: str = "murmur3"
    seed: int = 0
    out: str | None = None

    def check(self) -> None:
        hashing._check_positive_int("num_buckets", self.num_buckets)
        hashing._check_ngram_range(self.ngram_range)
        hashing._check_algo_seed(self.algo, self.seed)

    def check_schema(self, fields: dict[str, pa.DataType]) -> None:
        t = fields[self.column]
        if not _is_bytes_type(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
            raise ValueError(f"column {self.column!r} is {t}; text_hash takes a string column")

    def output_types(self, fields: dict[str, pa.DataType]) -> dict[str, pa.DataType]:
        return {self.outputs(pa.schema([]))[0]: pa.list_(pa.int64())}

    def compute(self, column: Any) -> Any:
        return hashing.text_hash(
            column,
            self.num_buckets,
            ngram_range=tuple(self.ngram_range),
            lowercase=self.lowercase,
            algo=self.algo,
            seed=self.seed,
        )


@dataclasses.dataclass
class IdMap(ColumnStep):
    """Learns a vocabulary in ``fit`` (frozen afterwards; indices in admission order, see
    ``featforge.IdMap``) and maps ids to dense indices in ``transform``."""

    suffix: ClassVar[str] = "_idx"
    op: ClassVar[str] = "id_map"
    stateful: ClassVar[bool] = True
    column: str
    out: str | None = None
    key_type: str | None = None  # inferred from the column when None
    num_oov_buckets: int = 1
    min_count: int = 1
    max_size: int | None = None
    seed: int = 0
    _map: _IdMap | None = dataclasses.field(default=None, init=False, repr=False)
    rows_seen: int = dataclasses.field(default=0, init=False, repr=False)
    oov_rows: int = dataclasses.field(default=0, init=False, repr=False)

    def check(self) -> None:
        if self.key_type not in (None, "int64", "string"):
            raise ValueError(f"key_type must be 'int64' or 'string', got {self.key_type!r}")
        _IdMap._check_options(
            self.key_type or "int64",
            self.num_oov_buckets,
            self.min_count,
            self.max_size,
            None,
            self.seed,
            1,
        )

    def check_schema(self, fields: dict[str, pa.DataType]) -> None:
        t = fields[self.column]
        if not _is_key_type(t):
            raise ValueError(_key_type_error(self.column, t, "key column"))
        if self.key_type == "int64" and not pa.types.is_integer(t):
            raise ValueError(
                f"key_type is 'int64' but column {self.column!r} is {t}: use key_type: string "
                "(or leave key_type out to infer it from the column)"
            )
        if self.key_type == "string" and pa.types.is_integer(t):
            raise ValueError(
                f"key_type is 'string' but column {self.column!r} is {t}: use key_type: int64 "
                "(or leave key_type out to infer it from the column)"
            )
        if self._map is not None:
            expected = self._map.options["key_type"]
            if expected != self._key_type_of(t):
                raise ValueError(
                    f"column {self.column!r} is {t}, but this step's vocabulary was fitted on "
                    f"{expected} keys"
                )

    @property
    def fitted(self) -> bool:
        return self._map is not None

    def _key_type_of(self, t: pa.DataType) -> str:
        if self.key_type:
            return self.key_type
        return "int64" if pa.types.is_integer(t) else "string"

    def _new_map(self, column: Any) -> _IdMap:
        return _IdMap(
            self._key_type_of(column.type),
            num_oov_buckets=self.num_oov_buckets,
            min_count=self.min_count,
            max_size=self.max_size,
            seed=self.seed,
        )

    def fit_table(self, table: pa.Table) -> None:
        column = table.column(self.column)
        vocabulary = self._new_map(column)
        vocabulary.fit(column)
        self._map = vocabulary.freeze("first_seen")

    def fit_batch(self, batch: pa.Table) -> pa.Table:
        col = batch.column(self.column)
        if self._map is None or self._map.frozen:
            self._map = self._new_map(col)
        self._map.fit(col)
        return self.transform(batch)

    def finish_fit(self) -> None:
        if self._map is not None:
            self._map.freeze("first_seen")

    def transform(self, table: pa.Table) -> pa.Table:
        if self._map is None:
            raise StepError(
                f"id_map on {self.column!r} is not fitted: call fit() first (or run --fit)"
            )
        indices = self._map.lookup(table.column(self.column))
        if self._map.frozen:  # count OOV rows of real transforms (not of fitting passes)
            self.rows_seen += len(indices) - indices.null_count
            self.oov_rows += pc.sum(pc.less(indices, self.num_oov_buckets)).as_py() or 0
        return _append(table, self.outputs(table.schema)[0], indices)


# Rows fed to the streaming engine at once: smaller batches keep its scratch memory in cache
# (131k-row batches run about 25% faster than one batch of 1M).
STREAM_CHUNK_ROWS = 131_072


def _time_chunks(times: Any, rows: int) -> list[tuple[int, int]]:
    """[start, end) ranges of about ``rows`` rows of a time-sorted column, never splitting equal
    times (so ``closed="right"|"both"`` ties stay in one batch, as the engine requires)."""
    t = times.combine_chunks() if isinstance(times, pa.ChunkedArray) else times
    if pa.types.is_date32(t.type):
        t = t.cast(pa.int32())
    values = t.cast(pa.int64()).to_numpy(zero_copy_only=False)
    chunks, start, n = [], 0, len(values)
    while start < n:
        end = min(start + rows, n)
        if end < n:
            first_of_tie = int(np.searchsorted(values, values[end], side="left"))
            if first_of_tie > start:
                end = first_of_tie
            else:  # one time fills the whole chunk: take all of its rows
                end = int(np.searchsorted(values, values[end], side="right"))
        chunks.append((start, end))
        start = end
    return chunks


def _same_time_storage(fitted: pa.DataType | None, t: pa.DataType) -> bool:
    """Whether ``t`` stores times as ``fitted`` does: the same type, or timestamps of the same
    unit that differ only in time zone (the stored instants are what windows compare)."""
    if fitted is None or fitted == t:
        return True
    return pa.types.is_timestamp(fitted) and pa.types.is_timestamp(t) and fitted.unit == t.unit


class LateEventsError(StepError):
    """Events earlier than what a window step has already seen for their key."""


@dataclasses.dataclass
class Window(Step):
    """Window features of ``spec``.

    Fitted like an IdMap: ``fit`` on history keeps each key's window state (a
    ``WindowAggregator`` over the history, in time order), ``transform`` continues from it, so
    new rows see the history's events. Unfitted, ``transform`` of a table is the backfill of
    that table alone (any row order). A table is always processed in time order (stably sorted,
    then put back in input order), so the result never depends on the input order. In a stream
    of batches rows must come in time order per key; a row earlier than its key's latest event
    is *late*: an error by default, or dropped (null features, counted) with ``late="drop"``.
    """

    op: ClassVar[str] = "window"
    stateful: ClassVar[bool] = True
    key: str | Sequence[str]
    time: str
    aggs: dict
    windows: Sequence[str | int]
    closed: str = "left"
    _history: WindowAggregator | None = dataclasses.field(default=None, init=False, repr=False)
    _working: WindowAggregator | None = dataclasses.field(default=None, init=False, repr=False)
    _late_policy: str = dataclasses.field(default="raise", init=False, repr=False)
    _state_lost: bool = dataclasses.field(default=False, init=False, repr=False)
    _advancing: bool = dataclasses.field(default=False, init=False, repr=False)
    late_dropped: int = dataclasses.field(default=0, init=False, repr=False)

    def spec(self) -> WindowSpec:
        return WindowSpec(
            key=self.key if isinstance(self.key, str) else list(self.key),
            time=self.time,
            aggs=self.aggs,
            windows=list(self.windows),
            closed=self.closed,
        )

    def inputs(self) -> list[str]:
        spec = self.spec()
        return [*spec.keys, spec.time, *spec.aggs]

    def outputs(self, schema: pa.Schema) -> list[str]:
        return self.spec().output_names()

    def output_types(self, fields: dict[str, pa.DataType]) -> dict[str, pa.DataType]:
        return {
            name: pa.int64() if name.startswith("count_") or "_count_" in name else pa.float64()
            for name in self.outputs(pa.schema([]))
        }

    def check(self) -> None:
        self.spec()

    def check_schema(self, fields: dict[str, pa.DataType]) -> None:
        spec = self.spec()
        for key in spec.keys:
            if not _is_key_type(fields[key]):
                raise ValueError(_key_type_error(key, fields[key], "key column"))
        t = fields[spec.time]
        if not (
            pa.types.is_timestamp(t)
            or pa.types.is_date(t)
            or pa.types.is_int64(t)
            or pa.types.is_int32(t)
        ):
            fix = (
                "; parse it first, e.g. pyarrow.compute.strptime(col, format='%Y-%m-%d %H:%M:%S',"
                " unit='ms')"
                if _is_bytes_type(t)
                else ""
            )
            raise ValueError(
                f"time column {spec.time!r} is {t}; expected a timestamp, date or int64 column"
                + fix
            )
        for w in spec.windows:
            _parse_window(w, t)
        for column in spec.aggs:
            v = fields[column]
            if not (pa.types.is_integer(v) or pa.types.is_floating(v) or pa.types.is_boolean(v)):
                raise ValueError(
                    f"value column {column!r} is {v}; window aggregations take numeric or bool "
                    "columns"
                )
        if self._history is not None and not _same_time_storage(self._history._time_type, t):
            raise ValueError(
                f"time column {spec.time!r} is {t}, but this step's window state was fitted on "
                f"{self._history._time_type}"
            )

    @property
    def fitted(self) -> bool:
        return self._history is not None

    # -- the window engines --------------------------------------------------------------------

    def _new_aggregator(self) -> WindowAggregator:
        # The core drops late events and counts them; the "raise" policy is applied here, with
        # the step's own message (a copy of fitted state keeps the policy it was saved with).
        return WindowAggregator(self.spec(), late="drop")

    def _copy_history(self) -> WindowAggregator:
        if self._history is None:
            return self._new_aggregator()
        return pickle.loads(pickle.dumps(self._history))

    def _apply(
        self, aggregator: WindowAggregator, table: pa.Table, *, whole_table: bool = False
    ) -> pa.Table:
        """Feed ``table`` (in the order given) to ``aggregator``; the late-event policy applied
        (a whole table is sorted, so its late rows can only be earlier than fitted state)."""
        before = aggregator.stats()["late_dropped"]
        out = aggregator.transform(table)
        late = aggregator.stats()["late_dropped"] - before
        if late:
            if self._late_policy == "raise":
                raise LateEventsError(self._late_message(out, late, whole_table))
            self.late_dropped += late
        return out

    def _late_message(self, out: pa.Table, late: int, whole_table: bool) -> str:
        spec = self.spec()
        first_count = out.column(f"count_{spec.labels()[0]}")
        late_rows = pc.is_null(first_count)
        for k in spec.keys:  # null keys get null features too, without being late
            late_rows = pc.and_(late_rows, pc.is_valid(out.column(k)))
        first = pc.index(late_rows, True).as_py()
        where = ""
        if first is not None and first >= 0:
            row = out.slice(first, 1).select([*spec.keys, spec.time]).to_pylist()[0]
            where = f" (the first: {row})"
        if whole_table:  # sorted by time, so only fitted state can be later than a row
            return (
                f"{late:,} rows are earlier than the fitted window state's latest event of "
                f"their key{where}: this data overlaps the history the step was fitted on, and "
                "would be counted twice. Compute a table's windows from empty state with "
                "fit_transform() (CLI: run SPEC --fit), or fit on history that ends before "
                "the data you score"
            )
        return (
            f"{late:,} rows are earlier than events already seen for their key{where}: the "
            "stream is not in time order per key. Sort the input by time (run reads inputs "
            "that fit in --memory-limit whole and sorts them), or accept streaming semantics "
            "with late='drop' (CLI: --allow-late): late rows get null window features and are "
            "counted"
        )

    def _sorted_stream(self, aggregator: WindowAggregator, table: pa.Table) -> pa.Table:
        """The table's window features from ``aggregator``'s state: rows fed in time order
        (stable, so ties keep input order and see each other as in backfill), results put back
        in input order."""
        spec = self.spec()
        columns = table.select(self.inputs())
        order = pc.sort_indices(columns, sort_keys=[(spec.time, "ascending")])
        is_sorted = bool(len(order) == 0 or np.array_equal(order.to_numpy(), np.arange(len(order))))
        fed = columns if is_sorted else columns.take(order)
        fitted_type = aggregator._time_type
        if fitted_type is not None and fed.schema.field(spec.time).type != fitted_type:
            # Same unit, another time zone (Spark adds the session's): the stored instants are
            # what windows compare, so read them in the fitted type.
            index = fed.schema.get_field_index(spec.time)
            fed = fed.set_column(index, spec.time, fed.column(spec.time).cast(fitted_type))
        parts = [
            self._apply(aggregator, fed.slice(start, end - start), whole_table=True).select(
                spec.output_names()
            )
            for start, end in _time_chunks(fed.column(spec.time), STREAM_CHUNK_ROWS)
        ]
        features = pa.concat_tables(parts) if parts else self._apply(aggregator, fed)
        features = features.select(spec.output_names())
        if not is_sorted:
            inverse = np.empty(len(order), dtype=np.int64)
            inverse[order.to_numpy()] = np.arange(len(order), dtype=np.int64)
            features = features.take(pa.array(inverse))
        out = table
        for name in spec.output_names():
            out = _append(out, name, features.column(name))
        return out

    # -- fitting and transforming --------------------------------------------------------------

    def fit_table(self, table: pa.Table) -> None:
        self.fit_transform_table(table)

    def fit_transform_table(self, table: pa.Table) -> pa.Table:
        self.reset_state()
        aggregator = self._new_aggregator()
        out = self._sorted_stream(aggregator, table)
        self._history = aggregator
        return out

    def transform(self, table: pa.Table, *, advance: bool = False, late: str = "raise") -> pa.Table:
        """Window features of a whole table: backfill when unfitted, else continued from the
        fitted state (``advance=True`` keeps the state after this table as the new state)."""
        self._check_state()
        if self._history is None and not advance:
            return window_features(table, self.spec())
        self._set_policy(late)
        if not advance:  # a copy keeps the fitted state as it was (about 7 ms per MB of state)
            return self._sorted_stream(self._copy_history(), table)
        aggregator = self._history or self._new_aggregator()
        try:
            out = self._sorted_stream(aggregator, table)
        except BaseException:
            self._lose_state()
            raise
        self._history = aggregator
        return out

    def reset_state(self) -> None:
        """Forget the fitted state: fitting starts from empty state."""
        self._history = None
        self._working = None
        self._state_lost = False

    def _lose_state(self) -> None:
        """A failed advance leaves the state half-applied: discard it, loudly."""
        self._history = None
        self._working = None
        self._state_lost = True

    def _check_state(self) -> None:
        if self._state_lost:
            raise StepError(
                "this window step's state was discarded when a run using it failed (it would "
                "have been half-applied): load the pipeline again"
            )

    def _set_policy(self, late: str) -> None:
        if late not in LATE_POLICIES:
            raise ValueError(f"late must be one of {LATE_POLICIES}, got {late!r}")
        self._late_policy = late
        self.late_dropped = 0

    def start_stream(self, late: str = "raise", *, advance: bool = False) -> None:
        """Start a stream from the fitted state: a copy, or the state itself when the stream
        is to advance it (a failure then discards it, see ``_lose_state``)."""
        self._check_state()
        self._set_policy(late)
        self._advancing = advance
        if advance:
            self._working = self._history or self._new_aggregator()
        else:
            self._working = self._copy_history()

    def fit_batch(self, batch: pa.Table) -> pa.Table:
        return self.transform_stream_batch(batch)

    def finish_fit(self) -> None:
        self._history = self._working
        self._working = None

    def finish_stream(self, *, advance: bool) -> None:
        """End a stream; ``advance=True`` keeps its state as the fitted state."""
        if advance and self._working is not None:
            self._history = self._working
        self._working = None

    def transform_stream_batch(self, table: pa.Table) -> pa.Table:
        if self._working is None:
            self.start_stream()
        try:
            return self._apply(self._working, table)
        except BaseException:
            if self._advancing:
                self._lose_state()
            raise

    def state_stats(self) -> dict | None:
        return None if self._history is None else self._history.stats()


@dataclasses.dataclass
class Drop(Step):
    op: ClassVar[str] = "drop"
    columns: Sequence[str]

    def inputs(self) -> list[str]:
        return list(self.columns)

    def outputs(self, schema: pa.Schema) -> list[str]:
        return []

    def output_types(self, fields: dict[str, pa.DataType]) -> dict[str, pa.DataType]:
        return {}

    def check(self) -> None:
        if isinstance(self.columns, str) or not self.columns:
            raise ValueError(f"columns must be a non-empty list, got {self.columns!r}")

    def transform(self, table: pa.Table) -> pa.Table:
        return table.drop_columns(list(self.columns))


STEPS: dict[str, type[Step]] = {
    cls.op: cls for cls in (Hash, HashBucket, Fid, Cross, TextHash, IdMap, Window, Drop)
}
