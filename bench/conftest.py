"""Benchmark setup shared by every bench module.

Peers and featforge run single-threaded unless a benchmark's name says otherwise, so ratios
compare algorithms and not core counts: POLARS_MAX_THREADS must be set before polars is first
imported.
"""

from __future__ import annotations

import os

os.environ.setdefault("POLARS_MAX_THREADS", "1")
os.environ.setdefault("RAYON_NUM_THREADS", "1")

import featforge  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

# One thread unless a benchmark's name says otherwise (featforge's default is every CPU).
featforge.set_num_threads(1)

# Sizes default to the 10M; CI smoke-runs the same code with a small N.
N = int(os.environ.get("FEATFORGE_BENCH_N", "10000000"))


@pytest.fixture(scope="session")
def n() -> int:
    return N


@pytest.fixture(scope="session")
def int64_ids() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 2**62, size=N, dtype=np.int64)


@pytest.fixture(scope="session")
def short_strings() -> list[str]:
    rng = np.random.default_rng(2)
    # item-id-like strings of 6..12 characters ("item_123456")
    ids = rng.integers(0, 10**7, size=N)
    return [f"item_{i}" for i in ids.tolist()]


def median(benchmark) -> float:
    """The benchmark's median seconds, or NaN when timings are disabled (smoke runs)."""
    stats = getattr(benchmark, "stats", None)
    return stats.stats.median if stats else float("nan")
