"""Bit-exact equivalents of other libraries' feature hashing, so models trained with them keep
working when featforge computes the features (DESIGN.md section 3).

Submodules: :mod:`featforge.compat.sklearn`, :mod:`featforge.compat.spark`.
"""

from __future__ import annotations

from . import sklearn, spark

__all__ = ["sklearn", "spark"]
