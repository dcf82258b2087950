"""Produce tests/python/data/spark_golden.json with a real local Spark (pip install pyspark;
Java 17). Run: python tools/gen_spark_golden.py tests/python/data/spark_golden.json
"""

import json
import os

os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
import sys

os.environ["PYSPARK_PYTHON"] = sys.executable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
spark.sparkContext.setLogLevel("ERROR")
out = {"spark_version": spark.version}
strings = [
    "",
    "a",
    "ab",
    "abc",
    "abcd",
    "abcde",
    "featforge",
    "United Kingdom",
    "85123A",
    "é",
    "日本語",
    "\u00ff\u00fe",
    "WHITE HANGING HEART T-LIGHT HOLDER",
    None,
]
ints = [0, 1, -1, 42, 2**31 - 1, -(2**31), 123456, None]
longs = [0, 1, -1, 2**63 - 1, -(2**63), 1234567890123, None]
df = spark.createDataFrame(
    [(s,) for s in strings], T.StructType([T.StructField("s", T.StringType())])
)
out["string"] = [(r[0], r[1], r[2]) for r in df.select("s", F.hash("s"), F.xxhash64("s")).collect()]
df = spark.createDataFrame(
    [(s,) for s in ints], T.StructType([T.StructField("i", T.IntegerType())])
)
out["int32"] = [(r[0], r[1], r[2]) for r in df.select("i", F.hash("i"), F.xxhash64("i")).collect()]
df = spark.createDataFrame([(s,) for s in longs], T.StructType([T.StructField("l", T.LongType())]))
out["int64"] = [(r[0], r[1], r[2]) for r in df.select("l", F.hash("l"), F.xxhash64("l")).collect()]
df = spark.createDataFrame(
    [(s,) for s in [0, 1, -1, 127, -128, None]], T.StructType([T.StructField("b", T.ByteType())])
)
out["int8"] = [(r[0], r[1], r[2]) for r in df.select("b", F.hash("b"), F.xxhash64("b")).collect()]
df = spark.createDataFrame(
    [(s,) for s in [0, 1, -1, 32767, -32768, None]],
    T.StructType([T.StructField("h", T.ShortType())]),
)
out["int16"] = [(r[0], r[1], r[2]) for r in df.select("h", F.hash("h"), F.xxhash64("h")).collect()]
df = spark.createDataFrame(
    [(s,) for s in [True, False, None]], T.StructType([T.StructField("t", T.BooleanType())])
)
out["bool"] = [(r[0], r[1], r[2]) for r in df.select("t", F.hash("t"), F.xxhash64("t")).collect()]
df = spark.createDataFrame(
    [(s,) for s in [b"", b"\x00", b"\xff\x80\x01", b"abcde"]],
    T.StructType([T.StructField("z", T.BinaryType())]),
)
out["binary"] = [
    (r[0].hex(), r[1], r[2]) for r in df.select("z", F.hash("z"), F.xxhash64("z")).collect()
]
json.dump(
    out,
    open(sys.argv[1] if len(sys.argv) > 1 else "spark_golden.json", "w"),
    ensure_ascii=False,
    indent=1,
)
print(out["spark_version"])
