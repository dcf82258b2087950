"""Produce tests/python/data/keras_golden.json with real TensorFlow/Keras (CPU).

Run in an environment with tensorflow-cpu installed:
    python tools/gen_keras_golden.py tests/python/data/keras_golden.json
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

strings = [
    "",
    "a",
    "abc",
    "United Kingdom",
    "85123A",
    "WHITE HANGING HEART T-LIGHT HOLDER",
    "é日本",
    "x" * 17,
    "y" * 33,
    "z" * 64,
    "w" * 65,
    "long " * 40,
]
ints = [0, 1, -1, 42, 123456789, -9876543210, 2**62]
out = {"tensorflow": tf.__version__, "keras": keras.__version__, "strings": strings, "ints": ints}
cases = {
    "fast_1024": dict(num_bins=1024),
    "masked_1024": dict(num_bins=1024, mask_value="abc"),
    "salt_int_1000": dict(num_bins=1000, salt=133),
    "salt_pair_77": dict(num_bins=77, salt=[1, 2]),
}
for name, kw in cases.items():
    out["hashing_str_" + name] = keras.layers.Hashing(**kw)(tf.constant(strings)).numpy().tolist()
int_cases = {
    "fast_1024": dict(num_bins=1024),
    "masked_1024": dict(num_bins=1024, mask_value=42),
    "salt_int_1000": dict(num_bins=1000, salt=133),
}
for name, kw in int_cases.items():
    out["hashing_int_" + name] = (
        keras.layers.Hashing(**kw)(tf.constant(ints, tf.int64)).numpy().tolist()
    )
cross_a = ["a", "b", "United Kingdom", "", "x"]
cross_b = ["p", "q", "85123A", "z", ""]
cross_i = [1, 2, 3, -4, 2**40]
out["cross_a"], out["cross_b"], out["cross_i"] = cross_a, cross_b, cross_i
layer = keras.layers.HashedCrossing(num_bins=1000)
out["crossing_str_str_1000"] = layer((tf.constant(cross_a), tf.constant(cross_b))).numpy().tolist()
out["crossing_int_str_1000"] = (
    layer((tf.constant(cross_i, tf.int64), tf.constant(cross_a))).numpy().tolist()
)
out["crossing_str_str_str_97"] = (
    keras.layers.HashedCrossing(num_bins=97)(
        (tf.constant(cross_a), tf.constant(cross_b), tf.constant(cross_a))
    )
    .numpy()
    .tolist()
)
json.dump(
    out,
    open(sys.argv[1] if len(sys.argv) > 1 else "keras_golden.json", "w"),
    ensure_ascii=False,
    indent=1,
)
print("tensorflow", tf.__version__, "keras", keras.__version__)
