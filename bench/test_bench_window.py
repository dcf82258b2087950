"""window_features against polars rolling(group_by=...) on 2M events, 100k Zipf keys, windows
1h/1d/7d x count/sum/mean/max; plus streaming throughput and state bytes per key."""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from conftest import N, median
from featforge import WindowAggregator, WindowSpec, datagen, window_features

EVENTS = max(N // 5, 1000)  # 2M at the default N = 10M
KEYS = max(EVENTS // 20, 10)
SPEC = WindowSpec(
    key="user",
    time="ts",
    aggs={"price": ["sum", "mean", "max"]},
    windows=["1h", "1d", "7d"],
    closed="left",
)


@pytest.fixture(scope="module")
def events() -> pa.Table:
    rng = np.random.default_rng(7)
    users = datagen._zipf_ids(rng, EVENTS, KEYS, 1.0)
    ts = np.sort(rng.integers(0, 30 * 86400 * 1000, size=EVENTS))  # 30 days, ms
    price = np.round(rng.lognormal(1.2, 0.9, size=EVENTS), 2)
    return pa.table(
        {
            "user": pa.array(users, pa.int64()),
            "ts": pa.array(ts, pa.timestamp("ms")),
            "price": pa.array(price),
        }
    )


def run(benchmark, fn, *args):
    return benchmark.pedantic(fn, args=args, rounds=5, iterations=1, warmup_rounds=1)


@pytest.mark.benchmark(group="window-backfill")
def test_featforge_window_features(benchmark, events):
    out = run(benchmark, window_features, events, SPEC)
    assert out.num_rows == events.num_rows


@pytest.mark.benchmark(group="window-backfill")
def test_polars_rolling_group_by(benchmark, events):
    df = pl.from_arrow(events)

    def polars_features(frame: pl.DataFrame) -> pl.DataFrame:
        # the same features; rolling needs the frame sorted by key then time
        sorted_frame = frame.sort(["user", "ts"])
        parts = []
        for period in ["1h", "1d", "7d"]:
            parts.append(
                sorted_frame.rolling(
                    index_column="ts", period=period, group_by="user", closed="left"
                )
                .agg(
                    pl.len().alias(f"count_{period}"),
                    pl.col("price").sum().alias(f"price_sum_{period}"),
                    pl.col("price").mean().alias(f"price_mean_{period}"),
                    pl.col("price").max().alias(f"price_max_{period}"),
                )
                .drop(["user", "ts"])
            )
        return pl.concat([sorted_frame, *parts], how="horizontal")

    out = run(benchmark, polars_features, df)
    assert out.height == events.num_rows


@pytest.mark.benchmark(group="window-streaming")
def test_featforge_streaming(benchmark, events):
    batches = events.to_batches(max_chunksize=10_000)

    def stream():
        agg = WindowAggregator(SPEC)
        for b in batches:
            agg.transform(b)
        return agg

    agg = run(benchmark, stream)
    stats = agg.stats()
    benchmark.extra_info["events_per_second"] = EVENTS / median(benchmark)
    benchmark.extra_info["state_bytes_per_key"] = stats["bytes"] / max(stats["keys"], 1)
