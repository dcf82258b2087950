// Columnar feature-hashing kernels: Arrow array in, Arrow array out (docs/design.md §4, §5).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "featforge/arrow/builder.h"
#include "featforge/arrow/view.h"

namespace featforge::hashing {

enum class Algo { xxh3, xxh64, murmur3 };

// Throws std::invalid_argument naming the accepted algorithms.
[[nodiscard]] Algo parse_algo(std::string_view name);
[[nodiscard]] std::string_view algo_name(Algo algo) noexcept;

struct HashOptions {
  Algo algo = Algo::xxh3;
  uint64_t seed = 0;
};

// hash(): uint64 for xxh3/xxh64, int32 for murmur3 (as mmh3.hash returns). Lists keep their
// structure (list<uint64> ...), structs (record batches) hash column by column. Nulls stay null.
[[nodiscard]] arrow::OwnedArray hash(const arrow::ArrayView& values, const HashOptions& options);

// hash_bucket(): int64 in [0, num_buckets): the hash read as unsigned of its width, modulo.
[[nodiscard]] arrow::OwnedArray hash_bucket(const arrow::ArrayView& values, int64_t num_buckets,
                                            const HashOptions& options);

// fid(): int64 Monolith v2 feature id: bit 63 = 0, slot in bits 48..62, low 48 hash bits below.
inline constexpr int64_t kMaxSlot = (int64_t{1} << 15) - 1;
[[nodiscard]] arrow::OwnedArray fid(const arrow::ArrayView& values, int64_t slot,
                                    const HashOptions& options);

// cross(): the hashed feature cross of two or more equal-length columns, as int64 buckets.
// Combining rule (golden-tested): with h_i = hash(canonical bytes of the row's value in column i)
// (a murmur3 hash zero-extended to 64 bits), the cross is
//     hash(le64(h_1) || le64(h_2) || ... || le64(h_k)) mod num_buckets
// with the same algo and seed. Concatenation keeps it order-aware, and no XOR means equal values
// never cancel. A list column crosses as the cartesian product of the row's elements (first
// column varying slowest) and the result is list<int64>; null elements are skipped. A null value
// or null list in any column gives a null row.
[[nodiscard]] arrow::OwnedArray cross(const std::vector<arrow::ArrayView>& columns,
                                      int64_t num_buckets, const HashOptions& options);

}  // namespace featforge::hashing
