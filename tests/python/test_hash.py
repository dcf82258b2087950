"""featforge.hash against the reference hash packages (xxhash, mmh3) on every supported layout."""

from __future__ import annotations

import featforge
import numpy as np
import polars as pl
import pyarrow as pa
import pytest
import xxhash
from conftest import oracle_hashes

ALGOS = ["xxh64", "xxh3", "murmur3"]
INT_TYPES = [
    pa.int8(),
    pa.int16(),
    pa.int32(),
    pa.int64(),
    pa.uint8(),
    pa.uint16(),
    pa.uint32(),
    pa.uint64(),
]


def with_nulls(values: list, rng: np.random.Generator, rate: float = 0.2) -> list:
    mask = rng.random(len(values)) < rate
    return [None if m else v for v, m in zip(values, mask)]


def random_ints(dtype: pa.DataType, n: int, rng: np.random.Generator) -> pa.Array:
    info = np.iinfo(dtype.to_pandas_dtype())
    values = rng.integers(info.min, info.max, size=n, dtype=dtype.to_pandas_dtype(), endpoint=True)
    return pa.array(with_nulls(values.tolist(), rng), type=dtype)


def random_strings(n: int, rng: np.random.Generator) -> list:
    alphabet = list("abcdefghijklmnopqrstuvwxyz0123456789 ") + ["é", "ß", "中", "😀", "ü"]
    # lengths straddle every XXH3 size class and the 12-byte string_view inline limit
    lengths = rng.choice([0, 1, 3, 4, 8, 9, 12, 13, 16, 17, 64, 128, 129, 240, 241, 1500], size=n)
    return ["".join(rng.choice(alphabet, size=k)) for k in lengths]


def hash_list(arr, algo, seed=0):
    return featforge.hash(arr, algo=algo, seed=seed).to_pylist()


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("dtype", INT_TYPES, ids=str)
def test_integers_every_width(dtype, algo, rng):
    arr = random_ints(dtype, 500, rng)
    assert hash_list(arr, algo, seed=17) == oracle_hashes(arr, algo, seed=17)


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize(
    "dtype",
    [
        pa.string(),
        pa.large_string(),
        pa.string_view(),
        pa.binary(),
        pa.large_binary(),
        pa.binary_view(),
    ],
    ids=str,
)
def test_strings_and_binary(dtype, algo, rng):
    values = with_nulls(random_strings(400, rng), rng)
    if (
        pa.types.is_binary(dtype)
        or pa.types.is_large_binary(dtype)
        or pa.types.is_binary_view(dtype)
    ):
        values = [None if v is None else v.encode("utf-8") for v in values]
    arr = pa.array(values, type=dtype)
    assert hash_list(arr, algo, seed=5) == oracle_hashes(arr, algo, seed=5)


@pytest.mark.parametrize("dtype", [pa.string(), pa.string_view(), pa.binary()], ids=str)
def test_item_id_strings_take_the_block_path(dtype, rng):
    """Runs of 9..16-byte strings (ids like "item_1234567") are hashed eight at a time; blocks
    with one shorter or longer string, nulls and a slice that shifts every block boundary must
    still equal xxhash."""
    lengths = rng.integers(9, 17, size=3000)
    lengths[rng.random(3000) < 0.01] = 5  # a few blocks fall back
    values = ["".join(rng.choice(list("item_0123456789"), size=k)) for k in lengths]
    values = with_nulls(values, rng, rate=0.02)
    if pa.types.is_binary(dtype):
        values = [None if v is None else v.encode() for v in values]
    arr = pa.array(values, type=dtype).slice(3)
    assert hash_list(arr, "xxh3", seed=99) == oracle_hashes(arr, "xxh3", seed=99)
    s = pl.Series(values[3:], dtype=pl.Binary if pa.types.is_binary(dtype) else pl.String)
    assert hash_list(s, "xxh3") == oracle_hashes(arr, "xxh3")


def test_output_types():
    ints = pa.array([1, 2], pa.int64())
    assert featforge.hash(ints).type == pa.uint64()
    assert featforge.hash(ints, algo="xxh64").type == pa.uint64()
    assert featforge.hash(ints, algo="murmur3").type == pa.int32()


def test_default_algo_is_xxh3():
    assert featforge.hash(pa.array(["abc"])).to_pylist() == [xxhash.xxh3_64_intdigest(b"abc")]


