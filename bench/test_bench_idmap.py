"""IdMap against pyarrow dictionary_encode, pandas factorize / Index.get_indexer and polars Enum
casts: same data, same run, one thread each."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from conftest import N
from featforge import IdMap, datagen

ROUNDS = 5


def run(benchmark, fn, *args):
    return benchmark.pedantic(fn, args=args, rounds=ROUNDS, iterations=1, warmup_rounds=1)


@pytest.fixture(scope="module")
def zipf_ids() -> np.ndarray:
    # ~1.1M distinct ids among 10M draws (Zipf, exponent 1), like user/item logs
    rng = np.random.default_rng(5)
    return datagen._zipf_ids(rng, N, max(N // 5, 10), 1.0) * 7919 + 10**9


@pytest.fixture(scope="module")
def vocab_strings():
    rng = np.random.default_rng(6)
    vocab = [f"item_{i:05d}" for i in range(5000)]
    values = np.array(vocab, dtype=object)[rng.integers(0, len(vocab), size=N)]
    return vocab, pa.array(values, pa.string())


@pytest.mark.benchmark(group="idmap-insert-int64")
def test_featforge_insert(benchmark, zipf_ids):
    arr = pa.array(zipf_ids)
    run(benchmark, lambda a: IdMap().lookup(a, insert=True), arr)


@pytest.mark.benchmark(group="idmap-insert-int64")
def test_pyarrow_dictionary_encode(benchmark, zipf_ids):
    run(benchmark, pc.dictionary_encode, pa.array(zipf_ids))


@pytest.mark.benchmark(group="idmap-insert-int64")
def test_pandas_factorize(benchmark, zipf_ids):
    run(benchmark, pd.factorize, zipf_ids)


@pytest.mark.benchmark(group="idmap-frozen-int64")
def test_featforge_frozen_lookup(benchmark, zipf_ids):
    arr = pa.array(zipf_ids)
    m = IdMap().fit(arr).freeze()
    run(benchmark, m.lookup, arr)


@pytest.mark.benchmark(group="idmap-frozen-int64")
def test_pandas_get_indexer(benchmark, zipf_ids):
    index = pd.Index(pd.unique(zipf_ids))
    index.get_indexer(zipf_ids[:10])  # build the hash table outside the timing
    run(benchmark, index.get_indexer, zipf_ids)


@pytest.mark.benchmark(group="idmap-frozen-string")
def test_featforge_frozen_strings(benchmark, vocab_strings):
    vocab, values = vocab_strings
    m = IdMap("string").fit(pa.array(vocab)).freeze()
    run(benchmark, m.lookup, values)


@pytest.mark.benchmark(group="idmap-frozen-string")
def test_polars_enum_cast(benchmark, vocab_strings):
    vocab, values = vocab_strings
    series = pl.Series(values)
    enum = pl.Enum(vocab)
    run(benchmark, lambda s: s.cast(enum).to_physical(), series)


@pytest.mark.benchmark(group="idmap-persistence")
def test_featforge_save(benchmark, zipf_ids, tmp_path_factory):
    m = IdMap().fit(pa.array(np.unique(zipf_ids) if N < 10_000_000 else np.arange(N)))
    path = tmp_path_factory.mktemp("idmap") / "map.ffidmap"
    run(benchmark, m.save, path)
    benchmark.extra_info["keys"] = len(m)
    benchmark.extra_info["bytes_per_key_in_memory"] = m.stats()["bytes"] / len(m)
    benchmark.extra_info["bytes_per_key_on_disk"] = os.path.getsize(path) / len(m)


@pytest.mark.benchmark(group="idmap-persistence")
def test_featforge_load(benchmark, zipf_ids, tmp_path_factory):
    m = IdMap().fit(pa.array(np.unique(zipf_ids) if N < 10_000_000 else np.arange(N)))
    path = tmp_path_factory.mktemp("idmap") / "map.ffidmap"
    m.save(path)
    loaded = run(benchmark, IdMap.load, path)
    assert len(loaded) == len(m)
