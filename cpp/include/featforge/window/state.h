// Per-key sliding-window state (docs/design.md §8). One buffer of a key's events, in time
// order, serves every window: a shared "added" pointer and one "removed" pointer per window move
// forward as time advances, and each (window, value column) keeps running aggregates updated on
// add and on evict (amortised O(1) per event): a Neumaier-compensated sum, Welford's mean/M2 for
// the standard deviation, and monotonic queues for min and max.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace featforge::window {

enum class Closed { left, right, both, none };

// Which aggregates a value column needs (count of non-null values is always kept).
struct AggFlags {
  bool sum = false;  // sum or mean
  bool std = false;
  bool min = false;
  bool max = false;
  bool last = false;
};

struct Layout {
  std::vector<int64_t> windows;  // lengths in the time column's unit, all > 0
  Closed closed = Closed::left;
  std::vector<AggFlags> columns;  // one per value column
};

// A FIFO of event ids that only ever pops from the front: a vector plus a head index.
class IdQueue {
 public:
  [[nodiscard]] bool empty() const noexcept { return head_ == ids_.size(); }
  [[nodiscard]] int64_t front() const noexcept { return ids_[head_]; }
  [[nodiscard]] int64_t back() const noexcept { return ids_.back(); }
  void push_back(int64_t id) { ids_.push_back(id); }
  void pop_back() noexcept { ids_.pop_back(); }
  void pop_front() {
    ++head_;
    if (head_ == ids_.size()) {
      ids_.clear();
      head_ = 0;
    } else if (head_ >= 32 && head_ * 2 >= ids_.size()) {
      ids_.erase(ids_.begin(), ids_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  [[nodiscard]] size_t size() const noexcept { return ids_.size() - head_; }
  // Both ends, which the next add (back) and evictions (front) read. See KeyState::prefetch.
  [[gnu::always_inline]] void prefetch_ends() const noexcept {
    if (empty()) return;
    __builtin_prefetch(ids_.data() + head_);
    __builtin_prefetch(ids_.data() + ids_.size() - 1);
  }
  // For persistence.
  [[nodiscard]] std::vector<int64_t> items() const {
    return {ids_.begin() + static_cast<std::ptrdiff_t>(head_), ids_.end()};
  }
  void assign(std::vector<int64_t> items) {
    ids_ = std::move(items);
    head_ = 0;
  }

 private:
  std::vector<int64_t> ids_;
  size_t head_ = 0;
};

// Neumaier's compensated addition: comp collects the rounding error of every step. Both error
// terms are computed so the compiler selects one without a branch (which operand is larger is
// data-dependent). Shared by streaming and backfill, which must agree bit for bit.
inline void neumaier_add(double& sum, double& comp, double x) noexcept {
  const double t = sum + x;
  const double if_sum_larger = (sum - t) + x;
  const double if_x_larger = (x - t) + sum;
  comp += std::fabs(sum) >= std::fabs(x) ? if_sum_larger : if_x_larger;
  sum = t;
}

// The mean and M2 (sum of squared deviations) of the values at positions [lo, hi) for which
// valid(p) holds, computed exactly enough to reset running moments: two compensated passes.
template <class Index, class Value, class Valid>
void exact_moments(Index lo, Index hi, const Value& value, const Valid& valid, double& mean,
                   double& m2) {
  double sum = 0, comp = 0;
  int64_t n = 0;
  for (Index p = lo; p < hi; ++p) {
    if (!valid(p)) continue;
    neumaier_add(sum, comp, value(p));
    ++n;
  }
  mean = n > 0 ? (sum + comp) / static_cast<double>(n) : 0.0;
  double squares = 0, squares_comp = 0;
  for (Index p = lo; p < hi; ++p) {
    if (!valid(p)) continue;
    const double d = value(p) - mean;
    neumaier_add(squares, squares_comp, d * d);
  }
  m2 = squares + squares_comp;
}

// Running aggregates of one value column over one window.
struct Accumulator {
  int64_t n = 0;  // non-null values in the window
  double sum = 0, comp = 0;   // Neumaier: sum + comp is the compensated total
  double mean = 0, m2 = 0;    // Welford
  // Removing values can cancel most of M2 and leave its rounding error dominant (an outlier
  // leaving the window). When M2 falls far below its peak since the last exact computation, the
  // window's moments are recomputed exactly from its events (rare, so still amortised O(1)).
  double m2_peak = 0;
  bool dirty = false;
  IdQueue min_q, max_q;       // ids of candidate minima / maxima, front = current
};

// The features of one window for one row: computed by KeyState::emit.
struct WindowValues {
  int64_t count;  // events in the window (null values included)
  // Per value column: non-null count, and the aggregates (NaN where the result is null).
  std::vector<int64_t> n;
  std::vector<double> sum, mean, std, min, max, last;
};

class KeyState {
 public:
  KeyState() = default;
  explicit KeyState(const Layout& layout);

  // Empties the state for another key, keeping allocated capacity (backfill reuses one state).
  void reset();
  // Appends events (time >= every buffered event's time) without evaluating anything yet.
  void append(int64_t time, const double* values, const uint8_t* valid);
  // Moves the window pointers to time t (non-decreasing across calls): adds events with time < t
  // (closed left/none) or <= t (right/both), evicts those that fell out of each window.
  void advance(int64_t t, const Layout& layout);
  // The features of window w for a row at the time of the last advance().
  void emit(size_t w, const Layout& layout, WindowValues& out) const;
  // Features at an arbitrary time by scanning the buffer (serving queries and late events).
  void scan(int64_t t, size_t w, const Layout& layout, WindowValues& out) const;
  // Inserts an out-of-order event in time order and rebuilds the running aggregates.
  void insert_out_of_order(int64_t time, const double* values, const uint8_t* valid,
                           int64_t current_t, const Layout& layout);
  // Drops buffered events no window can see again.
  void trim(const Layout& layout);

  // Batch transforms call these a few events ahead: the state itself (latest_ alone for a
  // lateness check), then - reading it - the buffer positions and accumulators the next
  // advance touches. Forced inline: GCC deems an out-of-line void function that only loads and
  // prefetches pure, and deletes the calls.
  [[gnu::always_inline]] void prefetch_latest() const noexcept { __builtin_prefetch(&latest_); }
  [[gnu::always_inline]] void prefetch() const noexcept {
    const char* p = reinterpret_cast<const char*>(this);
    for (size_t b = 0; b < sizeof(KeyState); b += 64) __builtin_prefetch(p + b);
    __builtin_prefetch(p + sizeof(KeyState) - 1);
  }
  [[gnu::always_inline]] void prefetch_arrays() const noexcept {
    if (times_.empty()) return;
    const char* acc = reinterpret_cast<const char*>(acc_.data());
    for (size_t b = 0; b < acc_.size() * sizeof(Accumulator); b += 64) __builtin_prefetch(acc + b);
    __builtin_prefetch(lo_.data());
    __builtin_prefetch(times_.data() + times_.size() - 1);
    __builtin_prefetch(values_.data() + values_.size() - 1);
  }
  // (After prefetch_arrays: reads lo_ and the accumulators.)
  [[gnu::always_inline]] void prefetch_window_edges() const noexcept {
    if (times_.empty()) return;
    for (int64_t lo : lo_) {
      __builtin_prefetch(times_.data() + at(lo));
      __builtin_prefetch(values_.data() + at(lo) * columns_);
    }
    for (const Accumulator& a : acc_) {
      a.min_q.prefetch_ends();
      a.max_q.prefetch_ends();
    }
  }

  [[nodiscard]] int64_t latest() const noexcept { return latest_; }
  [[nodiscard]] bool has_events() const noexcept { return !times_.empty(); }
  [[nodiscard]] size_t buffered() const noexcept { return times_.size(); }
  [[nodiscard]] size_t bytes() const noexcept;

  // Persistence: every field, so a restored state continues bit for bit.
  template <class Writer>
  void write(Writer& w) const;
  template <class Reader>
  void read(Reader& r, const Layout& layout);

 private:
  void add(int64_t id, const Layout& layout);
  void remove(size_t w, int64_t id, const Layout& layout);
  void recompute_moments(size_t w, size_t c);
  [[nodiscard]] size_t at(int64_t id) const noexcept { return static_cast<size_t>(id - base_); }
  [[nodiscard]] double value(int64_t id, size_t c) const noexcept {
    return values_[at(id) * columns_ + c];
  }
  [[nodiscard]] bool valid(int64_t id, size_t c) const noexcept {
    return valid_[at(id) * columns_ + c] != 0;
  }

  size_t columns_ = 0;
  int64_t base_ = 0;  // id of times_[0]: ids keep increasing while the buffer front is trimmed
  std::vector<int64_t> times_;
  std::vector<double> values_;   // events x columns
  std::vector<uint8_t> valid_;   // events x columns
  int64_t hi_ = 0;               // events [.., hi_) are added
  std::vector<int64_t> lo_;      // per window: events [lo_, hi_) are in the window
  std::vector<Accumulator> acc_; // windows x columns
  std::vector<int64_t> last_valid_;  // per column: id of the latest added non-null value, or -1
  int64_t latest_ = std::numeric_limits<int64_t>::min();
};

}  // namespace featforge::window
