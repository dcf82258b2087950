"""Keras' ``Hashing`` layer and ``HashedCrossing``, bit for bit, without TensorFlow.

- ``Hashing(num_bins, mask_value=None, salt=None)``: FarmHash Fingerprint64 of each value modulo
  ``num_bins`` (``tf.strings.to_hash_bucket_fast``); with a ``salt``, SipHash-2-4 keyed by
  ``(salt[0], salt[1])`` (an int salt ``s`` means ``(s, s)``), as ``to_hash_bucket_strong``.
  With ``mask_value`` the mask goes to bin 0 and other values to ``1 + hash % (num_bins - 1)``.
  Integers are hashed as their decimal strings and floats are truncated to int64 first, as Keras
  does.
- ``hashed_crossing(columns, num_bins)``: Keras' ``HashedCrossing`` / ``tf.sparse.cross_hashed``
  (strings by Fingerprint64, integers by value, combined with FingerprintCat64 from the key
  ``0xDECAFCAFFE``).

Checked against golden vectors produced by TensorFlow 2.21 / Keras 3.15.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .. import _core
from .._arrow import call_kernel, to_pyarrow, wrap_result
from ..hashing import _columns_of


def _normalise_salt(salt: Any) -> tuple[int, int] | None:
    if salt is None:
        return None
    if isinstance(salt, bool):
        raise ValueError(f"salt must be an int or a pair of ints, got {salt!r}")
    if isinstance(salt, int):
        salt = (salt, salt)
    if (
        not isinstance(salt, Sequence)
        or len(salt) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in salt)
    ):
        raise ValueError(f"salt must be an int or a pair of ints, got {salt!r}")
    if not all(0 <= s < 2**64 for s in salt):
        raise ValueError(f"salt values must be in [0, 2**64), got {salt!r}")
    return (int(salt[0]), int(salt[1]))


def _check_bins(num_bins: Any) -> None:
    if isinstance(num_bins, bool) or not isinstance(num_bins, int):
        raise TypeError(f"num_bins must be an int, got {type(num_bins).__name__}")
    if num_bins < 1:
        raise ValueError(f"num_bins must be >= 1, got {num_bins}")


class Hashing:
    """Drop-in for ``keras.layers.Hashing`` (``output_mode="int"``), returning pyarrow int64."""

    def __init__(
        self,
        num_bins: int,
        mask_value: Any = None,
        salt: Any = None,
        output_mode: str = "int",
        sparse: bool = False,
    ) -> None:
        _check_bins(num_bins)
        if output_mode != "int" or sparse:
            raise NotImplementedError("featforge.compat.keras.Hashing supports output_mode='int'")
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.salt = _normalise_salt(salt)

    def __call__(self, inputs: Any) -> Any:
        values = to_pyarrow(inputs, "inputs")
        if pa.types.is_floating(values.type):
            values = pc.cast(pc.trunc(values), pa.int64())  # Keras: floats -> int64 first
        mask = None if self.mask_value is None else str(self.mask_value)
        if isinstance(self.mask_value, bytes):
            mask = self.mask_value.decode("utf-8")
        result = call_kernel(_core.keras_hashing, values, "inputs", self.num_bins, mask, self.salt)
        return result


def hashed_crossing(columns: Any, num_bins: int) -> Any:
    """Keras ``HashedCrossing(num_bins)`` over two or more columns, as pyarrow int64."""
    _check_bins(num_bins)
    cols = [to_pyarrow(c, f"columns[{i}]") for i, c in enumerate(_columns_of(columns))]
    if len(cols) < 2:
        raise ValueError(f"columns: hashed_crossing needs at least two columns, got {len(cols)}")
    if len({len(c) for c in cols}) != 1:
        raise ValueError(f"columns: columns must have equal lengths, got {[len(c) for c in cols]}")
    names = [f"c{i}" for i in range(len(cols))]
    table = pa.Table.from_arrays(cols, names=names).combine_chunks()
    batch = (
        table.to_batches()[0]
        if table.num_rows
        else pa.RecordBatch.from_arrays([pa.array([], c.type) for c in cols], names=names)
    )
    try:
        result = _core.keras_hashed_crossing(batch, num_bins)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"columns: {exc}") from None
    return wrap_result(result, pa.array([0]))
