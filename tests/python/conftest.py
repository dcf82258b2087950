from __future__ import annotations

import math
import os
import struct
from pathlib import Path

import mmh3
import numpy as np
import pyarrow as pa
import pytest
import xxhash

# The shared dataset (UCI Online Retail, CC BY 4.0): Chen, D. (2015). Online Retail [Dataset].
# UCI Machine Learning Repository. https://doi.org/10.24432/C5BW33
SHARED = Path(os.environ.get("FEATFORGE_SHARED", Path(__file__).resolve().parents[3] / "shared"))
DATASET = SHARED / "datasets" / "online_retail.parquet"


@pytest.fixture(scope="session")
def online_retail() -> pa.Table:
    if not DATASET.exists():
        if os.environ.get("CI") == "true":  # CI always has shared/: a missing dataset is an error
            pytest.fail(f"dataset not found at {DATASET}")
        pytest.skip(f"dataset not found at {DATASET}")
    import pyarrow.parquet as pq

    return pq.read_table(DATASET)


def canonical_bytes(value, dtype: pa.DataType) -> bytes:
    """The bytes featforge hashes for one Python value of Arrow type `dtype` (docs/design.md §4)."""
    if (
        pa.types.is_string(dtype)
        or pa.types.is_large_string(dtype)
        or pa.types.is_string_view(dtype)
    ):
        return value.encode("utf-8")
    if (
        pa.types.is_binary(dtype)
        or pa.types.is_large_binary(dtype)
        or pa.types.is_binary_view(dtype)
    ):
        return bytes(value)
    if pa.types.is_boolean(dtype):
        return b"\x01" if value else b"\x00"
    if pa.types.is_integer(dtype):
        return int(value).to_bytes(
            dtype.bit_width // 8, "little", signed=pa.types.is_signed_integer(dtype)
        )
    if pa.types.is_floating(dtype):
        fmt = {16: "<e", 32: "<f", 64: "<d"}[dtype.bit_width]
        if math.isnan(value):
            return {16: b"\x00\x7e", 32: b"\x00\x00\xc0\x7f", 64: b"\x00" * 6 + b"\xf8\x7f"}[
                dtype.bit_width
            ]
        if value == 0:
            value = 0.0
        return struct.pack(fmt, value)
    raise AssertionError(f"no oracle encoding for {dtype}")


ORACLES = {
    "xxh64": lambda b, seed: xxhash.xxh64_intdigest(b, seed),
    "xxh3": lambda b, seed: xxhash.xxh3_64_intdigest(b, seed),
    "murmur3": lambda b, seed: mmh3.hash(b, seed),
}


def oracle_hashes(array: pa.Array, algo: str, seed: int = 0) -> list:
    """Expected featforge.hash output for a flat array, computed by the reference packages."""
    dtype = array.type
    storage = array
    if pa.types.is_timestamp(dtype) or pa.types.is_date(dtype) or pa.types.is_duration(dtype):
        width = dtype.bit_width
        storage = array.cast(pa.int64() if width == 64 else pa.int32())
        dtype = storage.type
    out = []
    for v in storage.to_pylist():
        out.append(None if v is None else ORACLES[algo](canonical_bytes(v, dtype), seed))
    return out


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261127)
