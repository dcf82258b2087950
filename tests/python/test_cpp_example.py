"""The C++ API (featforge/featforge.h) gives Python's results: examples/cpp is built against a
freshly installed featforge package and its output recomputed line by line with Python."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "cpp"


def _make_data():
    spec = importlib.util.spec_from_file_location("ff_example_data", EXAMPLE / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tool_env() -> dict[str, str]:
    """The environment for cmake, the compiler and the example: without a sanitizer runtime the
    test run may preload (scripts/test.sh's ASan run)."""
    return {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}


def _cmake() -> str | None:
    here = Path(sys.executable).parent / "cmake"  # the venv's cmake (pip), else PATH's
    return str(here) if here.exists() else shutil.which("cmake")


@pytest.fixture(scope="module")
def example(tmp_path_factory) -> Path:
    cmake = _cmake()
    compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if cmake is None or compiler is None:
        pytest.skip("building the C++ example needs cmake and a C++ compiler (g++), not found")
    work = tmp_path_factory.mktemp("cpp-example")
    ninja = Path(sys.executable).parent / "ninja"
    generator = ["-G", "Ninja", f"-DCMAKE_MAKE_PROGRAM={ninja}"] if ninja.exists() else []

    def run(*args: str) -> None:
        done = subprocess.run(args, capture_output=True, text=True, env=_tool_env())
        assert done.returncode == 0, f"{' '.join(args)}\n{done.stdout}\n{done.stderr}"

    common = [*generator, "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_CXX_COMPILER={compiler}"]
    run(cmake, "-S", str(ROOT), "-B", str(work / "featforge"), *common)
    run(cmake, "--build", str(work / "featforge"), "--target", "featforge_core")
    run(cmake, "--install", str(work / "featforge"), "--prefix", str(work / "prefix"))
    prefix = f"-DCMAKE_PREFIX_PATH={work / 'prefix'}"
    run(cmake, "-S", str(EXAMPLE), "-B", str(work / "example"), *common, prefix)
    run(cmake, "--build", str(work / "example"))
    return work / "example" / "featforge_example"


def _run(example: Path, items: Path, users: Path) -> str:
    done = subprocess.run(
        [str(example), str(items), str(users)], capture_output=True, text=True, env=_tool_env()
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_installed_package_layout(example):
    prefix = example.parents[1] / "prefix"
    assert (prefix / "include" / "featforge" / "featforge.h").exists()
    assert (prefix / "lib" / "libfeatforge_core.a").exists()
    targets = (prefix / "lib" / "cmake" / "featforge" / "featforgeTargets.cmake").read_text()
    assert "featforge::core" in targets
    # Consumers get no warning, -Werror or sanitizer flags of ours.
    assert "-Werror" not in targets and "sanitize" not in targets and "-Wall" not in targets


def test_example_equals_python_on_fresh_data(example, tmp_path):
    data = _make_data()
    items, users = data.write_data(tmp_path)
    output = _run(example, items, users)
    lines = output.splitlines()
    # Every part of the API ran: hashes of each type and algorithm, lookups, queries.
    for op in ("hash", "hash_bucket", "fid", "lookup", "query"):
        assert any(line.startswith(op + " ") for line in lines), op
    assert {line.split()[2] for line in lines if line.startswith("hash ")} == {
        "int64",
        "float64",
        "string",
    }
    assert output == data.python_output(output, items, users)


def test_committed_expected_output_is_pythons(example):
    """ctest compares the example with examples/cpp/data/expected_output.txt: it must be what
    Python computes for the committed data files."""
    data = _make_data()
    folder = EXAMPLE / "data"
    items, users = folder / "items.ffidmap", folder / "users.ffwindow"
    expected = (folder / "expected_output.txt").read_text()
    assert data.python_output(expected, items, users) == expected
    assert _run(example, items, users) == expected


def test_window_reader_refuses_another_spec(example, tmp_path):
    """The C++ side states the window definition; a checkpoint written for another is refused."""
    import featforge
    import pyarrow as pa

    spec = featforge.WindowSpec(key="user", time="ts", aggs={"price": ["sum"]}, windows=["1h"])
    agg = featforge.WindowAggregator(spec)
    agg.transform(pa.table({"user": [1], "ts": pa.array([0], pa.timestamp("s")), "price": [1.0]}))
    agg.save(tmp_path / "other.ffwindow")
    data = _make_data()
    items, _ = data.write_data(tmp_path)
    done = subprocess.run(
        [str(example), str(items), str(tmp_path / "other.ffwindow")],
        capture_output=True,
        text=True,
        env=_tool_env(),
    )
    assert done.returncode == 1
    assert "different WindowSpec" in done.stderr
