"""Bit-exact equivalents of other libraries' feature hashing, so models trained with them keep
working when featforge computes the features (docs/design.md §5).

Submodules: keras, sklearn, spark, torcharrow.
"""

from __future__ import annotations

from . import keras, sklearn, spark, torcharrow

__all__ = ["keras", "sklearn", "spark", "torcharrow"]
