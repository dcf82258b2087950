// Backfill and streaming window features over Arrow columns (docs/design.md §8).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "featforge/arrow/builder.h"
#include "featforge/arrow/view.h"
#include "featforge/idmap/idmap.h"
#include "featforge/hash/xxh3.h"
#include "featforge/window/state.h"

namespace featforge::window {

enum class Agg { count, sum, mean, min, max, last, std };

struct Spec {
  Layout layout;
  std::vector<std::vector<Agg>> aggs;  // per value column, in the requested order
};

[[nodiscard]] Closed parse_closed(std::string_view name);
[[nodiscard]] Agg parse_agg(std::string_view name);
// Fills layout.columns from aggs and validates windows; throws std::invalid_argument.
void finalize(Spec& spec);

// Output: a struct array with, per window w in order, count_w (int64), then per value column and
// requested aggregation one column (int64 for count, float64 otherwise). Null key -> null row.
// Rows in input order. Input need not be sorted.
[[nodiscard]] arrow::OwnedArray backfill(const std::vector<arrow::ArrayView>& keys,
                                         const arrow::ArrayView& time,
                                         const std::vector<arrow::ArrayView>& values,
                                         const Spec& spec);

enum class LatePolicy { drop, raise };

struct StreamStats {
  int64_t keys = 0;
  int64_t events = 0;
  int64_t buffered = 0;
  int64_t late_dropped = 0;
  int64_t out_of_order = 0;
  int64_t expired_keys = 0;
  int64_t bytes = 0;
  int64_t watermark = 0;
};

class Aggregator {
 public:
  Aggregator(Spec spec, int64_t allowed_lateness, LatePolicy late, int64_t ttl);

  // Features for the rows of a time-ordered batch, as backfill over everything seen so far
  // would give them; updates the state. Late events (time < the key's latest - lateness) are
  // dropped (null features, counted) or raise std::invalid_argument before anything changes.
  [[nodiscard]] arrow::OwnedArray transform(const std::vector<arrow::ArrayView>& keys,
                                            const arrow::ArrayView& time,
                                            const std::vector<arrow::ArrayView>& values);
  // Current features of `keys` at time `at` (serving); unknown keys get empty windows. For `at`
  // at or after a key's latest event, bit for bit the backfill row of a probe event at `at`.
  [[nodiscard]] arrow::OwnedArray query(const std::vector<arrow::ArrayView>& keys, int64_t at);
  [[nodiscard]] StreamStats stats() const;
  [[nodiscard]] std::string serialize() const;
  [[nodiscard]] static Aggregator deserialize(std::string_view bytes, Spec spec);

 private:
  Spec spec_;
  int64_t lateness_;
  LatePolicy late_;
  int64_t ttl_;
  idmap::KeyPool index_{idmap::KeyType::string};  // composite key bytes -> state slot
  std::vector<KeyState> states_;
  std::vector<uint8_t> live_;
  StreamStats counters_;
  int64_t watermark_ = INT64_MIN;
};

}  // namespace featforge::window
