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

// Value i of a numeric column as a double: typed per Arrow physical type, booleans as 0/1.
template <class T>
struct TypedValues {
  const T* x;
  double operator()(int64_t i) const { return static_cast<double>(x[i]); }
  void prefetch(int64_t i) const { __builtin_prefetch(x + i); }
};
struct BitValues {
  const uint8_t* bits;
  int64_t offset;
  double operator()(int64_t i) const { return arrow::get_bit(bits, offset + i); }
  void prefetch(int64_t i) const { __builtin_prefetch(bits + (offset + i) / 8); }
};

// Calls visit(reader) with the reader for value column `column`'s type (one instantiation per
// type, so the caller's loop is typed); throws unsupported_type for a non-numeric column.
template <class Visit>
void visit_values(const arrow::ArrayView& v, size_t column, Visit&& visit) {
  using arrow::TypeId;
  auto typed = [&]<class T>(T*) { visit(TypedValues<T>{v.values<T>()}); };
  switch (v.is_dictionary() ? TypeId::other : v.id()) {
    case TypeId::int8: typed(static_cast<int8_t*>(nullptr)); break;
    case TypeId::uint8: typed(static_cast<uint8_t*>(nullptr)); break;
    case TypeId::int16: typed(static_cast<int16_t*>(nullptr)); break;
    case TypeId::uint16: typed(static_cast<uint16_t*>(nullptr)); break;
    case TypeId::int32: typed(static_cast<int32_t*>(nullptr)); break;
    case TypeId::uint32: typed(static_cast<uint32_t*>(nullptr)); break;
    case TypeId::int64: typed(static_cast<int64_t*>(nullptr)); break;
    case TypeId::uint64: typed(static_cast<uint64_t*>(nullptr)); break;
    case TypeId::float32: typed(static_cast<float*>(nullptr)); break;
    case TypeId::float64: typed(static_cast<double*>(nullptr)); break;
    case TypeId::boolean: visit(BitValues{v.bool_bits(), v.offset()}); break;
    default:
      throw unsupported_type("value column " + std::to_string(column) +
                             " must be numeric, got " + arrow::type_name(v.schema()));
  }
}

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
