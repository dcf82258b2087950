// Spark SQL's hash(col) and xxhash64(col), bit for bit (checked against Spark 4.3 in the tests).
#pragma once

#include "featforge/arrow/builder.h"
#include "featforge/arrow/view.h"

namespace featforge::hashing {

enum class SparkHash { murmur3, xxhash64 };

// Spark's default seed for both functions.
inline constexpr uint32_t kSparkSeed = 42;

// int32 (murmur3) or int64 (xxhash64) per row, as Spark computes for one column:
// byte/short/int/date/bool hash as a 4-byte int (bool as 0/1), long as 8 bytes, string/binary
// as their bytes (murmur3 with Spark's legacy tail handling). A null hashes to the seed (42), as
// in Spark, so the output has no nulls.
[[nodiscard]] arrow::OwnedArray spark_hash(const arrow::ArrayView& values, SparkHash function);

}  // namespace featforge::hashing
