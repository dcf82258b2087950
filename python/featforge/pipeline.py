"""Pipelines of feature steps, defined in Python or as YAML/JSON spec files (DESIGN.md 6)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from . import __version__
from . import steps as steps_module
from ._progress import Progress
from .steps import STEPS, Step, StepError

SPEC_VERSION = 1
# What saved pipelines promise about hashing; a different contract refuses to load.
HASH_CONTRACT = {
    "canonical_bytes": "featforge-1 (utf-8 strings, little-endian ints at width, canonical floats)",
    "families": {"xxh3": "XXH3_64bits_withSeed", "xxh64": "XXH64", "murmur3": "MurmurHash3_x86_32"},
    "cross": "hash(le64(h_1) || ... || le64(h_k))",
    "text": "sklearn (?u)\\b\\w\\w+\\b, str.lower, n-grams joined by ' '",
}


def _load_spec_file(path: Path) -> dict:
    text = path.read_text()
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("YAML specs need PyYAML: pip install 'featforge[yaml]'") from exc
        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise StepError(f"{path}: a spec must be a mapping with a 'steps' list")
    return data


def _make_step(position: int, raw: Any) -> Step:
    if not isinstance(raw, dict) or "op" not in raw:
        raise StepError(f"step {position}: expected a mapping with an 'op', got {raw!r}")
    op = raw["op"]
    if op not in STEPS:
        raise StepError(f"step {position}: unknown op {op!r}; expected one of {sorted(STEPS)}")
    args = {k: v for k, v in raw.items() if k != "op"}
    try:
        step = STEPS[op](**args)
        step.check()
    except TypeError as exc:
        raise StepError(f"step {position} ({op}): bad arguments: {exc}") from None
    except ValueError as exc:
        raise StepError(f"step {position} ({op}): {exc}") from None
    return step


class Pipeline:
    """An ordered list of steps; each adds its output column(s) to the table."""

    def __init__(self, steps: Iterable[Step]) -> None:
        self.steps = list(steps)
        for i, step in enumerate(self.steps):
            if not isinstance(step, Step):
                raise StepError(
                    f"step {i}: expected a featforge.steps step, got {type(step).__name__}"
                )
            try:
                step.check()
            except ValueError as exc:
                raise StepError(f"step {i} ({step.op}): {exc}") from None
        self.last_summary: dict | None = None

    # -- specs ---------------------------------------------------------------------------------

    @classmethod
    def from_spec(cls, spec: str | os.PathLike | dict) -> Pipeline:
        """A pipeline from a YAML/JSON file or a dict ``{"steps": [{"op": ..., ...}, ...]}``.
        Unknown ops and bad arguments are rejected here, naming the step's position and op."""
        data = _load_spec_file(Path(spec)) if isinstance(spec, (str, os.PathLike)) else spec
        if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
            raise StepError("a spec must be a mapping with a 'steps' list")
        return cls(_make_step(i, raw) for i, raw in enumerate(data["steps"]))

    def to_spec(self) -> dict:
        return {"version": SPEC_VERSION, "steps": [s.to_dict() for s in self.steps]}

    def validate(self, schema: pa.Schema | Iterable[str]) -> list[str]:
        """Check every step's input columns exist (given the columns earlier steps add), before
        any data is read. Returns the output column names."""
        names = list(schema.names if isinstance(schema, pa.Schema) else schema)
        fake = pa.schema([(n, pa.null()) for n in names])
        for i, step in enumerate(self.steps):
            missing = [c for c in step.inputs() if c not in names]
            if missing:
                raise StepError(
                    f"step {i} ({step.op}): column {missing[0]!r} not found; available: {names}"
                )
            if step.op == "drop":
                names = [n for n in names if n not in step.inputs()]
            else:
                names += [o for o in step.outputs(fake) if o not in names]
        return names

    # -- running ---------------------------------------------------------------------------------

    def fit(self, source: Any) -> Pipeline:
        """Stateful steps (IdMap) learn from the data; stateless ones do nothing. IdMaps are
        frozen afterwards, so transforming is deterministic and batch-size independent."""
        batches, schema, _ = _open(source)
        self.validate(schema)
        for step in self.steps:
            step.start_stream()
        for batch in batches:
            table = pa.Table.from_batches([batch])
            for step in self.steps:
                if step.stateful:
                    step.fit_batch(table)
                if any(later.stateful for later in self.steps[self.steps.index(step) + 1 :]):
                    table = step.transform_stream_batch(table)
        for step in self.steps:
            step.finish_fit()
        return self

    def transform(self, source: Any) -> Any:
        """A Table for a Table (or data frame); an iterator of RecordBatches for a stream
        (RecordBatchReader, iterable of batches, Parquet path), with bounded memory."""
        if isinstance(source, (pa.Table, pa.RecordBatch)) or (
            hasattr(source, "columns") and hasattr(source, "__arrow_c_stream__")
        ):
            table = source if isinstance(source, pa.Table) else pa.table(source)
            self.validate(table.schema)
            for step in self.steps:
                table = step.transform(table)
            return table
        batches, schema, _ = _open(source)
        self.validate(schema)
        return self._stream(batches, {})

    def _stream(self, batches: Iterable[pa.RecordBatch], timings: dict) -> Iterator[pa.RecordBatch]:
        for step in self.steps:
            step.start_stream()
        for batch in batches:
            table = pa.Table.from_batches([batch])
            for i, step in enumerate(self.steps):
                t = time.perf_counter()
                table = step.transform_stream_batch(table)
                timings[i] = timings.get(i, 0.0) + time.perf_counter() - t
            yield from table.combine_chunks().to_batches()

    def run(
        self,
        input: str | os.PathLike,
        output: str | os.PathLike,
        *,
        fit: bool = False,
        batch_rows: int = 131_072,
        progress: bool | None = None,
    ) -> dict:
        """Parquet file or directory in -> Parquet directory out, streaming. Validates the
        schema before reading data; ``fit=True`` fits stateful steps first (a separate pass).
        Returns (and keeps in ``last_summary``) rows, time, per-step time, vocabulary sizes,
        OOV rate and late events."""
        import pyarrow.parquet as pq

        batches, schema, total = _open(input, batch_rows=batch_rows)
        self.validate(schema)
        if fit:
            self.fit(input)
        out_dir = Path(output)
        out_dir.mkdir(parents=True, exist_ok=True)
        bar = Progress(total or 0) if progress is not False else None
        timings: dict = {}
        started = time.perf_counter()
        rows = 0
        writer = None
        try:
            for out in self._stream(_open(input, batch_rows=batch_rows)[0], timings):
                if writer is None:
                    writer = pq.ParquetWriter(out_dir / "part-00000.parquet", out.schema)
                writer.write_batch(out)
                rows += out.num_rows
                if bar is not None:
                    bar.update(out.num_rows)
        finally:
            if writer is not None:
                writer.close()
            if bar is not None:
                bar.close()
        elapsed = time.perf_counter() - started
        summary = {
            "rows": rows,
            "seconds": elapsed,
            "rows_per_second": rows / elapsed if elapsed > 0 else 0.0,
            "step_seconds": {f"{i}:{s.op}": timings.get(i, 0.0) for i, s in enumerate(self.steps)},
            "vocabulary": {},
            "late_events": 0,
            "output": str(out_dir),
        }
        for i, step in enumerate(self.steps):
            if isinstance(step, steps_module.IdMap) and step._map is not None:
                summary["vocabulary"][f"{i}:{step.column}"] = {
                    "size": len(step._map),
                    "oov_rate": step.oov_rows / max(step.rows_seen, 1),
                }
            if isinstance(step, steps_module.Window):
                summary["late_events"] += step.late_events()
        self.last_summary = summary
        return summary

    # -- persistence -----------------------------------------------------------------------------

    def save(self, directory: str | os.PathLike) -> None:
        """spec + fitted state + hash contract, in a directory."""
        d = Path(directory)
        (d / "state").mkdir(parents=True, exist_ok=True)
        meta = {
            "featforge": __version__,
            "spec": self.to_spec(),
            "hash_contract": HASH_CONTRACT,
            "state": {},
        }
        for i, step in enumerate(self.steps):
            if isinstance(step, steps_module.IdMap) and step._map is not None:
                name = f"state/step-{i}-id_map.ffidmap"
                step._map.save(d / name)
                meta["state"][str(i)] = name
        tmp = d / "pipeline.json.tmp"
        tmp.write_text(json.dumps(meta, indent=2))
        os.replace(tmp, d / "pipeline.json")

    @classmethod
    def load(cls, directory: str | os.PathLike) -> Pipeline:
        from .idmap import IdMap as _IdMap

        d = Path(directory)
        try:
            meta = json.loads((d / "pipeline.json").read_text())
        except FileNotFoundError:
            raise FileNotFoundError(
                f"{d}: no pipeline.json (not a saved featforge pipeline)"
            ) from None
        except json.JSONDecodeError as exc:
            raise ValueError(f"{d}/pipeline.json is corrupt: {exc}") from None
        if meta.get("hash_contract") != HASH_CONTRACT:
            raise ValueError(
                f"{d} was saved under a different hash contract ({meta.get('hash_contract')}); "
                "refusing to load it, as its features would not match"
            )
        pipeline = cls.from_spec(meta["spec"])
        for key, name in meta.get("state", {}).items():
            step = pipeline.steps[int(key)]
            step._map = _IdMap.load(d / name)
        return pipeline


