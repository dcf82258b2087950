"""The example's inputs and Python's answers, written with Python featforge.

    python examples/cpp/make_data.py PATH/TO/featforge_example

writes examples/cpp/data/items.ffidmap (a frozen IdMap of item ids) and users.ffwindow (a
WindowAggregator checkpoint), runs the example on them, and writes expected_output.txt: every
line the example printed, recomputed from the inputs it states with Python featforge. The
ctest check (run_example.cmake) compares the example's output with that file;
tests/python/test_cpp_example.py recomputes it afresh.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import featforge
import pyarrow as pa

HERE = Path(__file__).resolve().parent
SEED = 7  # the hash seed main.cpp uses

USERS = featforge.WindowSpec(
    key="user",
    time="ts",
    aggs={"price": ["count", "sum", "mean", "max", "std"]},
    windows=["1h", "1d"],
)


def write_data(folder: Path) -> tuple[Path, Path]:
    """The IdMap file and the window checkpoint main.cpp reads."""
    folder.mkdir(parents=True, exist_ok=True)
    items = featforge.IdMap("string", num_oov_buckets=3, min_count=2)
    items.fit(
        pa.array(["mug", "star", "mug", "lamp", "mug", "star", "cup", "lamp", "lamp", "bowl"])
    )
    items.freeze("frequency")
    items_path = folder / "items.ffidmap"
    items.save(items_path)

    start = 1_700_000_000  # seconds
    events = pa.table(
        {
            "user": pa.array([3, 1, 2, 1, 1, 2, 1, 2], pa.int64()),
            "ts": pa.array(
                [start, start + 90_000, start + 95_000, start + 96_000, start + 97_000]
                + [start + 97_000, start + 99_000, start + 99_500],
                pa.timestamp("s"),
            ),
            "price": pa.array([9.5, 1.25, 2.0, None, 3.5, 0.1, 1e-3, 2.0], pa.float64()),
        }
    )
    users = featforge.WindowAggregator(USERS)
    users.transform(events)
    users_path = folder / "users.ffwindow"
    users.save(users_path)
    return items_path, users_path


def _value(kind: str, text: str) -> pa.Array:
    if kind == "int64":
        return pa.array([int(text)], pa.int64())
    if kind == "float64":
        return pa.array([float(text)], pa.float64())
    return pa.array([text], pa.string())


def _text(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{value:.17g}"
    return str(value)


def python_line(line: str, items_path: Path, users_path: Path) -> str:
    """`line` of the example's output with its result recomputed by Python featforge."""
    fields = line.split(" ")
    op = fields[0]
    if op == "hash":
        algo, kind, value = fields[1:4]
        result = featforge.hash(_value(kind, value), algo=algo, seed=SEED)[0].as_py()
        return " ".join(fields[:4] + [str(result)])
    if op == "hash_bucket":
        algo, kind, value, buckets = fields[1:5]
        arr = _value(kind, value)
        result = featforge.hash_bucket(arr, int(buckets), algo=algo, seed=SEED)[0].as_py()
        return " ".join(fields[:5] + [str(result)])
    if op == "fid":
        algo, kind, value, slot = fields[1:5]
        result = featforge.fid(_value(kind, value), int(slot), algo=algo, seed=SEED)[0].as_py()
        return " ".join(fields[:5] + [str(result)])
    if op == "lookup":
        index = featforge.IdMap.load(items_path).lookup(pa.array([fields[1]]))[0].as_py()
        return f"lookup {fields[1]} {-1 if index is None else index}"
    if op == "query":
        user, at = int(fields[1]), int(fields[2])
        users = featforge.WindowAggregator.load(users_path)
        row = users.query(pa.array([user], pa.int64()), at=at).to_pylist()[0]
        names = [f.split("=", 1)[0] for f in fields[3:]]
        assert names == USERS.output_names(), names
        return " ".join(fields[:3] + [f"{n}={_text(row[n])}" for n in names])
    raise ValueError(f"unexpected output line {line!r}")


def python_output(example_output: str, items_path: Path, users_path: Path) -> str:
    lines = example_output.splitlines()
    return "".join(python_line(line, items_path, users_path) + "\n" for line in lines)


def main() -> None:
    example = sys.argv[1]
    items_path, users_path = write_data(HERE / "data")
    run = subprocess.run(
        [example, str(items_path), str(users_path)], capture_output=True, text=True, check=True
    )
    expected = python_output(run.stdout, items_path, users_path)
    (HERE / "data" / "expected_output.txt").write_text(expected)
    verdict = "equals" if expected == run.stdout else "DIFFERS FROM"
    print(f"wrote {HERE / 'data'}; the example's output {verdict} Python's")


if __name__ == "__main__":
    main()
