"""The zero-copy Arrow bridge: memory behaviour and result ownership."""

from __future__ import annotations

import gc

import featforge
import numpy as np
import pyarrow as pa
import pytest


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.fixture
def no_block_cache():
    from featforge import _core

    limit = _core.buffer_cache_limit()
    _core.set_buffer_cache_limit(0)  # measure the allocator, not blocks kept for reuse
    yield
    _core.set_buffer_cache_limit(limit)


def test_hash_allocates_the_output_and_copies_no_input(no_block_cache):
    n = 10_000_000
    values = pa.array(np.arange(n, dtype=np.int64))
    gc.collect()
    pool_before = pa.total_allocated_bytes()
    rss_before = rss_bytes()
    out = featforge.hash(values, algo="xxh64")
    rss_after = rss_bytes()
    # Nothing went through pyarrow's allocator: the input was read in place and the result
    # buffers (allocated by the core) were adopted by pyarrow without a copy.
    assert pa.total_allocated_bytes() == pool_before
    output_bytes = 8 * n
    grew = rss_after - rss_before
    assert 0.9 * output_bytes <= grew <= 1.25 * output_bytes, grew
    assert len(out) == n
    # The result lives as long as pyarrow needs it, and is freed with it.
    del out
    gc.collect()
    assert rss_bytes() < rss_after - 0.5 * output_bytes


def test_result_outlives_the_input():
    values = pa.array(["a", "b", None])
    out = featforge.hash(values)
    del values
    gc.collect()
    assert out.null_count == 1
    assert len(out.to_pylist()) == 3


def test_core_sees_every_layout():
    from featforge import _core

    cases = {
        "int8": pa.array([1], pa.int8()),
        "uint64": pa.array([1], pa.uint64()),
        "string_view": pa.array(["a"], pa.string_view()),
        "large_binary": pa.array([b"a"], pa.large_binary()),
        "list<int64>": pa.array([[1]], pa.list_(pa.int64())),
        "large_list<string>": pa.array([["a"]], pa.large_list(pa.string())),
        "timestamp[ms, tz=UTC]": pa.array([1], pa.timestamp("ms", tz="UTC")),
        "dictionary<values=string, indices=int32>": pa.array(["a"]).dictionary_encode(),
    }
    for name, arr in cases.items():
        assert _core.echo_types(arr) == [name]
    assert _core.echo_types(pa.chunked_array([pa.array([1]), pa.array([2])])) == ["int64", "int64"]


def test_released_blocks_are_reused_within_the_cache_limit():
    from featforge import _core

    values = pa.array(np.arange(2_000_000, dtype=np.int64))
    _core.set_buffer_cache_limit(64 << 20)
    try:
        out = featforge.hash(values)
        first = out.buffers()[1].address
        del out
        gc.collect()
        assert _core.buffer_cache_bytes() >= 16 << 20  # the 16 MB result block is kept
        again = featforge.hash(values)
        assert again.buffers()[1].address == first  # and handed out again, already mapped
        _core.set_buffer_cache_limit(0)
        assert _core.buffer_cache_bytes() == 0
    finally:
        _core.set_buffer_cache_limit(256 << 20)
