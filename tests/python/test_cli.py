"""The featforge command: demo end to end on a small generated log."""

from __future__ import annotations

import featforge
import pyarrow.parquet as pq
import pytest
from featforge import cli, datagen


def test_demo_writes_features(tmp_path, capsys):
    out = tmp_path / "demo"
    assert cli.main(["demo", "--rows", "25000", "--batch-rows", "10000", "--output", str(out)]) == 0
    table = pq.read_table(out / "features")
    assert table.num_rows == 25000
    # every step type contributed its column(s)
    for name in (
        "user_hash",
        "country_bucket",
        "item_fid",
        "country_x_category",
        "query_tokens",
        "item_idx",
        "count_7d",
        "price_mean_1d",
        "quantity_sum_7d",
    ):
        assert name in table.column_names, name
    assert "query" not in table.column_names  # the drop step
    assert table.column("country_bucket").equals(featforge.hash_bucket(table.column("country"), 64))
    captured = capsys.readouterr()
    assert "Summary" in captured.out
    assert "rows written       25,000" in captured.out
    assert "100.0%" in captured.err
    assert cli.main(["inspect", str(out / "pipeline")]) == 0


def test_demo_rejects_bad_rows(capsys):
    with pytest.raises(SystemExit):
        cli.main(["demo", "--rows", "0"])
    assert "--rows must be >= 1" in capsys.readouterr().err


def test_datagen_is_deterministic_and_time_ordered():
    a = list(datagen.events(5000, batch_rows=2000, seed=3))
    b = list(datagen.events(5000, batch_rows=2000, seed=3))
    assert [x.equals(y) for x, y in zip(a, b)] == [True, True, True]
    times = [t for batch in a for t in batch.column("event_time").cast("int64").to_pylist()]
    assert times == sorted(times)
    assert sum(batch.num_rows for batch in a) == 5000


def test_demo_needs_only_the_runtime_dependencies(tmp_path):
    """numpy and pyarrow are the only runtime dependencies: the main job must not import the
    peers the tests use (pandas, polars, scikit-learn, scipy, PyYAML)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "class Block:  # a meta-path finder that makes these imports fail, as if not installed\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('pandas', 'polars', 'sklearn', 'scipy', 'yaml'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from featforge import cli\n"
        f"raise SystemExit(cli.main(['demo', '--rows', '3000', '--output', {str(tmp_path)!r}]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Summary" in result.stdout
