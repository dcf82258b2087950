"""WindowAggregator: streaming equals backfill, checkpoints, late events, ttl, serving queries."""

from __future__ import annotations

import pickle

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from featforge import WindowAggregator, WindowSpec, window_features

SPEC = WindowSpec(
    key="CustomerID",
    time="InvoiceDate",
    aggs={"UnitPrice": ["count", "sum", "mean", "min", "max", "last", "std"], "Quantity": ["sum"]},
    windows=["1h", "1d", "7d"],
)


def batches(table: pa.Table, seed: int):
    rng = np.random.default_rng(seed)
    start = 0
    while start < table.num_rows:
        size = int(rng.choice([1, 7, 100, 2500, 20000]))
        yield table.slice(start, size)
        start += size


@pytest.fixture(scope="module")
def retail(online_retail):
    # time-ordered (the file is sorted by InvoiceDate); a slice keeps the test quick
    return online_retail.select(["CustomerID", "InvoiceDate", "UnitPrice", "Quantity"]).slice(
        0, 120_000
    )


@pytest.fixture(scope="module")
def backfilled(retail):
    return window_features(retail, SPEC)


def test_streaming_in_random_batches_equals_backfill(retail, backfilled):
    agg = WindowAggregator(SPEC)
    out = pa.concat_tables([agg.transform(b) for b in batches(retail, 1)])
    assert out.equals(backfilled)  # bit for bit
    assert agg.stats()["events"] == retail.column("CustomerID").drop_null().__len__()
    assert agg.stats()["late_dropped"] == 0


def test_checkpoint_in_the_middle_restores_exactly(retail, backfilled, tmp_path):
    parts = list(batches(retail, 2))
    half = len(parts) // 2
    agg = WindowAggregator(SPEC)
    first = [agg.transform(b) for b in parts[:half]]
    agg.save(tmp_path / "ckpt")
    restored = WindowAggregator.load(tmp_path / "ckpt")
    pickled = pickle.loads(pickle.dumps(agg))
    rest = [restored.transform(b) for b in parts[half:]]
    assert pa.concat_tables(first + rest).equals(backfilled)
    assert pa.concat_tables(first + [pickled.transform(b) for b in parts[half:]]).equals(backfilled)


def test_ttl_changes_no_result(retail, backfilled):
    agg = WindowAggregator(SPEC, ttl="8d")
    out = pa.concat_tables([agg.transform(b) for b in batches(retail, 3)])
    assert out.equals(backfilled)
    assert agg.stats()["expired_keys"] > 0
    with pytest.raises(ValueError, match="ttl must be at least"):
        WindowAggregator(SPEC, ttl="1d").transform(retail.slice(0, 10))


def test_query_equals_backfill_for_a_row_at_that_time(retail):
    agg = WindowAggregator(SPEC)
    for b in batches(retail, 4):
        agg.transform(b)
    last_time = retail.column("InvoiceDate")[-1].value + 60_000  # a minute after the stream
    customers = pa.array([17850, 13047, 12583, None, 99999], pa.int64())
    got = agg.query(customers, at=last_time)
    probe = pa.table(
        {
            "CustomerID": customers,
            "InvoiceDate": pa.array([last_time] * len(customers), pa.timestamp("ms")),
            "UnitPrice": pa.array([None] * len(customers), pa.float64()),
            "Quantity": pa.array([None] * len(customers), pa.int64()),
        }
    )
    expected = window_features(pa.concat_tables([retail, probe]), SPEC).slice(retail.num_rows)
    for name in SPEC.output_names():
        assert got.column(name).to_pylist() == expected.column(name).to_pylist(), name


