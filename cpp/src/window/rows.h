// Input columns as the window engines read them (shared by backfill and streaming).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "featforge/arrow/view.h"
#include "featforge/window/engine.h"

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

// What an output column holds: the window's event count, or an aggregate of a value column.
enum class Kind : uint8_t { count, value_count, sum, mean, min, max, last, std };

[[nodiscard]] inline Kind kind_of(Agg a) noexcept {
  switch (a) {
    case Agg::count: return Kind::value_count;
    case Agg::sum: return Kind::sum;
    case Agg::mean: return Kind::mean;
    case Agg::min: return Kind::min;
    case Agg::max: return Kind::max;
    case Agg::last: return Kind::last;
    case Agg::std: return Kind::std;
  }
  return Kind::sum;
}

// Counts are int64 columns; every other output is float64.
[[nodiscard]] inline bool is_int(Kind k) noexcept { return k == Kind::count || k == Kind::value_count; }

}  // namespace featforge::window::detail
