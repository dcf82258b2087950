// Backfill (docs/design.md §8): every row's window features, point in time, from a whole table.
//
// Rows are grouped by key (hash table, then a counting sort), and each group's times and values
// are placed once into contiguous arrays in time order. The windows are then swept over a
// group with two pointers each (up to four side by side): events enter at the shared front
// pointer and leave at a window's back one, updating running aggregates. Every aggregate sees
// the same additions and removals in the same order as in KeyState::advance (the streaming
// engine), so backfill and streaming agree bit for bit. Each row's features are written as one
// record in key-grouped order, and one pass over the input rows gathers the records back into
// the output columns (one random access per row instead of one per feature).
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <utility>

#include "featforge/arrow/builder.h"
#include "featforge/hash/xxh3.h"
#include "featforge/hashing/fixed_width.h"
#include "featforge/idmap/idmap.h"
#include "featforge/memory.h"
#include "featforge/window/engine.h"
#include "rows.h"

namespace featforge::window {

using arrow::ArrayView;
using arrow::TypeId;

namespace {

constexpr double kNull = std::numeric_limits<double>::quiet_NaN();

// Rows grouped by key: positions [start[g], start[g + 1]) hold group g's rows in time order
// (ties in input order).
struct Groups {
  scratch_vector<int64_t> pos_of;  // per input row: its position, -1 for a null key
  scratch_vector<int64_t> row_of;  // its inverse, only built when a group was sorted by time
  std::vector<int64_t> start;
  scratch_vector<int64_t> time;  // per position
};

// Dense group ids per row (-1 for a null key) in first-seen order.
scratch_vector<int64_t> group_ids(const std::vector<ArrayView>& keys, int64_t n, int64_t& groups) {
  scratch_vector<int64_t> group(static_cast<size_t>(n));
  const bool one_int_key = keys.size() == 1 && !keys[0].is_dictionary() &&
                           arrow::is_integer(keys[0].id()) && keys[0].length() == n;
  if (one_int_key) {
    // The common case (a user or item id): keys hashed a block at a time, probed by hash alone
    // (XXH3 of 8 bytes is a bijection). An int64 column is read in place.
    const ArrayView& key = keys[0];
    std::vector<int64_t> widened;
    if (key.id() != TypeId::int64) widened = arrow::int64_values(key, "window");
    const int64_t* ids = widened.empty() ? key.values<int64_t>() : widened.data();
    constexpr int64_t kBlock = 1024, kAhead = 16;
    std::array<uint64_t, kBlock + kAhead> hashes{};
    idmap::FlatTable<> index(size_t{1} << 12);  // (hash, group): no key pool needed
    for (int64_t b = 0; b < n; b += kBlock) {
      const int64_t rows = std::min(kBlock + kAhead, n - b);
      hashing::fixed_width::xxh3_8(reinterpret_cast<const uint64_t*>(ids + b), rows,
                                   hashes.data(), 0);
      for (int64_t j = 0; j < std::min(kBlock, rows); ++j) {
        const auto r = static_cast<size_t>(b + j);
        group[r] = -1;
        if (!key.is_valid(b + j)) continue;
        index.prefetch(hashes[static_cast<size_t>(std::min(j + kAhead, rows - 1))]);
        const uint64_t h = hashes[static_cast<size_t>(j)];
        int64_t g = index.find(h, [](int64_t) { return true; });  // equal hashes: equal keys
        if (g == idmap::kNoId) {
          g = static_cast<int64_t>(index.size());
          index.insert(h, g);
        }
        group[r] = g;
      }
    }
    groups = static_cast<int64_t>(index.size());
    return group;
  }
  // Composite or string keys: their canonical bytes, in a string key pool.
  idmap::KeyPool pool(idmap::KeyType::string);
  const detail::RowKeys row_keys = detail::encode_keys(keys, n);
  const hash::Xxh3 hasher(0);
  for (int64_t i = 0; i < n; ++i) {
    group[static_cast<size_t>(i)] = -1;
    if (!row_keys.valid[static_cast<size_t>(i)]) continue;
    const std::string_view k = row_keys.at(i);
    const uint64_t h = hasher(k.data(), k.size());
    int64_t g = pool.find(h, k);
    if (g == idmap::kNoId) g = pool.add(h, 0, k, 0, 0);
    group[static_cast<size_t>(i)] = g;
  }
  groups = pool.slots();
  return group;
}

Groups group_rows(const scratch_vector<int64_t>& group, int64_t n_groups, const int64_t* t) {
  Groups out;
  const auto n = static_cast<int64_t>(group.size());
  out.start.assign(static_cast<size_t>(n_groups) + 1, 0);
  for (int64_t g : group) {
    if (g >= 0) ++out.start[static_cast<size_t>(g) + 1];
  }
  std::partial_sum(out.start.begin(), out.start.end(), out.start.begin());
  const auto m = static_cast<size_t>(out.start.back());
  out.pos_of.resize(static_cast<size_t>(n));
  out.time.resize(m);
  std::vector<int64_t> fill(out.start.begin(), out.start.end() - 1);
  for (int64_t i = 0; i < n; ++i) {  // stable: a group's rows stay in input order
    const int64_t g = group[static_cast<size_t>(i)];
    if (g < 0) {
      out.pos_of[static_cast<size_t>(i)] = -1;
      continue;
    }
    const int64_t p = fill[static_cast<size_t>(g)]++;
    out.pos_of[static_cast<size_t>(i)] = p;
    out.time[static_cast<size_t>(p)] = t[i];
  }
  // Time order within each group. Already so for time-sorted input; otherwise sort by
  // (time, row), which keeps ties in input order.
  std::vector<std::pair<int64_t, int64_t>> pairs;
  for (int64_t g = 0; g < n_groups; ++g) {
    const auto first = static_cast<size_t>(out.start[static_cast<size_t>(g)]);
    const auto last = static_cast<size_t>(out.start[static_cast<size_t>(g) + 1]);
    bool sorted = true;
    for (size_t k = first + 1; k < last && sorted; ++k) sorted = out.time[k - 1] <= out.time[k];
    if (sorted) continue;
    if (out.row_of.empty()) {
      out.row_of.resize(m);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t p = out.pos_of[static_cast<size_t>(i)];
        if (p >= 0) out.row_of[static_cast<size_t>(p)] = i;
      }
    }
    pairs.clear();
    for (size_t k = first; k < last; ++k) pairs.emplace_back(out.time[k], out.row_of[k]);
    std::sort(pairs.begin(), pairs.end());
    for (size_t k = first; k < last; ++k) {
      out.time[k] = pairs[k - first].first;
      out.row_of[k] = pairs[k - first].second;
      out.pos_of[static_cast<size_t>(out.row_of[k])] = static_cast<int64_t>(k);
    }
  }
  return out;
}

// One value column gathered into position order: the value (as double) and its validity.
struct Gathered {
  scratch_vector<double> x;
  scratch_vector<uint8_t> ok;
};

// Values into position order: scattered from the rows in order (sequential reads), or, when
// groups were sorted and row_of exists, gathered by it.
template <class Read>
void place(const ArrayView& v, const Groups& groups, Read read, Gathered& out) {
  if (groups.row_of.empty()) {
    const int64_t* pos_of = groups.pos_of.data();
    for (int64_t r = 0; r < v.length(); ++r) {
      const int64_t p = pos_of[r];
      if (p < 0) continue;
      out.x[static_cast<size_t>(p)] = read(r);
      out.ok[static_cast<size_t>(p)] = v.is_valid(r);
    }
    return;
  }
  const size_t m = groups.row_of.size();
  constexpr size_t kAhead = 16;
  for (size_t p = 0; p < m; ++p) {
    if (p + kAhead < m) read.prefetch(groups.row_of[p + kAhead]);
    const int64_t r = groups.row_of[p];
    out.x[p] = read(r);
    out.ok[p] = v.is_valid(r);
  }
}

Gathered gather(const ArrayView& v, const Groups& groups, size_t column, int64_t n) {
  if (v.length() != n) {
    throw std::invalid_argument("value columns must have the time column's length");
  }
  Gathered out;
  out.x.resize(groups.time.size());
  out.ok.resize(groups.time.size());
  detail::visit_values(v, column, [&](const auto& read) { place(v, groups, read, out); });
  return out;
}

using detail::is_int;
using detail::Kind;
using detail::kind_of;

// What one sweep writes per window into a record: counts as 32-bit slots (the window's event
// count, by the first sweep of a chunk of windows only, then the value column's non-null count
// when an output needs it) and aggregates as 64-bit slots (sum, min, max, last, std, each only
// when some output reads it). Mean is not stored: finish divides the sum by the count, as the
// sweep would have.
struct SlotPlan {
  bool count = false, n = false;
  bool sum = false, min = false, max = false, last = false, std = false;
  [[nodiscard]] size_t counts() const { return size_t{count} + n; }
  [[nodiscard]] size_t values() const { return size_t{sum} + min + max + last + std; }
  // Index of an output's slot among one window's counts or values.
  [[nodiscard]] size_t index(Kind kind) const {
    switch (kind) {
      case Kind::count: return 0;
      case Kind::value_count: return size_t{count};
      case Kind::sum:
      case Kind::mean: return 0;
      case Kind::min: return size_t{sum};
      case Kind::max: return size_t{sum} + min;
      case Kind::last: return size_t{sum} + min + max;
      case Kind::std: return size_t{sum} + min + max + last;
    }
    return 0;
  }
};

// Every row's features are first written as one record per position, sequentially while
// sweeping a group: all 32-bit counts, then all 64-bit aggregates. A single pass over the
// input rows then reads each row's record and writes all output columns in order (scattering
// each feature to its input row instead costs a cache miss per feature). Records of up to 64
// bytes are padded to a power of two, so reading one touches a single cache line.
struct Records {
  size_t stride;  // bytes
  scratch_vector<uint64_t> slots;  // a sweep writes every slot finish reads (padding is not read)
  Records(size_t bytes, size_t positions)
      : stride(bytes <= 64 ? std::bit_ceil(std::max<size_t>(bytes, 8)) : bytes),
        slots(stride / 8 * positions) {}
  uint8_t* at(size_t position) {
    return reinterpret_cast<uint8_t*>(slots.data()) + position * stride;
  }
  [[nodiscard]] const uint8_t* at(size_t position) const {
    return reinterpret_cast<const uint8_t*>(slots.data()) + position * stride;
  }
};

// One group's positions as a sweep reads them: times, values and validity of one value column
// (null for a count-only sweep), and where the group's records start.
struct GroupView {
  const int64_t* time;
  size_t size;
  const double* x;
  const uint8_t* ok;
  uint8_t* records;  // the group's first position's record
  size_t stride;
};

// The sweep of up to four windows over one value column of one group, resumable from one slice
// of positions to the next. Events enter every window at the shared front pointer and leave
// each at its own back pointer, found while removing (the first event at or after the window's
// start). Each window's running aggregates see exactly the additions and removals
// KeyState::advance makes, in the same order, so streaming gives the same bits. The windows
// advance side by side so their dependency chains (a compensated sum is one long chain of
// floating-point adds) overlap, and the aggregates kept are template flags, so each combination
// is a tight loop. Min and max use one monotonic queue per column shared by the windows: the
// candidates of a shorter window are a suffix of the longest window's, so each window only
// keeps its own head.
class ColumnSweep {
 public:
  static constexpr size_t kMaxWindows = 4;

