"""IdMap against pandas.factorize, plus admission, eviction, merge, persistence and bad input."""

from __future__ import annotations

import pickle
import threading
from pathlib import Path

import featforge
import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import xxhash
from featforge import IdMap


def zipf_ids(n: int, distinct: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.zipf(1.2, size=n) % distinct).astype(np.int64) * 7919 - 10**6


def expected_first_seen(values, num_oov=1):
    codes, uniques = pd.factorize(np.asarray(values), use_na_sentinel=True)
    return [None if c < 0 else c + num_oov for c in codes], uniques


@pytest.mark.parametrize("num_oov", [0, 1, 5])
def test_insert_equals_pandas_factorize_on_zipf_ints(num_oov):
    ids = zipf_ids(200_000, 20_000)
    m = IdMap(num_oov_buckets=num_oov)
    out = m.lookup(pa.array(ids), insert=True)
    expected, uniques = expected_first_seen(ids, num_oov)
    assert out.to_pylist() == expected
    assert len(m) == len(uniques)
    assert m.to_arrow().column("key").to_pylist() == list(uniques)


def test_insert_equals_factorize_on_online_retail(online_retail):
    for column, key_type in (("StockCode", "string"), ("CustomerID", "int64")):
        col = online_retail.column(column)
        m = IdMap(key_type)
        out = m.lookup(col, insert=True)  # chunked input (row groups) -> chunked output
        assert isinstance(out, pa.ChunkedArray)
        values = col.to_pandas()
        codes, uniques = pd.factorize(values)
        expected = [None if c < 0 else int(c) + 1 for c in codes]
        assert out.to_pylist() == expected
        assert len(m) == len(uniques)


def test_large_batches_size_the_table_for_new_keys_only():
    """A big inserting batch sizes the table once for the keys it adds; a batch of keys the map
    already holds leaves it as it is (an estimate counting every distinct key would double it).
    Counts and admissions add up either way."""
    ids = zipf_ids(300_000, 100_000, seed=1)
    m = IdMap()
    first = m.lookup(pa.array(ids), insert=True)
    grown = m.stats()
    assert grown["capacity"] >= len(m) * 10 // 7 and grown["admissions"] == len(m)
    assert m.lookup(pa.array(ids), insert=True).equals(first)
    assert m.stats()["capacity"] == grown["capacity"]
    assert m.stats()["admissions"] == len(m) and m.stats()["lookups"] == 2 * len(ids)
    counts = m.to_arrow().to_pydict()
    expected = pd.Series(ids).value_counts()
    assert counts["count"] == [2 * int(expected[k]) for k in counts["key"]]


def test_string_keys_layouts_and_polars():
    words = ["b", "a", None, "b", "é", "a" * 40]
    for dtype in (pa.string(), pa.large_string(), pa.string_view(), pa.binary()):
        arr = pa.array(
            [w.encode() if (w is not None and dtype == pa.binary()) else w for w in words], dtype
        )
        m = IdMap("string")
        assert m.lookup(arr, insert=True).to_pylist() == [1, 2, None, 1, 3, 4]
    m = IdMap("string")
    out = m.lookup(pl.Series(words), insert=True)
    assert out.to_pylist() == [1, 2, None, 1, 3, 4]


def test_unknown_keys_go_to_their_oov_bucket():
    m = IdMap(num_oov_buckets=10, seed=3).fit(pa.array([1, 2]))
    out = m.lookup(pa.array([1, 99, 2, 12345]))
    h = lambda v: xxhash.xxh3_64_intdigest(int(v).to_bytes(8, "little", signed=True), 3) % 10  # noqa: E731
    assert out.to_pylist() == [10, h(99), 11, h(12345)]
    none_oov = IdMap(num_oov_buckets=0).fit(pa.array([1]))
    assert none_oov.lookup(pa.array([1, 2])).to_pylist() == [0, None]


def test_lookup_without_insert_does_not_change_the_map():
    m = IdMap().fit(pa.array([1, 2]))
    before = m.to_arrow()
    m.lookup(pa.array([1, 3, 3]))
    assert m.to_arrow().equals(before)
    assert len(m) == 2


