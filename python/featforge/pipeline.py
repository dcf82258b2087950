"""Pipelines of feature steps, defined in Python or as YAML/JSON spec files (docs/design.md §10).

What keeps a pipeline from writing silently wrong features:
- every check that can be made against the input schema runs before any data is read (every file
  of a directory is checked against the first);
- window steps see a table in time order whatever the input order (sorted in memory when the input
  fits, ``memory_limit``), and a stream that is not in time order is an error unless late events
  are accepted explicitly (``late="drop"``, counted);
- ``run`` writes into a new folder beside the output and renames it into place only when
  everything succeeded; window state is saved with the pipeline, so a run can continue it.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from . import __version__
from . import steps as steps_module
from ._progress import Progress
from .steps import LATE_POLICIES, STEPS, LateEventsError, Step, StepError

SPEC_VERSION = 1
# What saved pipelines promise about hashing; a different contract refuses to load.
HASH_CONTRACT = {
    "canonical_bytes": "featforge-1 (utf-8 strings, little-endian ints at width, canonical floats)",
    "families": {"xxh3": "XXH3_64bits_withSeed", "xxh64": "XXH64", "murmur3": "MurmurHash3_x86_32"},
    "cross": "hash(le64(h_1) || ... || le64(h_k))",
    "text": "sklearn (?u)\\b\\w\\w+\\b, str.lower, n-grams joined by ' '",
}
# Columns pandas adds for its index (written into Parquet files and Arrow tables): not data.
_PANDAS_INDEX = re.compile(r"^__index_level_\d+__$")
DEFAULT_BATCH_ROWS = 131_072


class InputError(ValueError):
    """The input cannot be used as it is (schema differs between files, not a table, ...)."""


def _load_spec_file(path: Path) -> dict:
    if not path.exists():
        raise FileNotFoundError(f"spec file {str(path)!r} does not exist")
    text = path.read_text()
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
            problem = getattr(exc, "problem", None) or str(exc)
            raise StepError(f"{where}: not valid YAML: {problem}") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StepError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise StepError(f"{path}: a spec must be a mapping with a 'steps' list")
    return data


def _make_step(position: int, raw: Any) -> Step:
    if not isinstance(raw, dict) or "op" not in raw:
        raise StepError(f"step {position}: expected a mapping with an 'op', got {raw!r}")
    op = raw["op"]
    if op not in STEPS:
        raise StepError(f"step {position}: unknown op {op!r}; expected one of {sorted(STEPS)}")
    cls = STEPS[op]
    args = {k: v for k, v in raw.items() if k != "op"}
    required, optional = cls.arguments()
    unknown = sorted(set(args) - set(required) - set(optional))
    if unknown:
        raise StepError(
            f"step {position} ({op}): unknown argument(s) {unknown}; {op} takes "
            f"{required} and optionally {optional}"
        )
    missing = [name for name in required if name not in args]
    if missing:
        raise StepError(
            f"step {position} ({op}): bad arguments: missing {missing}; {op} takes "
            f"{required} and optionally {optional}"
        )
    try:
        step = cls(**args)
        step.check()
    except TypeError as exc:
        raise StepError(f"step {position} ({op}): bad arguments: {exc}") from None
    except ValueError as exc:
        raise StepError(f"step {position} ({op}): {exc}") from None
    return step


def _memory_limit_default() -> int:
    """A quarter of physical memory: the input, its features and the output fit beside it."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 4 << 30