  ColumnSweep(const std::vector<int64_t>& lengths, size_t w0, size_t windows, Closed closed,
              const SlotPlan& plan, size_t counts_at, size_t values_at, bool nulls,
              const AggFlags& flags, size_t max_group)
      : windows_(windows), plan_(plan), counts_at_(counts_at), values_at_(values_at) {
    for (size_t w = 0; w < windows; ++w) {
      length_[w] = lengths[w0 + w];
      if (length_[w] > length_[longest_]) longest_ = w;
    }
    // Events before a row's time enter its window, and those at its time too when the window
    // includes its end; events with time < start + exclusive have left it.
    include_t_ = closed == Closed::right || closed == Closed::both;
    exclusive_ = closed == Closed::left || closed == Closed::both ? 0 : 1;
    mask_ = (nulls ? 16u : 0u) | (flags.sum ? 1u : 0u) | (flags.min ? 2u : 0u) |
            (flags.max ? 4u : 0u) | (flags.std ? 8u : 0u);
    if (flags.min) min_q_.resize(max_group);
    if (flags.max) max_q_.resize(max_group);
  }

  void start_group() {
    for (Window& a : acc_) a = Window{};
    newest_ = -1;
    h_ = 0;
    min_tail_ = max_tail_ = 0;
  }

  // Features of the rows at positions [from, to) of the group.
  void run(const GroupView& g, size_t from, size_t to);

