"""Pipeline throughput on the demo data (rows/s) and the share of time spent in C++ kernels
versus Python glue (argument checks, Arrow wrapping, table assembly)."""

from __future__ import annotations

import cProfile
import pstats

import pyarrow as pa
import pytest
from conftest import N, median
from featforge import Pipeline, cli, datagen

ROWS = max(N // 10, 10_000)  # 1M rows at the default N = 10M


@pytest.fixture(scope="module")
def demo_table() -> pa.Table:
    return pa.Table.from_batches(list(datagen.events(ROWS, batch_rows=131_072, seed=1)))


@pytest.fixture(scope="module")
def history_and_new() -> tuple[pa.Table, pa.Table]:
    """Two consecutive stretches of the demo log: fit on the first, score the second."""
    table = pa.Table.from_batches(list(datagen.events(2 * ROWS, batch_rows=131_072, seed=1)))
    return table.slice(0, ROWS), table.slice(ROWS)


def core_share(fn) -> float:
    """Fraction of fn's time inside featforge._core (C++ with the GIL released)."""
    profile = cProfile.Profile()
    profile.enable()
    fn()
    profile.disable()
    stats = pstats.Stats(profile)
    total = stats.total_tt
    core = sum(
        tt
        for (filename, _, name), (_, _, tt, _, _) in stats.stats.items()
        if filename == "~" and ("_core" in name or "featforge._core" in name)
    )
    return core / total if total else 0.0


@pytest.mark.benchmark(group="pipeline")
def test_demo_pipeline_fit_transform(benchmark, demo_table):
    """Training data: fit the vocabularies and window state, features from empty state."""

    def fit_transform():
        return Pipeline.from_spec(cli.DEMO_SPEC).fit_transform(demo_table)

    out = benchmark.pedantic(fit_transform, rounds=3, iterations=1, warmup_rounds=1)
    assert out.num_rows == ROWS
    benchmark.extra_info["rows_per_second"] = ROWS / median(benchmark)
    benchmark.extra_info["share_in_cpp"] = core_share(fit_transform)


@pytest.mark.benchmark(group="pipeline")
def test_demo_pipeline_transform(benchmark, history_and_new):
    """Scoring new data with a fitted pipeline: windows continue from the history's state."""
    history, new = history_and_new
    pipeline = Pipeline.from_spec(cli.DEMO_SPEC).fit(history)
    out = benchmark.pedantic(
        pipeline.transform, args=(new,), rounds=3, iterations=1, warmup_rounds=1
    )
    assert out.num_rows == ROWS
    benchmark.extra_info["rows_per_second"] = ROWS / median(benchmark)
    benchmark.extra_info["share_in_cpp"] = core_share(lambda: pipeline.transform(new))


@pytest.mark.benchmark(group="pipeline")
def test_demo_pipeline_streaming(benchmark, history_and_new):
    history, new = history_and_new
    pipeline = Pipeline.from_spec(cli.DEMO_SPEC).fit(history)

    def stream():
        return sum(b.num_rows for b in pipeline.transform(new.to_reader(max_chunksize=131_072)))

    rows = benchmark.pedantic(stream, rounds=3, iterations=1, warmup_rounds=1)
    assert rows == ROWS
    benchmark.extra_info["rows_per_second"] = ROWS / median(benchmark)
    benchmark.extra_info["share_in_cpp"] = core_share(stream)
