"""The ``featforge`` command: demo, run, fit, inspect, bench."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__, datagen
from .pipeline import Pipeline, StepError

# The demo's bundled pipeline: every step type, on the generated e-commerce log.
DEMO_SPEC = {
    "steps": [
        {"op": "hash", "column": "user_id", "out": "user_hash"},
        {"op": "hash_bucket", "column": "country", "num_buckets": 64, "out": "country_bucket"},
        {"op": "fid", "column": "item_id", "slot": 2, "out": "item_fid"},
        {
            "op": "cross",
            "columns": ["country", "category"],
            "num_buckets": 4096,
            "out": "country_x_category",
        },
        {
            "op": "text_hash",
            "column": "query",
            "num_buckets": 1 << 18,
            "ngram_range": [1, 2],
            "out": "query_tokens",
        },
        {"op": "id_map", "column": "item_id", "out": "item_idx", "min_count": 2},
        {
            "op": "window",
            "key": "user_id",
            "time": "event_time",
            "windows": ["1h", "1d", "7d"],
            "aggs": {"price": ["count", "mean", "max"], "quantity": ["sum"]},
            "closed": "left",
        },
        {"op": "drop", "columns": ["query"]},
    ]
}


def _print_summary(summary: dict, pipeline: Pipeline, out=None) -> None:
    out = out or sys.stdout
    print("\nSummary", file=out)
    print(f"  rows written       {summary['rows']:,}", file=out)
    print(f"  output             {summary['output']}", file=out)
    print(
        f"  wall time          {summary['seconds']:.2f} s "
        f"({summary['rows_per_second']:,.0f} rows/s)",
        file=out,
    )
    print("  time per step:", file=out)
    for name, seconds in summary["step_seconds"].items():
        print(f"    {name:<24} {seconds:7.3f} s", file=out)
    for name, vocab in summary["vocabulary"].items():
        print(
            f"  vocabulary {name:<14} {vocab['size']:,} ids, OOV rate {vocab['oov_rate']:.2%}",
            file=out,
        )
    print(f"  late events        {summary['late_events']:,}", file=out)


def demo(args: argparse.Namespace) -> int:
    out_dir = Path(args.output)
    pipeline = Pipeline.from_spec(DEMO_SPEC)
    print(
        f"featforge {__version__} demo: {args.rows:,} synthetic e-commerce events "
        f"(seed {args.seed}) -> {out_dir}",
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory(prefix="featforge-demo-") as tmp:
        source = Path(tmp) / "events.parquet"
        t = time.perf_counter()
        writer = None
        for batch in datagen.events(args.rows, batch_rows=args.batch_rows, seed=args.seed):
            if writer is None:
                writer = pq.ParquetWriter(source, batch.schema)
            writer.write_batch(batch)
        if writer is not None:
            writer.close()
        print(
            f"generated the event log in {time.perf_counter() - t:.2f} s; fitting and running "
            f"the bundled pipeline ({len(pipeline.steps)} steps)",
            file=sys.stderr,
        )
        summary = pipeline.run(source, out_dir, fit=True, batch_rows=args.batch_rows)
    pipeline.save(out_dir / "pipeline")
    _print_summary(summary, pipeline)
    print(f"  fitted pipeline    {out_dir / 'pipeline'} (featforge inspect it)")
    columns = ["user_id", "item_id", "item_idx", "country_x_category", "count_1d", "price_mean_1d"]
    sample = pq.read_table(out_dir / "part-00000.parquet", columns=columns).slice(0, 3)
    print("\nFirst rows:")
    _print_rows(sample)
    return 0


def _print_rows(table: pa.Table) -> None:
    """A small aligned text table (no pandas: it is not a dependency)."""
    cells = [[str(name) for name in table.column_names]]
    for row in table.to_pylist():
        cells.append(
            [
                "null" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)
                for v in row.values()
            ]
        )
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]
    for r in cells:
        print("  " + "  ".join(c.rjust(w) for c, w in zip(r, widths)))


def run(args: argparse.Namespace) -> int:
    if args.state:
        pipeline = Pipeline.load(args.state)
    else:
        pipeline = Pipeline.from_spec(args.spec)
    stateful = any(s.stateful for s in pipeline.steps)
    if stateful and not args.fit and not args.state:
        raise StepError(
            "this spec has stateful steps (id_map): pass --fit, or --state DIR from 'featforge fit'"
        )
    summary = pipeline.run(args.input, args.output, fit=args.fit, batch_rows=args.batch_rows)
    _print_summary(summary, pipeline)
    return 0


def fit(args: argparse.Namespace) -> int:
    pipeline = Pipeline.from_spec(args.spec)
    t = time.perf_counter()
    pipeline.fit(args.input)
    pipeline.save(args.state)
    print(
        f"fitted {len(pipeline.steps)} steps on {args.input} in {time.perf_counter() - t:.2f} s"
        f" -> {args.state}"
    )
    return 0


def inspect(args: argparse.Namespace) -> int:
    directory = Path(args.directory)
    meta = json.loads((directory / "pipeline.json").read_text())
    pipeline = Pipeline.load(directory)
    print(f"pipeline saved by featforge {meta['featforge']}: {len(pipeline.steps)} steps")
    for i, step in enumerate(pipeline.steps):
        args = {k: v for k, v in step.to_dict().items() if k != "op"}
        line = f"  {i}: {step.op:<12} {json.dumps(args)}"
        print(line)
        if step.op == "id_map" and step._map is not None:
            stats = step._map.stats()
            print(
                f"      vocabulary {len(step._map):,} ids, {stats['bytes'] / 1e6:.1f} MB, "
                f"OOV buckets {step.num_oov_buckets}, contract {step._map.contract}"
            )
    print("hash contract:")
    for key, value in meta["hash_contract"].items():
        print(f"  {key}: {value}")
    return 0


def bench(args: argparse.Namespace) -> int:
    """A quick throughput check of the demo pipeline; the peer comparisons live in bench/."""
    rows = args.rows
    table = pa.Table.from_batches(list(datagen.events(rows, batch_rows=100_000, seed=1)))
    pipeline = Pipeline.from_spec(DEMO_SPEC).fit(table)
    t = time.perf_counter()
    pipeline.transform(table)
    seconds = time.perf_counter() - t
    print(
        f"demo pipeline: {rows:,} rows in {seconds:.2f} s = {rows / seconds:,.0f} rows/s "
        "(peers side by side: pytest bench/ --benchmark-only)"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="featforge",
        description="Fast, bit-exact feature computation for recommendation systems.",
    )
    parser.add_argument("--version", action="version", version=f"featforge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="fit and run the bundled pipeline on generated events")
    p.add_argument("--rows", type=int, default=1_000_000, help="events to generate (default 1M)")
    p.add_argument("--batch-rows", type=int, default=131_072, help="rows per batch")
    p.add_argument("--seed", type=int, default=0, help="data generator seed")
    p.add_argument(
        "--output",
        default="featforge-demo-output",
        help="output folder (default ./featforge-demo-output)",
    )
    p.set_defaults(func=demo)

    p = sub.add_parser("run", help="run a spec over Parquet input, writing Parquet")
    p.add_argument("spec", nargs="?", help="YAML/JSON pipeline spec")
    p.add_argument("--input", required=True, help="Parquet file or directory")
    p.add_argument("--output", required=True, help="output directory")
    p.add_argument("--fit", action="store_true", help="fit stateful steps on the input first")
    p.add_argument("--state", help="a fitted pipeline directory (from 'featforge fit')")
    p.add_argument("--batch-rows", type=int, default=131_072)
    p.set_defaults(func=run)

    p = sub.add_parser("fit", help="fit a spec's stateful steps and save the pipeline")
    p.add_argument("spec")
    p.add_argument("--input", required=True)
    p.add_argument("--state", required=True, help="directory to save the fitted pipeline in")
    p.set_defaults(func=fit)

    p = sub.add_parser("inspect", help="describe a saved pipeline (sizes, OOV, hash contract)")
    p.add_argument("directory")
    p.set_defaults(func=inspect)

    p = sub.add_parser("bench", help="throughput of the demo pipeline on generated data")
    p.add_argument("--rows", type=int, default=200_000)
    p.set_defaults(func=bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("rows", "batch_rows"):
        if getattr(args, name, 1) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.command == "run" and not args.spec and not args.state:
        parser.error("run needs a SPEC or --state DIR")
    try:
        return int(args.func(args))
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stderr.close()
        return 0
    except (StepError, FileNotFoundError, KeyError, TypeError, ValueError) as exc:
        print(f"featforge {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
