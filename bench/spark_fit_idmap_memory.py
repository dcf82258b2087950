"""Peak memory of featforge.spark.fit_idmap: the shuffle by key (each task counts a disjoint set
of keys, the driver receives each key once) against merging every partition's whole map on the
driver (order=None, the 0.1 approach). Each approach runs in its own driver process, so the peak
RSS of that process is its own; Python workers report theirs through the data.

    python bench/spark_fit_idmap_memory.py [distinct_keys] [partitions]

Local Spark (local[2]); keys are strings, each appearing twice, shuffled across the partitions.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time


def run(approach: str, distinct: int, partitions: int) -> dict:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from featforge import spark as ffspark
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(partitions))
        .config("spark.driver.memory", "6g")
        .config("spark.driver.maxResultSize", "0")
        .getOrCreate()
    )
    ids = spark.range(2 * distinct).select(
        F.concat(F.lit("user_"), (F.col("id") % distinct).cast("string")).alias("key")
    )
    df = ids.repartition(partitions).cache()
    df.count()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    order = "frequency" if approach == "shuffle" else None
    vocabulary = ffspark.fit_idmap(df, "key", order=order)
    if order is None:
        vocabulary.freeze("frequency")
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    spark.stop()
    return {
        "approach": approach,
        "keys": len(vocabulary),
        "seconds": round(seconds, 1),
        "driver_python_peak_mb": round(after / 1024),
        "driver_python_growth_mb": round((after - before) / 1024),
    }


def main() -> None:
    distinct = int(sys.argv[1]) if len(sys.argv) > 1 else 5_000_000
    partitions = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    if len(sys.argv) > 3:
        print(json.dumps(run(sys.argv[3], distinct, partitions)))
        return
    for approach in ("shuffle", "merge"):
        out = subprocess.run(
            [sys.executable, __file__, str(distinct), str(partitions), approach],
            capture_output=True,
            text=True,
        )
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        print(lines[-1] if lines else out.stderr[-2000:])


if __name__ == "__main__":
    main()
