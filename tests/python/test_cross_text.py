"""cross and text_hash: the documented combining rule, order, lists, nulls; sklearn tokenising."""

from __future__ import annotations

import re
import struct

import featforge
import pyarrow as pa
import pytest
import xxhash
from conftest import oracle_hashes
from featforge import _core


def expected_cross(values_per_column, dtypes, num_buckets, algo="xxh3", seed=0):
    """The README's rule, from the reference hashes: hash(le64(h_1) || ... ) mod num_buckets."""
    width = 32 if algo == "murmur3" else 64  # murmur3 hashes are zero-extended to 64 bits
    hs = [
        oracle_hashes(pa.array([v], t), algo, seed)[0] % (1 << width)
        for v, t in zip(values_per_column, dtypes)
    ]
    key = b"".join(struct.pack("<Q", h) for h in hs)
    combined = oracle_hashes(pa.array([key], pa.binary()), algo, seed)[0]
    return (combined % (1 << width)) % num_buckets


@pytest.mark.parametrize("algo", ["xxh3", "xxh64", "murmur3"])
def test_cross_follows_documented_rule(algo):
    a = pa.array(["uk", "de", None, "fr"])
    b = pa.array([1, 2, 3, None], pa.int32())
    out = featforge.cross([a, b], 1000, algo=algo, seed=9)
    assert out.type == pa.int64()
    expected = [
        expected_cross(["uk", 1], [pa.string(), pa.int32()], 1000, algo, 9),
        expected_cross(["de", 2], [pa.string(), pa.int32()], 1000, algo, 9),
        None,
        None,
    ]
    assert out.to_pylist() == expected


def test_cross_golden_vector():
    # Pinned: changing the combining rule must be a deliberate, versioned decision.
    out = featforge.cross([pa.array(["United Kingdom"]), pa.array(["85123A"])], 1 << 20)
    assert out.to_pylist() == [
        expected_cross(["United Kingdom", "85123A"], [pa.string()] * 2, 1 << 20)
    ]
    raw = xxhash.xxh3_64_intdigest(
        struct.pack(
            "<QQ", xxhash.xxh3_64_intdigest(b"United Kingdom"), xxhash.xxh3_64_intdigest(b"85123A")
        )
    )
    assert out.to_pylist() == [raw % (1 << 20)]


def test_cross_is_order_aware_and_not_self_cancelling():
    a = pa.array([f"v{i}" for i in range(1000)])
    b = pa.array([f"w{i}" for i in range(1000)])
    ab = featforge.cross([a, b], 1 << 30).to_pylist()
    ba = featforge.cross([b, a], 1 << 30).to_pylist()
    assert sum(x != y for x, y in zip(ab, ba)) > 990
    same = featforge.cross([a, a], 1 << 30).to_pylist()
    assert len(set(same)) > 990  # equal values do not collapse to one bucket


def test_cross_of_lists_is_cartesian_per_row():
    tags = pa.array([["a", "b"], [], None, ["c"]])
    country = pa.array(["uk", "de", "fr", None])
    out = featforge.cross([tags, country], 97)
    assert out.type == pa.list_(pa.int64())
    s = pa.string()
    assert out.to_pylist() == [
        [expected_cross(["a", "uk"], [s, s], 97), expected_cross(["b", "uk"], [s, s], 97)],
        [],
        None,
        None,
    ]
    both = featforge.cross([pa.array([["a", "b"]]), pa.array([["x", None, "y"]])], 97).to_pylist()
    assert both == [
        [
            expected_cross(["a", "x"], [s, s], 97),
            expected_cross(["a", "y"], [s, s], 97),
            expected_cross(["b", "x"], [s, s], 97),
            expected_cross(["b", "y"], [s, s], 97),
        ]
    ]


