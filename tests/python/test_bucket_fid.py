"""hash_bucket and fid against the reference hashes."""

from __future__ import annotations

import featforge
import pyarrow as pa
import pytest
from conftest import oracle_hashes


@pytest.mark.parametrize("algo", ["xxh3", "xxh64", "murmur3"])
@pytest.mark.parametrize("num_buckets", [1, 7, 1 << 20, (1 << 63) - 1])
def test_bucket_is_unsigned_hash_modulo(algo, num_buckets):
    arr = pa.array(["a", None, "bb", "", "ü" * 20, "x" * 300])
    hashes = oracle_hashes(arr, algo, seed=3)
    width = 32 if algo == "murmur3" else 64
    expected = [None if h is None else (h % (1 << width)) % num_buckets for h in hashes]
    out = featforge.hash_bucket(arr, num_buckets, algo=algo, seed=3)
    assert out.type == pa.int64()
    assert out.to_pylist() == expected


def test_bucket_on_sliced_chunked_ints():
    arr = pa.chunked_array(
        [pa.array([1, 2, 3], pa.int32()).slice(1), pa.array([None, 5], pa.int32())]
    )
    expected = [None if h is None else h % 10 for h in oracle_hashes(arr.combine_chunks(), "xxh3")]
    assert featforge.hash_bucket(arr, 10).to_pylist() == expected


@pytest.mark.parametrize("slot", [0, 1, 12345, 32767])
def test_fid_layout(slot):
    arr = pa.array([7, None, -7], pa.int64())
    hashes = oracle_hashes(arr, "xxh3")
    out = featforge.fid(arr, slot)
    assert out.type == pa.int64()
    expected = [None if h is None else (slot << 48) | (h & ((1 << 48) - 1)) for h in hashes]
    assert out.to_pylist() == expected
    assert all(v is None or v >= 0 for v in out.to_pylist())


def test_fid_murmur3_uses_unsigned_hash():
    arr = pa.array(["k"])
    h = oracle_hashes(arr, "murmur3")[0] % (1 << 32)
    assert featforge.fid(arr, 5, algo="murmur3").to_pylist() == [(5 << 48) | h]