 private:
  struct Window {
    int64_t n = 0;  // non-null values
    double sum = 0, comp = 0, mean = 0, m2 = 0, m2_peak = 0;
    bool dirty = false;
    size_t l = 0;  // events [l, h_) are in the window
    size_t min_head = 0, max_head = 0;
  };
  using RunFn = void (ColumnSweep::*)(const GroupView&, size_t, size_t);
  template <size_t kW, size_t... kMasks>
  static constexpr std::array<RunFn, sizeof...(kMasks)> make_table(std::index_sequence<kMasks...>) {
    return {&ColumnSweep::run_as<kW, (kMasks & 16) != 0, (kMasks & 1) != 0, (kMasks & 2) != 0,
                                 (kMasks & 4) != 0, (kMasks & 8) != 0>...};
  }

  template <size_t kW, bool kNulls, bool kSum, bool kMin, bool kMax, bool kStd>
  void run_as(const GroupView& g, size_t from, size_t to) {
    const int64_t* time = g.time;
    // The running state lives in locals during the loop (the record stores could otherwise
    // alias it and force reloads).
    std::array<Window, kW> acc;
    std::copy_n(acc_.begin(), kW, acc.begin());
    for (size_t p = from; p < to; ++p) {
      const int64_t t = time[p];
      uint8_t* rec = g.records + p * g.stride;
      auto* counts = reinterpret_cast<uint32_t*>(rec + counts_at_);
      auto* values = reinterpret_cast<uint64_t*>(rec + values_at_);
      if (p > 0 && time[p - 1] == t) {  // a tie: the same windows as the row before
        std::memcpy(counts, rec - g.stride + counts_at_, kW * plan_.counts() * 4);
        std::memcpy(values, rec - g.stride + values_at_, kW * plan_.values() * 8);
        continue;
      }
      size_t hi = p;
      if (include_t_) {
        do {
          ++hi;
        } while (hi < g.size && time[hi] == t);
      }
      for (; h_ < hi; ++h_) {
        if (kNulls && !g.ok[h_]) continue;
        newest_ = static_cast<int64_t>(h_);
        add<kW, kSum, kMin, kMax, kStd>(acc.data(), g.x, h_);
      }
      for (size_t w = 0; w < kW; ++w) {
        Window& a = acc[w];
        // The run's own time is >= the start, so the pointer stops at p at the latest.
        const int64_t start = t - length_[w] + exclusive_;
        for (; time[a.l] < start; ++a.l) {
          if (kNulls && !g.ok[a.l]) continue;
          remove<kSum, kMin, kMax, kStd>(a, g.x, a.l);
        }
        if (kStd && a.dirty) recompute<kNulls>(a, g.x, g.ok, a.l, hi);
      }
      for (size_t w = 0; w < kW; ++w) {
        write<kSum, kMin, kMax, kStd>(acc[w], g.x, counts + w * plan_.counts(),
                                      values + w * plan_.values());
      }
    }
    std::copy_n(acc.begin(), kW, acc_.begin());
  }

