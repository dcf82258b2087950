"""Pipeline steps: each reads named input columns and adds one named output column (Window adds
its feature columns, Drop removes columns). Constructor arguments mirror the functions."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc

from . import hashing
from .idmap import IdMap as _IdMap
from .window import WindowAggregator, WindowSpec, window_features


class StepError(ValueError):
    """A step cannot run on this data (missing column, bad argument): names the step."""


@dataclasses.dataclass
class Step:
    op: ClassVar[str] = ""
    stateful: ClassVar[bool] = False

    def inputs(self) -> list[str]:
        raise NotImplementedError

    def outputs(self, schema: pa.Schema) -> list[str]:
        raise NotImplementedError

    def check(self) -> None:
        """Argument checks that need no data (called by the pipeline before reading anything)."""

    def fit_batch(self, batch: pa.Table) -> None:
        """Learn from a batch (stateful steps)."""

    def finish_fit(self) -> None:
        """Called after the last fit batch."""

    def transform(self, table: pa.Table) -> pa.Table:
        raise NotImplementedError

    def start_stream(self) -> None:
        """Called before transforming a stream of batches (streaming steps reset their state)."""

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


def _append(table: pa.Table, name: str, column: Any) -> pa.Table:
    if name in table.column_names:
        table = table.drop_columns([name])
    return table.append_column(name, column)


class ColumnStep(Step):
    """A step that reads one column (``self.column``) and adds ``self.out`` (by default the
    column name plus ``suffix``), computed by ``compute``."""

    suffix: ClassVar[str] = ""

    def inputs(self) -> list[str]:
        return [self.column]

    def outputs(self, schema: pa.Schema) -> list[str]:
        return [self.out or f"{self.column}{self.suffix}"]

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

    def check(self) -> None:
        if isinstance(self.columns, str) or len(self.columns) < 2:
            raise ValueError(f"columns must list at least two columns, got {self.columns!r}")
        hashing._check_positive_int("num_buckets", self.num_buckets)
        hashing._check_algo_seed(self.algo, self.seed)

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
    """Learns a vocabulary in ``fit`` (frozen afterwards, first-seen order) and maps ids to
    dense indices in ``transform``."""

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

    def _key_type(self, column: Any) -> str:
        if self.key_type:
            return self.key_type
        t = column.type
        return "int64" if pa.types.is_integer(t) else "string"

    def fit_batch(self, batch: pa.Table) -> None:
        col = batch.column(self.column)
        if self._map is None or self._map.frozen:
            self._map = _IdMap(
                self._key_type(col),
                num_oov_buckets=self.num_oov_buckets,
                min_count=self.min_count,
                max_size=self.max_size,
                seed=self.seed,
            )
        self._map.fit(col)

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


@dataclasses.dataclass
class Window(Step):
    """Window features of ``spec``: backfill for a table, streaming state for a stream of
    time-ordered batches (equal results)."""

    op: ClassVar[str] = "window"
    key: str | Sequence[str]
    time: str
    aggs: dict
    windows: Sequence[str | int]
    closed: str = "left"
    _aggregator: WindowAggregator | None = dataclasses.field(default=None, init=False, repr=False)

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

    def check(self) -> None:
        self.spec()

    def transform(self, table: pa.Table) -> pa.Table:
        return window_features(table, self.spec())

    def start_stream(self) -> None:
        self._aggregator = WindowAggregator(self.spec())

    def transform_stream_batch(self, table: pa.Table) -> pa.Table:
        if self._aggregator is None:
            self.start_stream()
        return self._aggregator.transform(table)

    def late_events(self) -> int:
        return 0 if self._aggregator is None else self._aggregator.stats()["late_dropped"]


@dataclasses.dataclass
class Drop(Step):
    op: ClassVar[str] = "drop"
    columns: Sequence[str]

    def inputs(self) -> list[str]:
        return list(self.columns)

    def outputs(self, schema: pa.Schema) -> list[str]:
        return []

    def check(self) -> None:
        if isinstance(self.columns, str) or not self.columns:
            raise ValueError(f"columns must be a non-empty list, got {self.columns!r}")

    def transform(self, table: pa.Table) -> pa.Table:
        return table.drop_columns(list(self.columns))


STEPS: dict[str, type[Step]] = {
    cls.op: cls for cls in (Hash, HashBucket, Fid, Cross, TextHash, IdMap, Window, Drop)
}
