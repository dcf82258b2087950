"""Feature hashing: hash, hash_bucket and fid over Arrow columns (docs/design.md §4, §5)."""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa

from . import _core
from ._arrow import call_kernel, to_pyarrow

ALGOS = ("xxh3", "xxh64", "murmur3")
MAX_SLOT = (1 << 15) - 1


def _check_algo_seed(algo: Any, seed: Any) -> None:
    if not isinstance(algo, str) or algo not in ALGOS:
        raise ValueError(f"algo must be one of {', '.join(map(repr, ALGOS))}, got {algo!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    limit = 1 << 32 if algo == "murmur3" else 1 << 64
    if not 0 <= seed < limit:
        raise ValueError(f"seed must be in [0, {limit}) for algo={algo!r}, got {seed}")


def _check_positive_int(name: str, value: Any, upper: int = (1 << 63) - 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not 0 < value <= upper:
        raise ValueError(f"{name} must be in [1, {upper}], got {value}")


def hash(values: Any, *, algo: str = "xxh3", seed: int = 0) -> Any:  # noqa: A001 - public API name
    """Hash every value of an Arrow column.

    Each value is hashed over its canonical bytes: UTF-8 for strings, the raw bytes for binary,
    the little-endian bytes at the Arrow width for integers (int32 -> 4 bytes), one byte for bool,
    IEEE-754 bytes for floats (-0.0 as 0.0, every NaN as one canonical NaN), the integer storage
    for timestamps and dates. Lists hash element-wise and keep their structure; dictionary arrays
    hash their values. Nulls stay null.

    Args:
        values: a pyarrow/polars/pandas column or table, a numpy array or a list.
        algo: ``"xxh3"`` (uint64, equals ``xxhash.xxh3_64_intdigest(b, seed)``), ``"xxh64"``
            (uint64, equals ``xxhash.xxh64_intdigest(b, seed)``) or ``"murmur3"`` (int32, equals
            ``mmh3.hash(b, seed)``).
        seed: the hash seed (below 2**32 for murmur3).

    Returns:
        A pyarrow Array (ChunkedArray for chunked input, RecordBatch/Table for tabular input).
    """
    _check_algo_seed(algo, seed)
    return call_kernel(_core.hash, values, "values", algo, seed)


def hash_bucket(values: Any, num_buckets: int, *, algo: str = "xxh3", seed: int = 0) -> Any:
    """Bucket every value: ``hash(value) mod num_buckets`` as int64 in ``[0, num_buckets)``.

    The hash is read as unsigned at its width (64 bits for xxh3/xxh64, 32 bits for murmur3).
    """
    _check_positive_int("num_buckets", num_buckets)
    _check_algo_seed(algo, seed)
    return call_kernel(_core.hash_bucket, values, "values", num_buckets, algo, seed)


def fid(values: Any, slot: int, *, algo: str = "xxh3", seed: int = 0) -> Any:
    """Monolith-style v2 feature ids (int64): bit 63 = 0, ``slot`` in bits 48..62 and the low
    48 bits of the value's hash in bits 0..47. ``0 <= slot < 32768``."""
    if isinstance(slot, bool) or not isinstance(slot, int):
        raise TypeError(f"slot must be an int, got {type(slot).__name__}")
    if not 0 <= slot <= MAX_SLOT:
        raise ValueError(f"slot must be in [0, {MAX_SLOT + 1}), got {slot}")
    _check_algo_seed(algo, seed)
    return call_kernel(_core.fid, values, "values", slot, algo, seed)


def set_num_threads(n: int) -> None:
    """Number of threads large inputs are split across. Default: ``FEATFORGE_NUM_THREADS`` if
    set, else the CPUs this process may use (affinity mask and cgroup CPU quota). Results never
    depend on it. ``featforge.spark`` and ``featforge.ray`` set 1 inside their tasks (those
    engines already run one task per core)."""
    _check_positive_int("n", n, upper=1024)
    _core.set_num_threads(n)


def _threads_from_environment() -> None:
    value = os.environ.get("FEATFORGE_NUM_THREADS")
    if value is None or not value.strip():
        return
    try:
        n = int(value)
        _check_positive_int("n", n, upper=1024)
    except (TypeError, ValueError):
        raise ValueError(
            f"FEATFORGE_NUM_THREADS must be an integer in [1, 1024], got {value!r}"
        ) from None
    _core.set_num_threads(n)


_threads_from_environment()


def get_num_threads() -> int:
    """The number of threads kernels use (see :func:`set_num_threads`)."""
    return int(_core.get_num_threads())


def _check_ngram_range(ngram_range: Any) -> tuple[int, int]:
    try:
        lo, hi = ngram_range
    except (TypeError, ValueError):
        raise ValueError(
            f"ngram_range must be a pair (min_n, max_n), got {ngram_range!r}"
        ) from None
    if any(isinstance(x, bool) or not isinstance(x, int) for x in (lo, hi)) or not 1 <= lo <= hi:
        raise ValueError(f"ngram_range must satisfy 1 <= min_n <= max_n, got {ngram_range!r}")
    return lo, hi


def _columns_of(columns: Any) -> list[Any]:
    """The columns to cross: a table's columns in order, or the items of a sequence."""
    if isinstance(columns, (pa.Table, pa.RecordBatch)):
        return list(columns.columns)
    if hasattr(columns, "__arrow_c_stream__") and hasattr(columns, "columns"):
        return list(pa.table(columns).columns)  # polars/pandas DataFrame, zero-copy import
    if isinstance(columns, (list, tuple)):
        return list(columns)
    raise TypeError(
        "columns: expected a table/record batch/data frame or a list of columns, got "
        f"{type(columns).__name__}"
    )


def cross(columns: Any, num_buckets: int, *, algo: str = "xxh3", seed: int = 0) -> Any:
    """Hashed feature cross of two or more columns, as int64 buckets in ``[0, num_buckets)``.

    Combining rule: with ``h_i = hash(canonical bytes of the row's value in column i)`` (murmur3
    hashes zero-extended to 64 bits), the cross is
    ``hash(le64(h_1) || ... || le64(h_k)) mod num_buckets`` with the same algo and seed. It is
    order-aware (``cross([a, b]) != cross([b, a])``) and equal values never cancel. A list column
    crosses as the cartesian product of each row's elements (first column varying slowest),
    giving ``list<int64>``. A null in any column gives null.

    Args:
        columns: a pyarrow Table/RecordBatch or data frame (all its columns, in order), or a
            list of columns (arrays, chunked arrays, polars Series, numpy arrays, lists).
    """
    _check_positive_int("num_buckets", num_buckets)
    _check_algo_seed(algo, seed)
    cols = [to_pyarrow(c, f"columns[{i}]") for i, c in enumerate(_columns_of(columns))]
    if len(cols) < 2:
        raise ValueError(f"columns: cross needs at least two columns, got {len(cols)}")
    lengths = [len(c) for c in cols]
    if len(set(lengths)) != 1:
        raise ValueError(f"columns: cross needs columns of equal length, got lengths {lengths}")
    names = [f"c{i}" for i in range(len(cols))]
    if all(isinstance(c, pa.Array) for c in cols):
        batch = pa.RecordBatch.from_arrays(cols, names=names)
        return pa.array(_call_cross(batch, num_buckets, algo, seed))
    table = pa.Table.from_arrays(cols, names=names)
    chunks = [pa.array(_call_cross(b, num_buckets, algo, seed)) for b in table.to_batches()]
    if not chunks:  # zero rows: the type still follows from the inputs
        empty = pa.RecordBatch.from_arrays([pa.array([], c.type) for c in cols], names=names)
        return pa.chunked_array([], type=pa.array(_call_cross(empty, num_buckets, algo, seed)).type)
    return pa.chunked_array(chunks)


def _call_cross(batch: pa.RecordBatch, num_buckets: int, algo: str, seed: int) -> Any:
    try:
        return _core.cross(batch, num_buckets, algo, seed)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"columns: {exc}") from None


def text_hash(
    texts: Any,
    num_buckets: int,
    *,
    ngram_range: tuple[int, int] = (1, 1),
    lowercase: bool = True,
    algo: str = "murmur3",
    seed: int = 0,
) -> Any:
    """Hashed word n-grams per row, as ``list<int64>`` buckets in ``[0, num_buckets)``.

    Tokenised exactly like scikit-learn's default analyzer: ``str.lower()`` when ``lowercase``,
    tokens matching ``(?u)\\b\\w\\w+\\b`` with Python's Unicode ``\\w``, word n-grams for every n in
    ``ngram_range`` joined by one space (unigrams first, then bigrams, ...). Each n-gram's UTF-8
    bytes are hashed and bucketed like :func:`hash_bucket`. Null texts give null lists.
    """
    _check_positive_int("num_buckets", num_buckets)
    lo, hi = _check_ngram_range(ngram_range)
    if not isinstance(lowercase, bool):
        raise TypeError(f"lowercase must be a bool, got {type(lowercase).__name__}")
    _check_algo_seed(algo, seed)
    return call_kernel(_core.text_hash, texts, "texts", num_buckets, lo, hi, lowercase, algo, seed)
