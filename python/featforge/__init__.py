"""featforge: fast, bit-exact feature computation for recommendation systems.

Feature hashing, sparse ID mapping and sliding-window aggregation over Arrow data, computed by a
C++ core identically offline and online.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import compat
from .idmap import IdMap
from .window import WindowAggregator, WindowSpec, window_features
from .hashing import cross, fid, get_num_threads, hash, hash_bucket, set_num_threads, text_hash

try:
    __version__ = version("featforge")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = [
    "IdMap",
    "__version__",
    "compat",
    "cross",
    "fid",
    "get_num_threads",
    "hash",
    "hash_bucket",
    "set_num_threads",
    "text_hash",
    "window_features",
    "WindowAggregator",
    "WindowSpec",
]