  template <size_t kW, bool kSum, bool kMin, bool kMax, bool kStd>
  void add(Window* acc, const double* x, size_t p) {
    for (size_t w = 0; w < kW; ++w) ++acc[w].n;
    if constexpr (!kSum && !kMin && !kMax && !kStd) return;
    const double v = x[p];
    for (size_t w = 0; w < kW; ++w) {
      Window& a = acc[w];
      if constexpr (kSum) neumaier_add(a.sum, a.comp, v);
      if constexpr (kStd) {
        const double d = v - a.mean;
        a.mean += d / static_cast<double>(a.n);
        a.m2 += d * (v - a.mean);
        a.m2_peak = std::max(a.m2_peak, a.m2);
      }
    }
    // Candidates no greater (no smaller) than v can never be a window's max (min) again.
    if constexpr (kMin) {
      while (min_tail_ > acc[longest_].min_head && min_q_[min_tail_ - 1].value >= v) --min_tail_;
      for (size_t w = 0; w < kW; ++w) acc[w].min_head = std::min(acc[w].min_head, min_tail_);
      min_q_[min_tail_++] = {v, p};
    }
    if constexpr (kMax) {
      while (max_tail_ > acc[longest_].max_head && max_q_[max_tail_ - 1].value <= v) --max_tail_;
      for (size_t w = 0; w < kW; ++w) acc[w].max_head = std::min(acc[w].max_head, max_tail_);
      max_q_[max_tail_++] = {v, p};
    }
  }

