"""TorchArrow's ``sigrid_hash(values, salt, max_value)``, bit for bit.

``hash_128_to_64(salt, twang_mix64(value))`` read as a signed int64, then its floor modulo
``max_value`` (``0`` when ``max_value == 1``), for int64 or list<int64> columns. Checked against
TorchArrow's published test vectors.
"""

from __future__ import annotations

from typing import Any

from .. import _core
from .._arrow import call_kernel


def sigrid_hash(values: Any, salt: int, max_value: int) -> Any:
    """Hash int64 ids (or lists of them) into ``[0, max_value)`` like TorchArrow/Velox."""
    for name, v in (("salt", salt), ("max_value", max_value)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    if not -(2**63) <= salt < 2**63:
        raise ValueError(f"salt must fit in int64, got {salt}")
    if not 0 < max_value < 2**63:
        raise ValueError(f"max_value must be in [1, 2**63), got {max_value}")
    return call_kernel(_core.sigrid_hash, values, "values", salt, max_value)
