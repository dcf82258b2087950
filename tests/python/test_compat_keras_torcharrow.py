"""compat.keras (golden vectors from TensorFlow 2.21 / Keras 3.15, FarmHash via pyfarmhash) and
compat.torcharrow (TorchArrow's published sigrid_hash vectors)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from featforge.compat import keras, torcharrow

GOLDEN = json.loads((Path(__file__).parent / "data" / "keras_golden.json").read_text())
STRINGS = GOLDEN["strings"]
INTS = pa.array(GOLDEN["ints"], pa.int64())


@pytest.mark.parametrize(
    ("key", "kwargs"),
    [
        ("fast_1024", {"num_bins": 1024}),
        ("masked_1024", {"num_bins": 1024, "mask_value": "abc"}),
        ("salt_int_1000", {"num_bins": 1000, "salt": 133}),
        ("salt_pair_77", {"num_bins": 77, "salt": [1, 2]}),
    ],
)
def test_hashing_strings(key, kwargs):
    assert keras.Hashing(**kwargs)(STRINGS).to_pylist() == GOLDEN["hashing_str_" + key]
    assert (
        keras.Hashing(**kwargs)(pa.array(STRINGS, pa.string_view())).to_pylist()
        == GOLDEN["hashing_str_" + key]
    )


@pytest.mark.parametrize(
    ("key", "kwargs"),
    [
        ("fast_1024", {"num_bins": 1024}),
        ("masked_1024", {"num_bins": 1024, "mask_value": 42}),
        ("salt_int_1000", {"num_bins": 1000, "salt": 133}),
    ],
)
def test_hashing_integers_as_keras_does(key, kwargs):
    assert keras.Hashing(**kwargs)(INTS).to_pylist() == GOLDEN["hashing_int_" + key]
    # floats are truncated to int64 first, as Keras does
    floats = pa.array([float(v) + 0.75 if v >= 0 else float(v) - 0.75 for v in GOLDEN["ints"][:5]])
    assert keras.Hashing(**kwargs)(floats).to_pylist() == GOLDEN["hashing_int_" + key][:5]


def test_fingerprint64_equals_pyfarmhash():
    farmhash = pytest.importorskip("farmhash")
    rng = np.random.default_rng(3)
    values = [bytes(rng.integers(0, 256, size=k, dtype=np.uint8)) for k in range(0, 300)]
    out = keras.Hashing(2**63 - 1)(pa.array(values, pa.binary())).to_pylist()
    assert out == [farmhash.fingerprint64(v) % (2**63 - 1) for v in values]


def test_hashed_crossing():
    a, b, i = GOLDEN["cross_a"], GOLDEN["cross_b"], pa.array(GOLDEN["cross_i"], pa.int64())
    assert keras.hashed_crossing([a, b], 1000).to_pylist() == GOLDEN["crossing_str_str_1000"]
    assert keras.hashed_crossing([i, a], 1000).to_pylist() == GOLDEN["crossing_int_str_1000"]
    assert keras.hashed_crossing([a, b, a], 97).to_pylist() == GOLDEN["crossing_str_str_str_97"]
    assert (
        keras.hashed_crossing(pa.table({"x": a, "y": b}), 1000).to_pylist()
        == GOLDEN["crossing_str_str_1000"]
    )
    with_null = keras.hashed_crossing([["a", None], ["p", "q"]], 1000).to_pylist()
    assert with_null == [GOLDEN["crossing_str_str_1000"][0], None]


def test_keras_bad_input():
    with pytest.raises(ValueError, match="num_bins must be >= 1"):
        keras.Hashing(0)
    with pytest.raises(ValueError, match="salt must be"):
        keras.Hashing(10, salt=[1, 2, 3])
    with pytest.raises(NotImplementedError, match="output_mode"):
        keras.Hashing(10, output_mode="one_hot")
    with pytest.raises(ValueError, match="at least two columns"):
        keras.hashed_crossing([["a"]], 10)
    with pytest.raises(TypeError, match="inputs: Keras hashing takes"):
        keras.Hashing(10)(pa.array([True]))


def test_sigrid_hash_published_vectors():
    ids = pa.array(list(range(1, 17)), pa.int64())
    expected = [60, 54, 54, 9, 4, 91, 11, 67, 79, 2, 25, 92, 98, 83, 66, 2]
    assert torcharrow.sigrid_hash(ids, 0, 100).to_pylist() == expected
    lists = pa.array([[1], [14, 15, 16], None], pa.list_(pa.int64()))
    assert torcharrow.sigrid_hash(lists, 0, 100).to_pylist() == [[60], [83, 66, 2], None]
    assert torcharrow.sigrid_hash(ids, 5, 1).to_pylist() == [0] * 16


def test_sigrid_hash_matches_reference_formula():
    mask = (1 << 64) - 1

    def twang(k):
        k = ((~k) + (k << 21)) & mask
        k ^= k >> 24
        k = (k + (k << 3) + (k << 8)) & mask
        k ^= k >> 14
        k = (k + (k << 2) + (k << 4)) & mask
        k ^= k >> 28
        return (k + (k << 31)) & mask

    def h128(u, low):
        mul = 0x9DDFEA08EB382D69
        a = ((low ^ u) * mul) & mask
        a ^= a >> 47
        b = ((u ^ a) * mul) & mask
        b ^= b >> 47
        return (b * mul) & mask

    values = [0, 1, -1, 2**62, -(2**63), 2**63 - 1, 123456789]
    for salt in (0, 7, -3):
        for max_value in (2, 97, 2**40 + 1):
            expected = []
            for v in values:
                h = h128(salt & mask, twang(v & mask))
                h = h - (1 << 64) if h >= 1 << 63 else h
                expected.append(h % max_value)
            got = torcharrow.sigrid_hash(pa.array(values, pa.int64()), salt, max_value).to_pylist()
            assert got == expected


def test_sigrid_hash_bad_input():
    with pytest.raises(ValueError, match="max_value must be in"):
        torcharrow.sigrid_hash(pa.array([1]), 0, 0)
    with pytest.raises(TypeError, match="values: sigrid_hash takes int64"):
        torcharrow.sigrid_hash(pa.array(["a"]), 0, 10)
