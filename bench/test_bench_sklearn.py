"""compat.sklearn against scikit-learn on the Online Retail data, same inputs, same run.

Data: Chen, D. (2015). Online Retail [Dataset]. UCI Machine Learning Repository.
https://doi.org/10.24432/C5BW33. Licensed under CC BY 4.0.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from featforge.compat import sklearn as ff

sk_text = pytest.importorskip("sklearn.feature_extraction.text")
sk_fe = pytest.importorskip("sklearn.feature_extraction")

SHARED = Path(os.environ.get("FEATFORGE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
DATASET = SHARED / "datasets" / "online_retail.parquet"
LIMIT = int(os.environ.get("FEATFORGE_BENCH_N", "10000000"))


@pytest.fixture(scope="module")
def retail():
    if not DATASET.exists():
        pytest.skip(f"dataset not found at {DATASET}")
    return pq.read_table(DATASET).slice(0, LIMIT)


@pytest.fixture(scope="module")
def descriptions(retail):
    return [d for d in retail.column("Description").to_pylist() if d is not None]


@pytest.fixture(scope="module")
def token_samples(retail):
    cols = [retail.column(c).to_pylist() for c in ("Country", "StockCode", "InvoiceNo")]
    return [list(row) for row in zip(*cols)]


def run(benchmark, fn, *args):
    return benchmark.pedantic(fn, args=args, rounds=3, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="sklearn-FeatureHasher")
def test_featforge_feature_hasher(benchmark, token_samples):
    hasher = ff.FeatureHasher(2**20, input_type="string")
    run(benchmark, hasher.transform, token_samples)


@pytest.mark.benchmark(group="sklearn-FeatureHasher")
def test_sklearn_feature_hasher(benchmark, token_samples):
    hasher = sk_fe.FeatureHasher(2**20, input_type="string")
    run(benchmark, hasher.transform, token_samples)


@pytest.mark.benchmark(group="sklearn-HashingVectorizer")
def test_featforge_hashing_vectorizer(benchmark, descriptions):
    vec = ff.HashingVectorizer(ngram_range=(1, 2))
    run(benchmark, vec.transform, descriptions)


@pytest.mark.benchmark(group="sklearn-HashingVectorizer")
def test_sklearn_hashing_vectorizer(benchmark, descriptions):
    vec = sk_text.HashingVectorizer(ngram_range=(1, 2))
    run(benchmark, vec.transform, descriptions)
