"""Pipelines and the CLI never write silently wrong features (issue: no silent skew).

Each numbered reproduction of the issue is a test here: the wrong result is impossible, or the
error is clear and nothing is written. Online Retail: Chen, D. (2015). Online Retail [Dataset].
UCI Machine Learning Repository. https://doi.org/10.24432/C5BW33 (CC BY 4.0)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from featforge import IdMap, Pipeline, StepError, WindowSpec, cli, window_features
from featforge.pipeline import InputError, ParquetInput
from featforge.steps import LateEventsError

SPEC = {
    "steps": [
        {"op": "hash_bucket", "column": "Country", "num_buckets": 1024, "out": "country_bucket"},
        {"op": "cross", "columns": ["Country", "StockCode"], "num_buckets": 65536, "out": "cx"},
        {"op": "id_map", "column": "StockCode", "out": "item_idx", "min_count": 2},
        {
            "op": "window",
            "key": "CustomerID",
            "time": "InvoiceDate",
            "windows": ["1d", "7d", "30d"],
            "aggs": {"UnitPrice": ["mean", "max"], "Quantity": ["sum"]},
            "closed": "left",
        },
    ]
}
WINDOW = WindowSpec(
    key="CustomerID",
    time="InvoiceDate",
    windows=["1d", "7d", "30d"],
    aggs={"UnitPrice": ["mean", "max"], "Quantity": ["sum"]},
)
WINDOW_COLUMNS = WINDOW.output_names()


def write_spec(tmp_path, spec=SPEC, name="spec.json"):
    path = tmp_path / name
    path.write_text(json.dumps(spec))
    return path


def write_dir(table, folder, parts=4):
    folder.mkdir(parents=True)
    step = -(-table.num_rows // parts)
    for i in range(parts):
        pq.write_table(table.slice(i * step, step), folder / f"part-{i}.parquet")
    return folder


@pytest.fixture(scope="module")
def shuffled(online_retail):
    order = np.random.default_rng(7).permutation(online_retail.num_rows)
    return online_retail.take(pa.array(order)), order


def run_cli(*args) -> int:
    return cli.main([str(a) for a in args])


# -- 1. any input order ---------------------------------------------------------------------------


def test_run_on_shuffled_input_equals_transform_of_the_whole_table(
    online_retail, shuffled, tmp_path, capsys
):
    table, order = shuffled
    src = write_dir(table, tmp_path / "shuffled")
    assert (
        run_cli("run", write_spec(tmp_path), "--input", src, "--output", tmp_path / "o", "--fit")
        == 0
    )
    out = pq.read_table(tmp_path / "o")
    assert out.equals(Pipeline.from_spec(SPEC).fit_transform(table))
    # and the windows are those of the unshuffled data, row for row
    expected = window_features(online_retail, WINDOW).take(pa.array(order))
    for name in WINDOW_COLUMNS:
        assert out.column(name).equals(expected.column(name)), name
    assert "late events        none" in capsys.readouterr().out


def test_streaming_a_shuffled_input_refuses_and_writes_nothing(shuffled, tmp_path, capsys):
    table, _ = shuffled
    src = write_dir(table, tmp_path / "shuffled")
    code = run_cli(
        "run", write_spec(tmp_path), "--input", src, "--output", tmp_path / "o", "--fit",
        "--memory-limit", "1KB",
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "not in time order" in err and "--allow-late" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["shuffled", "spec.json"]  # no temp folder


def test_allow_late_drops_and_counts_late_events(shuffled, tmp_path, capsys):
    table, _ = shuffled
    src = write_dir(table, tmp_path / "shuffled")
    code = run_cli(
        "run", write_spec(tmp_path), "--input", src, "--output", tmp_path / "o", "--fit",
        "--memory-limit", "1KB", "--allow-late",
    )  # fmt: skip
    assert code == 0
    summary = cli_summary = capsys.readouterr().out
    out = pq.read_table(tmp_path / "o")
    late = pc.sum(
        pc.and_(pc.is_valid(out.column("CustomerID")), pc.is_null(out.column("count_1d")))
    ).as_py()
    assert late > 0
    assert f"late events        {late:,} dropped" in cli_summary, summary


def test_python_streaming_transform_refuses_unordered_input(shuffled):
    table, _ = shuffled
    pipeline = Pipeline.from_spec(SPEC)
    pipeline.fit(table)  # a table: sorted in memory, any order
    pipeline.steps[3]._history = None  # score as if unfitted: windows from empty state
    with pytest.raises(LateEventsError, match=r"step 3 \(window\).*not in time order"):
        list(pipeline.transform(table.to_reader(max_chunksize=50_000)))
    rows = sum(b.num_rows for b in pipeline.transform(table.to_reader(50_000), late="drop"))
    assert rows == table.num_rows
    assert pipeline.steps[3].late_dropped > 0


# -- 2. warm windows from saved state -------------------------------------------------------------


def split_by_time(table, share=0.9):
    times = table.column("InvoiceDate").cast("int64").to_numpy()
    cutoff = np.sort(times)[int(len(times) * share)]
    history = table.filter(pc.less(table.column("InvoiceDate").cast("int64"), cutoff))
    new = table.filter(pc.greater_equal(table.column("InvoiceDate").cast("int64"), cutoff))
    return history, new


def test_fit_on_history_then_run_state_equals_the_tail_of_one_run(online_retail, tmp_path):
    history, new = split_by_time(online_retail)
    pq.write_table(history, tmp_path / "history.parquet")
    pq.write_table(new, tmp_path / "new.parquet")
    pq.write_table(online_retail, tmp_path / "all.parquet")
    spec = write_spec(tmp_path)
    assert (
        run_cli("fit", spec, "--input", tmp_path / "history.parquet", "--state", tmp_path / "s")
        == 0
    )
    assert run_cli("run", "--state", tmp_path / "s", "--input", tmp_path / "new.parquet",
                   "--output", tmp_path / "tail") == 0  # fmt: skip
    assert run_cli("run", spec, "--input", tmp_path / "all.parquet", "--output", tmp_path / "all",
                   "--fit") == 0  # fmt: skip
    tail = pq.read_table(tmp_path / "tail")
    everything = pq.read_table(tmp_path / "all").slice(history.num_rows)
    assert tail.num_rows == new.num_rows
    for name in [*WINDOW_COLUMNS, "country_bucket", "cx"]:
        assert tail.column(name).equals(everything.column(name)), name
    # the vocabulary is the history's (fitted there), not re-fitted on the new rows
    vocabulary = IdMap("string", min_count=2).fit(history.column("StockCode")).freeze()
    assert tail.column("item_idx").equals(vocabulary.lookup(new.column("StockCode")))
    # cold state, as before this fix, would differ: half the rows see empty 30-day windows
    cold = window_features(new, WINDOW)
    assert not cold.column("count_30d").equals(tail.column("count_30d"))


def test_run_fit_save_state_continues_and_scoring_twice_is_refused(online_retail, tmp_path):
    history, new = split_by_time(online_retail)
    pq.write_table(history, tmp_path / "history.parquet")
    pq.write_table(new, tmp_path / "new.parquet")
    spec = write_spec(tmp_path)
    assert run_cli("run", spec, "--input", tmp_path / "history.parquet", "--output",
                   tmp_path / "o1", "--fit", "--save-state", tmp_path / "s") == 0  # fmt: skip
    loaded = Pipeline.load(tmp_path / "s")
    keyed = history.num_rows - history.column("CustomerID").null_count  # null keys: no state
    assert loaded.steps[3].state_stats()["events"] == keyed
    assert len(loaded.steps[2]._map) > 0
    assert run_cli("run", "--state", tmp_path / "s", "--input", tmp_path / "new.parquet",
                   "--output", tmp_path / "o2", "--save-state", tmp_path / "s2") == 0  # fmt: skip
    keyed = len(online_retail) - online_retail.column("CustomerID").null_count
    assert Pipeline.load(tmp_path / "s2").steps[3].state_stats()["events"] == keyed
    # the same new rows again would be counted twice: refused, nothing written
    assert run_cli("run", "--state", tmp_path / "s2", "--input", tmp_path / "new.parquet",
                   "--output", tmp_path / "o3") == 2  # fmt: skip
    assert not (tmp_path / "o3").exists()


def test_state_fitted_for_another_window_spec_is_refused(online_retail, tmp_path):
    history, _ = split_by_time(online_retail)
    Pipeline.from_spec(SPEC).fit(history.slice(0, 20_000)).save(tmp_path / "s")
    meta = json.loads((tmp_path / "s" / "pipeline.json").read_text())
    meta["spec"]["steps"][3]["windows"] = ["1d", "7d", "31d"]
    (tmp_path / "s" / "pipeline.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="another window definition"):
        Pipeline.load(tmp_path / "s")


# -- 3. one input schema --------------------------------------------------------------------------


def test_schema_drift_between_files_is_an_error_naming_file_and_column(online_retail, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    pq.write_table(online_retail.slice(0, 1000), src / "a.parquet")
    drifted = online_retail.slice(1000, 1000).drop_columns(["Country"])
    drifted = drifted.set_column(
        drifted.schema.get_field_index("CustomerID"),
        "CustomerID",
        drifted.column("CustomerID").cast(pa.string()),
    )
    pq.write_table(drifted, src / "b.parquet")
    with pytest.raises(InputError, match=r"b\.parquet: column 'Country' is missing"):
        ParquetInput(src)
    pq.write_table(drifted.append_column("Country", pa.array(["UK"] * 1000)), src / "b.parquet")
    with pytest.raises(InputError, match=r"b\.parquet: column 'CustomerID' is string, but int64"):
        ParquetInput(src)
    assert (
        run_cli("run", write_spec(tmp_path), "--input", src, "--output", tmp_path / "o", "--fit")
        == 2
    )
    assert not (tmp_path / "o").exists()


# -- 4. errors up front ---------------------------------------------------------------------------


@pytest.fixture
def no_data_reads(monkeypatch):
    """Fails the test if data (not just Parquet footers) is read."""

    def refuse(*args, **kwargs):
        raise AssertionError("data was read before the spec was checked")

    monkeypatch.setattr(ParquetInput, "batches", refuse)
    monkeypatch.setattr(ParquetInput, "read_table", refuse)


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            {"op": "id_map", "column": "StockCode", "key_type": "int64"},
            r"step 1 \(id_map\): key_type is 'int64' but column 'StockCode' is string",
        ),
        (
            {"op": "window", "key": "CustomerID", "time": "InvoiceNo", "windows": ["1d"],
             "aggs": {}},
            r"step 1 \(window\): time column 'InvoiceNo' is string.*pyarrow\.compute\.strptime",
        ),
        (
            {"op": "window", "key": "CustomerID", "time": "InvoiceDate", "windows": [7],
             "aggs": {}},
            r"step 1 \(window\): window 7: on a timestamp column give durations",
        ),
        (
            {"op": "window", "key": "UnitPrice", "time": "InvoiceDate", "windows": ["1d"],
             "aggs": {}},
            r"step 1 \(window\): key column 'UnitPrice' is double.*astype\('Int64'\)",
        ),
        (
            {"op": "window", "key": "CustomerID", "time": "InvoiceDate", "windows": ["1d"],
             "aggs": {"Description": ["sum"]}},
            r"step 1 \(window\): value column 'Description' is string",
        ),
        (
            {"op": "text_hash", "column": "Quantity", "num_buckets": 16},
            r"step 1 \(text_hash\): column 'Quantity' is int64; text_hash takes a string column",
        ),
    ],
)  # fmt: skip
def test_spec_errors_against_the_schema_come_before_any_data(
    online_retail, tmp_path, capsys, no_data_reads, step, message
):
    pq.write_table(online_retail.slice(0, 100), tmp_path / "in.parquet")
    spec = {"steps": [{"op": "hash", "column": "Country"}, step]}
    code = run_cli("run", write_spec(tmp_path, spec), "--input", tmp_path / "in.parquet",
                   "--output", tmp_path / "o", "--fit")  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    import re

    assert re.search(message, err), err
    assert not (tmp_path / "o").exists()


def test_parse_errors_name_file_line_and_column(tmp_path, capsys):
    bad_yaml = tmp_path / "spec.yaml"
    bad_yaml.write_text("steps:\n  - {op: hash, column: a\n  - {op: drop}\n")
    assert run_cli("run", bad_yaml, "--input", tmp_path, "--output", tmp_path / "o", "--fit") == 2
    err = capsys.readouterr().err
    assert f"{bad_yaml}:3:" in err and "not valid YAML" in err and "Traceback" not in err
    bad_json = tmp_path / "spec.json"
    bad_json.write_text('{"steps": [\n  {"op": "hash",, "column": "a"}]}')
    assert run_cli("run", bad_json, "--input", tmp_path, "--output", tmp_path / "o", "--fit") == 2
    err = capsys.readouterr().err
    assert f"{bad_json}:2:17: not valid JSON" in err


def test_unknown_arguments_list_the_valid_ones_and_units_are_listed():
    with pytest.raises(StepError, match=r"unknown argument\(s\) \['buckets'\].*'num_buckets'"):
        Pipeline.from_spec({"steps": [{"op": "hash_bucket", "column": "a", "buckets": 8}]})
    with pytest.raises(StepError, match=r"missing \['num_buckets'\]"):
        Pipeline.from_spec({"steps": [{"op": "hash_bucket", "column": "a"}]})
    with pytest.raises(StepError, match=r"units: ns, us, ms, s, m, h, d, w"):
        Pipeline.from_spec(
            {"steps": [{"op": "window", "key": "k", "time": "t", "windows": ["7x"], "aggs": {}}]}
        )


# -- 5. pandas input ------------------------------------------------------------------------------


def test_pandas_float_keys_get_the_fix_and_the_index_does_not_leak(online_retail):
    import pandas as pd

    frame = online_retail.slice(0, 5000).to_pandas()
    assert frame["CustomerID"].dtype == np.float64  # pandas: integers with nulls become floats
    idmap = Pipeline(
        [*Pipeline.from_spec({"steps": [{"op": "id_map", "column": "CustomerID"}]}).steps]
    )
    with pytest.raises(StepError, match=r"step 0 \(id_map\): key column 'CustomerID' is double.*"
                       r"astype\('Int64'\)"):  # fmt: skip
        idmap.fit(frame)
    windows = Pipeline.from_spec({"steps": [SPEC["steps"][3]]})
    with pytest.raises(StepError, match=r"key column 'CustomerID' is double"):
        windows.fit_transform(frame)
    frame["CustomerID"] = frame["CustomerID"].astype("Int64")
    filtered = frame[frame["Quantity"] > 1]
    assert not filtered.index.equals(pd.RangeIndex(len(filtered)))  # pandas keeps its index
    out = windows.fit_transform(filtered)
    assert "__index_level_0__" not in out.column_names
    assert out.num_rows == len(filtered)


# -- 6. the output folder -------------------------------------------------------------------------


def test_output_folder_is_protected(online_retail, tmp_path, capsys):
    src = write_dir(online_retail.slice(0, 2000), tmp_path / "src", parts=2)
    spec = write_spec(tmp_path)
    out = tmp_path / "o"
    out.mkdir()
    (out / "stale.parquet").write_bytes(b"old")
    assert run_cli("run", spec, "--input", src, "--output", out, "--fit") == 2
    assert "not empty: pass --overwrite" in capsys.readouterr().err
    assert run_cli("run", spec, "--input", src, "--output", out, "--fit", "--overwrite") == 0
    assert sorted(p.name for p in out.iterdir()) == ["part-00000.parquet"]  # stale file gone
    assert run_cli("run", spec, "--input", src, "--output", src / "out", "--fit") == 2
    assert "inside the input" in capsys.readouterr().err
    assert run_cli("run", spec, "--input", src, "--output", tmp_path, "--fit", "--overwrite") == 2
    assert "contains the input" in capsys.readouterr().err
    Pipeline.from_spec(SPEC).fit(online_retail.slice(0, 2000)).save(tmp_path / "s")
    with pytest.raises(SystemExit):
        run_cli("run", tmp_path / "typo.yaml", "--state", tmp_path / "s", "--input", src,
                "--output", tmp_path / "x")  # fmt: skip
    assert "not both" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run_cli(
            "run", "--fit", "--state", tmp_path / "s", "--input", src, "--output", tmp_path / "x"
        )
    assert "would discard --state" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


# -- 7. the summary adds up -----------------------------------------------------------------------


def test_summary_times_add_up_and_inspect_is_complete(online_retail, tmp_path, capsys):
    pq.write_table(online_retail.slice(0, 30_000), tmp_path / "in.parquet")
    pipeline = Pipeline.from_spec(SPEC)
    summary = pipeline.run(tmp_path / "in.parquet", tmp_path / "o", fit=True, progress=False,
                           save_state=tmp_path / "s")  # fmt: skip
    parts = (
        summary["read_seconds"] + summary["fit_seconds"] + sum(summary["step_seconds"].values())
        + summary["write_seconds"] + summary["other_seconds"]
    )  # fmt: skip
    assert parts == pytest.approx(summary["seconds"], rel=1e-6)
    assert summary["files"] == [str(tmp_path / "o" / "part-00000.parquet")]
    assert cli.main(["inspect", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "output columns" in out and "UnitPrice_mean_30d" in out and "on disk" in out
    assert "window state: " in out
    assert cli.main(["inspect", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is not a saved featforge pipeline" in err and "Errno" not in err


def test_demo_shows_rows_with_non_empty_windows(tmp_path, capsys):
    assert cli.main(["demo", "--rows", "20000", "--output", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    shown = out.split("windows not empty):")[1].strip().splitlines()[1:]
    assert len(shown) == 3
    counts = [int(line.split()[4]) for line in shown]  # the count_1d column
    assert all(c > 1 for c in counts), shown


# -- 8. YAML out of the box, no tracebacks --------------------------------------------------------


def test_yaml_spec_needs_no_extra_and_internal_errors_are_messages(online_retail, tmp_path):
    import yaml

    pq.write_table(online_retail.slice(0, 500), tmp_path / "in.parquet")
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(SPEC))
    run = [sys.executable, "-m", "featforge.cli", "run", str(tmp_path / "spec.yaml"),
           "--input", str(tmp_path / "in.parquet"), "--fit"]  # fmt: skip
    ok = subprocess.run([*run, "--output", str(tmp_path / "o")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    broken = subprocess.run(
        [*run, "--output", str(tmp_path / "o2"), "--batch-rows", "-1"], capture_output=True,
        text=True,
    )  # fmt: skip
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    from pathlib import Path

    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert '"pyyaml>=6"]' in pyproject.split("[project.optional")[0]  # a runtime dependency


def test_unexpected_errors_print_one_line_unless_asked(tmp_path, capsys, monkeypatch):
    def boom(self, *args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Pipeline, "run", boom)
    spec = write_spec(tmp_path)
    assert run_cli("run", spec, "--input", tmp_path, "--output", tmp_path / "o", "--fit") == 2
    err = capsys.readouterr().err
    assert err.strip() == "featforge run: error: RuntimeError: disk on fire"
    assert run_cli("--traceback", "run", spec, "--input", tmp_path, "--output", tmp_path / "o",
                   "--fit") == 2  # fmt: skip
    assert "Traceback" in capsys.readouterr().err


def test_every_cli_option_has_help_and_default():
    parser = cli.build_parser()
    for action in parser._subparsers._group_actions[0].choices.values():
        for option in action._actions:
            if option.dest in ("help",):
                continue
            assert option.help, (action.prog, option.dest)
    assert "(default: 131072)" in parser._subparsers._group_actions[0].choices["run"].format_help()


# -- 9. documented orders -------------------------------------------------------------------------


def test_min_count_indices_are_in_admission_order_and_empty_fit_is_refused(tmp_path):
    keys = pa.array(["a", "b", "c", "c", "b", "a"])
    vocabulary = IdMap("string", min_count=2).fit(keys).freeze()
    # c reaches min_count first, then b, then a: indices in admission order
    assert vocabulary.lookup(pa.array(["a", "b", "c"])).to_pylist() == [3, 2, 1]
    assert IdMap("string").fit(keys).freeze().lookup(pa.array(["a", "b", "c"])).to_pylist() == [
        1, 2, 3,
    ]  # fmt: skip
    empty = pa.table({"StockCode": pa.array([], pa.string())})
    with pytest.raises(InputError, match="no rows"):
        Pipeline.from_spec({"steps": [{"op": "id_map", "column": "StockCode"}]}).fit(empty)
    pipeline = Pipeline.from_spec({"steps": [{"op": "id_map", "column": "StockCode"}]})
    with pytest.raises(StepError, match=r"step 0 \(id_map\): not fitted"):
        pipeline.transform(empty)


def test_window_functions_name_a_float_key_column(online_retail):
    frame = online_retail.slice(0, 5000).to_pandas()  # has null customers: float64 in pandas
    with pytest.raises(TypeError, match=r"key column 'CustomerID' is double.*astype\('Int64'\)"):
        window_features(frame, WINDOW)


@pytest.mark.parametrize("closed", ["left", "right", "both", "none"])
def test_fitting_in_time_chunks_equals_backfill_with_dense_ties(closed, monkeypatch):
    from featforge import steps

    monkeypatch.setattr(steps, "STREAM_CHUNK_ROWS", 7)  # many chunk cuts, each at a tie
    rng = np.random.default_rng(3)
    n = 3000
    table = pa.table(
        {
            "k": pa.array(rng.integers(0, 40, n)),
            "t": pa.array(rng.integers(0, 200, n) * 1000, pa.timestamp("ms")),
            "v": pa.array(rng.normal(size=n), mask=rng.random(n) < 0.1),  # nulls, not NaN
        }
    )
    spec = {"op": "window", "key": "k", "time": "t", "windows": ["5s", "1m"],
            "aggs": {"v": ["sum", "mean", "max", "std", "last"]}, "closed": closed}  # fmt: skip
    pipeline = Pipeline.from_spec({"steps": [spec]})
    got = pipeline.fit_transform(table)
    expected = window_features(
        table,
        WindowSpec(key="k", time="t", windows=["5s", "1m"], aggs=spec["aggs"], closed=closed),
    )
    assert got.equals(expected)
    later = table.set_column(1, "t", pc.add(table.column("t").cast("int64"), 400_000).cast(
        pa.timestamp("ms")))  # fmt: skip
    warm = pipeline.transform(later)
    both = window_features(pa.concat_tables([table, later]), WindowSpec(
        key="k", time="t", windows=["5s", "1m"], aggs=spec["aggs"], closed=closed))  # fmt: skip
    assert warm.select(both.column_names[3:]).equals(both.slice(n).select(both.column_names[3:]))


def test_a_failed_run_discards_the_state_it_half_applied(online_retail, tmp_path):
    history, new = split_by_time(online_retail)
    pq.write_table(online_retail, tmp_path / "all.parquet")
    pipeline = Pipeline.from_spec(SPEC).fit(history)
    with pytest.raises(LateEventsError, match="counted twice"):
        pipeline.run(tmp_path / "all.parquet", tmp_path / "o", progress=False)
    assert not (tmp_path / "o").exists()
    with pytest.raises(StepError, match="discarded when a run using it failed"):
        pipeline.transform(new)
    # a pure transform keeps the fitted state: the same call twice gives the same result
    fresh = Pipeline.from_spec(SPEC).fit(history)
    assert fresh.transform(new).equals(fresh.transform(new))


def test_fitting_a_stream_twice_starts_from_empty_state_each_time(online_retail):
    table = online_retail.slice(0, 50_000)
    pipeline = Pipeline.from_spec(SPEC)
    for _ in range(2):
        pipeline.fit(table.to_reader(max_chunksize=10_000))
        keyed = table.num_rows - table.column("CustomerID").null_count
        assert pipeline.steps[3].state_stats()["events"] == keyed
