// Backfill (DESIGN.md section 5): every row's window features, point in time, from a whole table.
//
// Rows are grouped by key (hash table, then a counting sort), and each group's times and values
// are gathered once into contiguous arrays in time order. Each window is then swept over a group
// with two pointers: events enter the window at the front pointer and leave it at the back one,
// updating running aggregates. Every aggregate sees the same additions and removals in the same
// order as in KeyState::advance (the streaming engine), so backfill and streaming agree bit for
// bit. Features are written straight into the output columns at their input rows.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

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

inline void neumaier_add(double& sum, double& comp, double x) {
  const double t = sum + x;
  comp += std::fabs(sum) >= std::fabs(x) ? (sum - t) + x : (x - t) + sum;
  sum = t;
}

// Rows grouped by key: positions [start[g], start[g + 1]) hold group g's rows in time order
// (ties in input order); row_of maps a position to its input row.
struct Groups {
  big_vector<int64_t> row_of;
  big_vector<int64_t> pos_of;  // per input row: its position, -1 for a null key
  std::vector<int64_t> start;
  big_vector<int64_t> time;  // per position
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
    big_vector<uint64_t> hashes(static_cast<size_t>(n));
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
  big_vector<double> x;
  big_vector<uint8_t> ok;
};

template <class T>
void gather_typed(const ArrayView& v, const big_vector<int64_t>& row_of, Gathered& out) {
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

Gathered gather(const ArrayView& v, const big_vector<int64_t>& row_of, size_t column, int64_t n) {
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

// A monotonic queue of positions over a preallocated array: a group pushes at most one entry
// per event, so head and tail only move forward.
struct MonoQueue {
  int64_t* slots = nullptr;
  size_t head = 0, tail = 0;
  [[nodiscard]] bool empty() const { return head == tail; }
  [[nodiscard]] int64_t front() const { return slots[head]; }
  [[nodiscard]] int64_t back() const { return slots[tail - 1]; }
};

// Running aggregates of one value column over the window being swept (as Accumulator).
struct Running {
  int64_t n = 0;
  double sum = 0, comp = 0, mean = 0, m2 = 0, m2_peak = 0;
  bool dirty = false;
  MonoQueue min_q, max_q;
};

enum class Kind : uint8_t { count, value_count, sum, mean, min, max, last, std };

struct OutColumn {
  Kind kind;
  size_t source;  // value column
};

Kind kind_of(Agg a) {
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

bool is_int(Kind k) { return k == Kind::count || k == Kind::value_count; }

// Features are first written as one record per position (every output column's 8 bytes side
// by side: int64 counts, float64 aggregates), sequentially while sweeping a group; a single
// pass over the input rows then reads each row's record and writes all output columns in order.
// Scattering each feature to its input row instead costs a cache miss per feature.
struct Records {
  size_t width;  // output columns
  big_vector<uint64_t> slots;
  Records(size_t columns, size_t positions) : width(columns), slots(columns * positions) {}
  uint64_t* at(size_t position) { return slots.data() + position * width; }
};

// Sweeps one window over one group (positions [first, last)), writing its output columns.
class WindowSweep {
 public:
  WindowSweep(const Layout& layout, const Groups& groups, const std::vector<Gathered>& columns,
              size_t max_group)
      : layout_(layout), groups_(groups), columns_(columns), running_(columns.size()),
        last_valid_(columns.size()), emitted_(columns.size()),
        queue_space_(2 * columns.size() * max_group) {}

  // Writes window w's features of every position of the group into its records, at columns
  // [column, column + n_outs).
  void run(size_t w, size_t first, size_t last, const OutColumn* outs, size_t n_outs,
           Records& records, size_t column) {
    const int64_t length = layout_.windows[w];
    const bool include_t = layout_.closed == Closed::right || layout_.closed == Closed::both;
    const bool include_start = layout_.closed == Closed::left || layout_.closed == Closed::both;
    const int64_t* time = groups_.time.data();
    reset(first, last);
    size_t lo = first, hi = first;
    for (size_t run = first; run < last;) {
      const int64_t now = time[run];
      size_t end = run + 1;
      while (end < last && time[end] == now) ++end;
      // Events before `now` (and at `now` when the window includes its end) enter...
      const size_t new_hi = include_t ? end : run;
      for (; hi < new_hi; ++hi) add(hi);
      // ...and those before its start leave.
      const int64_t start = now - length;
      while (lo < hi && (include_start ? time[lo] < start : time[lo] <= start)) remove(lo++);
      for (size_t c = 0; c < columns_.size(); ++c) {
        if (running_[c].dirty) recompute(c, lo, hi);
      }
      emit(lo, hi);
      for (size_t k = 0; k < n_outs; ++k) {
        const uint64_t bits = feature(outs[k], hi - lo);
        for (size_t p = run; p < end; ++p) records.at(p)[column + k] = bits;
      }
      run = end;
    }
  }

 private:
  struct Emitted {
    int64_t n;
    double sum, mean, std, min, max, last;
  };

  void reset(size_t first, size_t last) {
    const size_t span = last - first;
    for (size_t c = 0; c < columns_.size(); ++c) {
      Running& r = running_[c];
      r = Running{};
      r.min_q.slots = queue_space_.data() + (2 * c) * span;
      r.max_q.slots = queue_space_.data() + (2 * c + 1) * span;
      last_valid_[c] = -1;
    }
  }

  void add(size_t p) {
    for (size_t c = 0; c < columns_.size(); ++c) {
      if (!columns_[c].ok[p]) continue;
      const double x = columns_[c].x[p];
      const AggFlags& f = layout_.columns[c];
      const double* xs = columns_[c].x.data();
      Running& a = running_[c];
      last_valid_[c] = static_cast<int64_t>(p);
      ++a.n;
      if (f.sum) neumaier_add(a.sum, a.comp, x);
      if (f.std) {
        const double d = x - a.mean;
        a.mean += d / static_cast<double>(a.n);
        a.m2 += d * (x - a.mean);
        a.m2_peak = std::max(a.m2_peak, a.m2);
      }
      if (f.min) {
        while (!a.min_q.empty() && xs[a.min_q.back()] >= x) --a.min_q.tail;
        a.min_q.slots[a.min_q.tail++] = static_cast<int64_t>(p);
      }
      if (f.max) {
        while (!a.max_q.empty() && xs[a.max_q.back()] <= x) --a.max_q.tail;
        a.max_q.slots[a.max_q.tail++] = static_cast<int64_t>(p);
      }
    }
  }

  void remove(size_t p) {
    for (size_t c = 0; c < columns_.size(); ++c) {
      if (!columns_[c].ok[p]) continue;
      const double x = columns_[c].x[p];
      const AggFlags& f = layout_.columns[c];
      Running& a = running_[c];
      --a.n;
      if (a.n <= 1) {
        // As KeyState::remove: what is left is exact (nothing, or the newest value added).
        const double only = a.n == 1 ? columns_[c].x[static_cast<size_t>(last_valid_[c])] : 0.0;
        a.sum = only;
        a.comp = 0.0;
        a.mean = only;
        a.m2 = 0.0;
        a.m2_peak = 0.0;
        a.dirty = false;
      } else {
        if (f.sum) neumaier_add(a.sum, a.comp, -x);
        if (f.std) {
          const double d = x - a.mean;
          a.mean -= d / static_cast<double>(a.n);
          a.m2 -= d * (x - a.mean);
          if (a.m2 < 1e-4 * a.m2_peak) a.dirty = true;
        }
      }
      const auto id = static_cast<int64_t>(p);
      if (f.min && !a.min_q.empty() && a.min_q.front() == id) ++a.min_q.head;
      if (f.max && !a.max_q.empty() && a.max_q.front() == id) ++a.max_q.head;
    }
  }

  // As KeyState::recompute_moments.
  void recompute(size_t c, size_t lo, size_t hi) {
    const Gathered& col = columns_[c];
    double sum = 0, comp = 0;
    int64_t n = 0;
    for (size_t p = lo; p < hi; ++p) {
      if (!col.ok[p]) continue;
      neumaier_add(sum, comp, col.x[p]);
      ++n;
    }
    const double mean = n > 0 ? (sum + comp) / static_cast<double>(n) : 0.0;
    double m2 = 0, m2_comp = 0;
    for (size_t p = lo; p < hi; ++p) {
      if (!col.ok[p]) continue;
      const double d = col.x[p] - mean;
      neumaier_add(m2, m2_comp, d * d);
    }
    Running& a = running_[c];
    a.mean = mean;
    a.m2 = m2 + m2_comp;
    a.m2_peak = a.m2;
    a.dirty = false;
  }

  // As KeyState::emit.
  void emit(size_t lo, size_t /*hi*/) {
    for (size_t c = 0; c < columns_.size(); ++c) {
      const Running& a = running_[c];
      const AggFlags& f = layout_.columns[c];
      const double* xs = columns_[c].x.data();
      Emitted& e = emitted_[c];
      const bool any = a.n > 0;
      e.n = a.n;
      e.sum = f.sum ? (any ? a.sum + a.comp : 0.0) : kNull;
      e.mean = f.sum && any ? (a.sum + a.comp) / static_cast<double>(a.n) : kNull;
      e.std = kNull;
      if (f.std && a.n >= 2) {
        const bool constant = xs[a.min_q.front()] == xs[a.max_q.front()];
        e.std = constant ? 0.0 : std::sqrt(std::max(a.m2, 0.0) / static_cast<double>(a.n - 1));
      }
      e.min = f.min && any ? xs[a.min_q.front()] : kNull;
      e.max = f.max && any ? xs[a.max_q.front()] : kNull;
      const int64_t lv = last_valid_[c];
      e.last = f.last && lv >= 0 && static_cast<size_t>(lv) >= lo ? xs[lv] : kNull;
    }
  }

  // A feature's 8 bytes: int64 for counts, float64 (NaN for null) otherwise.
  [[nodiscard]] uint64_t feature(const OutColumn& out, size_t count) const {
    const Emitted& e = emitted_[out.source];
    switch (out.kind) {
      case Kind::count: return static_cast<uint64_t>(count);
      case Kind::value_count: return static_cast<uint64_t>(e.n);
      case Kind::sum: return std::bit_cast<uint64_t>(e.sum);
      case Kind::mean: return std::bit_cast<uint64_t>(e.mean);
      case Kind::min: return std::bit_cast<uint64_t>(e.min);
      case Kind::max: return std::bit_cast<uint64_t>(e.max);
      case Kind::last: return std::bit_cast<uint64_t>(e.last);
      case Kind::std: return std::bit_cast<uint64_t>(e.std);
    }
    return 0;
  }

  const Layout& layout_;
  const Groups& groups_;
  const std::vector<Gathered>& columns_;
  std::vector<Running> running_;
  std::vector<int64_t> last_valid_;  // per column: newest position added with a valid value
  std::vector<Emitted> emitted_;
  std::vector<int64_t> queue_space_;
};

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
    bits.push_back(arrow::Buffer::zeroed(static_cast<size_t>((n + 7) / 8)));
  }
  std::vector<uint64_t*> value_out(k_cols);
  std::vector<uint8_t*> bits_out(k_cols);
  std::vector<uint8_t> int_column(k_cols);
  for (size_t k = 0; k < k_cols; ++k) {
    value_out[k] = values[k].as<uint64_t>();
    bits_out[k] = bits[k].data();
    int_column[k] = is_int(outs[k].kind);
  }
  const int64_t* pos_of = groups.pos_of.data();
  constexpr int64_t kAhead = 8;
  for (int64_t i = 0; i < n; ++i) {
    if (i + kAhead < n && pos_of[i + kAhead] >= 0) {
      const uint64_t* ahead = records.at(static_cast<size_t>(pos_of[i + kAhead]));
      __builtin_prefetch(ahead);
      __builtin_prefetch(ahead + k_cols - 1);
    }
    const int64_t p = pos_of[i];
    const uint64_t* rec = p >= 0 ? records.at(static_cast<size_t>(p)) : nullptr;
    for (size_t k = 0; k < k_cols; ++k) {
      uint64_t x = rec != nullptr ? rec[k] : 0;
      // NaN marks null (so a NaN input value is null too).
      const bool ok = rec != nullptr && (int_column[k] || !std::isnan(std::bit_cast<double>(x)));
      if (!ok) x = 0;
      value_out[k][i] = x;
      bits_out[k][i >> 3] |= static_cast<uint8_t>(static_cast<uint8_t>(ok) << (i & 7));
      nulls[k] += !ok;
    }
  }
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

  size_t max_group = 0;
  for (int64_t g = 0; g < n_groups; ++g) {
    max_group = std::max(max_group, static_cast<size_t>(groups.start[static_cast<size_t>(g) + 1] -
                                                        groups.start[static_cast<size_t>(g)]));
  }
  WindowSweep sweep(spec.layout, groups, columns, max_group);
  for (int64_t g = 0; g < n_groups; ++g) {
    const auto first = static_cast<size_t>(groups.start[static_cast<size_t>(g)]);
    const auto last = static_cast<size_t>(groups.start[static_cast<size_t>(g) + 1]);
    for (size_t w = 0; w < windows; ++w) {
      sweep.run(w, first, last, outs.data() + w * per_window, per_window, records, w * per_window);
    }
  }
  return finish(outs, records, groups);
}

}  // namespace featforge::window