def parse_size(text: str | int) -> int:
    """Bytes from ``"512MB"``, ``"4GB"``, ``"1.5G"`` or an int."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", str(text), re.IGNORECASE)
    if not match:
        raise ValueError(f"memory limit {text!r}: expected a size such as '512MB' or '4GB'")
    scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    return int(float(match.group(1)) * scale[match.group(2).lower()])


def _drop_pandas_index(table: pa.Table) -> pa.Table:
    extra = [n for n in table.column_names if _PANDAS_INDEX.match(n)]
    return table.drop_columns(extra) if extra else table


def _as_table(source: Any) -> pa.Table | None:
    """A Table for tabular in-memory input (pandas without its index), else None."""
    if isinstance(source, pa.Table):
        return _drop_pandas_index(source)
    if isinstance(source, pa.RecordBatch):
        return _drop_pandas_index(pa.Table.from_batches([source]))
    if type(source).__module__.split(".")[0] == "pandas" and hasattr(source, "columns"):
        return _drop_pandas_index(pa.Table.from_pandas(source, preserve_index=False))
    if hasattr(source, "columns") and hasattr(source, "__arrow_c_stream__"):
        return _drop_pandas_index(pa.table(source))
    return None


class ParquetInput:
    """A Parquet file or directory: its files, one schema checked across all of them (from the
    footers, before any data is read), its rows and its size once decoded."""

    def __init__(self, path: str | os.PathLike) -> None:
        import pyarrow.dataset as ds
        import pyarrow.parquet as pq

        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"input {str(self.path)!r} does not exist")
        try:
            self.files = sorted(ds.dataset(self.path, format="parquet").files)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"input {str(self.path)!r}: not Parquet ({exc})") from None
        if not self.files:
            raise InputError(f"input {str(self.path)!r}: no Parquet files in it")
        self.rows = 0
        self.bytes = 0
        self.schema: pa.Schema | None = None
        first = None
        for name in self.files:
            try:
                meta = pq.ParquetFile(name).metadata
                schema = _strip(meta.schema.to_arrow_schema())
            except (pa.ArrowInvalid, OSError) as exc:
                raise InputError(f"input file {name}: not readable Parquet ({exc})") from None
            if self.schema is None:
                self.schema, first = schema, name
            else:
                _check_same_schema(self.schema, first, schema, name)
            self.rows += meta.num_rows
            self.bytes += sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))

    def batches(self, batch_rows: int) -> Iterator[pa.RecordBatch]:
        import pyarrow.dataset as ds

        dataset = ds.dataset(self.files, schema=self.schema, format="parquet")
        yield from dataset.to_batches(batch_size=batch_rows)

    def read_table(self, progress: Progress | None = None, batch_rows: int = 1 << 20) -> pa.Table:
        batches = []
        for batch in self.batches(batch_rows):
            batches.append(batch)
            if progress is not None:
                progress.update(batch.num_rows)
        return pa.Table.from_batches(batches, schema=self.schema)


def _strip(schema: pa.Schema) -> pa.Schema:
    """The schema without metadata and pandas index columns."""
    fields = [f.remove_metadata() for f in schema if not _PANDAS_INDEX.match(f.name)]
    return pa.schema(fields)


def _check_same_schema(first: pa.Schema, first_name: str, other: pa.Schema, name: str) -> None:
    """Every file of an input must have the first file's columns with the same types: a silent
    cast or a column filled with nulls would change features without a word."""
    for field in first:
        if field.name not in other.names:
            raise InputError(
                f"input file {name}: column {field.name!r} is missing (it is in {first_name}); "
                "every file of an input must have the same columns and types"
            )
    for field in first:
        theirs = other.field(field.name).type
        if theirs != field.type:
            raise InputError(
                f"input file {name}: column {field.name!r} is {theirs}, but {field.type} in "
                f"{first_name}; convert the files to one schema first (featforge never casts "
                "silently)"
            )
    extra = [n for n in other.names if n not in first.names]
    if extra:
        raise InputError(
            f"input file {name}: column(s) {extra} are not in {first_name}; every file of an "
            "input must have the same columns"
        )


class Pipeline:
    """An ordered list of steps; each adds its output column(s) to the table.

    Stateful steps learn in ``fit``: IdMaps their vocabulary (frozen afterwards), window steps
    each key's window state over the history. ``transform`` continues from that state: a
    window feature of a new row sees the history's events. ``fit_transform`` computes a table's
    features from empty window state (the training-data case) and keeps the state after it.
    """

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
        Unknown ops and bad arguments are rejected here, naming the step's position and op;
        parse errors name the file, line and column."""
        data = _load_spec_file(Path(spec)) if isinstance(spec, (str, os.PathLike)) else spec
        if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
            raise StepError("a spec must be a mapping with a 'steps' list")
        return cls(_make_step(i, raw) for i, raw in enumerate(data["steps"]))

    def to_spec(self) -> dict:
        return {"version": SPEC_VERSION, "steps": [s.to_dict() for s in self.steps]}

    def validate(self, schema: pa.Schema | Iterable[str]) -> list[str]:
        """Check, before any data is read, that every step's input columns exist (given the
        columns earlier steps add) and, for a schema, have types the step takes. Returns the
        output column names. Errors name the step's position, op and column, and the fix."""
        if isinstance(schema, pa.Schema):
            fields = {f.name: f.type for f in _strip(schema)}
            typed = True
        else:
            fields = {name: pa.null() for name in schema}
            typed = False
        for i, step in enumerate(self.steps):
            names = list(fields)
            missing = [c for c in step.inputs() if c not in fields]
            if missing:
                raise StepError(
                    f"step {i} ({step.op}): column {missing[0]!r} not found; available: {names}"
                )
            if typed:
                try:
                    step.check_schema(fields)
                except ValueError as exc:
                    raise StepError(f"step {i} ({step.op}): {exc}") from None
            if step.op == "drop":
                fields = {n: t for n, t in fields.items() if n not in step.inputs()}
            elif typed:
                fields.update(step.output_types(fields))
            else:
                fields.update({o: pa.null() for o in step.outputs(pa.schema([]))})
        return list(fields)

    def _check_fitted(self) -> None:
        for i, step in enumerate(self.steps):
            if step.op == "id_map" and not step.fitted:
                raise StepError(
                    f"step {i} (id_map): not fitted: call fit() first (CLI: run --fit, or "
                    "run --state DIR with a pipeline saved by 'featforge fit')"
                )

    def _has_windows(self) -> bool:
        return any(step.op == "window" for step in self.steps)

    # -- fitting ---------------------------------------------------------------------------------

    def fit(self, source: Any, *, late: str = "raise", memory_limit: int | str | None = None):
        """Stateful steps learn from ``source``: IdMaps (frozen afterwards, so transforming is
        deterministic and batch-size independent) and window steps' state. A table, or Parquet
        input that fits in ``memory_limit``, is processed whole (any row order); a stream must be
        in time order per key for window steps (``late="drop"`` accepts lateness, counted).
        Refuses empty input. Returns self."""
        _check_late(late)
        table, stream, schema = self._open(source, memory_limit)
        self.validate(schema)
        if table is not None:
            if table.num_rows == 0:
                raise InputError("fit: the input has no rows; there is nothing to learn from")
            self._fit_table(table, transform_last=False)
        else:
            self._fit_stream(stream, late)
        return self

    def _fit_table(self, table: pa.Table, *, transform_last: bool) -> pa.Table:
        last_needed = len(self.steps) if transform_last else self._last_stateful() + 1
        for i, step in enumerate(self.steps[:last_needed]):
            table = self._step_error(i, step, step.fit_transform_table, table)
        return table

    def _fit_stream(self, batches: Iterable[pa.RecordBatch], late: str) -> None:
        last_needed = self._last_stateful() + 1
        for step in self.steps:
            if isinstance(step, steps_module.Window):  # fitting starts from empty state
                step.reset_state()
                step.start_stream(late, advance=True)
            else:
                step.start_stream(late)
        rows = 0
        for batch in batches:
            table = _drop_pandas_index(pa.Table.from_batches([batch]))
            rows += table.num_rows
            for i, step in enumerate(self.steps[:last_needed]):
                table = self._step_error(i, step, step.fit_batch, table)
        if rows == 0:
            raise InputError("fit: the input has no rows; there is nothing to learn from")
        for step in self.steps:
            step.finish_fit()

    def _last_stateful(self) -> int:
        return max((i for i, s in enumerate(self.steps) if s.stateful), default=-1)

    def fit_transform(self, source: Any) -> pa.Table:
        """Fit on a table and return its features, window features computed from empty state
        (equal to ``window_features`` on the table); the window state after it is kept."""
        table = _as_table(source)
        if table is None:
            raise TypeError(
                f"fit_transform takes a table or data frame, got {type(source).__name__}; for "
                "a stream, fit() then transform()"
            )
        self.validate(table.schema)
        if table.num_rows == 0:
            raise InputError("fit: the input has no rows; there is nothing to learn from")
        return self._fit_table(table, transform_last=True)

    # -- transforming ----------------------------------------------------------------------------

    def transform(self, source: Any, *, late: str = "raise") -> Any:
        """A Table for a Table (or data frame), any row order; an iterator of RecordBatches for a
        stream (RecordBatchReader, iterable of batches, Parquet path), with bounded memory, whose
        rows must be in time order per key for window steps (``late="drop"`` drops late rows
        instead, counted in ``last_summary``). Window features continue from fitted state."""
        _check_late(late)
        table = _as_table(source)
        if table is not None:
            self.validate(table.schema)
            self._check_fitted()
            for i, step in enumerate(self.steps):
                if isinstance(step, steps_module.Window):
                    method = functools.partial(step.transform, late=late)
                else:
                    method = step.transform
                table = self._step_error(i, step, method, table)
            return table
        batches, schema = _open_stream(source)
        self.validate(schema)
        self._check_fitted()
        return self._stream(batches, {}, late, advance=False)

    def _stream(
        self, batches: Iterable[pa.RecordBatch], timings: dict, late: str, *, advance: bool
    ) -> Iterator[pa.RecordBatch]:
        for step in self.steps:
            if isinstance(step, steps_module.Window):
                step.start_stream(late, advance=advance)
            else:
                step.start_stream(late)
        for batch in batches:
            table = _drop_pandas_index(pa.Table.from_batches([batch]))
            for i, step in enumerate(self.steps):
                t = time.perf_counter()
                table = self._step_error(i, step, step.transform_stream_batch, table)
                timings[i] = timings.get(i, 0.0) + time.perf_counter() - t
            yield from table.combine_chunks().to_batches()
        for step in self.steps:
            if isinstance(step, steps_module.Window):
                step.finish_stream(advance=advance)

    @staticmethod
    def _step_error(i: int, step: Step, method: Any, table: pa.Table) -> pa.Table:
        try:
            return method(table)
        except LateEventsError as exc:
            raise LateEventsError(f"step {i} ({step.op}): {exc}") from None
        except StepError:
            raise
        except (TypeError, ValueError, KeyError) as exc:
            raise StepError(f"step {i} ({step.op}): {exc}") from None

    def _open(
        self, source: Any, memory_limit: int | str | None
    ) -> tuple[pa.Table | None, Iterable[pa.RecordBatch] | None, pa.Schema]:
        """(table, None, schema) when the source is or fits in memory, else (None, stream,
        schema)."""
        table = _as_table(source)
        if table is not None:
            return table, None, table.schema
        if isinstance(source, (str, os.PathLike)):
            data = ParquetInput(source)
            limit = _memory_limit_default() if memory_limit is None else parse_size(memory_limit)
            if data.bytes <= limit:
                return data.read_table(), None, data.schema
            return None, data.batches(DEFAULT_BATCH_ROWS), data.schema
        stream, schema = _open_stream(source)
        return None, stream, schema

    # -- running over files ----------------------------------------------------------------------

    def run(
        self,
        input: str | os.PathLike,
        output: str | os.PathLike,
        *,
        fit: bool = False,
        late: str = "raise",
        overwrite: bool = False,
        save_state: str | os.PathLike | None = None,
        memory_limit: int | str | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        progress: bool | None = None,
    ) -> dict:
        """Parquet file or directory in -> Parquet directory out.

        Everything that can be checked is checked before data is read (the schema of every
        input file, every step against it, the output folder). With window steps, an input that
        fits in ``memory_limit`` (default a quarter of RAM) is read whole and processed in time
        order, so any row order gives the backfill result; a larger one is streamed and must be
        in time order per key, or a late row is an error (``late="drop"``: dropped, counted).
        ``fit=True`` fits stateful steps on the input first (windows from empty state); without
        it window steps continue from their fitted state. ``save_state`` saves the pipeline with
        its state after the run. The output folder must be empty or new unless ``overwrite``;
        it is written beside and renamed into place only when everything succeeded.

        Returns (and keeps in ``last_summary``) rows, times (read, fit, per step, write: they add
        up to the wall time), rows/s, vocabulary sizes, OOV rates, late events and the files.
        """
        import pyarrow.parquet as pq

        started = time.perf_counter()
        _check_late(late)
        data = ParquetInput(input)
        out_dir = _check_output(Path(output), data.path, overwrite)
        if save_state is not None:
            _check_output(Path(save_state), data.path, overwrite=True, what="state folder")
        self.validate(data.schema)
        if not fit:
            self._check_fitted()
        limit = _memory_limit_default() if memory_limit is None else parse_size(memory_limit)
        in_memory = self._has_windows() and data.bytes <= limit
        timings = {"read": 0.0, "fit": 0.0, "write": 0.0}
        step_times: dict[int, float] = {}
        tmp = out_dir.parent / f".{out_dir.name}.featforge-tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        show = progress is not False
        rows = 0
        try:
            if in_memory:
                bar = Progress(data.rows, label="rows", prefix="read ") if show else None
                t = time.perf_counter()
                table = data.read_table(bar, batch_rows)
                timings["read"] = time.perf_counter() - t
                if bar is not None:
                    bar.close()
                table = self._run_table(table, fit, late, step_times)
                bar = Progress(table.num_rows, label="rows", prefix="write") if show else None
                t = time.perf_counter()
                with pq.ParquetWriter(tmp / "part-00000.parquet", table.schema) as writer:
                    for batch in table.to_batches(max_chunksize=batch_rows):
                        writer.write_batch(batch)
                        if bar is not None:
                            bar.update(batch.num_rows)
                timings["write"] = time.perf_counter() - t
                if bar is not None:
                    bar.close()
                rows = table.num_rows
            else:
                if fit:
                    t = time.perf_counter()
                    self._fit_stream_for_run(data, batch_rows, late)
                    timings["fit"] = time.perf_counter() - t
                rows = self._run_stream(data, tmp, batch_rows, late, show, timings, step_times)
            if save_state is not None:
                self.save(save_state, overwrite=True)
            _replace_dir(tmp, out_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        elapsed = time.perf_counter() - started
        summary = self._summary(
            rows, elapsed, timings, step_times, out_dir, in_memory, late, save_state
        )
        self.last_summary = summary
        return summary

    def _run_table(
        self, table: pa.Table, fit: bool, late: str, step_times: dict[int, float]
    ) -> pa.Table:
        """Every step over the whole table, timed; window steps advance their state."""
        if fit and table.num_rows == 0:
            raise InputError("fit: the input has no rows; there is nothing to learn from")
        for i, step in enumerate(self.steps):
            t = time.perf_counter()
            if fit:
                method = step.fit_transform_table
            elif isinstance(step, steps_module.Window):
                method = functools.partial(step.transform, advance=True, late=late)
            else:
                method = step.transform
            table = self._step_error(i, step, method, table)
            step_times[i] = time.perf_counter() - t
        return table

    def _fit_stream_for_run(self, data: ParquetInput, batch_rows: int, late: str) -> None:
        """Fit the IdMaps in a first pass; window steps get their state from the transform pass
        itself (it starts from empty state when fitting), unless a later IdMap reads them."""
        windows = [i for i, s in enumerate(self.steps) if isinstance(s, steps_module.Window)]
        last_idmap = max((i for i, s in enumerate(self.steps) if s.op == "id_map"), default=-1)
        for i in windows:
            self.steps[i].reset_state()  # fitting starts from empty window state
        if last_idmap < 0:
            return
        needed = self.steps[: last_idmap + 1]
        for step in needed:
            if isinstance(step, steps_module.Window):
                step.start_stream(late, advance=True)
            else:
                step.start_stream(late)
        rows = 0
        for batch in data.batches(batch_rows):
            table = _drop_pandas_index(pa.Table.from_batches([batch]))
            rows += table.num_rows
            for i, step in enumerate(needed):
                table = self._step_error(i, step, step.fit_batch, table)
        if rows == 0:
            raise InputError("fit: the input has no rows; there is nothing to learn from")
        for step in needed:
            if step.op == "id_map":
                step.finish_fit()
            elif isinstance(step, steps_module.Window):
                step.reset_state()  # the transform pass computes it again, from empty state

    def _run_stream(
        self,
        data: ParquetInput,
        tmp: Path,
        batch_rows: int,
        late: str,
        show: bool,
        timings: dict,
        step_times: dict[int, float],
    ) -> int:
        import pyarrow.parquet as pq

        bar = Progress(data.rows, label="rows") if show else None
        rows = 0
        writer = None
        batches = data.batches(batch_rows)
        try:
            stream = self._stream(_timed(batches, timings), step_times, late, advance=True)
            while True:
                try:
                    out = next(stream)
                except StopIteration:
                    break
                t = time.perf_counter()
                if writer is None:
                    writer = pq.ParquetWriter(tmp / "part-00000.parquet", out.schema)
                writer.write_batch(out)
                timings["write"] += time.perf_counter() - t
                rows += out.num_rows
                if bar is not None:
                    bar.update(out.num_rows)
        finally:
            if writer is not None:
                t = time.perf_counter()
                writer.close()
                timings["write"] += time.perf_counter() - t
            if bar is not None:
                bar.close()
        if writer is None:  # an empty input still gives a readable (empty) output
            schema = pa.schema([(n, pa.null()) for n in self.validate(data.schema)])
            pq.write_table(schema.empty_table(), tmp / "part-00000.parquet")
        return rows

    def _summary(
        self,
        rows: int,
        elapsed: float,
        timings: dict,
        step_times: dict[int, float],
        out_dir: Path,
        in_memory: bool,
        late: str,
        save_state: Any,
    ) -> dict:
        steps_total = sum(step_times.values())
        accounted = timings["read"] + timings["fit"] + timings["write"] + steps_total
        summary = {
            "rows": rows,
            "seconds": elapsed,
            "rows_per_second": rows / elapsed if elapsed > 0 else 0.0,
            "compute_rows_per_second": rows / steps_total if steps_total > 0 else 0.0,
            "read_seconds": timings["read"],
            "fit_seconds": timings["fit"],
            "step_seconds": {
                f"{i}:{s.op}": step_times.get(i, 0.0) for i, s in enumerate(self.steps)
            },
            "write_seconds": timings["write"],
            "other_seconds": max(elapsed - accounted, 0.0),
            "mode": "in memory, time-ordered" if in_memory else "streaming",
            "late_policy": late,
            "vocabulary": {},
            "late_events": 0,
            "window_state": {},
            "output": str(out_dir),
            "files": sorted(str(p) for p in out_dir.glob("*.parquet")),
            "saved_state": None if save_state is None else str(save_state),
        }
        for i, step in enumerate(self.steps):
            if isinstance(step, steps_module.IdMap) and step._map is not None:
                summary["vocabulary"][f"{i}:{step.column}"] = {
                    "size": len(step._map),
                    "oov_rate": step.oov_rows / max(step.rows_seen, 1),
                }
            if isinstance(step, steps_module.Window):
                summary["late_events"] += step.late_dropped
                state = step.state_stats()
                if state is not None:
                    summary["window_state"][f"{i}:window"] = {
                        "keys": state["keys"],
                        "events": state["events"],
                    }
        return summary

    # -- persistence -----------------------------------------------------------------------------

    def save(self, directory: str | os.PathLike, *, overwrite: bool = True) -> None:
        """spec + fitted state (IdMaps, window state) + hash contract, in a directory, written
        beside it and renamed into place (a crash leaves the old one or the new one whole)."""
        d = Path(directory)
        if d.exists() and any(d.iterdir()) and not (d / "pipeline.json").exists():
            raise InputError(
                f"{d} exists and is not a saved featforge pipeline: refusing to replace it"
            )
        if d.exists() and not overwrite and any(d.iterdir()):
            raise InputError(f"{d} already holds a saved pipeline (pass overwrite=True)")
        tmp = d.parent / f".{d.name}.featforge-tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "state").mkdir(parents=True)
        try:
            meta = {
                "featforge": __version__,
                "spec": self.to_spec(),
                "hash_contract": HASH_CONTRACT,
                "state": {},
            }
            for i, step in enumerate(self.steps):
                if isinstance(step, steps_module.IdMap) and step._map is not None:
                    name = f"state/step-{i}-id_map.ffidmap"
                    step._map.save(tmp / name)
                    meta["state"][str(i)] = name
                if isinstance(step, steps_module.Window) and step._history is not None:
                    name = f"state/step-{i}-window.ffwindow"
                    step._history.save(tmp / name)
                    meta["state"][str(i)] = name
            (tmp / "pipeline.json").write_text(json.dumps(meta, indent=2))
            _replace_dir(tmp, d)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @classmethod
    def load(cls, directory: str | os.PathLike) -> Pipeline:
        from .idmap import IdMap as _IdMap
        from .window import WindowAggregator

        d = Path(directory)
        if not d.is_dir():
            raise FileNotFoundError(f"{d}: no such folder (a saved featforge pipeline is a folder)")
        try:
            meta = json.loads((d / "pipeline.json").read_text())
        except FileNotFoundError:
            raise FileNotFoundError(
                f"{d} is not a saved featforge pipeline (it has no pipeline.json); make one with "
                "'featforge fit SPEC --input DATA --state DIR' or 'featforge run --save-state DIR'"
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
            if isinstance(step, steps_module.IdMap):
                step._map = _IdMap.load(d / name)
            elif isinstance(step, steps_module.Window):
                state = WindowAggregator.load(d / name)
                if _window_definition(state.spec) != _window_definition(step.spec()):
                    raise ValueError(
                        f"{d / name}: window state fitted for another window definition "
                        f"({_window_definition(state.spec)}), not step {key}'s "
                        f"({_window_definition(step.spec())}); refusing to load it"
                    )
                step._history = state
            else:
                raise ValueError(f"{d}/pipeline.json: state for step {key} ({step.op}) is corrupt")
        return pipeline


def _window_definition(spec: Any) -> dict:
    return {
        "key": list(spec.keys),
        "time": spec.time,
        "aggs": {k: list(v) for k, v in spec.aggs.items()},
        "windows": [str(w) for w in spec.windows],
        "closed": spec.closed,
    }


def _check_late(late: str) -> None:
    if late not in LATE_POLICIES:
        raise ValueError(f"late must be one of {LATE_POLICIES}, got {late!r}")


def _timed(batches: Iterable[pa.RecordBatch], timings: dict) -> Iterator[pa.RecordBatch]:
    iterator = iter(batches)
    while True:
        t = time.perf_counter()
        try:
            batch = next(iterator)
        except StopIteration:
            timings["read"] += time.perf_counter() - t
            return
        timings["read"] += time.perf_counter() - t
        yield batch


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _check_output(out: Path, input_path: Path, overwrite: bool, what: str = "output") -> Path:
    """The output folder: new or empty, or replaced only with ``overwrite``; never the input,
    inside it, or holding it."""
    out_abs, in_abs = out.resolve(), input_path.resolve()
    if _inside(out_abs, in_abs) and (in_abs.is_dir() or out_abs == in_abs):
        raise InputError(
            f"{what} {str(out)!r} is inside the input {str(input_path)!r}: a later run would "
            "read its own output; choose a folder outside the input"
        )
    if _inside(in_abs, out_abs):
        raise InputError(
            f"{what} {str(out)!r} contains the input {str(input_path)!r}: replacing it would "
            "delete the input; choose another folder"
        )
    if out.exists() and not out.is_dir():
        raise InputError(f"{what} {str(out)!r} exists and is not a folder")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise InputError(
            f"{what} {str(out)!r} is not empty: pass --overwrite (overwrite=True) to replace it, "
            "or choose a new folder"
        )
    return out


def _replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``, replacing it: a rename each, so ``target`` is never a mix of
    old and new files."""
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.featforge-old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _open_stream(source: Any) -> tuple[Iterable[pa.RecordBatch], pa.Schema]:
    """(batches, schema) for a stream source: a Parquet path, a RecordBatchReader or an iterable
    of record batches."""
    import itertools

    if isinstance(source, (str, os.PathLike)):
        data = ParquetInput(source)
        return data.batches(DEFAULT_BATCH_ROWS), data.schema
    if isinstance(source, pa.RecordBatchReader):
        return source, source.schema
    if hasattr(source, "__arrow_c_stream__") and not hasattr(source, "__iter__"):
        reader = pa.RecordBatchReader.from_stream(source)
        return reader, reader.schema
    if hasattr(source, "__iter__"):
        iterator = iter(source)
        try:
            first = next(iterator)
        except StopIteration:
            raise InputError("source: empty stream of batches") from None
        if not isinstance(first, pa.RecordBatch):
            if not hasattr(first, "__arrow_c_array__"):
                raise TypeError(
                    f"source: expected record batches in the stream, got {type(first).__name__}"
                )
            first = pa.record_batch(first)
        return itertools.chain([first], iterator), first.schema
    raise TypeError(
        "source: expected a table, a stream of record batches or a Parquet path, got "
        f"{type(source).__name__}"
    )


def shuffle_segments(steps: list) -> list[tuple[tuple[str, ...] | None, list]]:
    """A pipeline cut where rows must move, for engines that partition data (Spark, Ray): each
    window step whose key differs from the partitioning before it starts a segment run after a
    shuffle by that key; the steps before the first window step run with it (they are row by
    row), so a pipeline whose window steps share one key needs one shuffle."""
    segments: list[tuple[tuple[str, ...] | None, list]] = [(None, [])]
    for step in steps:
        if step.op == "window":
            keys = tuple(step.spec().keys)
            current, members = segments[-1]
            if current is None:
                segments[-1] = (keys, members)
            elif current != keys:
                segments.append((keys, []))
        segments[-1][1].append(step)
    return segments


__all__ = ["InputError", "Pipeline", "StepError"]