def test_integer_widths_share_keys():
    m = IdMap().fit(pa.array([7, 8], pa.int8()))
    assert m.lookup(pa.array([8, 7], pa.int64())).to_pylist() == [2, 1]
    assert m.lookup(pa.array([8, 7], pa.uint32())).to_pylist() == [2, 1]


def test_sliced_and_null_inputs():
    arr = pa.array([9, 1, None, 2, 1]).slice(1)
    m = IdMap()
    assert m.lookup(arr, insert=True).to_pylist() == [1, None, 2, 1]
    assert m.stats()["lookups"] == 3


def test_min_count_admission():
    m = IdMap(min_count=3, num_oov_buckets=1)
    out = m.lookup(pa.array([5, 5, 6, 5, 6, 6, 5]), insert=True).to_pylist()
    assert out == [0, 0, 0, 1, 0, 2, 1]
    table = m.to_arrow().to_pydict()
    assert table["key"] == [5, 6] and table["count"] == [4, 3]


def test_freeze_frequency_orders_by_count_then_key():
    m = IdMap(num_oov_buckets=2).fit(pa.array([3, 1, 2, 2, 1, 9, 9, 9]))
    m.freeze("frequency")
    assert m.to_arrow().to_pydict()["key"] == [9, 1, 2, 3]
    assert m.lookup(pa.array([9, 1, 2, 3])).to_pylist() == [2, 3, 4, 5]
    with pytest.raises(ValueError, match="frozen"):
        m.lookup(pa.array([1]), insert=True)
    s = IdMap("string").fit(pa.array(["b", "a", "c", "c"])).freeze("frequency")
    assert s.to_arrow().column("key").to_pylist() == ["c", "a", "b"]


def test_merge_of_halves_equals_fit_on_whole():
    ids = zipf_ids(100_000, 5000, seed=4)
    whole = IdMap(min_count=2).fit(pa.array(ids)).freeze("frequency")
    a = IdMap(min_count=2).fit(pa.array(ids[:50_000]))
    b = IdMap(min_count=2).fit(pa.array(ids[50_000:]))
    ab = IdMap(min_count=2).merge(a).merge(b).freeze("frequency")
    ba = IdMap(min_count=2).merge(b).merge(a).freeze("frequency")
    for merged in (ab, ba):
        got = merged.to_arrow().select(["key", "index", "count"])
        assert got.equals(whole.to_arrow().select(["key", "index", "count"]))


def test_lru_eviction_reuses_indices_and_reports_them():
    m = IdMap(max_size=3, eviction="lru")
    assert m.lookup(pa.array([1, 2, 3, 1, 4, 5]), insert=True).to_pylist() == [1, 2, 3, 1, 2, 3]
    assert m.take_evicted().to_pydict() == {"key": [2, 3], "index": [2, 3]}
    assert m.take_evicted().num_rows == 0
    assert m.stats()["evictions"] == 2


def test_lfu_eviction_prefers_rarely_seen_keys():
    m = IdMap("string", max_size=2, eviction="lfu")
    out = m.lookup(pa.array(["hot", "hot", "hot", "cold", "new", "new", "newer"]), insert=True)
    assert out.to_pylist() == [1, 1, 1, 2, 2, 2, 2]
    assert m.take_evicted().to_pydict() == {"key": ["cold", "new"], "index": [2, 2]}


def test_max_size_without_eviction_sends_new_keys_to_oov():
    m = IdMap(max_size=2, num_oov_buckets=1)
    assert m.lookup(pa.array([1, 2, 3, 1]), insert=True).to_pylist() == [1, 2, 0, 1]
    assert m.stats()["rejected"] == 1


def test_ttl_eviction_by_timestamp():
    m = IdMap()
    ts = pa.array([100, 200, 300], pa.timestamp("s"))
    m.lookup(pa.array([1, 2, 3]), insert=True, timestamps=ts)
    assert m.evict(older_than=250) == 2
    assert m.take_evicted().to_pydict() == {"key": [1, 2], "index": [1, 2]}
    assert m.lookup(pa.array([1, 3])).to_pylist() == [0, 3]
    assert m.lookup(pa.array([4, 1]), insert=True).to_pylist() == [2, 1]  # freed rows reused


