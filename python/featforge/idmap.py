"""Sparse ID mapping: raw ids -> dense embedding-row indices (docs/design.md §6)."""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa

from . import _core
from ._arrow import to_pyarrow

_KEY_TYPES = ("int64", "string")
_EVICTIONS = (None, "lru", "lfu")


def _int_arg(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


class IdMap:
    """Maps raw ids (int64 or strings) to dense indices for embedding tables.

    Indices ``[0, num_oov_buckets)`` are out-of-vocabulary buckets: an unknown key goes to
    ``xxh3(key, seed) % num_oov_buckets`` (with ``num_oov_buckets=0`` unknown keys map to null).
    Known keys get ``num_oov_buckets, num_oov_buckets + 1, ...`` in admission order: the order
    in which keys reach ``min_count`` (first-seen order when ``min_count=1``). Null keys
    map to null.

    Args:
        key_type: ``"int64"`` (any integer column; keys hash as their int64 value) or
            ``"string"`` (string/binary columns).
        num_oov_buckets: number of OOV buckets (>= 0).
        min_count: with ``lookup(insert=True)``, a key is admitted once seen this many times;
            before that it maps to its OOV bucket.
        max_size: the most keys kept. Reached with ``eviction=None``: new keys stay OOV. With
            ``"lru"`` / ``"lfu"`` the least recently / least frequently seen key is evicted and
            its index reused; ``take_evicted()`` reports every eviction.
        seed: the hash seed (part of the hash contract recorded in saved files).
        max_candidates: bound on keys counted before admission (``min_count > 1``); beyond it
            the least-seen candidates are forgotten (``stats()["candidates_dropped"]``).

    Thread-safe: lookups without insert run concurrently (the GIL is released); inserting
    lookups, ``merge`` and ``evict`` take the map exclusively.
    """

    def __init__(
        self,
        key_type: str = "int64",
        *,
        num_oov_buckets: int = 1,
        min_count: int = 1,
        max_size: int | None = None,
        eviction: str | None = None,
        seed: int = 0,
        max_candidates: int = 1 << 22,
    ) -> None:
        self._map = _core.IdMap(
            *self._check_options(
                key_type, num_oov_buckets, min_count, max_size, eviction, seed, max_candidates
            )
        )

    @staticmethod
    def _check_options(
        key_type: Any,
        num_oov_buckets: Any,
        min_count: Any,
        max_size: Any,
        eviction: Any,
        seed: Any,
        max_candidates: Any,
    ) -> tuple:
        if key_type not in _KEY_TYPES:
            raise ValueError(f"key_type must be 'int64' or 'string', got {key_type!r}")
        _int_arg("num_oov_buckets", num_oov_buckets, 0)
        _int_arg("min_count", min_count, 1)
        if max_size is not None:
            _int_arg("max_size", max_size, 1)
        if eviction not in _EVICTIONS:
            raise ValueError(f"eviction must be None, 'lru' or 'lfu', got {eviction!r}")
        if eviction is not None and max_size is None:
            raise ValueError(f"eviction={eviction!r} needs a max_size")
        _int_arg("seed", seed, 0)
        if seed >= 1 << 64:
            raise ValueError(f"seed must be < 2**64, got {seed}")
        _int_arg("max_candidates", max_candidates, 1)
        return (key_type, num_oov_buckets, min_count, max_size, eviction, seed, max_candidates)

    @classmethod
    def _wrap(cls, core_map: Any) -> IdMap:
        self = cls.__new__(cls)
        self._map = core_map
        return self

    # -- lookups -------------------------------------------------------------------------------

    def lookup(self, values: Any, *, insert: bool = False, timestamps: Any = None) -> Any:
        """Indices (int64) for ``values``; a ChunkedArray for chunked input.

        With ``insert=True`` unknown keys are counted and admitted (see ``min_count``,
        ``max_size``), and known keys' counts and ``last_seen`` are updated. ``timestamps``
        (int64 or timestamp, same length) give ``last_seen`` for ``evict(older_than=...)``;
        without them ``last_seen`` is a running sequence number of inserting lookups.
        """
        if not isinstance(insert, bool):
            raise TypeError(f"insert must be a bool, got {type(insert).__name__}")
        keys = to_pyarrow(values, "values")
        ts = None
        if timestamps is not None:
            ts = to_pyarrow(timestamps, "timestamps")
            if isinstance(ts, pa.ChunkedArray):
                ts = ts.combine_chunks()
            if len(ts) != len(keys):
                raise ValueError(
                    f"timestamps: expected {len(keys)} values (one per key), got {len(ts)}"
                )
        if isinstance(keys, pa.Array):
            return self._lookup_array(keys, insert, ts)
        chunks, offset = [], 0
        for chunk in keys.chunks:
            part = None if ts is None else ts.slice(offset, len(chunk))
            chunks.append(self._lookup_array(chunk, insert, part))
            offset += len(chunk)
        return pa.chunked_array(chunks, type=pa.int64())

    def _lookup_array(self, keys: pa.Array, insert: bool, ts: pa.Array | None) -> pa.Array:
        try:
            return pa.array(self._map.lookup(keys, insert, ts))
        except (TypeError, ValueError) as exc:
            arg = "timestamps" if "timestamps" in str(exc) else "values"
            raise type(exc)(f"{arg}: {exc}") from None

    def fit(self, values: Any, *, timestamps: Any = None) -> IdMap:
        """Count and admit keys (``lookup(insert=True)`` without the result). Returns self."""
        self.lookup(values, insert=True, timestamps=timestamps)
        return self

    # -- lifecycle -----------------------------------------------------------------------------

    def freeze(self, order: str = "first_seen") -> IdMap:
        """Make the map read-only. ``"first_seen"`` keeps indices; ``"frequency"`` renumbers
        keys by count descending, ties by key ascending (so merged shards freeze identically to
        one map fitted on everything). Returns self."""
        if order not in ("first_seen", "frequency"):
            raise ValueError(f"order must be 'first_seen' or 'frequency', got {order!r}")
        self._map.freeze(order)
        return self

    @property
    def frozen(self) -> bool:
        return bool(self._map.frozen)

    def evict(self, *, older_than: Any) -> int:
        """Evict every key last seen before ``older_than`` (int or datetime-like timestamp in the
        unit of the timestamps given to ``lookup``). Returns the number evicted."""
        if isinstance(older_than, bool):
            raise TypeError("older_than must be an int or a timestamp")
        if not isinstance(older_than, int):
            try:
                older_than = pa.scalar(older_than).cast(pa.int64()).as_py()
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                raise TypeError(
                    f"older_than must be an int or a timestamp, got {type(older_than).__name__}"
                ) from None
        return int(self._map.evict_older_than(older_than))

    def take_evicted(self) -> pa.Table:
        """Every eviction since the last call, as a Table(key, index): reinitialise these
        embedding rows."""
        rows = self._map.take_evicted()
        string_keys = self._map.options["key_type"] == "string"
        keys = [k.decode("utf-8", "surrogateescape") if string_keys else k for k, _ in rows]
        return pa.table(
            {
                "key": pa.array(keys, pa.string() if string_keys else pa.int64()),
                "index": pa.array([i for _, i in rows], pa.int64()),
            }
        )

    def merge(self, other: IdMap) -> IdMap:
        """Add ``other``'s counts into this map (keys new here are admitted in ``other``'s index
        order; candidates are merged too). Associative and commutative once frozen by
        frequency. Returns self."""
        if not isinstance(other, IdMap):
            raise TypeError(f"other must be an IdMap, got {type(other).__name__}")
        self._map.merge(other._map)
        return self

    def __len__(self) -> int:
        return int(self._map.size())

    def stats(self) -> dict:
        """size, capacity, bytes, lookups, oov_hits, admissions, evictions, rejected,
        candidates, candidates_dropped, frozen."""
        return dict(self._map.stats())

    @property
    def options(self) -> dict:
        return dict(self._map.options)

    @property
    def contract(self) -> str:
        """The hash contract saved files record (algorithm, seed, key encoding)."""
        return str(self._map.contract)

    # -- Arrow and files -----------------------------------------------------------------------

    def to_arrow(self) -> pa.Table:
        """Table(key, index, count, last_seen) of the admitted keys, in index order."""
        batch = pa.RecordBatch.from_struct_array(pa.array(self._map.to_arrow()))
        return pa.Table.from_batches([batch])

    @classmethod
    def from_arrow(cls, table: Any, **options: Any) -> IdMap:
        """Rebuild a map from ``to_arrow()``'s columns (key, index, count, last_seen) with the
        given constructor options."""
        if isinstance(table, pa.Table):
            table = pa.RecordBatch.from_arrays(
                [c.combine_chunks() for c in table.columns], names=table.column_names
            )
        if not isinstance(table, pa.RecordBatch):
            raise TypeError(
                f"table must be a pyarrow Table or RecordBatch, got {type(table).__name__}"
            )
        args = cls._check_options(
            options.pop("key_type", "int64"),
            options.pop("num_oov_buckets", 1),
            options.pop("min_count", 1),
            options.pop("max_size", None),
            options.pop("eviction", None),
            options.pop("seed", 0),
            options.pop("max_candidates", 1 << 22),
        )
        if options:
            raise TypeError(f"unexpected options: {sorted(options)}")
        return cls._wrap(_core.IdMap.from_arrow(table, *args))

    def save(self, path: str | os.PathLike) -> None:
        """Write atomically (temp file, fsync, rename) in a versioned, checksummed format."""
        self._map.save(os.fspath(path))

    @classmethod
    def load(cls, path: str | os.PathLike) -> IdMap:
        """Read a file written by ``save``; a truncated, corrupted or foreign file raises
        ``ValueError``, a missing one ``FileNotFoundError``."""
        return cls._wrap(_core.IdMap.load(os.fspath(path)))

    def __getstate__(self) -> bytes:
        return self._map.serialize()

    def __setstate__(self, state: bytes) -> None:
        self._map = _core.IdMap.deserialize(state)

    def __repr__(self) -> str:
        o = self.options
        return (
            f"IdMap(key_type={o['key_type']!r}, size={len(self)}, "
            f"num_oov_buckets={o['num_oov_buckets']}, min_count={o['min_count']}, "
            f"max_size={o['max_size']}, eviction={o['eviction']!r}, frozen={self.frozen})"
        )
