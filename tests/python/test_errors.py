"""Bad input gives a clear Python exception naming the argument, never a crash."""

from __future__ import annotations

import featforge
import numpy as np
import pyarrow as pa
import pytest


def test_unsupported_arrow_type_is_type_error():
    with pytest.raises(TypeError, match=r"values: unsupported Arrow type: decimal.*supported:"):
        featforge.hash(pa.array([1], pa.decimal128(10, 2)))
    with pytest.raises(TypeError, match=r"values: unsupported Arrow type: .*map"):
        featforge.hash(pa.array([[("k", 1)]], pa.map_(pa.string(), pa.int64())))


def test_nested_structs_hash_field_by_field():
    arr = pa.array([[{"a": 1}], None], pa.list_(pa.struct([("a", pa.int64())])))
    out = featforge.hash(arr, algo="xxh64")
    assert out.type == pa.list_(pa.struct([("a", pa.uint64())]))
    assert out[1].as_py() is None
    assert out[0].as_py() == [{"a": featforge.hash(pa.array([1]), algo="xxh64")[0].as_py()}]


def test_decimal_inside_list_is_type_error():
    with pytest.raises(TypeError, match="values: unsupported Arrow type: decimal"):
        featforge.hash(pa.array([[1]], pa.list_(pa.decimal128(5, 0))))


@pytest.mark.parametrize("algo", ["md5", "XXH3", "", None, 3])
def test_unknown_algo(algo):
    with pytest.raises(ValueError, match="algo must be one of 'xxh3', 'xxh64', 'murmur3'"):
        featforge.hash(pa.array([1]), algo=algo)


@pytest.mark.parametrize("obj", [object(), {"a": 1}, 3, "abc", b"raw"])
def test_non_arrow_objects(obj):
    with pytest.raises(TypeError, match="values: expected an Arrow array"):
        featforge.hash(obj)


def test_unconvertible_sequences():
    with pytest.raises(TypeError, match="values: could not convert"):
        featforge.hash([1, "a", object()])
    with pytest.raises(TypeError, match="values: expected a 1-dimensional array"):
        featforge.hash(np.zeros((2, 2)))


def test_bad_seed():
    with pytest.raises(ValueError, match="seed must be in"):
        featforge.hash(pa.array([1]), seed=-1)
    with pytest.raises(ValueError, match="seed must be in"):
        featforge.hash(pa.array([1]), algo="murmur3", seed=1 << 32)
    with pytest.raises(TypeError, match="seed must be an int"):
        featforge.hash(pa.array([1]), seed="1")


def test_bad_bucket_and_slot():
    with pytest.raises(ValueError, match="num_buckets must be in"):
        featforge.hash_bucket(pa.array([1]), 0)
    with pytest.raises(TypeError, match="num_buckets must be an int"):
        featforge.hash_bucket(pa.array([1]), 2.5)
    with pytest.raises(ValueError, match="slot must be in"):
        featforge.fid(pa.array([1]), 32768)
    with pytest.raises(ValueError, match="slot must be in"):
        featforge.fid(pa.array([1]), -1)


def test_bad_num_threads():
    with pytest.raises(ValueError, match="n must be in"):
        featforge.set_num_threads(0)


def test_foreign_capsule_producer():
    class Liar:
        def __arrow_c_array__(self, requested_schema=None):
            return ("not", "capsules")

    with pytest.raises(TypeError, match="values: .*did not return a PyCapsule"):
        featforge.hash(Liar())


def test_default_threads_are_the_usable_cpus_and_the_environment_overrides_them():
    import os
    import subprocess
    import sys

    code = "import featforge; print(featforge.get_num_threads())"
    env = {k: v for k, v in os.environ.items() if k != "FEATFORGE_NUM_THREADS"}
    default = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert int(default.stdout) == min(len(os.sched_getaffinity(0)), os.cpu_count() or 1)
    env["FEATFORGE_NUM_THREADS"] = "3"
    forced = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert int(forced.stdout) == 3
    env["FEATFORGE_NUM_THREADS"] = "many"
    bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "FEATFORGE_NUM_THREADS must be an integer" in bad.stderr