  template <bool kSum, bool kMin, bool kMax, bool kStd>
  void remove(Window& a, const double* x, size_t p) {
    // p held a value of the window, so its queues are not empty: the front leaves if it is p
    // (without a branch: whether it is depends on the data).
    if constexpr (kMin) a.min_head += min_q_[a.min_head].position == p;
    if constexpr (kMax) a.max_head += max_q_[a.max_head].position == p;
    --a.n;
    if constexpr (!kSum && !kStd) return;
    if (a.n <= 1) {
      // What is left is exact: nothing, or the newest value added (eviction is oldest first).
      const double only = a.n == 1 ? x[newest_] : 0.0;
      a.sum = only;
      a.comp = 0.0;
      a.mean = only;
      a.m2 = a.m2_peak = 0.0;
      a.dirty = false;
    } else {
      if constexpr (kSum) neumaier_add(a.sum, a.comp, -x[p]);
      if constexpr (kStd) {
        const double d = x[p] - a.mean;
        a.mean -= d / static_cast<double>(a.n);
        a.m2 -= d * (x[p] - a.mean);
        if (a.m2 < 1e-4 * a.m2_peak) a.dirty = true;
      }
    }
  }

  // The window's moments recomputed exactly (as KeyState::recompute_moments).
  template <bool kNulls>
  static void recompute(Window& a, const double* x, const uint8_t* ok, size_t lo, size_t hi) {
    exact_moments(
        lo, hi, [&](size_t p) { return x[p]; }, [&](size_t p) { return !kNulls || ok[p] != 0; },
        a.mean, a.m2);
    a.m2_peak = a.m2;
    a.dirty = false;
  }

  // One window's slots of a record (the values KeyState::emit gives).
  template <bool kSum, bool kMin, bool kMax, bool kStd>
  // Typed stores (faster than byte copies here); finish reads the record bytes with memcpy.
  void write(const Window& a, const double* x, uint32_t* count, uint64_t* slot) const {
    const bool any = a.n > 0;
    auto put = [&](double v) { *slot++ = std::bit_cast<uint64_t>(v); };
    if (plan_.count) *count++ = static_cast<uint32_t>(h_ - a.l);
    if (plan_.n) *count++ = static_cast<uint32_t>(a.n);
    if constexpr (kSum) put(any ? a.sum + a.comp : 0.0);
    if constexpr (kMin) {
      if (plan_.min) put(any ? min_q_[a.min_head].value : kNull);
    }
    if constexpr (kMax) {
      if (plan_.max) put(any ? max_q_[a.max_head].value : kNull);
    }
    if (plan_.last) put(newest_ >= 0 && static_cast<size_t>(newest_) >= a.l ? x[newest_] : kNull);
    if constexpr (kStd) {
      double v = kNull;
      if (a.n >= 2) {
        const bool constant = min_q_[a.min_head].value == max_q_[a.max_head].value;
        v = constant ? 0.0 : std::sqrt(std::max(a.m2, 0.0) / static_cast<double>(a.n - 1));
      }
      put(v);
    }
  }

