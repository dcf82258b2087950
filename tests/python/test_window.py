"""window_features against polars rolling(index_column, period, group_by, closed) as the oracle."""

from __future__ import annotations

import featforge
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from featforge import WindowSpec, window_features

ALL_AGGS = ["count", "sum", "mean", "min", "max", "last", "std"]


def polars_oracle(table: pa.Table, spec: WindowSpec, periods: list[str]) -> pl.DataFrame:
    """The same features from polars (rolling over each key), with the input row ids; rows whose
    key is null are left out."""
    df = pl.from_arrow(table).with_row_index("__row")
    keys = list(spec.keys)
    df = df.filter(pl.all_horizontal(pl.col(k).is_not_null() for k in keys))
    df = df.sort([spec.time, "__row"])  # time-sorted within every key, ties in input order
    exprs = []
    for label, period in zip(spec.labels(), periods):

        def rolled(e: pl.Expr, period: str = period) -> pl.Expr:
            return e.rolling(index_column=spec.time, period=period, closed=spec.closed).over(keys)

        exprs.append(rolled(pl.len()).cast(pl.Int64).alias(f"count_{label}"))
        for column, aggs in spec.aggs.items():
            c = pl.col(column)
            by_name = {
                "count": c.count().cast(pl.Int64),
                "sum": c.sum().cast(pl.Float64),
                "mean": c.mean(),
                "min": c.min().cast(pl.Float64),
                "max": c.max().cast(pl.Float64),
                "last": c.drop_nulls().last().cast(pl.Float64),
                "std": c.std(),
            }
            exprs += [rolled(by_name[a]).alias(f"{column}_{a}_{label}") for a in aggs]
    return df.with_columns(exprs).sort("__row")


def assert_matches(ours: pa.Table, oracle: pl.DataFrame, names: list[str]) -> None:
    rows = oracle["__row"].to_numpy()
    for name in names:
        got = ours.column(name).to_numpy(zero_copy_only=False)[rows]
        want = oracle[name].to_numpy()
        if name.startswith("count_") or name.rsplit("_", 2)[-2] == "count":
            np.testing.assert_array_equal(got, want, err_msg=name)
        else:
            got = np.asarray(got, dtype=float)
            want = np.asarray(want, dtype=float)
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=name)
            mask = ~np.isnan(want)
            np.testing.assert_allclose(got[mask], want[mask], rtol=1e-9, atol=1e-9, err_msg=name)


@pytest.fixture(scope="module")
def retail_shuffled(online_retail):
    table = online_retail.select(["CustomerID", "InvoiceDate", "UnitPrice", "Quantity"])
    perm = np.random.default_rng(0).permutation(table.num_rows)
    return table.take(perm)


@pytest.mark.parametrize("closed", ["left", "right", "both", "none"])
def test_online_retail_shuffled_against_polars(retail_shuffled, closed):
    spec = WindowSpec(
        key="CustomerID",
        time="InvoiceDate",
        aggs={"UnitPrice": ALL_AGGS, "Quantity": ["sum", "max"]},
        windows=["1h", "1d", "7d"],
        closed=closed,
    )
    ours = window_features(retail_shuffled, spec)
    assert ours.num_rows == retail_shuffled.num_rows
    oracle = polars_oracle(retail_shuffled, spec, ["1h", "1d", "7d"])
    assert_matches(ours, oracle, spec.output_names())
    # null CustomerID rows get null features
    null_rows = retail_shuffled.column("CustomerID").is_null().to_numpy(zero_copy_only=False)
    assert (
        ours.column("count_1d").to_numpy(zero_copy_only=False)[null_rows].tolist()
        == [None] * int(null_rows.sum())
        or np.isnan(
            ours.column("count_1d").to_numpy(zero_copy_only=False)[null_rows].astype(float)
        ).all()
    )


