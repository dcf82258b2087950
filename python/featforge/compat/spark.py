"""Spark SQL's ``hash(col)`` and ``xxhash64(col)``, bit for bit, without a JVM.

Use these to compute online exactly the feature ids an offline Spark job produced with
``F.hash(col)`` / ``F.xxhash64(col)``. Checked against Spark 4.3 golden vectors in the tests.

Spark semantics kept on purpose: seed 42; byte/short/int/date columns hash as a 4-byte int, long
as 8 bytes, bool as the int 0/1; strings hash their UTF-8 bytes, and Spark's Murmur3 mixes each
trailing byte (past the last full 4-byte block) as a separate sign-extended word rather than as
the reference algorithm's packed tail. A null hashes to the seed (42), so results have no nulls.
"""

from __future__ import annotations

from typing import Any

from .. import _core
from .._arrow import call_kernel

SEED = 42


def hash(values: Any) -> Any:  # noqa: A001 - mirrors Spark's function name
    """Spark SQL ``hash(col)`` (Murmur3 x86_32, seed 42) of one column, as int32."""
    return call_kernel(_core.spark_hash, values, "values", "hash")


def xxhash64(values: Any) -> Any:
    """Spark SQL ``xxhash64(col)`` (XXH64, seed 42) of one column, as int64."""
    return call_kernel(_core.spark_hash, values, "values", "xxhash64")