  size_t windows_;
  SlotPlan plan_;
  size_t counts_at_, values_at_;  // byte offsets of this sweep's slots in a record
  std::array<int64_t, kMaxWindows> length_{};
  size_t longest_ = 0;  // its pointer trails every other window's
  bool include_t_ = false;
  int64_t exclusive_ = 0;
  unsigned mask_ = 0;
  std::array<Window, kMaxWindows> acc_{};
  int64_t newest_ = -1;  // newest position added with a valid value
  size_t h_ = 0;         // events [.., h_) have been added
  // Monotonic queues of positions (min: increasing values, max: decreasing): a group pushes at
  // most once per event, so arrays of the largest group's size hold them.
  // Each candidate keeps its value beside its position, so comparing needs no second load.
  struct Candidate {
    double value;
    size_t position;
  };
  scratch_vector<Candidate> min_q_, max_q_;
  size_t min_tail_ = 0, max_tail_ = 0;
};

void ColumnSweep::run(const GroupView& g, size_t from, size_t to) {
  static constexpr std::array<std::array<RunFn, 32>, kMaxWindows> kRuns = {
      make_table<1>(std::make_index_sequence<32>{}), make_table<2>(std::make_index_sequence<32>{}),
      make_table<3>(std::make_index_sequence<32>{}), make_table<4>(std::make_index_sequence<32>{})};
  (this->*kRuns[windows_ - 1][mask_])(g, from, to);
}

// How finish makes one output column from a record.
struct OutColumn {
  Kind kind;
  size_t at;       // byte offset of its slot in a record
  size_t divisor;  // mean: byte offset of the count to divide the sum by
};


// The output table: one pass over the input rows reads each row's record and appends every
// column's value and validity bit. Rows with a null key and NaN results are null (value 0).
arrow::OwnedArray finish(const std::vector<OutColumn>& outs, const Records& records,
                         const scratch_vector<int64_t>& positions) {
  const auto n = static_cast<int64_t>(positions.size());
  const size_t k_cols = outs.size();
  std::vector<arrow::Buffer> values, bits;
  std::vector<int64_t> nulls(k_cols, 0);
  for (size_t k = 0; k < k_cols; ++k) {
    values.emplace_back(static_cast<size_t>(n) * 8);
    bits.emplace_back(static_cast<size_t>((n + 7) / 8));
  }
  // Blocks of 16 rows: their records are gathered once (prefetched a block ahead: measured
  // faster than 32 or 64), then each column's 16 values are written with their validity bits.
  const int64_t* pos_of = positions.data();
  const size_t stride = records.stride;
  constexpr int64_t kBlock = 16;
  const uint8_t* block[kBlock];
  const std::vector<uint64_t> zeros(stride / 8, 0);  // rows with a null key read zeros (null)
  const auto* no_record = reinterpret_cast<const uint8_t*>(zeros.data());
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t rows = std::min(kBlock, n - b);
    for (int64_t j = 0; j < rows; ++j) {
      const int64_t p = pos_of[b + j];
      block[j] = p >= 0 ? records.at(static_cast<size_t>(p)) : nullptr;
      if (b + kBlock + j < n && pos_of[b + kBlock + j] >= 0) {
        const uint8_t* ahead = records.at(static_cast<size_t>(pos_of[b + kBlock + j]));
        __builtin_prefetch(ahead);
        if (stride > 64) __builtin_prefetch(ahead + stride - 1);
      }
    }
    uint64_t has_key = 0;
    for (int64_t j = 0; j < rows; ++j) has_key |= static_cast<uint64_t>(block[j] != nullptr) << j;
    for (int64_t j = 0; j < rows; ++j) {
      if (block[j] == nullptr) block[j] = no_record;
    }
    for (size_t k = 0; k < k_cols; ++k) {
      const OutColumn& out = outs[k];
      uint64_t* dst = values[k].as<uint64_t>() + b;
      const size_t at = out.at;
      auto count = [&](int64_t j, size_t offset) {
        uint32_t c;
        std::memcpy(&c, block[j] + offset, 4);
        return c;
      };
      auto value = [&](int64_t j) {
        double v;
        std::memcpy(&v, block[j] + at, 8);
        return v;
      };
      uint64_t valid = has_key;
      if (is_int(out.kind)) {
        for (int64_t j = 0; j < rows; ++j) stream_store(dst + j, count(j, at));
      } else {
        uint64_t not_nan = 0;
        auto put = [&](int64_t j, double v) {
          // NaN marks null (so a NaN input value is null too); a null's value is 0.
          const bool number = !std::isnan(v);
          stream_store(dst + j, number ? std::bit_cast<uint64_t>(v) : 0);
          not_nan |= static_cast<uint64_t>(number) << j;
        };
        if (out.kind == Kind::mean) {
          const size_t d = out.divisor;
          for (int64_t j = 0; j < rows; ++j) {
            const uint32_t divisor = count(j, d);
            put(j, divisor > 0 ? value(j) / static_cast<double>(divisor) : kNull);
          }
        } else {
          for (int64_t j = 0; j < rows; ++j) put(j, value(j));
        }
        valid &= not_nan;
      }
      std::memcpy(bits[k].data() + b / 8, &valid, static_cast<size_t>((rows + 7) / 8));
      nulls[k] += rows - std::popcount(valid);
    }
  }
  stream_fence();
  auto table = std::make_unique<arrow::ArrayData>();
  table->format = "+s";
  table->length = n;
  table->buffers.emplace_back();
  for (size_t k = 0; k < k_cols; ++k) {
    auto d = std::make_unique<arrow::ArrayData>();
    d->format = is_int(outs[k].kind) ? "l" : "g";
    d->name = "f" + std::to_string(k);
    d->length = n;
    d->null_count = nulls[k];
    d->buffers.push_back(nulls[k] == 0 ? arrow::Buffer() : std::move(bits[k]));
    d->buffers.push_back(std::move(values[k]));
    table->children.push_back(std::move(d));
  }
  return arrow::export_array(std::move(table));
}

