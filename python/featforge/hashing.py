"""Feature hashing: hash, hash_bucket and fid over Arrow columns (DESIGN.md section 3)."""

from __future__ import annotations

from typing import Any

from . import _core
from ._arrow import call_kernel

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
    """Number of threads large inputs are split across (default 1: Spark/Ray workers already
    run one task per core, so featforge does not oversubscribe them)."""
    _check_positive_int("n", n, upper=1024)
    _core.set_num_threads(n)


def get_num_threads() -> int:
    """The number of threads kernels use (see :func:`set_num_threads`)."""
    return int(_core.get_num_threads())
