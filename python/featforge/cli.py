"""The ``featforge`` command."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import __version__, datagen
from ._progress import Progress
from .hashing import fid, hash_bucket

# The demo's feature set: (output column, input column, function, arguments).
DEMO_FEATURES = [
    ("user_fid", "user_id", fid, {"slot": 1}),
    ("item_fid", "item_id", fid, {"slot": 2}),
    ("country_bucket", "country", hash_bucket, {"num_buckets": 64}),
    ("category_bucket", "category", hash_bucket, {"num_buckets": 32}),
    ("query_bucket", "query", hash_bucket, {"num_buckets": 1 << 18}),
    ("event_bucket", "event", hash_bucket, {"num_buckets": 8, "algo": "murmur3"}),
]


def _demo_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    columns = {name: batch.column(name) for name in batch.schema.names}
    for out, column, fn, kwargs in DEMO_FEATURES:
        kwargs = dict(kwargs)
        arg = kwargs.pop("slot", None) or kwargs.pop("num_buckets")
        columns[out] = fn(batch.column(column), arg, **kwargs)
    return pa.record_batch(columns)


def demo(args: argparse.Namespace) -> int:
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    out_file = out_dir / "features.parquet"
    print(
        f"featforge {__version__} demo: {args.rows:,} synthetic e-commerce events "
        f"(seed {args.seed}) -> {out_file}",
        file=sys.stderr,
    )
    progress = Progress(args.rows)
    started = time.perf_counter()
    kernel_seconds = 0.0
    writer = None
    rows = 0
    try:
        for batch in datagen.events(args.rows, batch_rows=args.batch_rows, seed=args.seed):
            t = time.perf_counter()
            features = _demo_batch(batch)
            kernel_seconds += time.perf_counter() - t
            if writer is None:
                writer = pq.ParquetWriter(out_file, features.schema)
            writer.write_batch(features)
            rows += batch.num_rows
            progress.update(batch.num_rows)
    finally:
        if writer is not None:
            writer.close()
        progress.close()
    elapsed = time.perf_counter() - started
    table = pq.read_table(out_file, columns=[f[0] for f in DEMO_FEATURES])
    print("\nSummary", file=sys.stdout)
    print(f"  rows written       {rows:,}", file=sys.stdout)
    print(f"  output             {out_file} ({out_file.stat().st_size / 1e6:.1f} MB)")
    print(f"  wall time          {elapsed:.2f} s ({rows / elapsed:,.0f} rows/s end to end)")
    print(f"  featforge kernels  {kernel_seconds:.2f} s ({rows / max(kernel_seconds, 1e-9):,.0f} rows/s)")
    print("  features (distinct values / nulls):")
    for name, column, _, _ in DEMO_FEATURES:
        col = table.column(name)
        distinct = pc.count_distinct(col).as_py()
        print(f"    {name:<16} from {column:<9} {distinct:>9,} distinct  {col.null_count:>8,} null")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="featforge",
        description="Fast, bit-exact feature computation for recommendation systems.",
    )
    parser.add_argument("--version", action="version", version=f"featforge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="compute features over generated e-commerce events")
    p.add_argument("--rows", type=int, default=1_000_000, help="events to generate (default 1M)")
    p.add_argument("--batch-rows", type=int, default=100_000, help="rows per batch")
    p.add_argument("--seed", type=int, default=0, help="data generator seed")
    p.add_argument(
        "--output", default="featforge-demo-output", help="output folder (default ./featforge-demo-output)"
    )
    p.set_defaults(func=demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "rows", 1) < 1:
        parser.error("--rows must be >= 1")
    if getattr(args, "batch_rows", 1) < 1:
        parser.error("--batch-rows must be >= 1")
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