def test_save_load_and_pickle_round_trip(tmp_path):
    for m in (
        IdMap(min_count=2, num_oov_buckets=3).fit(pa.array(zipf_ids(5000, 300))),
        IdMap("string", max_size=50, eviction="lfu").fit(
            pa.array([f"k{i % 70}" for i in range(500)])
        ),
        IdMap("string").fit(pa.array(["x", "y"])).freeze("frequency"),
    ):
        path = tmp_path / "map.ffidmap"
        m.save(path)
        loaded = IdMap.load(path)
        assert loaded.to_arrow().equals(m.to_arrow())
        assert loaded.options == m.options and loaded.frozen == m.frozen
        clone = pickle.loads(pickle.dumps(m))
        assert clone.to_arrow().equals(m.to_arrow())
        probe = (
            pa.array(["k1", "zzz", "x"])
            if m.options["key_type"] == "string"
            else pa.array([1, 2, 3])
        )
        assert clone.lookup(probe).equals(m.lookup(probe))
        if not m.frozen:  # the restored map keeps evolving exactly like the original
            more = (
                probe if m.options["key_type"] == "string" else pa.array(zipf_ids(100, 500, seed=9))
            )
            assert clone.lookup(more, insert=True).equals(m.lookup(more, insert=True))
            assert clone.to_arrow().equals(m.to_arrow())


def test_round_trip_with_freed_slots(tmp_path):
    """Keys evicted by TTL leave free slots; a saved and reloaded map keeps them free (reused by
    the next admissions exactly as in the original)."""
    m = IdMap()
    m.lookup(pa.array([1, 2, 3, 4]), insert=True, timestamps=pa.array([10, 20, 30, 40]))
    assert m.evict(older_than=25) == 2
    m.save(tmp_path / "freed.ffidmap")
    loaded = IdMap.load(tmp_path / "freed.ffidmap")
    assert loaded.to_arrow().equals(m.to_arrow())
    more = pa.array([5, 6, 3, 7])
    assert loaded.lookup(more, insert=True).equals(m.lookup(more, insert=True))
    assert loaded.to_arrow().equals(m.to_arrow())


def test_from_arrow_round_trip():
    m = IdMap(num_oov_buckets=4).fit(pa.array([10, 20, 30]))
    again = IdMap.from_arrow(m.to_arrow(), num_oov_buckets=4)
    assert again.lookup(pa.array([30, 10, 99])).equals(m.lookup(pa.array([30, 10, 99])))
    with pytest.raises(ValueError, match="OOV range"):
        IdMap.from_arrow(m.to_arrow(), num_oov_buckets=10)


def test_corrupt_files_raise_value_error(tmp_path):
    path = tmp_path / "m.ffidmap"
    IdMap().fit(pa.array(range(1000))).save(path)
    data = path.read_bytes()
    (tmp_path / "trunc").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated|corrupt"):
        IdMap.load(tmp_path / "trunc")
    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0x10
    (tmp_path / "flip").write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="checksum"):
        IdMap.load(tmp_path / "flip")
    (tmp_path / "foreign").write_bytes(b"PAR1" + b"\0" * 100)
    with pytest.raises(ValueError, match="not a featforge IdMap"):
        IdMap.load(tmp_path / "foreign")
    with pytest.raises(FileNotFoundError):
        IdMap.load(tmp_path / "missing")
    state = IdMap().fit(pa.array([1, 2])).__getstate__()
    with pytest.raises(ValueError, match="truncated"):
        IdMap.__new__(IdMap).__setstate__(state[:-20])


