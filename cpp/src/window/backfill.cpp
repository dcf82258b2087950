// Backfill (DESIGN.md section 5): every row's window features, point in time, from a whole table.
//
// Rows are grouped by key (hash table, then a counting sort), and each group's times and values
// are gathered once into contiguous arrays in time order. The windows are then swept over a
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

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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
// (ties in input order); row_of maps a position to its input row.
struct Groups {
  scratch_vector<int64_t> row_of;
  scratch_vector<int64_t> pos_of;  // per input row: its position, -1 for a null key
  std::vector<int64_t> start;
  scratch_vector<int64_t> time;  // per position
};

// Dense group ids per row (-1 for a null key) in first-seen order.
big_vector<int64_t> group_ids(const std::vector<ArrayView>& keys, int64_t n, int64_t& groups) {
  big_vector<int64_t> group(static_cast<size_t>(n), -1);
  const bool one_int_key = keys.size() == 1 && !keys[0].is_dictionary() &&
                           arrow::is_integer(keys[0].id()) && keys[0].length() == n;
  idmap::KeyPool pool(one_int_key ? idmap::KeyType::int64 : idmap::KeyType::string);
  if (one_int_key) {
    // The common case (a user or item id): hash all keys at once, probe by hash alone.
    const ArrayView& key = keys[0];
    const std::vector<int64_t> ids = arrow::int64_values(key, "window");
    scratch_vector<uint64_t> hashes(static_cast<size_t>(n));
    hashing::fixed_width::xxh3_8(reinterpret_cast<const uint64_t*>(ids.data()), n, hashes.data(), 0);
    for (int64_t i = 0; i < n; ++i) {
      const auto r = static_cast<size_t>(i);
      if (!key.is_valid(i)) continue;
      if (i + 16 < n) pool.prefetch(hashes[r + 16]);
      int64_t g = pool.find(hashes[r], ids[r]);
      if (g == idmap::FlatTable::kEmpty) g = pool.add(hashes[r], ids[r], {}, 0, 0);
      group[r] = g;
    }
  } else {
    const detail::RowKeys row_keys = detail::encode_keys(keys, n);
    const hash::Xxh3 hasher(0);
    for (int64_t i = 0; i < n; ++i) {
      if (!row_keys.valid[static_cast<size_t>(i)]) continue;
      const std::string_view k = row_keys.at(i);
      const uint64_t h = hasher(k.data(), k.size());
      int64_t g = pool.find(h, k);
      if (g == idmap::FlatTable::kEmpty) g = pool.add(h, 0, k, 0, 0);
      group[static_cast<size_t>(i)] = g;
    }
  }
  groups = pool.slots();
  return group;
}

