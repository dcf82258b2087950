"""Pipelines: Python and spec definitions agree, steps equal the standalone functions, batched ==
whole, save/load, spec validation before reading data, run over Parquet directories, the CLI."""

from __future__ import annotations

import json

import featforge
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from featforge import IdMap, Pipeline, StepError, WindowSpec, cli, datagen, steps, window_features

SPEC = {
    "steps": [
        {"op": "hash_bucket", "column": "country", "num_buckets": 1024, "out": "country_bucket"},
        {"op": "cross", "columns": ["country", "category"], "num_buckets": 65536, "out": "cx"},
        {"op": "id_map", "column": "item_id", "out": "item_idx", "min_count": 2},
        {
            "op": "text_hash",
            "column": "query",
            "num_buckets": 4096,
            "ngram_range": [1, 2],
            "out": "qt",
        },
        {"op": "fid", "column": "user_id", "slot": 3, "out": "ufid"},
        {"op": "hash", "column": "event", "algo": "murmur3", "out": "eh"},
        {
            "op": "window",
            "key": "user_id",
            "time": "event_time",
            "windows": ["1h", "1d"],
            "aggs": {"price": ["mean", "max"]},
            "closed": "left",
        },
        {"op": "drop", "columns": ["query"]},
    ]
}


@pytest.fixture(scope="module")
def events() -> pa.Table:
    return pa.Table.from_batches(list(datagen.events(30_000, batch_rows=10_000, seed=5)))


def python_pipeline() -> Pipeline:
    return Pipeline(
        [
            steps.HashBucket("country", 1024, out="country_bucket"),
            steps.Cross(["country", "category"], 65536, out="cx"),
            steps.IdMap("item_id", out="item_idx", min_count=2),
            steps.TextHash("query", 4096, ngram_range=[1, 2], out="qt"),
            steps.Fid("user_id", 3, out="ufid"),
            steps.Hash("event", algo="murmur3", out="eh"),
            steps.Window(
                key="user_id",
                time="event_time",
                windows=["1h", "1d"],
                aggs={"price": ["mean", "max"]},
            ),
            steps.Drop(["query"]),
        ]
    )


def test_python_and_spec_pipelines_agree_and_round_trip(events):
    a = python_pipeline().fit_transform(events)
    spec_pipeline = Pipeline.from_spec(SPEC)
    b = spec_pipeline.fit_transform(events)
    assert a.equals(b)
    assert Pipeline.from_spec(spec_pipeline.to_spec()).to_spec() == spec_pipeline.to_spec()


def test_each_step_equals_the_standalone_function(events):
    out = Pipeline.from_spec(SPEC).fit_transform(events)
    assert out.column("country_bucket").equals(
        featforge.hash_bucket(events.column("country"), 1024)
    )
    assert out.column("cx").equals(
        featforge.cross([events.column("country"), events.column("category")], 65536)
    )
    assert out.column("qt").equals(
        featforge.text_hash(events.column("query"), 4096, ngram_range=(1, 2))
    )
    assert out.column("ufid").equals(featforge.fid(events.column("user_id"), 3))
    assert out.column("eh").equals(featforge.hash(events.column("event"), algo="murmur3"))
    vocab = IdMap("string", min_count=2).fit(events.column("item_id")).freeze()
    assert out.column("item_idx").equals(vocab.lookup(events.column("item_id")))
    w = window_features(
        events,
        WindowSpec(
            key="user_id", time="event_time", windows=["1h", "1d"], aggs={"price": ["mean", "max"]}
        ),
    )
    assert out.column("price_mean_1d").equals(w.column("price_mean_1d"))
    assert "query" not in out.column_names


def test_batched_equals_whole_and_save_load(events, tmp_path):
    history, new = events.slice(0, 20_000), events.slice(20_000)
    pipeline = Pipeline.from_spec(SPEC).fit(history)
    whole = pipeline.transform(new)
    batched = pa.Table.from_batches(list(pipeline.transform(new.to_reader(max_chunksize=777))))
    assert batched.equals(whole)
    pipeline.save(tmp_path / "p")
    loaded = Pipeline.load(tmp_path / "p")
    assert loaded.transform(new).equals(whole)
    # continuing from the history equals the tail of one computation over everything
    tail = Pipeline.from_spec(SPEC).fit(history).fit_transform(events).slice(20_000)
    for name in ("count_1h", "price_mean_1d", "price_max_1h", "cx", "qt"):
        assert whole.column(name).equals(tail.column(name)), name


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"op": "nope", "column": "x"}, r"step 1: unknown op 'nope'"),
        ({"op": "hash_bucket", "column": "country"}, r"step 1 \(hash_bucket\): bad arguments"),
        (
            {"op": "hash_bucket", "column": "country", "num_buckets": 0},
            r"step 1 \(hash_bucket\): num_buckets must be in",
        ),
        (
            {"op": "window", "key": "user_id", "time": "event_time", "windows": ["1x"], "aggs": {}},
            r"step 1 \(window\): bad window",
        ),
        ({"op": "cross", "columns": ["country"], "num_buckets": 8}, r"step 1 \(cross\)"),
    ],
)
def test_invalid_specs_rejected_with_position_and_op(bad, message):
    spec = {"steps": [{"op": "hash", "column": "country"}, bad]}
    with pytest.raises(StepError, match=message):
        Pipeline.from_spec(spec)


