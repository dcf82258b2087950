"""Arrow in, Arrow out: normalising user inputs and wrapping core results as pyarrow objects.

Inputs cross into the C++ core through the Arrow PyCapsule protocol (``__arrow_c_array__`` /
``__arrow_c_stream__``), so pyarrow, polars, pandas and DuckDB objects are read without a copy.
NumPy arrays and Python sequences are converted with ``pyarrow.array`` first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa

_ACCEPTED = (
    "an Arrow array, chunked array, record batch or table (any object with __arrow_c_array__ or "
    "__arrow_c_stream__: pyarrow, polars, pandas, DuckDB), a numpy array or a list"
)


def as_arrow_source(values: Any, argname: str) -> Any:
    """Return an object the core can import through the PyCapsule protocol."""
    if hasattr(values, "__arrow_c_array__") or hasattr(values, "__arrow_c_stream__"):
        return values
    if isinstance(values, (np.ndarray, list, tuple, range)):
        if isinstance(values, np.ndarray) and values.ndim != 1:
            raise TypeError(f"{argname}: expected a 1-dimensional array, got shape {values.shape}")
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise TypeError(f"{argname}: could not convert to an Arrow array: {exc}") from None
    raise TypeError(f"{argname}: expected {_ACCEPTED}; got {type(values).__name__}")


def wrap_result(result: Any, source: Any) -> Any:
    """Turn what the core returned into pyarrow, in the shape of the input.

    Array in -> Array out; stream (ChunkedArray, polars Series) -> ChunkedArray; RecordBatch ->
    RecordBatch; Table / DataFrame -> Table. The core's buffers are adopted without a copy.
    """
    if isinstance(result, tuple):  # a stream: (chunks, schema holder)
        holders, schema_holder = result
        dtype = pa.field(schema_holder).type
        chunks = [pa.array(h) for h in holders]
        if pa.types.is_struct(dtype) and _tabular_input(source):
            schema = pa.schema(list(dtype))
            return pa.Table.from_batches(
                [pa.RecordBatch.from_struct_array(c) for c in chunks], schema=schema
            )
        return pa.chunked_array(chunks, type=dtype)
    array = pa.array(result)
    if pa.types.is_struct(array.type) and _tabular_input(source):
        return pa.RecordBatch.from_struct_array(array)
    return array


def to_pyarrow(values: Any, argname: str) -> pa.Array | pa.ChunkedArray:
    """`values` as a pyarrow Array (array-like input) or ChunkedArray (streams), zero-copy."""
    source = as_arrow_source(values, argname)
    if isinstance(source, (pa.Array, pa.ChunkedArray)):
        return source
    if hasattr(source, "__arrow_c_array__"):
        return pa.array(source)
    return pa.chunked_array(source)


def _tabular_input(source: Any) -> bool:
    if isinstance(source, (pa.RecordBatch, pa.Table)):
        return True
    if isinstance(source, (pa.Array, pa.ChunkedArray)):
        return False
    # polars DataFrame, pandas DataFrame, DuckDB relations: tabular if they look like frames.
    return hasattr(source, "columns")


def call_kernel(kernel: Callable[..., Any], values: Any, argname: str, *args: Any) -> Any:
    """Run a core kernel on `values`, naming `argname` in any error about the data."""
    source = as_arrow_source(values, argname)
    try:
        result = kernel(source, *args)
    except TypeError as exc:
        raise TypeError(f"{argname}: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{argname}: {exc}") from None
    return wrap_result(result, values)
