"""featforge.compat.spark equals Spark SQL hash()/xxhash64().

The golden file was produced by a real Spark (version recorded in it) with
tools/gen_spark_golden.py; if pyspark is installed, the live test recomputes with Spark itself.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from featforge.compat import spark

GOLDEN = json.loads((Path(__file__).parent / "data" / "spark_golden.json").read_text())
TYPES = {
    "string": pa.string(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "int8": pa.int8(),
    "int16": pa.int16(),
    "bool": pa.bool_(),
}


@pytest.mark.parametrize("kind", list(TYPES) + ["binary"])
def test_spark_golden_vectors(kind):
    rows = GOLDEN[kind]
    values = [bytes.fromhex(r[0]) for r in rows] if kind == "binary" else [r[0] for r in rows]
    arr = pa.array(values, pa.binary() if kind == "binary" else TYPES[kind])
    assert spark.hash(arr).to_pylist() == [r[1] for r in rows]
    assert spark.xxhash64(arr).to_pylist() == [r[2] for r in rows]
    assert spark.hash(arr).type == pa.int32()
    assert spark.xxhash64(arr).type == pa.int64()


def test_spark_string_layouts_agree():
    values = [r[0] for r in GOLDEN["string"]]
    expected = [r[1] for r in GOLDEN["string"]]
    for dtype in (pa.large_string(), pa.string_view()):
        assert spark.hash(pa.array(values, dtype)).to_pylist() == expected
    sliced = pa.array(["pad"] + values, pa.string()).slice(1)
    assert spark.hash(sliced).to_pylist() == expected


def test_spark_unsupported_type():
    with pytest.raises(TypeError, match="values: Spark-compatible hashing supports"):
        spark.hash(pa.array([1.5]))


@pytest.mark.skipif(
    os.environ.get("FEATFORGE_SPARK_LIVE") != "1", reason="set FEATFORGE_SPARK_LIVE=1 to run Spark"
)
def test_spark_live_random_strings():
    pyspark = pytest.importorskip("pyspark")
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    rng = np.random.default_rng(0)
    alphabet = list("abcXYZ019 é日")
    values = ["".join(rng.choice(alphabet, size=k)) for k in rng.integers(0, 40, size=500)]
    session = (
        SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
    )
    try:
        df = session.createDataFrame([(v, i) for i, v in enumerate(values)], "s string, i long")
        rows = df.select(F.hash("s"), F.xxhash64("s"), F.hash("i"), F.xxhash64("i")).collect()
    finally:
        session.stop()
    assert spark.hash(pa.array(values)).to_pylist() == [r[0] for r in rows]
    assert spark.xxhash64(pa.array(values)).to_pylist() == [r[1] for r in rows]
    ids = pa.array(range(len(values)), pa.int64())
    assert spark.hash(ids).to_pylist() == [r[2] for r in rows]
    assert spark.xxhash64(ids).to_pylist() == [r[3] for r in rows]
    assert pyspark.__version__