@pytest.mark.parametrize("algo", ALGOS)
def test_sliced_arrays_respect_offsets(algo, rng):
    ints = random_ints(pa.int64(), 300, rng)
    strs = pa.array(with_nulls(random_strings(300, rng), rng))
    views = strs.cast(pa.string_view())
    for arr in (ints, strs, views):
        for start, length in ((1, 100), (13, 200), (299, 1), (7, 0)):
            sliced = arr.slice(start, length)
            assert sliced.offset == start
            assert hash_list(sliced, algo) == oracle_hashes(sliced, algo)


def test_nulls_propagate():
    arr = pa.array([None, "a", None], pa.string())
    out = featforge.hash(arr, algo="xxh64")
    assert out.null_count == 2
    assert out.to_pylist() == [None, xxhash.xxh64_intdigest(b"a"), None]
    all_null = featforge.hash(pa.nulls(3, pa.int32()))
    assert all_null.to_pylist() == [None, None, None]
    null_type = featforge.hash(pa.nulls(2))
    assert null_type.to_pylist() == [None, None]


@pytest.mark.parametrize("algo", ALGOS)
def test_chunked_arrays(algo, rng):
    chunks = [random_ints(pa.int32(), n, rng) for n in (0, 10, 257)]
    chunked = pa.chunked_array(chunks, type=pa.int32())
    out = featforge.hash(chunked, algo=algo)
    assert isinstance(out, pa.ChunkedArray)
    assert [len(c) for c in out.chunks] == [0, 10, 257]
    assert out.to_pylist() == oracle_hashes(chunked.combine_chunks(), algo)


def test_empty_chunked_array_keeps_type():
    out = featforge.hash(pa.chunked_array([], pa.list_(pa.string())))
    assert out.type == pa.list_(pa.uint64())
    assert out.num_chunks == 0
    out32 = featforge.hash(pa.chunked_array([], pa.string()), algo="murmur3")
    assert out32.type == pa.int32()


@pytest.mark.parametrize("algo", ALGOS)
@pytest.mark.parametrize("list_type", [pa.list_, pa.large_list])
def test_lists_hash_elementwise_keeping_structure(list_type, algo, rng):
    values = [["a", "bb", None], None, [], ["ccc"], ["x" * 30, "y"]]
    arr = pa.array(values, type=list_type(pa.string()))
    out = featforge.hash(arr, algo=algo)
    expected_type = pa.int32() if algo == "murmur3" else pa.uint64()
    assert out.type == list_type(expected_type)
    flat_expected = oracle_hashes(pa.array([v for row in values if row for v in row]), algo)
    it = iter(flat_expected)
    expected = [None if row is None else [next(it) for _ in row] for row in values]
    assert out.to_pylist() == expected
    # a sliced list array hashes only the rows it shows
    assert featforge.hash(arr.slice(2, 3), algo=algo).to_pylist() == expected[2:5]


def test_list_of_ints_sliced_child_offset(rng):
    arr = pa.array([[1, 2], [3], [4, 5, 6]], pa.list_(pa.int64())).slice(1)
    assert featforge.hash(arr, algo="xxh64").to_pylist() == [
        oracle_hashes(pa.array([3], pa.int64()), "xxh64"),
        oracle_hashes(pa.array([4, 5, 6], pa.int64()), "xxh64"),
    ]


def test_polars_inputs(rng):
    strings = with_nulls(random_strings(200, rng), rng)
    series = pl.Series("s", strings)  # exported as string_view by polars
    out = featforge.hash(series, algo="xxh64")
    assert isinstance(out, pa.ChunkedArray)
    assert out.to_pylist() == oracle_hashes(pa.array(strings), "xxh64")
    ints = pl.Series("i", [1, None, 3], dtype=pl.Int16)
    assert featforge.hash(ints, algo="murmur3").to_pylist() == oracle_hashes(
        pa.array([1, None, 3], pa.int16()), "murmur3"
    )
    frame = pl.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    table = featforge.hash(frame, algo="xxh3")
    assert isinstance(table, pa.Table)
    assert table.column_names == ["a", "b"]
    assert table.column("b").to_pylist() == oracle_hashes(pa.array(["x", "y"]), "xxh3")


def test_tabular_inputs_hash_each_column():
    batch = pa.record_batch({"u": pa.array([1, 2, 3], pa.int64()), "s": pa.array(["a", None, "c"])})
    out = featforge.hash(batch, algo="xxh64")
    assert isinstance(out, pa.RecordBatch)
    assert out.schema.names == ["u", "s"]
    assert out.column(1).to_pylist() == oracle_hashes(batch.column(1), "xxh64")
    sliced = featforge.hash(batch.slice(1, 2), algo="xxh64")
    assert sliced.column(0).to_pylist() == oracle_hashes(batch.column(0).slice(1, 2), "xxh64")
    table = pa.Table.from_batches([batch, batch.slice(2)])
    tout = featforge.hash(table, algo="xxh64")
    assert isinstance(tout, pa.Table)
    assert tout.num_rows == 4