def synthetic(n: int = 20_000, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    keys = rng.choice(["alpha", "beta", "gamma", "δέλτα", "e" * 30], size=n)
    times = np.sort(rng.integers(0, 2_000, size=n))  # dense ties: ~10 rows share each time
    values = rng.normal(100, 15, size=n)
    values[rng.random(n) < 0.2] = np.nan
    perm = rng.permutation(n)
    return pa.table(
        {
            "user": pa.array(keys[perm]),
            "device": pa.array((rng.integers(0, 3, size=n))[perm], pa.int32()),
            "ts": pa.array(times[perm], pa.int64()),
            "x": pa.array(values[perm], from_pandas=True),
        }
    )


@pytest.mark.parametrize("closed", ["left", "right", "both", "none"])
def test_synthetic_string_and_composite_keys_with_dense_ties(closed):
    table = synthetic()
    spec = WindowSpec(
        key=["user", "device"], time="ts", aggs={"x": ALL_AGGS}, windows=[1, 7, 50], closed=closed
    )
    ours = window_features(table, spec)
    oracle = polars_oracle(table, spec, ["1i", "7i", "50i"])
    assert_matches(ours, oracle, spec.output_names())


@pytest.mark.parametrize("closed", ["left", "both"])
def test_many_unsorted_windows_and_several_columns(closed):
    # Six windows (swept in two chunks of up to four), given out of length order; a column with
    # nulls and one without, aggregations in differing orders; and counts alone.
    table = synthetic()
    rng = np.random.default_rng(5)
    table = table.append_column("y", pa.array(rng.integers(-50, 50, size=table.num_rows)))
    windows, periods = [7, 1, 50, 3, 20, 2], ["7i", "1i", "50i", "3i", "20i", "2i"]
    spec = WindowSpec(
        key="user",
        time="ts",
        aggs={"x": ["max", "mean", "count", "std"], "y": ["last", "sum", "min", "mean"]},
        windows=windows,
        closed=closed,
    )
    ours = window_features(table, spec)
    assert_matches(ours, polars_oracle(table, spec, periods), spec.output_names())
    counts = WindowSpec(key="user", time="ts", aggs={}, windows=windows, closed=closed)
    ours = window_features(table, counts)
    assert_matches(ours, polars_oracle(table, counts, periods), counts.output_names())


def test_key_and_time_widths_and_sliced_input():
    # Columns read in place (int64, at an offset) and widened (narrower ints) give the same rows.
    rng = np.random.default_rng(11)
    n = 3_000
    keys = pa.array(rng.integers(0, 40, size=n + 200), pa.int64(), mask=rng.random(n + 200) < 0.05)
    table = pa.table(
        {
            "k": keys,
            "t": pa.array(np.sort(rng.integers(0, 5_000, size=n + 200)), pa.int64()),
            "v": pa.array(rng.normal(size=n + 200)),
        }
    ).slice(100, n)
    spec = WindowSpec(key="k", time="t", aggs={"v": ["sum", "max", "count"]}, windows=[10, 300])
    names = spec.output_names()
    expected = window_features(pa.Table.from_pylist(table.to_pylist(), table.schema), spec)
    expected = expected.select(names)
    assert window_features(table, spec).select(names).equals(expected)
    for key_type, time_type in [(pa.int32(), pa.int32()), (pa.uint16(), pa.int64())]:
        narrow = table.set_column(0, "k", table.column("k").cast(key_type)).set_column(
            1, "t", table.column("t").cast(time_type)
        )
        assert window_features(narrow, spec).select(names).equals(expected), (key_type, time_type)
    # A boolean value column counts as 0/1, like the same values as int8.
    flags = table.set_column(2, "v", pc.greater(table.column("v"), 0))
    as_int = flags.set_column(2, "v", flags.column("v").cast(pa.int8()))
    assert (
        window_features(flags, spec)
        .select(names)
        .equals(window_features(as_int, spec).select(names))
    )


def test_exact_single_value_windows_and_empty_windows():
    table = pa.table({"k": [1, 1, 1], "t": [0, 100, 200], "v": [0.1, 0.7, 1e17]})
    spec = WindowSpec(
        key="k",
        time="t",
        aggs={"v": ["sum", "mean", "min", "std", "count"]},
        windows=[150],
        closed="right",
    )
    out = window_features(table, spec).to_pydict()
    assert out["v_sum_150"] == [0.1, 0.1 + 0.7, 0.7 + 1e17]
    assert out["v_mean_150"][0] == 0.1  # a window holding only x reports exactly x
    left = window_features(
        table, WindowSpec(key="k", time="t", aggs={"v": ["sum", "mean"]}, windows=[50])
    ).to_pydict()
    assert left["count_50"] == [0, 0, 0] and left["v_sum_50"] == [0.0, 0.0, 0.0]
    assert left["v_mean_50"] == [None, None, None]


def test_timestamp_durations_and_polars_input():
    df = pl.DataFrame(
        {
            "u": [1, 1, 1],
            "t": pl.Series([0, 30 * 60_000, 3 * 3_600_000], dtype=pl.Int64).cast(pl.Datetime("ms")),
            "v": [1, 2, 3],
        }
    )
    out = window_features(df, WindowSpec(key="u", time="t", aggs={"v": ["sum"]}, windows=["1h"]))
    assert out.column("v_sum_1h").to_pylist() == [0.0, 1.0, 0.0]
    assert out.column("count_1h").to_pylist() == [0, 1, 0]


def test_bad_specs_and_data():
    table = pa.table({"k": [1], "t": [1], "v": [1.0], "s": ["x"]})
    with pytest.raises(KeyError, match="'missing'"):
        window_features(table, WindowSpec(key="missing", time="t", aggs={}, windows=[1]))
    with pytest.raises(ValueError, match="bad window"):
        WindowSpec(key="k", time="t", aggs={}, windows=["1 fortnight"])
    with pytest.raises(ValueError, match="unknown aggregation 'median'"):
        WindowSpec(key="k", time="t", aggs={"v": ["median"]}, windows=[1])
    with pytest.raises(ValueError, match="repeats"):
        WindowSpec(key="k", time="t", aggs={"v": ["max", "sum", "max"]}, windows=[1])
    with pytest.raises(ValueError, match="repeat"):
        WindowSpec(key="k", time="t", aggs={}, windows=["1h", "1d", "1h"])
    with pytest.raises(ValueError, match="closed must be one of"):
        WindowSpec(key="k", time="t", aggs={}, windows=[1], closed="open")
    with pytest.raises(TypeError, match="value column 0 must be numeric"):
        window_features(table, WindowSpec(key="k", time="t", aggs={"s": ["sum"]}, windows=[1]))
    with pytest.raises(ValueError, match="time column must not contain nulls"):
        window_features(
            pa.table({"k": [1], "t": pa.array([None], pa.int64()), "v": [1.0]}),
            WindowSpec(key="k", time="t", aggs={"v": ["sum"]}, windows=[1]),
        )
    with pytest.raises(ValueError, match="durations need a timestamp"):
        window_features(table, WindowSpec(key="k", time="t", aggs={}, windows=["1h"]))
    with pytest.raises(TypeError, match="spec must be a WindowSpec"):
        window_features(table, {"key": "k"})
    assert featforge.window_features is window_features
