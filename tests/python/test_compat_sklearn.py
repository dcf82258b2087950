"""featforge.compat.sklearn equals scikit-learn's FeatureHasher and HashingVectorizer."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

sk_text = pytest.importorskip("sklearn.feature_extraction.text")
sk_fe = pytest.importorskip("sklearn.feature_extraction")

from featforge.compat import sklearn as ff  # noqa: E402
from test_cross_text import MULTILINGUAL  # noqa: E402


def assert_same_csr(a, b):
    assert a.shape == b.shape
    assert a.dtype == b.dtype
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.data, b.data)  # bit-exact, not approximately


VECTORIZER_PARAMS = [
    {},
    {"ngram_range": (1, 2)},
    {"ngram_range": (2, 3), "n_features": 1024},
    {"norm": "l1", "alternate_sign": False},
    {"norm": None, "binary": True, "n_features": 64, "dtype": np.float32},
    {"lowercase": False, "n_features": 2**18},
    {"n_features": 1},
]


@pytest.mark.parametrize("params", VECTORIZER_PARAMS, ids=str)
def test_hashing_vectorizer_multilingual(params):
    assert_same_csr(
        ff.HashingVectorizer(**params).transform(MULTILINGUAL),
        sk_text.HashingVectorizer(**params).transform(MULTILINGUAL),
    )


@pytest.mark.parametrize("params", VECTORIZER_PARAMS[:4], ids=str)
def test_hashing_vectorizer_on_online_retail(online_retail, params):
    docs = [d for d in online_retail.column("Description").to_pylist() if d is not None]
    assert_same_csr(
        ff.HashingVectorizer(**params).transform(docs),
        sk_text.HashingVectorizer(**params).transform(docs),
    )


def test_hashing_vectorizer_accepts_arrow_and_bytes():
    docs = ["Red heart", "blue STAR light"]
    expected = sk_text.HashingVectorizer().transform(docs)
    assert_same_csr(ff.HashingVectorizer().transform(pa.array(docs)), expected)
    assert_same_csr(ff.HashingVectorizer().transform([d.encode() for d in docs]), expected)


@pytest.mark.parametrize("column", ["Country", "StockCode", "Description"])
@pytest.mark.parametrize("alternate_sign", [True, False])
def test_feature_hasher_string_on_online_retail(online_retail, column, alternate_sign):
    values = [v for v in online_retail.column(column).to_pylist() if v is not None][:100_000]
    samples = [values[i : i + 3] for i in range(0, len(values), 3)]
    kw = {"n_features": 2**16, "input_type": "string", "alternate_sign": alternate_sign}
    assert_same_csr(
        ff.FeatureHasher(**kw).transform(samples), sk_fe.FeatureHasher(**kw).transform(samples)
    )


def test_feature_hasher_dict_and_pair():
    dicts = [{"dog": 1, "cat": 2, "elephant": 4}, {"dog": 2, "run": 5, "colour": "red"}, {"z": 0}]
    assert_same_csr(
        ff.FeatureHasher(n_features=10).transform(dicts),
        sk_fe.FeatureHasher(n_features=10).transform(dicts),
    )
    pairs = [[("a", 1.5), ("b", -2)], [("a", "x")]]
    assert_same_csr(
        ff.FeatureHasher(n_features=2**10, input_type="pair", dtype=np.float32).transform(pairs),
        sk_fe.FeatureHasher(n_features=2**10, input_type="pair", dtype=np.float32).transform(pairs),
    )


def test_feature_hasher_int32_min_hash_edge():
    # murmur3("...") == -2**31 is the one value whose abs() overflows; both map it the same way.
    samples = [[f"f{i}" for i in range(5000)]]
    assert_same_csr(
        ff.FeatureHasher(n_features=7, input_type="string").transform(samples),
        sk_fe.FeatureHasher(n_features=7, input_type="string").transform(samples),
    )


def test_errors_match_sklearn():
    with pytest.raises(ValueError, match="Samples can not be a single string"):
        ff.FeatureHasher(input_type="string").transform(["abc"])
    with pytest.raises(ValueError, match="Cannot vectorize empty sequence"):
        ff.FeatureHasher(input_type="string").transform([])
    with pytest.raises(ValueError, match="string object received"):
        ff.HashingVectorizer().transform("a document")
    with pytest.raises(ValueError, match="input_type"):
        ff.FeatureHasher(input_type="list").transform([["a"]])
    with pytest.raises(ValueError, match="n_features"):
        ff.FeatureHasher(n_features=0).transform([["a"]])
    with pytest.raises(NotImplementedError, match="analyzer"):
        ff.HashingVectorizer(analyzer="char").transform(["a"])
    with pytest.raises(ValueError, match="invalid document"):
        ff.HashingVectorizer().transform(["a", None])


def test_feature_hasher_string_input_kinds():
    samples = [["a", "b"], ("c", "a"), [], [b"raw", "é"]]
    expected = sk_fe.FeatureHasher(n_features=64, input_type="string").transform(samples)
    hasher = ff.FeatureHasher(n_features=64, input_type="string")
    assert_same_csr(hasher.transform(samples), expected)
    assert_same_csr(hasher.transform(iter(samples)), expected)  # a generator of samples
    arrow = pa.array([["a", "b"], ["c", "a"], [], ["raw", "é"]], pa.list_(pa.string()))
    assert_same_csr(hasher.transform(arrow), expected)
    with pytest.raises(TypeError, match="feature names must be strings"):
        hasher.transform([["a", 3]])
    with pytest.raises(TypeError, match="feature names must be strings"):
        hasher.transform(pa.array([["a", None]]))
