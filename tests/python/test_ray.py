"""featforge.ray on a local Ray equals the single-machine results (needs ray[data])."""

from __future__ import annotations

import pyarrow as pa
import pytest

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

from featforge import IdMap, Pipeline, WindowSpec, datagen, window_features  # noqa: E402
from featforge import ray as ffray  # noqa: E402

SPEC = {
    "steps": [
        {"op": "hash_bucket", "column": "country", "num_buckets": 64, "out": "cb"},
        {"op": "cross", "columns": ["country", "category"], "num_buckets": 1024, "out": "cx"},
        {"op": "id_map", "column": "item_id", "out": "item_idx", "min_count": 2},
        {"op": "text_hash", "column": "query", "num_buckets": 512, "out": "qt"},
        {"op": "window", "key": "user_id", "time": "event_time", "windows": ["1h", "1d"],
         "aggs": {"price": ["sum", "max"]}},
        {"op": "window", "key": "item_id", "time": "event_time", "windows": ["7d"],
         "aggs": {"quantity": ["mean"]}},
    ]
}  # fmt: skip


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def events() -> pa.Table:
    table = pa.Table.from_batches(list(datagen.events(12_000, batch_rows=3_000, seed=4)))
    return table.append_column("row", pa.array(range(table.num_rows), pa.int64()))


def collect(ds) -> pa.Table:
    return pa.concat_tables(ray.get(ds.to_arrow_refs())).sort_by("row")


def test_transform_fit_and_windows_equal_one_machine(local_ray, events):
    ds = ray.data.from_arrow(events).repartition(6)
    # fitted on one machine, windows from empty state: the table's own backfill
    pipeline = Pipeline.from_spec(SPEC).fit(events)
    for step in pipeline.steps:
        if step.op == "window":
            step.reset_state()
    local = Pipeline.from_spec(SPEC).fit_transform(events)
    distributed = collect(ffray.transform(ds, pipeline, partitions=5))
    assert distributed.num_rows == events.num_rows
    for name in local.column_names:
        assert distributed.column(name).equals(local.column(name)), name
    # continuing fitted window state on the workers
    history, new = events.slice(0, 9_000), events.slice(9_000)
    fitted = Pipeline.from_spec(SPEC).fit(history)
    got = collect(ffray.transform(ray.data.from_arrow(new).repartition(3), fitted))
    expected = fitted.transform(new)
    for name in ("count_1h", "price_max_1d", "quantity_mean_7d", "item_idx", "qt"):
        assert got.column(name).equals(expected.column(name)), name


@pytest.mark.parametrize(("column", "options"), [("item_id", {"min_count": 2}), ("user_id", {})])
def test_fit_idmap_equals_frequency_frozen_map(local_ray, events, column, options):
    ds = ray.data.from_arrow(events).repartition(4)
    got = ffray.fit_idmap(ds, column, **options)
    key_type = "int64" if column == "user_id" else "string"
    local = IdMap(key_type, **options).fit(events.column(column)).freeze("frequency")
    cols = ["key", "index", "count"]
    assert got.frozen and got.to_arrow().select(cols).equals(local.to_arrow().select(cols))


def test_window_features_per_key_group(local_ray, events):
    spec = WindowSpec(
        key="user_id", time="event_time", aggs={"price": ["mean", "std"]}, windows=["1h", "7d"]
    )
    got = collect(ffray.window_features(ray.data.from_arrow(events).repartition(3), spec))
    expected = window_features(events, spec)
    for name in spec.output_names():
        assert got.column(name).equals(expected.column(name)), name
    with pytest.raises(KeyError, match="'nope'"):
        ffray.fit_idmap(ray.data.from_arrow(events), "nope")
