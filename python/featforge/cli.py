"""The ``featforge`` command: demo, run, fit, inspect, bench."""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tempfile
import time
import traceback
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
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


def _print_summary(summary: dict, out=None) -> None:
    """The run's numbers: the times add up to the wall time; rows/s are stated both ways."""
    out = out or sys.stdout
    p = functools.partial(print, file=out)
    rows, wall = summary["rows"], summary["seconds"]
    p("\nSummary")
    p(f"  rows written       {rows:,}  ({summary['mode']})")
    p(
        f"  wall time          {wall:.2f} s = {summary['rows_per_second']:,.0f} rows/s end to end "
        "(reading and writing Parquet included)"
    )
    p(
        f"  features           {summary['compute_rows_per_second']:,.0f} rows/s "
        "(the steps alone, on data in memory: what the README's pipeline figures measure)"
    )
    p("  where the time went:")
    p(f"    {'read Parquet':<26} {summary['read_seconds']:7.3f} s")
    if summary["fit_seconds"]:
        p(f"    {'fit (IdMaps)':<26} {summary['fit_seconds']:7.3f} s")
    for name, seconds in summary["step_seconds"].items():
        p(f"    {'step ' + name:<26} {seconds:7.3f} s")
    p(f"    {'write Parquet':<26} {summary['write_seconds']:7.3f} s")
    p(f"    {'other (checks, setup)':<26} {summary['other_seconds']:7.3f} s")
    for name, vocab in summary["vocabulary"].items():
        p(f"  vocabulary {name:<15} {vocab['size']:,} ids, OOV rate {vocab['oov_rate']:.2%}")
    for name, state in summary["window_state"].items():
        p(f"  window state {name:<13} {state['keys']:,} keys, {state['events']:,} events seen")
    if summary["late_policy"] == "drop":
        p(
            f"  late events        {summary['late_events']:,} dropped (--allow-late: rows earlier "
            "than their key's latest event got null window features)"
        )
    else:
        p("  late events        none (a late event would have stopped the run)")
    p(f"  output             {summary['output']}/ ({len(summary['files'])} Parquet file(s))")
    p(f"    read it back:    pyarrow.parquet.read_table({summary['output']!r})")
    if summary["saved_state"]:
        p(
            f"  saved state        {summary['saved_state']} (continue with: featforge run "
            f"--state {summary['saved_state']} --input NEW --output OUT)"
        )


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
        # The demo's folder is its own: a rerun replaces what it wrote.
        summary = pipeline.run(
            source,
            out_dir / "features",
            fit=True,
            batch_rows=args.batch_rows,
            overwrite=True,
            save_state=out_dir / "pipeline",
        )
    _print_summary(summary)
    state = summary["saved_state"]
    print(f"  inspect it:        featforge inspect {state}")
    columns = ["user_id", "item_id", "item_idx", "country_x_category", "count_1d", "price_mean_1d"]
    table = pq.read_table(out_dir / "features", columns=columns)
    warm = table.filter(pc.greater(table.column("count_1d"), 1))
    print("\nA few rows whose user had events in the day before (windows not empty):")
    _print_rows(warm.slice(max(warm.num_rows // 2, 0), 3))
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
    stateful = [s.op for s in pipeline.steps if s.stateful]
    if stateful and not args.fit and not args.state:
        raise StepError(
            f"this spec has stateful steps ({', '.join(sorted(set(stateful)))}): pass --fit to "
            "fit them on this input, or --state DIR with a pipeline saved by 'featforge fit'"
        )
    summary = pipeline.run(
        args.input,
        args.output,
        fit=args.fit,
        late="drop" if args.allow_late else "raise",
        overwrite=args.overwrite,
        save_state=args.save_state,
        memory_limit=args.memory_limit,
        batch_rows=args.batch_rows,
    )
    _print_summary(summary)
    return 0


def fit(args: argparse.Namespace) -> int:
    pipeline = Pipeline.from_spec(args.spec)
    state = Path(args.state)
    if state.exists() and any(state.iterdir()) and not args.overwrite:
        raise StepError(f"--state {state} is not empty: pass --overwrite to replace it")
    t = time.perf_counter()
    pipeline.fit(
        args.input,
        late="drop" if args.allow_late else "raise",
        memory_limit=args.memory_limit,
    )
    pipeline.save(state)
    print(
        f"fitted {len(pipeline.steps)} steps on {args.input} in {time.perf_counter() - t:.2f} s"
        f" -> {state}"
    )
    for i, step in enumerate(pipeline.steps):
        if step.op == "id_map" and step._map is not None:
            print(f"  step {i} (id_map {step.column}): {len(step._map):,} ids")
        if step.op == "window" and step.state_stats() is not None:
            s = step.state_stats()
            print(f"  step {i} (window): state of {s['keys']:,} keys, {s['events']:,} events seen")
    return 0


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover


def inspect(args: argparse.Namespace) -> int:
    directory = Path(args.directory)
    pipeline = Pipeline.load(directory)
    meta = json.loads((directory / "pipeline.json").read_text())
    print(f"pipeline saved by featforge {meta['featforge']}: {len(pipeline.steps)} steps")
    for i, step in enumerate(pipeline.steps):
        step_args = {k: v for k, v in step.to_dict().items() if k != "op"}
        print(f"  {i}: {step.op:<12} {json.dumps(step_args)}")
        file = meta.get("state", {}).get(str(i))
        on_disk = (directory / file).stat().st_size if file else 0
        if step.op == "id_map" and step._map is not None:
            stats = step._map.stats()
            n = max(len(step._map), 1)
            print(
                f"      vocabulary {len(step._map):,} ids; in memory {_size(stats['bytes'])} "
                f"({stats['bytes'] / n:.0f} bytes/id), on disk {_size(on_disk)} "
                f"({on_disk / n:.0f} bytes/id); OOV buckets {step.num_oov_buckets}; "
                f"contract {step._map.contract}"
            )
            print(
                "      (small maps are spread out for speed, so bytes/id fall towards ~60 as "
                "a map grows)"
            )
        if step.op == "window" and step.state_stats() is not None:
            s = step.state_stats()
            print(
                f"      window state: {s['keys']:,} keys, {s['buffered_events']:,} events kept "
                f"of {s['events']:,} seen, latest time {s['watermark']}; in memory "
                f"{_size(s['bytes'])}, on disk {_size(on_disk)}"
            )
    print("output columns (added to the input's, in order):")
    for i, step in enumerate(pipeline.steps):
        if step.op == "drop":
            print(f"  step {i} drops {list(step.inputs())}")
        else:
            print(f"  step {i} ({step.op}): {', '.join(step.outputs(pa.schema([])))}")
    print("hash contract:")
    for key, value in meta["hash_contract"].items():
        print(f"  {key}: {value}")
    return 0


def bench(args: argparse.Namespace) -> int:
    """A quick throughput check of the demo pipeline; the peer comparisons live in bench/."""
    rows = args.rows
    table = pa.Table.from_batches(list(datagen.events(rows, batch_rows=100_000, seed=1)))
    pipeline = Pipeline.from_spec(DEMO_SPEC)
    t = time.perf_counter()
    pipeline.fit_transform(table)
    seconds = time.perf_counter() - t
    print(
        f"demo pipeline fit_transform: {rows:,} rows in {seconds:.2f} s = "
        f"{rows / seconds:,.0f} rows/s, data in memory, featforge's default threads "
        "(peers side by side: pytest bench/ --benchmark-only)"
    )
    return 0


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Help text with every option's default."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="featforge",
        description="Fast, bit-exact feature computation for recommendation systems.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"featforge {__version__}")
    parser.add_argument(
        "--traceback", action="store_true", help="on an error, print the Python traceback too"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, formatter_class=_Formatter)

    def memory_limit(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--memory-limit",
            default=None,
            help="inputs up to this size (decoded, e.g. 4GB) are read whole, so window steps see "
            "them in time order whatever the row order; larger ones are streamed and must be in "
            "time order per key (default: a quarter of RAM)",
        )

    def allow_late(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--allow-late",
            action="store_true",
            help="streaming semantics for window steps: a row earlier than its key's latest "
            "event gets null window features and is counted, instead of stopping the run",
        )

    p = add("demo", "fit and run the bundled pipeline on generated events")
    p.add_argument("--rows", type=int, default=1_000_000, help="events to generate")
    p.add_argument("--batch-rows", type=int, default=131_072, help="rows per Parquet batch")
    p.add_argument("--seed", type=int, default=0, help="data generator seed")
    p.add_argument(
        "--output",
        default="featforge-demo-output",
        help="output folder: features in OUTPUT/features, the fitted pipeline in OUTPUT/pipeline "
        "(both replaced by a rerun)",
    )
    p.set_defaults(func=demo)

    p = add("run", "run a spec (or a fitted pipeline) over Parquet input, writing Parquet")
    p.add_argument("spec", nargs="?", help="YAML/JSON pipeline spec (or give --state instead)")
    p.add_argument("--input", required=True, help="Parquet file or directory")
    p.add_argument("--output", required=True, help="output folder (new or empty)")
    p.add_argument("--fit", action="store_true", help="fit stateful steps on the input first")
    p.add_argument(
        "--state",
        help="a fitted pipeline folder (from 'featforge fit' or --save-state): its vocabularies "
        "are used and its window state continued (instead of SPEC)",
    )
    p.add_argument(
        "--save-state",
        metavar="DIR",
        help="save the pipeline with its state after the run (vocabularies, window state)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="replace a non-empty output folder atomically"
    )
    allow_late(p)
    memory_limit(p)
    p.add_argument("--batch-rows", type=int, default=131_072, help="rows per batch")
    p.set_defaults(func=run)

    p = add("fit", "fit a spec's stateful steps (vocabularies, window state) and save them")
    p.add_argument("spec", help="YAML/JSON pipeline spec")
    p.add_argument("--input", required=True, help="Parquet file or directory (the history)")
    p.add_argument("--state", required=True, help="folder to save the fitted pipeline in")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --state folder")
    allow_late(p)
    memory_limit(p)
    p.set_defaults(func=fit)

    p = add("inspect", "describe a saved pipeline (steps, sizes, output columns, hash contract)")
    p.add_argument("directory", help="a folder saved by 'featforge fit' or --save-state")
    p.set_defaults(func=inspect)

    p = add("bench", "throughput of the demo pipeline on generated data")
    p.add_argument("--rows", type=int, default=200_000, help="events to generate")
    p.set_defaults(func=bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("rows", "batch_rows"):
        if getattr(args, name, 1) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.command == "run":
        if not args.spec and not args.state:
            parser.error("run needs a SPEC or --state DIR")
        if args.spec and args.state:
            parser.error(
                "run takes a SPEC or --state DIR, not both: --state already holds its spec"
            )
        if args.fit and args.state:
            parser.error(
                "--fit re-fits every stateful step, which would discard --state's vocabularies "
                "and window state: give a SPEC with --fit, or --state without --fit"
            )
    try:
        return int(args.func(args))
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(f"featforge {args.command}: interrupted; nothing was written", file=sys.stderr)
        return 130
    except Exception as exc:  # every error is a message, not a traceback (unless asked)
        if args.traceback:
            traceback.print_exc()
        kind = "" if isinstance(exc, (StepError, ValueError)) else f"{type(exc).__name__}: "
        print(f"featforge {args.command}: error: {kind}{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
