// Input columns as the window engines read them (shared by backfill and streaming).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "featforge/arrow/view.h"

namespace featforge::window::detail {

// Per-row composite key bytes (canonical bytes of each key column, strings length-prefixed),
// or null when any key column is null.
struct RowKeys {
  std::string arena;
  std::vector<size_t> offsets;  // n + 1
  std::vector<uint8_t> valid;
  [[nodiscard]] std::string_view at(int64_t i) const {
    return {arena.data() + offsets[static_cast<size_t>(i)],
            offsets[static_cast<size_t>(i) + 1] - offsets[static_cast<size_t>(i)]};
  }
};

// Checks every key column (integer or string, length n) and encodes the rows' keys.
[[nodiscard]] RowKeys encode_keys(const std::vector<arrow::ArrayView>& keys, int64_t n);

// The time column as int64 (int32/date32 widened); no nulls allowed.
[[nodiscard]] std::vector<int64_t> time_values(const arrow::ArrayView& t);

}  // namespace featforge::window::detail