def test_numpy_and_list_inputs():
    arr = np.array([5, -7, 2**40], dtype=np.int64)
    assert featforge.hash(arr, algo="xxh64").to_pylist() == oracle_hashes(pa.array(arr), "xxh64")
    assert featforge.hash(["a", "b"], algo="xxh3").to_pylist() == oracle_hashes(
        pa.array(["a", "b"]), "xxh3"
    )


def test_seed_changes_hash():
    a = featforge.hash(pa.array(["k"]), seed=1).to_pylist()
    b = featforge.hash(pa.array(["k"]), seed=2).to_pylist()
    assert a != b
    assert a == [xxhash.xxh3_64_intdigest(b"k", 1)]


def test_hash_releases_gil_and_is_thread_safe(rng):
    from concurrent.futures import ThreadPoolExecutor

    arr = random_ints(pa.int64(), 200_000, rng)
    expected = featforge.hash(arr, algo="xxh64")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: featforge.hash(arr, algo="xxh64"), range(8)))
    assert all(r.equals(expected) for r in results)


def test_num_threads_gives_identical_results(rng):
    arr = pa.array(random_strings(200_000, rng))
    single = featforge.hash(arr)
    featforge.set_num_threads(2)
    try:
        assert featforge.get_num_threads() == 2
        assert featforge.hash(arr).equals(single)
    finally:
        featforge.set_num_threads(1)


@pytest.mark.parametrize("algo", ALGOS)
def test_bool_floats_temporal_and_dictionary_types(algo, rng):
    floats = [0.0, -0.0, float("nan"), -float("nan"), 1.5, -2.25, float("inf"), None, 1e300]
    for dtype in (pa.float32(), pa.float64()):
        arr = pa.array(floats, dtype)
        out = hash_list(arr, algo)
        assert out == oracle_hashes(arr, algo)
        assert out[0] == out[1] and out[2] == out[3]  # -0.0 == 0.0, every NaN alike
    half = pa.array(np.array([0.0, -0.0, 1.5, np.nan], dtype=np.float16))
    half_out = hash_list(half, algo)
    assert half_out == oracle_hashes(half, algo) and half_out[0] == half_out[1]
    bools = pa.array([True, False, None, True])
    assert hash_list(bools, algo) == oracle_hashes(bools, algo)
    for arr in (
        pa.array([0, 1_700_000_000_123, None], pa.timestamp("ms", tz="UTC")),
        pa.array([0, 1_700_000_000_123_456, None], pa.timestamp("us")),
        pa.array([0, 19_000, None], pa.date32()),
        pa.array([0, 86_400_000, None], pa.date64()),
        pa.array([5, -5, None], pa.duration("s")),
    ):
        assert hash_list(arr, algo) == oracle_hashes(arr, algo), arr.type
    words = pa.array(random_strings(300, rng))
    encoded = pa.array(with_nulls(words.to_pylist(), rng)).dictionary_encode()
    assert hash_list(encoded, algo) == oracle_hashes(encoded.cast(pa.string()), algo)
    sliced_dict = encoded.slice(17, 100)
    assert hash_list(sliced_dict, algo) == oracle_hashes(sliced_dict.cast(pa.string()), algo)


def test_large_list_of_large_strings_with_offsets(rng):
    values = [[w for w in random_strings(3, rng)] if i % 4 else None for i in range(50)]
    arr = pa.array(values, pa.large_list(pa.large_string())).slice(3, 40)
    out = featforge.hash(arr, algo="xxh3").to_pylist()
    for row, got in zip(arr.to_pylist(), out):
        if row is None:
            assert got is None
        else:
            assert got == oracle_hashes(pa.array(row), "xxh3")


def test_duckdb_relations():
    duckdb = pytest.importorskip("duckdb")
    rel = duckdb.sql("select * from (values (1, 'a'), (2, 'bb'), (null, 'c')) t(x, s)")
    out = featforge.hash(rel, algo="xxh64")  # a relation exports an Arrow stream: a Table out
    assert isinstance(out, pa.Table)
    assert out.column("s").to_pylist() == oracle_hashes(pa.array(["a", "bb", "c"]), "xxh64")
    assert out.column("x").to_pylist() == oracle_hashes(pa.array([1, 2, None], pa.int32()), "xxh64")