def test_missing_column_rejected_before_reading_data(tmp_path):
    pipeline = Pipeline.from_spec({"steps": [{"op": "hash", "column": "nope", "out": "h"}]})
    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"a": [1]}), path)
    with pytest.raises(StepError, match=r"step 0 \(hash\): column 'nope' not found"):
        pipeline.run(path, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_run_on_a_directory_of_parquet_files(events, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for i, batch in enumerate(events.to_batches(max_chunksize=7_000)):
        pq.write_table(pa.Table.from_batches([batch]), src / f"part-{i}.parquet")
    pipeline = Pipeline.from_spec(SPEC)
    summary = pipeline.run(src, tmp_path / "out", fit=True, progress=False)
    assert summary["rows"] == events.num_rows
    out = pq.read_table(tmp_path / "out")
    expected = Pipeline.from_spec(SPEC).fit_transform(events)
    assert out.equals(expected)
    assert summary["vocabulary"]["2:item_id"]["size"] > 0


def test_spec_files_yaml_and_json(tmp_path):
    (tmp_path / "spec.json").write_text(json.dumps(SPEC))
    assert Pipeline.from_spec(tmp_path / "spec.json").to_spec()["steps"][0]["op"] == "hash_bucket"
    yaml = pytest.importorskip("yaml")
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(SPEC))
    assert (
        Pipeline.from_spec(tmp_path / "spec.yaml").to_spec() == Pipeline.from_spec(SPEC).to_spec()
    )


def test_cli_run_fit_inspect_on_online_retail(online_retail, tmp_path, capsys):
    spec = {
        "steps": [
            {
                "op": "hash_bucket",
                "column": "Country",
                "num_buckets": 1024,
                "out": "country_bucket",
            },
            {"op": "id_map", "column": "StockCode", "out": "item_idx", "min_count": 2},
            {
                "op": "window",
                "key": "CustomerID",
                "time": "InvoiceDate",
                "windows": ["1d", "7d", "30d"],
                "aggs": {"UnitPrice": ["mean", "max"]},
            },
        ]
    }
    yaml = pytest.importorskip("yaml")
    spec_path = tmp_path / "spec.yaml"  # the form: a YAML spec on the CLI
    spec_path.write_text(yaml.safe_dump(spec))
    from conftest import DATASET

    assert (
        cli.main(
            [
                "run",
                str(spec_path),
                "--input",
                str(DATASET),
                "--output",
                str(tmp_path / "out"),
                "--fit",
            ]
        )
        == 0
    )
    out = pq.read_table(tmp_path / "out")
    assert out.num_rows == 541_909
    assert {"country_bucket", "item_idx", "UnitPrice_mean_30d", "count_7d"} <= set(out.column_names)
    assert (
        cli.main(
            ["fit", str(spec_path), "--input", str(DATASET), "--state", str(tmp_path / "state")]
        )
        == 0
    )
    assert cli.main(["inspect", str(tmp_path / "state")]) == 0
    assert "hash contract" in capsys.readouterr().out
    # the state holds the data's window history: scoring the same rows again would count them
    # twice, so it is refused (test_no_silent_skew continues state on the rows after it)
    assert (
        cli.main(
            [
                "run",
                "--state",
                str(tmp_path / "state"),
                "--input",
                str(DATASET),
                "--output",
                str(tmp_path / "out2"),
            ]
        )
        == 2
    )
    assert "would be counted twice" in capsys.readouterr().err
    assert not (tmp_path / "out2").exists()


def test_cli_errors_are_messages_not_tracebacks(tmp_path, capsys):
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps({"steps": [{"op": "id_map", "column": "a"}]}))
    pq.write_table(pa.table({"a": [1]}), tmp_path / "in.parquet")
    assert (
        cli.main(
            [
                "run",
                str(spec_path),
                "--input",
                str(tmp_path / "in.parquet"),
                "--output",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    assert "pass --fit" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "run",
                str(spec_path),
                "--input",
                str(tmp_path / "missing"),
                "--output",
                str(tmp_path / "o"),
                "--fit",
            ]
        )
        == 2
    )
    assert "does not exist" in capsys.readouterr().err
