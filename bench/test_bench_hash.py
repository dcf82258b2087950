"""featforge.hash against polars, pandas and a NumPy baseline, same data, same run, 1 thread."""

from __future__ import annotations

import featforge
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

ROUNDS = 5


def run(benchmark, fn, *args):
    return benchmark.pedantic(fn, args=args, rounds=ROUNDS, iterations=1, warmup_rounds=1)


def numpy_splitmix64(x: np.ndarray) -> np.ndarray:
    """A vectorised 64-bit mixer: the cheapest hash NumPy can do on int64."""
    z = x.view(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@pytest.mark.benchmark(group="hash-int64")
@pytest.mark.parametrize("algo", ["xxh3", "xxh64", "murmur3"])
def test_featforge_int64(benchmark, int64_ids, algo):
    arr = pa.array(int64_ids)
    out = run(benchmark, lambda a: featforge.hash(a, algo=algo), arr)
    assert len(out) == len(arr)


@pytest.mark.benchmark(group="hash-int64")
def test_featforge_int64_2threads(benchmark, int64_ids):
    arr = pa.array(int64_ids)
    featforge.set_num_threads(2)
    try:
        out = run(benchmark, lambda a: featforge.hash(a, algo="xxh3"), arr)
    finally:
        featforge.set_num_threads(1)
    assert len(out) == len(arr)


@pytest.mark.benchmark(group="hash-int64")
def test_polars_int64(benchmark, int64_ids):
    s = pl.Series(int64_ids)
    out = run(benchmark, s.hash)
    assert len(out) == len(s)


@pytest.mark.benchmark(group="hash-int64")
def test_pandas_int64(benchmark, int64_ids):
    out = run(benchmark, pd.util.hash_array, int64_ids)
    assert len(out) == len(int64_ids)


@pytest.mark.benchmark(group="hash-int64")
def test_numpy_int64(benchmark, int64_ids):
    with np.errstate(over="ignore"):
        out = run(benchmark, numpy_splitmix64, int64_ids)
    assert len(out) == len(int64_ids)


@pytest.mark.benchmark(group="hash-string")
@pytest.mark.parametrize("algo", ["xxh3", "xxh64", "murmur3"])
def test_featforge_string(benchmark, short_strings, algo):
    arr = pa.array(short_strings, pa.string())
    out = run(benchmark, lambda a: featforge.hash(a, algo=algo), arr)
    assert len(out) == len(arr)


@pytest.mark.benchmark(group="hash-string")
def test_featforge_string_view_from_polars(benchmark, short_strings):
    s = pl.Series(short_strings)  # polars exports string_view: read in place
    out = run(benchmark, lambda x: featforge.hash(x, algo="xxh3"), s)
    assert len(out) == len(s)


@pytest.mark.benchmark(group="hash-string")
def test_featforge_string_2threads(benchmark, short_strings):
    arr = pa.array(short_strings, pa.string())
    featforge.set_num_threads(2)
    try:
        out = run(benchmark, lambda a: featforge.hash(a, algo="xxh3"), arr)
    finally:
        featforge.set_num_threads(1)
    assert len(out) == len(arr)


@pytest.mark.benchmark(group="hash-string")
def test_polars_string(benchmark, short_strings):
    s = pl.Series(short_strings)
    out = run(benchmark, s.hash)
    assert len(out) == len(s)


@pytest.mark.benchmark(group="hash-string")
def test_pandas_string(benchmark, short_strings):
    values = np.array(short_strings, dtype=object)
    out = run(benchmark, pd.util.hash_array, values)
    assert len(out) == len(values)