def test_cross_three_columns_tables_and_chunks():
    table = pa.table({"a": [1, 2], "b": ["x", "y"], "c": [True, False]})
    out = featforge.cross(table, 50)
    types = [pa.int64(), pa.string(), pa.bool_()]
    assert out.to_pylist() == [
        expected_cross([1, "x", True], types, 50),
        expected_cross([2, "y", False], types, 50),
    ]
    chunked = featforge.cross(
        [pa.chunked_array([[1], [2]]), pa.chunked_array([["x", "y"]]), pa.array([True, False])], 50
    )
    assert isinstance(chunked, pa.ChunkedArray)
    assert chunked.to_pylist() == out.to_pylist()
    sliced = featforge.cross([pa.array([0, 1, 2]).slice(1), pa.array(["q", "x", "y"]).slice(1)], 50)
    assert sliced.to_pylist() == [
        expected_cross([1, "x"], types[:2], 50),
        expected_cross([2, "y"], types[:2], 50),
    ]


def test_cross_bad_input():
    with pytest.raises(ValueError, match="equal length"):
        featforge.cross([pa.array([1, 2]), pa.array([1])], 10)
    with pytest.raises(ValueError, match="at least two columns"):
        featforge.cross([pa.array([1])], 10)
    with pytest.raises(ValueError, match="num_buckets must be in"):
        featforge.cross([pa.array([1]), pa.array([1])], 0)
    with pytest.raises(TypeError, match="columns: expected a table"):
        featforge.cross("ab", 10)
    with pytest.raises(TypeError, match=r"columns\[1\]: expected an Arrow array"):
        featforge.cross([pa.array([1]), object()], 10)


MULTILINGUAL = [
    "Hello World, héllo wörld! HELLO",
    "Straße STRASSE straße ß",
    "İstanbul'da ŞEHİR ışık ıi",
    "Москва — столица России, МОСКВА",
    "東京は日本の首都です。東京タワー",
    "مرحبا بالعالم العربي",
    "नमस्ते दुनिया हिन्दी",
    "Ελληνικά ΣΊΣΥΦΟΣ σίσυφος",
    "emoji 😀😀 text_with_underscores 123 4.5 ½ x²",
    "a b c d e",
    "",
    "   ",
    "tab\tseparated\nnew line",
    "ǅemal ǆ ǄA",
]


@pytest.mark.parametrize("lowercase", [True, False])
def test_tokenizer_matches_python_re(lowercase):
    pattern = re.compile(r"(?u)\b\w\w+\b")
    for text in MULTILINGUAL:
        src = text.lower() if lowercase else text
        assert _core.tokenize(text, lowercase) == pattern.findall(src), text


def test_tokenizer_on_every_code_point_class():
    # Every BMP code point next to ASCII letters: exercises the whole \w table and str.lower().
    pattern = re.compile(r"(?u)\b\w\w+\b")
    chars = [chr(c) for c in range(0x80, 0x10000) if not 0xD800 <= c <= 0xDFFF]
    for start in range(0, len(chars), 4000):
        text = " ".join("a" + c + "b" + c + c for c in chars[start : start + 4000])
        assert _core.tokenize(text, True) == pattern.findall(text.lower())


def test_text_hash_buckets_ngrams_in_sklearn_order():
    out = featforge.text_hash(
        pa.array(["The cat, the HAT", None, "x"]), 1 << 16, ngram_range=(1, 2)
    )
    assert out.type == pa.list_(pa.int64())
    grams = ["the", "cat", "the", "hat", "the cat", "cat the", "the hat"]
    expected = [h % (1 << 32) % (1 << 16) for h in oracle_hashes(pa.array(grams), "murmur3")]
    assert out.to_pylist() == [expected, None, []]
    xx = featforge.text_hash(
        pa.array(["Ab cd"]), 7, algo="xxh3", lowercase=False, ngram_range=(2, 2)
    )
    assert xx.to_pylist() == [[xxhash.xxh3_64_intdigest(b"Ab cd") % 7]]


def test_text_hash_bad_input():
    with pytest.raises(ValueError, match="ngram_range"):
        featforge.text_hash(pa.array(["a"]), 10, ngram_range=(2, 1))
    with pytest.raises(ValueError, match="ngram_range"):
        featforge.text_hash(pa.array(["a"]), 10, ngram_range=(0, 1))
    with pytest.raises(TypeError, match="texts: text must be a string or binary column"):
        featforge.text_hash(pa.array([1, 2]), 10)
    with pytest.raises(TypeError, match="lowercase must be a bool"):
        featforge.text_hash(pa.array(["a"]), 10, lowercase="yes")