def test_frozen_maps_keep_counters_in_less_memory(tmp_path):
    """Freezing moves a map to its lookup layout (an index without counters): smaller, same
    answers, same exported counters, through save/load and pickling too. (600k keys: a small
    map's index is spread out for speed and may be the larger.)"""
    rng = np.random.default_rng(2)
    ids = np.concatenate([rng.permutation(600_000), zipf_ids(200_000, 1000)]) * 31 + 7
    m = IdMap().fit(pa.array(ids))
    expected_out = m.lookup(pa.array(ids))
    expected_table = m.to_arrow()
    unfrozen_bytes = m.stats()["bytes"]
    m.freeze()
    assert m.stats()["bytes"] < unfrozen_bytes
    assert m.lookup(pa.array(ids)).equals(expected_out)
    assert m.to_arrow().equals(expected_table)
    m.save(tmp_path / "frozen.ffidmap")
    for copy in (IdMap.load(tmp_path / "frozen.ffidmap"), pickle.loads(pickle.dumps(m))):
        assert copy.stats()["frozen"] and copy.stats()["bytes"] == m.stats()["bytes"]
        assert copy.to_arrow().equals(expected_table)
        assert copy.lookup(pa.array(ids)).equals(expected_out)


def test_frozen_string_lookups_equal_unfrozen(tmp_path):
    """Frozen string maps look keys up in an index with the bytes inline (up to 16): keys of
    every length around that limit, near-misses (same length, one byte off, prefixes) and
    unknown keys must give what the unfrozen map gives, also after save/load and pickling."""
    rng = np.random.default_rng(11)
    keys = ["".join(rng.choice(list("ab\u00e9\u4e2d"), size=k)) for k in range(0, 41)] * 3
    keys += [f"item_{i:05d}" for i in range(300)]
    m = IdMap("string", num_oov_buckets=3).fit(pa.array(keys))
    probes = keys + [k + "x" for k in keys] + [k[:-1] for k in keys if k] + ["item_99999", ""]
    probes = pa.array(probes + [None])
    expected = m.lookup(probes)
    frozen = IdMap("string", num_oov_buckets=3).fit(pa.array(keys)).freeze()
    assert frozen.lookup(probes).equals(expected)
    assert frozen.lookup(probes.cast(pa.string_view())).equals(expected)
    assert frozen.lookup(probes.cast(pa.large_string())).equals(expected)
    frozen.save(tmp_path / "f.ffidmap")
    assert IdMap.load(tmp_path / "f.ffidmap").lookup(probes).equals(expected)
    assert pickle.loads(pickle.dumps(frozen)).lookup(probes).equals(expected)


def test_version_1_files_still_load():
    """Files written by featforge 0.1.0 (format 1, no saved hash table) load by rebuilding it."""
    data = Path(__file__).parent / "data"
    ints = IdMap.load(data / "idmap_v1_int64.ffidmap")
    assert ints.lookup(pa.array([10, 20, 30, 40, 50, 60])).to_pylist() == [2, 3, 4, 5, 6, 1]
    strings = IdMap.load(data / "idmap_v1_string.ffidmap")
    assert len(strings) == 3
    assert strings.lookup(pa.array(["a", "bb", "ccc", "dddd", "zz"])).to_pylist() == [1, 0, 3, 2, 0]


def test_version_2_files_still_load(tmp_path):
    """Files written by featforge 0.2.0 (format 2: counters beside the keys, a (hash, slot)
    table) load with their counters, candidates and victim order, and save as the current
    format."""
    data = Path(__file__).parent / "data"
    ints = IdMap.load(data / "idmap_v2_int64.ffidmap")
    expected = {"key": [10, 20, 40], "index": [2, 3, 4], "count": [3, 2, 3], "last_seen": [9, 4, 7]}
    assert ints.to_arrow().to_pydict() == expected
    assert ints.stats()["candidates"] == 3  # 30, 50 and 60, seen once each (min_count=2)
    ints.save(tmp_path / "v3.ffidmap")
    assert IdMap.load(tmp_path / "v3.ffidmap").to_arrow().to_pydict() == expected
    assert ints.lookup(pa.array([30, 99]), insert=True).to_pylist() == [5, 1]
    assert ints.to_arrow().to_pydict()["count"] == [3, 2, 3, 2]
    # max_size=4 with LFU: admitting 50 evicts the least-used key, 20 (count 2, seen first).
    assert ints.lookup(pa.array([50]), insert=True).to_pylist() == [3]
    assert ints.take_evicted().to_pydict() == {"key": [20], "index": [3]}
    strings = IdMap.load(data / "idmap_v2_string.ffidmap")
    assert strings.stats()["frozen"]
    assert strings.lookup(pa.array(["c", "a", "b", "dd", "zz"])).to_pylist() == [1, 2, 3, 4, 0]
    assert strings.to_arrow().to_pydict()["count"] == [3, 1, 1, 1]