def test_late_events_are_counted_or_raise():
    spec = WindowSpec(key="k", time="t", aggs={"v": ["sum"]}, windows=[100])
    agg = WindowAggregator(spec, allowed_lateness=5)
    agg.transform(pa.table({"k": [1, 1], "t": [10, 50], "v": [1.0, 2.0]}))
    out = agg.transform(pa.table({"k": [1, 1, 2], "t": [30, 47, 5], "v": [9.0, 4.0, 1.0]}))
    # t=30 is late (50 - 5 > 30): dropped, null features; t=47 is out of order but in time
    assert out.column("v_sum_100").to_pylist() == [None, 1.0, 0.0]
    assert agg.stats()["late_dropped"] == 1 and agg.stats()["out_of_order"] == 1
    later = agg.transform(pa.table({"k": [1], "t": [60], "v": [0.0]}))
    assert later.column("v_sum_100").to_pylist() == [1.0 + 4.0 + 2.0]  # it sees the inserted 47
    strict = WindowAggregator(spec, late="raise")
    strict.transform(pa.table({"k": [1], "t": [50], "v": [1.0]}))
    with pytest.raises(ValueError, match="late event at row 1"):
        strict.transform(pa.table({"k": [2, 1], "t": [60, 40], "v": [1.0, 1.0]}))
    assert strict.stats()["keys"] == 1  # nothing of the failed batch was applied


def test_corrupt_checkpoint(tmp_path):
    spec = WindowSpec(key="k", time="t", aggs={"v": ["sum"]}, windows=[100])
    agg = WindowAggregator(spec)
    agg.transform(pa.table({"k": [1, 2], "t": [10, 50], "v": [1.0, 2.0]}))
    agg.save(tmp_path / "c")
    data = (tmp_path / "c").read_bytes()
    (tmp_path / "t").write_bytes(data[:-30])
    with pytest.raises(ValueError, match="truncated|corrupt"):
        WindowAggregator.load(tmp_path / "t")
    flipped = bytearray(data)
    flipped[-40] ^= 0xFF
    (tmp_path / "f").write_bytes(bytes(flipped))
    with pytest.raises(ValueError, match="corrupt"):
        WindowAggregator.load(tmp_path / "f")
    (tmp_path / "g").write_bytes(b"garbage" * 10)
    with pytest.raises(ValueError):
        WindowAggregator.load(tmp_path / "g")


def test_bad_arguments():
    spec = WindowSpec(key="k", time="t", aggs={"v": ["sum"]}, windows=[100])
    with pytest.raises(ValueError, match="late must be"):
        WindowAggregator(spec, late="ignore")
    with pytest.raises(TypeError, match="spec must be a WindowSpec"):
        WindowAggregator({"key": "k"})
    agg = WindowAggregator(spec)
    with pytest.raises(KeyError, match="'v'"):
        agg.transform(pa.table({"k": [1], "t": [1]}))
    with pytest.raises(ValueError, match="before any transform"):
        agg.query(pa.array([1]), at=5)


def test_query_is_bit_for_bit_the_backfill_probe_row_for_every_key(retail):
    """Every customer, every aggregation (std included: its running value, not a rescan)."""
    spec = WindowSpec(
        key="CustomerID",
        time="InvoiceDate",
        aggs={"UnitPrice": ["count", "sum", "mean", "min", "max", "last", "std"]},
        windows=["1h", "7d", "30d"],
    )
    agg = WindowAggregator(spec)
    for b in batches(retail, 3):
        agg.transform(b)
    customers = pc.unique(retail.column("CustomerID").drop_null())
    for after_ms in (0, 60_000, 10 * 86_400_000):  # at the last event, a minute, ten days later
        at = retail.column("InvoiceDate")[-1].value + after_ms
        got = agg.query(customers, at=at)
        probe = pa.table(
            {
                "CustomerID": customers,
                "InvoiceDate": pa.array([at] * len(customers), pa.timestamp("ms")),
                "UnitPrice": pa.array([None] * len(customers), pa.float64()),
                "Quantity": pa.array([None] * len(customers), pa.int64()),
            }
        )
        whole = pa.concat_tables([retail, probe.cast(retail.schema)])
        expected = window_features(whole, spec).slice(retail.num_rows)
        for name in spec.output_names():
            assert got.column(name).equals(expected.column(name)), (after_ms, name)
