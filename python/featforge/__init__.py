"""featforge: fast, bit-exact feature computation for recommendation systems.

Feature hashing, sparse ID mapping and sliding-window aggregation over Arrow data, computed by a
C++ core identically offline and online.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("featforge")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

from . import compat, steps  # noqa: E402
from .hashing import (  # noqa: E402
    cross,
    fid,
    get_num_threads,
    hash,
    hash_bucket,
    set_num_threads,
    text_hash,
)
from .idmap import IdMap  # noqa: E402
from .pipeline import Pipeline, StepError  # noqa: E402
from .window import WindowAggregator, WindowSpec, window_features  # noqa: E402

__all__ = [
    "IdMap",
    "Pipeline",
    "StepError",
    "WindowAggregator",
    "WindowSpec",
    "__version__",
    "compat",
    "cross",
    "fid",
    "get_num_threads",
    "hash",
    "hash_bucket",
    "set_num_threads",
    "steps",
    "text_hash",
    "window_features",
]