template <class T>
void release(scratch_vector<T>& v) {
  scratch_vector<T>().swap(v);
}

}  // namespace

arrow::OwnedArray backfill(const std::vector<ArrayView>& keys, const ArrayView& time,
                           const std::vector<ArrayView>& values, const Spec& spec) {
  const int64_t n = time.length();
  int64_t n_groups = 0;
  Groups groups;
  {
    // An int64-like time column without nulls is read in place; others are checked and widened.
    std::vector<int64_t> widened;
    const bool in_place = !time.is_dictionary() && time.null_count() == 0 &&
                          (time.id() == TypeId::int64 || time.id() == TypeId::timestamp ||
                           time.id() == TypeId::date64 || time.id() == TypeId::duration);
    if (!in_place) widened = detail::time_values(time);
    const int64_t* t = in_place ? time.values<int64_t>() : widened.data();
    const scratch_vector<int64_t> group = group_ids(keys, n, n_groups);
    groups = group_rows(group, n_groups, t);
  }  // scratch freed as soon as it is done with, for the next arrays to reuse
  std::vector<Gathered> columns;
  for (size_t c = 0; c < values.size(); ++c) columns.push_back(gather(values[c], groups, c, n));
  release(groups.row_of);
  std::vector<bool> has_nulls(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) {
    has_nulls[c] = std::find(columns[c].ok.begin(), columns[c].ok.end(), 0) != columns[c].ok.end();
  }

  // Sweeps: per chunk of up to four windows, one per value column with requested aggregates
  // (or a single count-only one); the chunk's first sweep writes its windows' counts. Each
  // sweep owns consecutive count slots and consecutive value slots.
  if (n > int64_t{UINT32_MAX}) {
    throw std::invalid_argument("window backfill takes at most 2^32 - 1 rows per call");
  }
  const Layout& layout = spec.layout;
  const size_t windows = layout.windows.size();
  const size_t chunks = (windows + ColumnSweep::kMaxWindows - 1) / ColumnSweep::kMaxWindows;
  constexpr size_t kNoColumn = std::numeric_limits<size_t>::max();
  struct Planned {
    size_t chunk, column, counts, values;  // first count and value slot
    SlotPlan plan;
  };
  std::vector<Planned> planned;
  size_t n_counts = 0, n_values = 0;
  for (size_t chunk = 0; chunk < chunks; ++chunk) {
    const size_t in_chunk =
        std::min(ColumnSweep::kMaxWindows, windows - chunk * ColumnSweep::kMaxWindows);
    const size_t first = planned.size();
    for (size_t c = 0; c < columns.size(); ++c) {
      if (spec.aggs[c].empty()) continue;
      SlotPlan plan;
      plan.count = planned.size() == first;
      for (Agg a : spec.aggs[c]) {
        switch (kind_of(a)) {
          case Kind::sum:
          case Kind::mean: plan.sum = true; break;
          case Kind::value_count: plan.n = true; break;
          case Kind::min: plan.min = true; break;
          case Kind::max: plan.max = true; break;
          case Kind::last: plan.last = true; break;
          case Kind::std: plan.std = true; break;
          case Kind::count: break;
        }
      }
      // Without nulls the non-null count is the event count; with them mean needs its own.
      plan.n = has_nulls[c] && (plan.n || plan.sum);
      planned.push_back({chunk, c, n_counts, n_values, plan});
      n_counts += in_chunk * plan.counts();
      n_values += in_chunk * plan.values();
    }
    if (planned.size() == first) {
      SlotPlan plan;
      plan.count = true;
      planned.push_back({chunk, kNoColumn, n_counts, n_values, plan});
      n_counts += in_chunk;
    }
  }
  const size_t values_at = (n_counts * 4 + 7) / 8 * 8;  // byte offset of the 64-bit slots

  // Output columns in the order the Python layer names them: per window, the event count and
  // then every requested aggregate of every value column, each read from its sweep's slots.
  std::vector<OutColumn> outs;
  for (size_t w = 0; w < windows; ++w) {
    const size_t chunk = w / ColumnSweep::kMaxWindows, in_chunk = w % ColumnSweep::kMaxWindows;
    auto slot = [&](size_t column, Kind kind) {  // byte offset in a record
      for (const Planned& s : planned) {
        if (s.chunk == chunk && (column == kNoColumn || s.column == column)) {
          const size_t i = s.plan.index(kind);
          return is_int(kind) ? 4 * (s.counts + in_chunk * s.plan.counts() + i)
                              : values_at + 8 * (s.values + in_chunk * s.plan.values() + i);
        }
      }
      throw std::logic_error("window backfill: no sweep writes this output");
    };
    const size_t count_slot = slot(kNoColumn, Kind::count);
    outs.push_back({Kind::count, count_slot, 0});
    for (size_t c = 0; c < spec.aggs.size(); ++c) {
      const size_t n_slot = has_nulls[c] ? slot(c, Kind::value_count) : count_slot;
      for (Agg a : spec.aggs[c]) {
        const Kind kind = kind_of(a);
        if (kind == Kind::value_count) {
          outs.push_back({kind, n_slot, 0});
        } else if (kind == Kind::mean) {
          outs.push_back({kind, slot(c, Kind::sum), n_slot});
        } else {
          outs.push_back({kind, slot(c, kind), 0});
        }
      }
    }
  }

  size_t max_group = 0;
  for (int64_t g = 0; g < n_groups; ++g) {
    max_group = std::max(max_group, static_cast<size_t>(groups.start[static_cast<size_t>(g) + 1] -
                                                        groups.start[static_cast<size_t>(g)]));
  }
  std::vector<ColumnSweep> sweeps;
  for (const Planned& s : planned) {
    const size_t w0 = s.chunk * ColumnSweep::kMaxWindows;
    const bool has_column = s.column != kNoColumn;
    sweeps.emplace_back(layout.windows, w0, std::min(ColumnSweep::kMaxWindows, windows - w0),
                        layout.closed, s.plan, 4 * s.counts, values_at + 8 * s.values,
                        has_column && has_nulls[s.column],
                        has_column ? layout.columns[s.column] : AggFlags{}, max_group);
  }

  // A long group is swept in slices of positions, every sweep over one slice before the next,
  // so the slice's records stay in cache while they are filled in.
  Records records(values_at + 8 * n_values, groups.time.size());
  constexpr size_t kSlice = 4096;
  for (int64_t g = 0; g < n_groups; ++g) {
    const auto first = static_cast<size_t>(groups.start[static_cast<size_t>(g)]);
    const size_t size = static_cast<size_t>(groups.start[static_cast<size_t>(g) + 1]) - first;
    for (ColumnSweep& sweep : sweeps) sweep.start_group();
    for (size_t from = 0; from < size; from += kSlice) {
      const size_t to = std::min(size, from + kSlice);
      for (size_t k = 0; k < sweeps.size(); ++k) {
        const size_t c = planned[k].column;
        const bool has_column = c != kNoColumn;
        const GroupView view{groups.time.data() + first,
                             size,
                             has_column ? columns[c].x.data() + first : nullptr,
                             has_column ? columns[c].ok.data() + first : nullptr,
                             records.at(first),
                             records.stride};
        sweeps[k].run(view, from, to);
      }
    }
  }
  columns.clear();
  release(groups.time);
  return finish(outs, records, groups.pos_of);
}

}  // namespace featforge::window