def test_forged_hash_table_is_rejected(tmp_path):
    """The saved hash table is checked on load even when the checksum matches: a slot pointing
    past the keys must be a ValueError, not an out-of-range read."""
    path = tmp_path / "m.ffidmap"
    IdMap().fit(pa.array(range(100))).save(path)
    data = bytearray(path.read_bytes())
    body_end = len(data) - 16  # u64 checksum + "FFIDEND1"
    # A table entry is (hash, slot, count, last_seen): point key 99's entry past the keys.
    key_hash = xxhash.xxh3_64_intdigest((99).to_bytes(8, "little"))
    entry = key_hash.to_bytes(8, "little") + (99).to_bytes(8, "little")
    at = bytes(data[:body_end]).rfind(entry)
    assert at > 0
    data[at + 8 : at + 16] = (10**6).to_bytes(8, "little")
    data[body_end : body_end + 8] = xxhash.xxh3_64_intdigest(bytes(data[:body_end])).to_bytes(
        8, "little"
    )
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="hash table"):
        IdMap.load(path)


def test_concurrent_frozen_lookups_are_correct():
    ids = zipf_ids(100_000, 10_000)
    m = IdMap().fit(pa.array(ids)).freeze()
    expected = m.lookup(pa.array(ids))
    results = [None] * 8

    def work(k):
        results[k] = m.lookup(pa.array(ids))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.equals(expected) for r in results)


def test_concurrent_inserts_are_serialised():
    m = IdMap()
    chunks = [pa.array(np.arange(k * 1000, (k + 1) * 1000)) for k in range(8)]
    threads = [threading.Thread(target=m.fit, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(m) == 8000
    assert sorted(m.to_arrow().column("index").to_pylist()) == list(range(1, 8001))


def test_bad_input():
    with pytest.raises(ValueError, match="key_type"):
        IdMap("float")
    with pytest.raises(ValueError, match="eviction"):
        IdMap(max_size=3, eviction="fifo")
    with pytest.raises(ValueError, match="needs a max_size"):
        IdMap(eviction="lru")
    with pytest.raises(ValueError, match="max_size must be >= 1"):
        IdMap(max_size=-5)
    with pytest.raises(ValueError, match="num_oov_buckets must be >= 0"):
        IdMap(num_oov_buckets=-1)
    with pytest.raises(TypeError, match="min_count must be an int"):
        IdMap(min_count=1.5)
    with pytest.raises(TypeError, match="values: a string IdMap takes string"):
        IdMap("string").lookup(pa.array([1, 2]))
    with pytest.raises(TypeError, match="values: an int64 IdMap takes integer keys"):
        IdMap().lookup(pa.array(["a"]))
    with pytest.raises(ValueError, match="timestamps: expected 2 values"):
        IdMap().lookup(pa.array([1, 2]), insert=True, timestamps=[1])
    with pytest.raises(TypeError, match="timestamps: timestamps must be int64 or timestamp"):
        IdMap().lookup(pa.array([1]), insert=True, timestamps=pa.array(["x"]))
    with pytest.raises(ValueError, match="cannot merge"):
        IdMap(seed=1).merge(IdMap(seed=2))
    with pytest.raises(TypeError, match="other must be an IdMap"):
        IdMap().merge({})
    with pytest.raises(ValueError, match="does not fit an int64"):
        IdMap().lookup(pa.array([2**64 - 1], pa.uint64()))
    assert featforge.IdMap is IdMap