Groups group_rows(const big_vector<int64_t>& group, int64_t n_groups,
                  const std::vector<int64_t>& t) {
  Groups out;
  const auto n = static_cast<int64_t>(group.size());
  out.start.assign(static_cast<size_t>(n_groups) + 1, 0);
  for (int64_t g : group) {
    if (g >= 0) ++out.start[static_cast<size_t>(g) + 1];
  }
  std::partial_sum(out.start.begin(), out.start.end(), out.start.begin());
  const auto m = static_cast<size_t>(out.start.back());
  out.row_of.resize(m);
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
    out.row_of[static_cast<size_t>(p)] = i;
    out.time[static_cast<size_t>(p)] = t[static_cast<size_t>(i)];
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

template <class T>
void gather_typed(const ArrayView& v, const scratch_vector<int64_t>& row_of, Gathered& out) {
  const T* x = v.values<T>();
  const size_t m = row_of.size();
  constexpr size_t kAhead = 16;
  for (size_t p = 0; p < m; ++p) {
    if (p + kAhead < m) __builtin_prefetch(x + row_of[p + kAhead]);
    const int64_t r = row_of[p];
    out.x[p] = static_cast<double>(x[r]);
    out.ok[p] = v.is_valid(r);
  }
}

Gathered gather(const ArrayView& v, const scratch_vector<int64_t>& row_of, size_t column,
                int64_t n) {
  if (v.length() != n) throw std::invalid_argument("value columns must have the time column's length");
  Gathered out;
  out.x.resize(row_of.size());
  out.ok.resize(row_of.size());
  switch (v.is_dictionary() ? TypeId::other : v.id()) {
    case TypeId::int8: gather_typed<int8_t>(v, row_of, out); break;
    case TypeId::uint8: gather_typed<uint8_t>(v, row_of, out); break;
    case TypeId::int16: gather_typed<int16_t>(v, row_of, out); break;
    case TypeId::uint16: gather_typed<uint16_t>(v, row_of, out); break;
    case TypeId::int32: gather_typed<int32_t>(v, row_of, out); break;
    case TypeId::uint32: gather_typed<uint32_t>(v, row_of, out); break;
    case TypeId::int64: gather_typed<int64_t>(v, row_of, out); break;
    case TypeId::uint64: gather_typed<uint64_t>(v, row_of, out); break;
    case TypeId::float32: gather_typed<float>(v, row_of, out); break;
    case TypeId::float64: gather_typed<double>(v, row_of, out); break;
    case TypeId::boolean:
      for (size_t p = 0; p < row_of.size(); ++p) {
        const int64_t r = row_of[p];
        out.x[p] = arrow::get_bit(v.bool_bits(), v.offset() + r);
        out.ok[p] = v.is_valid(r);
      }
      break;
    default:
      throw unsupported_type("value column " + std::to_string(column) + " must be numeric, got " +
                             arrow::type_name(v.schema()));
  }
  return out;
}

using detail::is_int;
using detail::Kind;
using detail::kind_of;

struct OutColumn {
  Kind kind;
  size_t source;  // value column
};

// Features are first written as one record per position (every output column's 8 bytes side
// by side: int64 counts, float64 aggregates), sequentially while sweeping a group; a single
// pass over the input rows then reads each row's record and writes all output columns in order.
// Scattering each feature to its input row instead costs a cache miss per feature.
struct Records {
  size_t width;  // output columns
  scratch_vector<uint64_t> slots;  // every slot is written by the sweep before finish reads it
  Records(size_t columns, size_t positions) : width(columns), slots(columns * positions) {}
  uint64_t* at(size_t position) { return slots.data() + position * width; }
};

// A slice of a group's runs of equal times (group-relative positions): run r is positions
// [pos[r], pos[r + 1]), and window w sees events [lo_of(w)[r], hi[r]) for it.
struct Runs {
  std::vector<size_t> pos, hi, lo;  // lo: per window, then per run
  [[nodiscard]] size_t size() const { return hi.size(); }
  [[nodiscard]] const size_t* lo_of(size_t w) const { return lo.data() + w * size(); }
};

// Finds the runs starting in positions [from, n), at most `limit` of them; returns where the
// next slice starts.
size_t find_runs(const int64_t* time, size_t from, size_t n, size_t limit, Closed closed,
                 Runs& runs) {
  runs.pos.clear();
  size_t p = from;
  while (p < n && runs.pos.size() < limit) {
    runs.pos.push_back(p);
    const int64_t t = time[p];
    do {
      ++p;
    } while (p < n && time[p] == t);
  }
  runs.pos.push_back(p);
  // Events before the run's time enter its window, and those at its time too when the window
  // includes its end.
  const bool include_t = closed == Closed::right || closed == Closed::both;
  const size_t count = runs.pos.size() - 1;
  runs.hi.resize(count);
  for (size_t r = 0; r < count; ++r) runs.hi[r] = include_t ? runs.pos[r + 1] : runs.pos[r];
  return p;
}

// lo[w * size() + r] = the first event inside run r's window w: time >= start (> start when
// the window excludes its start). Starts only grow, so each window's pointer only moves
// forward; it is advanced by counting how many of the next eight times are still before the
// start (independent loads and compares: one load latency per step, no mispredicted branch per
// event), and the windows' pointers advance side by side so their chains overlap. `l` carries
// the pointers from one slice to the next.
void find_starts(const int64_t* time, const std::vector<int64_t>& lengths, Closed closed,
                 Runs& runs, std::vector<size_t>& l) {
  const bool include_start = closed == Closed::left || closed == Closed::both;
  const int64_t exclusive = include_start ? 0 : 1;  // events with time < start + exclusive leave
  const size_t count = runs.size(), windows = lengths.size();
  runs.lo.resize(windows * count);
  for (size_t r = 0; r < count; ++r) {
    const size_t own = runs.pos[r];
    for (size_t w = 0; w < windows; ++w) {
      const int64_t start = time[own] - lengths[w] + exclusive;
      // The run's own event has its time, which is >= start (length > 0): reads are clamped to
      // it, so they stay inside the group and the pointer never passes pos[r] <= hi[r].
      size_t at = l[w];
      for (;;) {
        size_t before = 0;
        for (size_t k = 0; k < 8; ++k) before += time[std::min(at + k, own)] < start;
        at += before;
        if (before < 8) break;
      }
      l[w] = at;
      runs.lo[w * count + r] = at;
    }
  }
}

// Which outputs a (window, value column) pair writes, as record columns (-1: not requested).
// An aggregate requested twice for one column is written to every one of its columns.
struct ColumnOutputs {
  int64_t n = -1, sum = -1, mean = -1, min = -1, max = -1, last = -1, std = -1;
  std::vector<std::pair<int64_t, int64_t>> copies;  // (from, to): repeated requests
  [[nodiscard]] bool any() const {
    return n >= 0 || sum >= 0 || mean >= 0 || min >= 0 || max >= 0 || last >= 0 || std >= 0;
  }
  void add(Kind kind, int64_t column) {
    int64_t* at = nullptr;
    switch (kind) {
      case Kind::value_count: at = &n; break;
      case Kind::sum: at = &sum; break;
      case Kind::mean: at = &mean; break;
      case Kind::min: at = &min; break;
      case Kind::max: at = &max; break;
      case Kind::last: at = &last; break;
      case Kind::std: at = &std; break;
      case Kind::count: return;
    }
    if (*at < 0) {
      *at = column;
    } else {
      copies.emplace_back(*at, column);
    }
  }
  // The running state each needs: bit 0 sum, 1 min, 2 max, 3 moments (std keeps min and max
  // too: a window of equal values has a standard deviation of exactly 0).
  [[nodiscard]] unsigned state_mask() const {
    return (sum >= 0 || mean >= 0 ? 1u : 0u) | (min >= 0 || std >= 0 ? 2u : 0u) |
           (max >= 0 || std >= 0 ? 4u : 0u) | (std >= 0 ? 8u : 0u);
  }
};

// The sweep of up to four windows over one value column of one group, resumable slice by slice.
// Events enter every window at the shared front pointer and leave each at its own back pointer;
// each window's running aggregates see exactly the additions and removals KeyState::advance
// makes, in the same order (so streaming gives the same bits). The windows advance side by side
// so their dependency chains (a compensated sum is one long chain of floating-point adds)
// overlap, and the aggregates kept are template flags, so each combination is a tight loop.
class ColumnSweep {
 public:
  static constexpr size_t kMaxWindows = 4;

  ColumnSweep(size_t windows, size_t max_group)
      : windows_(windows), queues_(2 * windows * max_group), max_group_(max_group) {}

  void start_group() {
    for (Window& a : acc_) a = Window{};
    newest_ = -1;
    h_ = 0;
  }

  // lo[w] and want[w] are window w's starts (per run) and outputs.
  void run(bool nulls, const double* x, const uint8_t* ok, const Runs& runs,
           const size_t* const* lo, const ColumnOutputs* const* want, Records& records,
           size_t first);

 private:
  struct Window {
    int64_t n = 0;
    double sum = 0, comp = 0, mean = 0, m2 = 0, m2_peak = 0;
    bool dirty = false;
    size_t l = 0;  // events [l, h_) are in the window
    size_t min_head = 0, min_tail = 0, max_head = 0, max_tail = 0;
  };
  using RunFn = void (ColumnSweep::*)(const double*, const uint8_t*, const Runs&,
                                      const size_t* const*, const ColumnOutputs* const*,
                                      Records&, size_t);
  template <size_t kW, size_t... kMasks>
  static constexpr std::array<RunFn, sizeof...(kMasks)> make_table(std::index_sequence<kMasks...>) {
    return {&ColumnSweep::run_as<kW, (kMasks & 16) != 0, (kMasks & 1) != 0, (kMasks & 2) != 0,
                                 (kMasks & 4) != 0, (kMasks & 8) != 0>...};
  }

  size_t* min_q(size_t w) { return queues_.data() + (2 * w) * max_group_; }
  size_t* max_q(size_t w) { return queues_.data() + (2 * w + 1) * max_group_; }
  const size_t* min_q(size_t w) const { return queues_.data() + (2 * w) * max_group_; }
  const size_t* max_q(size_t w) const { return queues_.data() + (2 * w + 1) * max_group_; }

  template <size_t kW, bool kNulls, bool kSum, bool kMin, bool kMax, bool kStd>
  void run_as(const double* x, const uint8_t* ok, const Runs& runs, const size_t* const* lo,
              const ColumnOutputs* const* want, Records& records, size_t first) {
    for (size_t r = 0; r < runs.size(); ++r) {
      for (const size_t hr = runs.hi[r]; h_ < hr; ++h_) {
        if (kNulls && !ok[h_]) continue;
        newest_ = static_cast<int64_t>(h_);
        for (size_t w = 0; w < kW; ++w) add<kSum, kMin, kMax, kStd>(w, x, h_);
      }
      for (size_t w = 0; w < kW; ++w) {
        Window& a = acc_[w];
        for (const size_t lr = lo[w][r]; a.l < lr; ++a.l) {
          if (kNulls && !ok[a.l]) continue;
          remove<kSum, kMin, kMax, kStd>(w, x, a.l);
        }
        if (kStd && a.dirty) recompute<kNulls>(a, x, ok, lo[w][r], runs.hi[r]);
      }
      for (size_t w = 0; w < kW; ++w) {
        write<kSum, kMin, kMax, kStd>(w, x, runs, lo[w][r], r, *want[w], records, first);
      }
    }
  }

  template <bool kSum, bool kMin, bool kMax, bool kStd>
  void add(size_t w, const double* x, size_t p) {
    Window& a = acc_[w];
    const double v = x[p];
    ++a.n;
    if constexpr (kSum) neumaier_add(a.sum, a.comp, v);
    if constexpr (kStd) {
      const double d = v - a.mean;
      a.mean += d / static_cast<double>(a.n);
      a.m2 += d * (v - a.mean);
      a.m2_peak = std::max(a.m2_peak, a.m2);
    }
    if constexpr (kMin) {
      size_t* q = min_q(w);
      while (a.min_tail > a.min_head && x[q[a.min_tail - 1]] >= v) --a.min_tail;
      q[a.min_tail++] = p;
    }
    if constexpr (kMax) {
      size_t* q = max_q(w);
      while (a.max_tail > a.max_head && x[q[a.max_tail - 1]] <= v) --a.max_tail;
      q[a.max_tail++] = p;
    }
  }

  template <bool kSum, bool kMin, bool kMax, bool kStd>
  void remove(size_t w, const double* x, size_t p) {
    Window& a = acc_[w];
    --a.n;
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
    if constexpr (kMin) {
      if (a.min_tail > a.min_head && min_q(w)[a.min_head] == p) ++a.min_head;
    }
    if constexpr (kMax) {
      if (a.max_tail > a.max_head && max_q(w)[a.max_head] == p) ++a.max_head;
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

  // Run r's features for window w (as KeyState::emit) into the record of its first position,
  // then copied to the run's other positions (ties).
  template <bool kSum, bool kMin, bool kMax, bool kStd>
  void write(size_t w, const double* x, const Runs& runs, size_t lo, size_t r,
             const ColumnOutputs& want, Records& records, size_t first) const {
    const Window& a = acc_[w];
    const bool any = a.n > 0;
    uint64_t* rec = records.at(first + runs.pos[r]);
    auto put = [&](int64_t column, double v) {
      if (column >= 0) rec[column] = std::bit_cast<uint64_t>(v);
    };
    if (want.n >= 0) rec[want.n] = static_cast<uint64_t>(a.n);
    if constexpr (kSum) {
      const double total = a.sum + a.comp;
      put(want.sum, any ? total : 0.0);
      put(want.mean, any ? total / static_cast<double>(a.n) : kNull);
    }
    if constexpr (kMin) put(want.min, any ? x[min_q(w)[a.min_head]] : kNull);
    if constexpr (kMax) put(want.max, any ? x[max_q(w)[a.max_head]] : kNull);
    if (want.last >= 0) {
      put(want.last, newest_ >= 0 && static_cast<size_t>(newest_) >= lo ? x[newest_] : kNull);
    }
    if constexpr (kStd) {
      double v = kNull;
      if (a.n >= 2) {
        const bool constant = x[min_q(w)[a.min_head]] == x[max_q(w)[a.max_head]];
        v = constant ? 0.0 : std::sqrt(std::max(a.m2, 0.0) / static_cast<double>(a.n - 1));
      }
      put(want.std, v);
    }
    for (const auto& [from, to] : want.copies) rec[to] = rec[from];
    const size_t ties = runs.pos[r + 1] - runs.pos[r];
    if (ties > 1) {
      const int64_t columns[] = {want.n, want.sum, want.mean, want.min, want.max, want.last, want.std};
      for (size_t t = 1; t < ties; ++t) {
        uint64_t* other = records.at(first + runs.pos[r] + t);
        for (int64_t column : columns) {
          if (column >= 0) other[column] = rec[column];
        }
        for (const auto& [from, to] : want.copies) other[to] = rec[from];
      }
    }
  }

  size_t windows_;
  std::array<Window, kMaxWindows> acc_{};
  int64_t newest_ = -1;  // newest position added with a valid value
  size_t h_ = 0;
  // Monotonic queues of positions, two per window: a group pushes at most once per event, so
  // arrays of the largest group's size hold them and head/tail only move forward in a group.
  std::vector<size_t> queues_;
  size_t max_group_;
};

void ColumnSweep::run(bool nulls, const double* x, const uint8_t* ok, const Runs& runs,
                      const size_t* const* lo, const ColumnOutputs* const* want,
                      Records& records, size_t first) {
  static constexpr std::array<std::array<RunFn, 32>, kMaxWindows> kRuns = {
      make_table<1>(std::make_index_sequence<32>{}), make_table<2>(std::make_index_sequence<32>{}),
      make_table<3>(std::make_index_sequence<32>{}), make_table<4>(std::make_index_sequence<32>{})};
  const unsigned mask = (nulls ? 16u : 0u) | want[0]->state_mask();
  (this->*kRuns[windows_ - 1][mask])(x, ok, runs, lo, want, records, first);
}

// Output values are written once and not read again here: non-temporal stores skip reading
// each destination line into the cache first (64 consecutive values fill whole lines).
#if defined(__x86_64__)
inline void stream_store(uint64_t* dst, uint64_t x) {
  _mm_stream_si64(reinterpret_cast<long long*>(dst), static_cast<long long>(x));
}
inline void stream_fence() { _mm_sfence(); }
#else
inline void stream_store(uint64_t* dst, uint64_t x) { *dst = x; }
inline void stream_fence() {}
#endif

// The output table: one pass over the input rows reads each row's record and appends every
// column's value and validity bit. Rows with a null key and NaN results are null (value 0).
arrow::OwnedArray finish(const std::vector<OutColumn>& outs, Records& records,
                         const Groups& groups) {
  const auto n = static_cast<int64_t>(groups.pos_of.size());
  const size_t k_cols = outs.size();
  std::vector<arrow::Buffer> values, bits;
  std::vector<int64_t> nulls(k_cols, 0);
  for (size_t k = 0; k < k_cols; ++k) {
    values.emplace_back(static_cast<size_t>(n) * 8);
    bits.emplace_back(static_cast<size_t>((n + 7) / 8));
  }
  std::vector<uint64_t*> value_out(k_cols);
  std::vector<uint8_t*> bits_out(k_cols);
  std::vector<uint8_t> int_column(k_cols);
  for (size_t k = 0; k < k_cols; ++k) {
    value_out[k] = values[k].as<uint64_t>();
    bits_out[k] = bits[k].data();
    int_column[k] = is_int(outs[k].kind);
  }
  // Blocks of 64 rows: their records are gathered once (prefetched a block ahead), then each
  // column's 64 values are written and its 64 validity bits stored as one word.
  const int64_t* pos_of = groups.pos_of.data();
  constexpr int64_t kBlock = 64;
  const uint64_t* block[kBlock];
  const std::vector<uint64_t> no_record(k_cols, 0);  // rows with a null key read zeros (null)
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t rows = std::min(kBlock, n - b);
    for (int64_t j = 0; j < rows; ++j) {
      const int64_t p = pos_of[b + j];
      block[j] = p >= 0 ? records.at(static_cast<size_t>(p)) : nullptr;
      if (b + kBlock + j < n && pos_of[b + kBlock + j] >= 0) {
        const uint64_t* ahead = records.at(static_cast<size_t>(pos_of[b + kBlock + j]));
        __builtin_prefetch(ahead);
        __builtin_prefetch(ahead + k_cols - 1);
      }
    }
    uint64_t has_key = 0;
    for (int64_t j = 0; j < rows; ++j) has_key |= static_cast<uint64_t>(block[j] != nullptr) << j;
    for (int64_t j = 0; j < rows; ++j) {
      if (block[j] == nullptr) block[j] = no_record.data();
    }
    for (size_t k = 0; k < k_cols; ++k) {
      uint64_t* dst = value_out[k] + b;
      uint64_t valid = has_key;
      if (int_column[k]) {
        for (int64_t j = 0; j < rows; ++j) stream_store(dst + j, block[j][k]);
      } else {
        uint64_t not_nan = 0;
        for (int64_t j = 0; j < rows; ++j) {
          // NaN marks null (so a NaN input value is null too); a null's value is 0.
          const uint64_t x = block[j][k];
          const bool number = !std::isnan(std::bit_cast<double>(x));
          stream_store(dst + j, number ? x : 0);
          not_nan |= static_cast<uint64_t>(number) << j;
        }
        valid &= not_nan;
      }
      std::memcpy(bits_out[k] + b / 8, &valid, static_cast<size_t>((rows + 7) / 8));
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
    d->format = int_column[k] ? "l" : "g";
    d->name = "f" + std::to_string(k);
    d->length = n;
    d->null_count = nulls[k];
    d->buffers.push_back(nulls[k] == 0 ? arrow::Buffer() : std::move(bits[k]));
    d->buffers.push_back(std::move(values[k]));
    table->children.push_back(std::move(d));
  }
  return arrow::export_array(std::move(table));
}

}  // namespace

arrow::OwnedArray backfill(const std::vector<ArrayView>& keys, const ArrayView& time,
                           const std::vector<ArrayView>& values, const Spec& spec) {
  const int64_t n = time.length();
  const std::vector<int64_t> t = detail::time_values(time);
  int64_t n_groups = 0;
  const big_vector<int64_t> group = group_ids(keys, n, n_groups);
  const Groups groups = group_rows(group, n_groups, t);
  std::vector<Gathered> columns;
  for (size_t c = 0; c < values.size(); ++c) columns.push_back(gather(values[c], groups.row_of, c, n));

  // Output columns in the order the Python layer names them: per window, the event count and
  // then every requested aggregate of every value column.
  const size_t windows = spec.layout.windows.size();
  std::vector<OutColumn> outs;
  for (size_t w = 0; w < windows; ++w) {
    outs.push_back({Kind::count, 0});
    for (size_t c = 0; c < spec.aggs.size(); ++c) {
      for (Agg a : spec.aggs[c]) outs.push_back({kind_of(a), c});
    }
  }
  const size_t per_window = outs.size() / windows;
  Records records(outs.size(), groups.row_of.size());

  // What each (window, value column) writes, from the record columns laid out above.
  std::vector<ColumnOutputs> wants(windows * columns.size());
  for (size_t w = 0; w < windows; ++w) {
    for (size_t k = w * per_window + 1; k < (w + 1) * per_window; ++k) {
      wants[w * columns.size() + outs[k].source].add(outs[k].kind, static_cast<int64_t>(k));
    }
  }
  std::vector<bool> has_nulls(columns.size());
  for (size_t c = 0; c < columns.size(); ++c) {
    has_nulls[c] = std::find(columns[c].ok.begin(), columns[c].ok.end(), 0) != columns[c].ok.end();
  }

  size_t max_group = 0;
  for (int64_t g = 0; g < n_groups; ++g) {
    max_group = std::max(max_group, static_cast<size_t>(groups.start[static_cast<size_t>(g) + 1] -
                                                        groups.start[static_cast<size_t>(g)]));
  }
  // A long group is swept in slices of runs, every window and column over one slice before the
  // next, so the slice's records stay in cache while they are filled in. Windows are swept in
  // chunks of up to four per value column.
  constexpr size_t kSliceRuns = 2048;
  const size_t chunks = (windows + ColumnSweep::kMaxWindows - 1) / ColumnSweep::kMaxWindows;
  std::vector<ColumnSweep> sweeps;  // per value column, per chunk of windows
  for (size_t c = 0; c < columns.size(); ++c) {
    for (size_t chunk = 0; chunk < chunks; ++chunk) {
      const size_t in_chunk =
          std::min(ColumnSweep::kMaxWindows, windows - chunk * ColumnSweep::kMaxWindows);
      sweeps.emplace_back(in_chunk, wants[c].any() ? max_group : 0);
    }
  }
  std::vector<size_t> window_l(windows);
  Runs runs;
  for (int64_t g = 0; g < n_groups; ++g) {
    const auto first = static_cast<size_t>(groups.start[static_cast<size_t>(g)]);
    const size_t size = static_cast<size_t>(groups.start[static_cast<size_t>(g) + 1]) - first;
    const int64_t* times = groups.time.data() + first;
    for (ColumnSweep& sweep : sweeps) sweep.start_group();
    std::fill(window_l.begin(), window_l.end(), 0);
    for (size_t from = 0; from < size;) {
      from = find_runs(times, from, size, kSliceRuns, spec.layout.closed, runs);
      find_starts(times, spec.layout.windows, spec.layout.closed, runs, window_l);
      for (size_t w = 0; w < windows; ++w) {
        const size_t* lo = runs.lo_of(w);
        const size_t count_column = w * per_window;
        for (size_t r = 0; r < runs.size(); ++r) {
          const auto count = static_cast<uint64_t>(runs.hi[r] - lo[r]);
          for (size_t p = runs.pos[r]; p < runs.pos[r + 1]; ++p) {
            records.at(first + p)[count_column] = count;
          }
        }
      }
      for (size_t c = 0; c < columns.size(); ++c) {
        if (!wants[c].any()) continue;
        for (size_t chunk = 0; chunk < chunks; ++chunk) {
          const size_t* lo[ColumnSweep::kMaxWindows];
          const ColumnOutputs* want[ColumnSweep::kMaxWindows];
          const size_t w0 = chunk * ColumnSweep::kMaxWindows;
          for (size_t k = 0; k < ColumnSweep::kMaxWindows && w0 + k < windows; ++k) {
            lo[k] = runs.lo_of(w0 + k);
            want[k] = &wants[(w0 + k) * columns.size() + c];
          }
          sweeps[c * chunks + chunk].run(has_nulls[c], columns[c].x.data() + first,
                                         columns[c].ok.data() + first, runs, lo, want, records,
                                         first);
        }
      }
    }
  }
  return finish(outs, records, groups);
}

}  // namespace featforge::window