def _open(
    source: Any, batch_rows: int = 131_072
) -> tuple[Iterable[pa.RecordBatch], pa.Schema, int | None]:
    """(batches, schema, total rows if known) for any supported source."""
    import pyarrow.dataset as ds

    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"input {str(path)!r} does not exist")
        dataset = ds.dataset(path, format="parquet")
        return dataset.to_batches(batch_size=batch_rows), dataset.schema, dataset.count_rows()
    if isinstance(source, pa.Table):
        return source.to_batches(max_chunksize=batch_rows), source.schema, source.num_rows
    if isinstance(source, pa.RecordBatch):
        return [source], source.schema, source.num_rows
    if isinstance(source, pa.RecordBatchReader):
        return source, source.schema, None
    if hasattr(source, "columns") and hasattr(source, "__arrow_c_stream__"):
        table = pa.table(source)
        return table.to_batches(max_chunksize=batch_rows), table.schema, table.num_rows
    if hasattr(source, "__iter__"):
        iterator = iter(source)
        try:
            first = next(iterator)
        except StopIteration:
            raise ValueError("source: empty stream of batches") from None
        if not isinstance(first, pa.RecordBatch):
            first = pa.record_batch(first) if hasattr(first, "__arrow_c_array__") else first
        import itertools

        return itertools.chain([first], iterator), first.schema, None
    raise TypeError(
        "source: expected a table, a stream of record batches or a Parquet path, got "
        f"{type(source).__name__}"
    )


__all__ = ["Pipeline", "StepError"]
