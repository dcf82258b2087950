#include "featforge/window/engine.h"

#include "featforge/hashing/fixed_width.h"
#include "featforge/memory.h"
#include "rows.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>

namespace featforge::window {

using arrow::ArrayData;
using arrow::ArrayView;
using arrow::TypeId;

Closed parse_closed(std::string_view name) {
  if (name == "left") return Closed::left;
  if (name == "right") return Closed::right;
  if (name == "both") return Closed::both;
  if (name == "none") return Closed::none;
  throw std::invalid_argument("closed must be 'left', 'right', 'both' or 'none', got '" +
                              std::string(name) + "'");
}

Agg parse_agg(std::string_view name) {
  if (name == "count") return Agg::count;
  if (name == "sum") return Agg::sum;
  if (name == "mean") return Agg::mean;
  if (name == "min") return Agg::min;
  if (name == "max") return Agg::max;
  if (name == "last") return Agg::last;
  if (name == "std") return Agg::std;
  throw std::invalid_argument("unknown aggregation '" + std::string(name) +
                              "'; expected count, sum, mean, min, max, last or std");
}

void finalize(Spec& spec) {
  if (spec.layout.windows.empty()) throw std::invalid_argument("at least one window is needed");
  for (int64_t w : spec.layout.windows) {
    if (w <= 0) throw std::invalid_argument("window lengths must be > 0, got " + std::to_string(w));
  }
  spec.layout.columns.assign(spec.aggs.size(), AggFlags{});
  for (size_t c = 0; c < spec.aggs.size(); ++c) {
    for (Agg a : spec.aggs[c]) {
      AggFlags& f = spec.layout.columns[c];
      f.sum = f.sum || a == Agg::sum || a == Agg::mean;
      f.std = f.std || a == Agg::std;
      // std also keeps min and max: a window whose values are all equal has a standard
      // deviation of exactly 0, which running moments alone only approximate.
      f.min = f.min || a == Agg::min || a == Agg::std;
      f.max = f.max || a == Agg::max || a == Agg::std;
      f.last = f.last || a == Agg::last;
    }
  }
}

namespace detail {

RowKeys encode_keys(const std::vector<ArrayView>& keys, int64_t n) {
  RowKeys out;
  out.offsets.assign(static_cast<size_t>(n) + 1, 0);
  out.valid.assign(static_cast<size_t>(n), 1);
  for (size_t k = 0; k < keys.size(); ++k) {
    const ArrayView& v = keys[k];
    if (v.length() != n) throw std::invalid_argument("key columns must have the time column's length");
    const bool ok = !v.is_dictionary() &&
                    (arrow::is_binary_like(v.id()) ||
                     (v.id() >= TypeId::int8 && v.id() <= TypeId::uint64) ||
                     v.id() == TypeId::boolean || v.id() == TypeId::date32 ||
                     v.id() == TypeId::timestamp);
    if (!ok) {
      throw unsupported_type("key column " + std::to_string(k) +
                             " must be an integer or string column, got " +
                             arrow::type_name(v.schema()));
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    for (const ArrayView& v : keys) {
      if (!v.is_valid(i)) {
        out.valid[static_cast<size_t>(i)] = 0;
        continue;
      }
      if (arrow::is_binary_like(v.id())) {
        const std::string_view b = v.bytes_at(i);
        const auto len = static_cast<uint32_t>(b.size());
        out.arena.append(reinterpret_cast<const char*>(&len), 4);
        out.arena.append(b);
      } else {
        int64_t x = 0;
        switch (v.id()) {
          case TypeId::boolean: x = arrow::get_bit(v.bool_bits(), v.offset() + i); break;
          case TypeId::int8: x = v.values<int8_t>()[i]; break;
          case TypeId::uint8: x = v.values<uint8_t>()[i]; break;
          case TypeId::int16: x = v.values<int16_t>()[i]; break;
          case TypeId::uint16: x = v.values<uint16_t>()[i]; break;
          case TypeId::int32: case TypeId::date32: x = v.values<int32_t>()[i]; break;
          case TypeId::uint32: x = v.values<uint32_t>()[i]; break;
          default: x = v.values<int64_t>()[i]; break;
        }
        out.arena.append(reinterpret_cast<const char*>(&x), 8);
      }
    }
    out.offsets[static_cast<size_t>(i) + 1] = out.arena.size();
  }
  return out;
}

std::vector<int64_t> time_values(const ArrayView& t) {
  if (t.is_dictionary()) throw unsupported_type("the time column cannot be dictionary-encoded");
  if (t.null_count() != 0) throw std::invalid_argument("the time column must not contain nulls");
  std::vector<int64_t> out(static_cast<size_t>(t.length()));
  switch (t.id()) {
    case TypeId::int64: case TypeId::timestamp: case TypeId::date64: case TypeId::duration:
      std::memcpy(out.data(), t.values<int64_t>(), out.size() * 8);
      break;
    case TypeId::int32: case TypeId::date32:
      for (int64_t i = 0; i < t.length(); ++i) out[static_cast<size_t>(i)] = t.values<int32_t>()[i];
      break;
    default:
      throw unsupported_type("the time column must be int64, int32, timestamp or date, got " +
                             arrow::type_name(t.schema()));
  }
  return out;
}

}  // namespace detail

namespace {

using detail::encode_keys;
using detail::is_int;
using detail::Kind;
using detail::kind_of;
using detail::RowKeys;
using detail::time_values;

// Value columns as doubles with validity, row-major (rows x columns) for KeyState::append.
struct RowValues {
  size_t columns = 0;
  std::vector<double> values;
  std::vector<uint8_t> valid;
};

RowValues value_rows(const std::vector<ArrayView>& cols, int64_t n) {
  RowValues out;
  out.columns = cols.size();
  out.values.assign(static_cast<size_t>(n) * cols.size(), 0.0);
  out.valid.assign(static_cast<size_t>(n) * cols.size(), 0);
  for (size_t c = 0; c < cols.size(); ++c) {
    const ArrayView& v = cols[c];
    if (v.length() != n) throw std::invalid_argument("value columns must have the time column's length");
    detail::visit_values(v, c, [&](const auto& read) {
      for (int64_t i = 0; i < n; ++i) {
        const size_t at = static_cast<size_t>(i) * cols.size() + c;
        out.values[at] = read(i);
        out.valid[at] = v.is_valid(i);
      }
    });
  }
  return out;
}

// The output columns. Rows are written at positions 0..m-1 in processing (key-grouped) order,
// sequentially, and finish() scatters every column once to input order: far fewer cache misses
// than writing each feature straight to its scattered input row.
class Outputs {
 public:
  Outputs(const Spec& spec, int64_t rows, int64_t positions) : n_(rows), m_(positions) {
    for (size_t w = 0; w < spec.layout.windows.size(); ++w) {
      add_column(Kind::count, 0);
      for (size_t c = 0; c < spec.aggs.size(); ++c) {
        for (Agg a : spec.aggs[c]) add_column(kind_of(a), c);
      }
    }
    per_window_ = columns_.size() / spec.layout.windows.size();
  }

  void write(int64_t pos, size_t w, const WindowValues& v) {
    const size_t first = w * per_window_;
    for (size_t k = first; k < first + per_window_; ++k) {
      Column& col = columns_[k];
      const size_t c = col.source;
      double x = 0;
      switch (col.kind) {
        case Kind::count: col.ints[pos] = v.count; col.valid[pos] = 1; continue;
        case Kind::value_count: col.ints[pos] = v.n[c]; col.valid[pos] = 1; continue;
        case Kind::sum: x = v.sum[c]; break;
        case Kind::mean: x = v.mean[c]; break;
        case Kind::min: x = v.min[c]; break;
        case Kind::max: x = v.max[c]; break;
        case Kind::last: x = v.last[c]; break;
        case Kind::std: x = v.std[c]; break;
      }
      col.doubles[pos] = x;
      col.valid[pos] = !std::isnan(x);  // NaN marks null (so a NaN input value is null too)
    }
  }

  // `row_of[pos]` is the input row of each written position (empty: positions are rows).
  template <class Rows>
  [[nodiscard]] arrow::OwnedArray finish(const Rows& row_of) {
    auto table = std::make_unique<ArrayData>();
    table->format = "+s";
    table->length = n_;
    table->buffers.emplace_back();
    for (size_t k = 0; k < columns_.size(); ++k) {
      Column& col = columns_[k];
      const bool int_column = is_int(col.kind);
      auto d = std::make_unique<ArrayData>();
      d->format = int_column ? "l" : "g";
      d->name = "f" + std::to_string(k);
      d->length = n_;
      arrow::Buffer bits = arrow::Buffer::zeroed(static_cast<size_t>((n_ + 7) / 8));
      // Rows not written (null keys) read 0; when every row is written, skip the zeroing.
      arrow::Buffer values = m_ == n_ ? arrow::Buffer(static_cast<size_t>(n_) * 8)
                                      : arrow::Buffer::zeroed(static_cast<size_t>(n_) * 8);
      int64_t valid = 0;
      for (int64_t p = 0; p < m_; ++p) {
        const int64_t row = row_of.empty() ? p : row_of[static_cast<size_t>(p)];
        const bool ok = col.valid[p] != 0;
        if (int_column) {
          values.as<int64_t>()[row] = ok ? col.ints[p] : 0;
        } else {
          values.as<double>()[row] = ok ? col.doubles[p] : 0.0;
        }
        if (ok) {
          arrow::set_bit(bits.data(), row);
          ++valid;
        }
      }
      d->null_count = n_ - valid;
      d->buffers.push_back(std::move(bits));
      d->buffers.push_back(std::move(values));
      table->children.push_back(std::move(d));
    }
    return arrow::export_array(std::move(table));
  }

 private:
  struct Column {
    Kind kind;
    size_t source;  // value column
    // Scratch on huge pages; finish() reads values only where valid is set.
    big_vector<int64_t> ints;
    big_vector<double> doubles;
    big_vector<uint8_t> valid;
  };
  void add_column(Kind kind, size_t source) {
    Column col{kind, source, {}, {}, {}};
    const auto m = static_cast<size_t>(m_);
    if (is_int(kind)) {
      col.ints.resize(m);
    } else {
      col.doubles.resize(m);
    }
    col.valid.assign(m, 0);  // a position never written (a null key) stays null
    columns_.push_back(std::move(col));
  }

  int64_t n_, m_;
  size_t per_window_ = 1;
  std::vector<Column> columns_;
};

WindowValues make_values(size_t columns) {
  WindowValues v;
  v.n.assign(columns, 0);
  v.sum.assign(columns, 0);
  v.mean = v.std = v.min = v.max = v.last = v.sum;
  return v;
}

}  // namespace

}  // namespace featforge::window

#include "featforge/io/binary.h"

namespace featforge::window {

Aggregator::Aggregator(Spec spec, int64_t allowed_lateness, LatePolicy late, int64_t ttl)
    : spec_(std::move(spec)), lateness_(allowed_lateness), late_(late), ttl_(ttl) {
  if (lateness_ < 0) throw std::invalid_argument("allowed_lateness must be >= 0");
  if (ttl_ >= 0) {
    const int64_t longest = *std::max_element(spec_.layout.windows.begin(), spec_.layout.windows.end());
    if (ttl_ < longest + lateness_) {
      throw std::invalid_argument(
          "ttl must be at least the longest window plus allowed_lateness, or dropping an idle "
          "key could change a result");
    }
  }
}

arrow::OwnedArray Aggregator::transform(const std::vector<ArrayView>& keys, const ArrayView& time,
                                        const std::vector<ArrayView>& values) {
  const int64_t n = time.length();
  const std::vector<int64_t> t = time_values(time);
  const RowKeys row_keys = encode_keys(keys, n);
  const RowValues rows = value_rows(values, n);
  const hash::Xxh3 hasher(0);
  // Pass 1: the state of every row (created for new keys) and lateness, before anything changes.
  std::vector<int64_t> slot(static_cast<size_t>(n), -1);
  std::vector<uint8_t> late(static_cast<size_t>(n), 0);
  std::vector<int64_t> created;
  std::vector<int64_t> latest;  // per slot: latest time including this batch's earlier rows
  // Keys are hashed first so that their table slots and stored bytes can be fetched ahead.
  std::vector<uint64_t> hashes(static_cast<size_t>(n), 0);
  for (int64_t i = 0; i < n; ++i) {
    if (!row_keys.valid[static_cast<size_t>(i)]) continue;
    const std::string_view k = row_keys.at(i);
    hashes[static_cast<size_t>(i)] = hasher(k.data(), k.size());
  }
  constexpr int64_t kSlotAhead = 16, kKeyAhead = 8, kBytesAhead = 4;
  for (int64_t i = 0; i < n; ++i) {
    if (i + kSlotAhead < n) index_.prefetch(hashes[static_cast<size_t>(i + kSlotAhead)]);
    if (i + kKeyAhead < n) index_.prefetch_key_location(hashes[static_cast<size_t>(i + kKeyAhead)]);
    if (i + kBytesAhead < n) index_.prefetch_key_bytes(hashes[static_cast<size_t>(i + kBytesAhead)]);
    if (!row_keys.valid[static_cast<size_t>(i)]) continue;
    const std::string_view k = row_keys.at(i);
    const uint64_t h = hashes[static_cast<size_t>(i)];
    int64_t s = index_.find(h, k);
    if (s == idmap::kNoId) {
      s = index_.add(h, 0, k, 0, 0);
      created.push_back(s);
      if (static_cast<size_t>(s) >= states_.size()) {
        states_.resize(static_cast<size_t>(s) + 1);
        live_.resize(static_cast<size_t>(s) + 1, 0);
      }
      states_[static_cast<size_t>(s)] = KeyState(spec_.layout);
      live_[static_cast<size_t>(s)] = 1;
    }
    slot[static_cast<size_t>(i)] = s;
  }
  // Lateness, with each key's state fetched a few rows ahead.
  latest.resize(states_.size(), INT64_MIN);
  constexpr int64_t kLatestAhead = 8;
  for (int64_t i = 0; i < n; ++i) {
    if (i + kLatestAhead < n && slot[static_cast<size_t>(i + kLatestAhead)] >= 0) {
      states_[static_cast<size_t>(slot[static_cast<size_t>(i + kLatestAhead)])].prefetch_latest();
    }
    const int64_t s = slot[static_cast<size_t>(i)];
    if (s < 0) continue;
    int64_t& seen = latest[static_cast<size_t>(s)];
    if (seen == INT64_MIN) seen = states_[static_cast<size_t>(s)].latest();
    const int64_t ti = t[static_cast<size_t>(i)];
    if (seen != INT64_MIN && ti < seen - lateness_) {
      if (late_ == LatePolicy::raise) {
        for (int64_t c : created) {
          index_.remove(c);
          live_[static_cast<size_t>(c)] = 0;
          states_[static_cast<size_t>(c)] = KeyState();
        }
        throw std::invalid_argument("late event at row " + std::to_string(i) + ": time " +
                                    std::to_string(ti) + " is more than allowed_lateness before "
                                    "its key's latest time " + std::to_string(seen));
      }
      late[static_cast<size_t>(i)] = 1;
      continue;
    }
    seen = std::max(seen, ti);
  }
  // Pass 2: per key, its rows in batch order; runs of equal times advance the state together.
  std::vector<int64_t> order;
  order.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    if (slot[static_cast<size_t>(i)] >= 0 && !late[static_cast<size_t>(i)]) order.push_back(i);
  }
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return slot[static_cast<size_t>(a)] < slot[static_cast<size_t>(b)];
  });
  Outputs out(spec_, n, static_cast<int64_t>(order.size()));
  WindowValues v = make_values(rows.columns);
  const size_t windows = spec_.layout.windows.size();
  // Each key's state is fetched ahead in three steps, each reading what the previous fetched
  // (distances in events; runs of one key make them approximate).
  constexpr size_t kStateAhead = 12, kArraysAhead = 8, kEdgesAhead = 4;
  auto state_of = [&](size_t k) -> const KeyState& {
    return states_[static_cast<size_t>(slot[static_cast<size_t>(order[k])])];
  };
  for (size_t i = 0; i < order.size();) {
    if (i + kStateAhead < order.size()) state_of(i + kStateAhead).prefetch();
    if (i + kArraysAhead < order.size()) state_of(i + kArraysAhead).prefetch_arrays();
    if (i + kEdgesAhead < order.size()) state_of(i + kEdgesAhead).prefetch_window_edges();
    const int64_t row = order[i];
    KeyState& state = states_[static_cast<size_t>(slot[static_cast<size_t>(row)])];
    const int64_t now = t[static_cast<size_t>(row)];
    const double* vals = rows.values.data() + static_cast<size_t>(row) * rows.columns;
    const uint8_t* valid = rows.valid.data() + static_cast<size_t>(row) * rows.columns;
    if (state.has_events() && now < state.latest()) {
      // Out of order but within the allowed lateness: insert in time order; rows after it see it.
      state.insert_out_of_order(now, vals, valid, state.latest(), spec_.layout);
      for (size_t w = 0; w < windows; ++w) {
        state.scan(now, w, spec_.layout, v);
        out.write(static_cast<int64_t>(i), w, v);
      }
      ++counters_.out_of_order;
      ++counters_.events;
      ++i;
      continue;
    }
    size_t end = i;
    while (end < order.size() && slot[static_cast<size_t>(order[end])] == slot[static_cast<size_t>(row)] &&
           t[static_cast<size_t>(order[end])] == now) {
      const auto r = static_cast<size_t>(order[end]);
      state.append(now, rows.values.data() + r * rows.columns, rows.valid.data() + r * rows.columns);
      ++end;
    }
    state.advance(now, spec_.layout);
    for (size_t w = 0; w < windows; ++w) {
      state.emit(w, spec_.layout, v);
      for (size_t k = i; k < end; ++k) out.write(static_cast<int64_t>(k), w, v);
    }
    state.trim(spec_.layout);
    counters_.events += static_cast<int64_t>(end - i);
    i = end;
  }
  for (int64_t i = 0; i < n; ++i) {
    if (late[static_cast<size_t>(i)]) ++counters_.late_dropped;
    if (slot[static_cast<size_t>(i)] >= 0) watermark_ = std::max(watermark_, t[static_cast<size_t>(i)]);
  }
  if (ttl_ >= 0 && watermark_ != INT64_MIN) {
    for (size_t s = 0; s < states_.size(); ++s) {
      if (live_[s] && states_[s].latest() < watermark_ - ttl_) {
        index_.remove(static_cast<int64_t>(s));
        states_[s] = KeyState();
        live_[s] = 0;
        ++counters_.expired_keys;
      }
    }
  }
  return out.finish(order);
}

arrow::OwnedArray Aggregator::query(const std::vector<ArrayView>& keys, int64_t at) {
  if (keys.empty()) throw std::invalid_argument("query needs the key columns");
  const int64_t n = keys[0].length();
  const RowKeys row_keys = encode_keys(keys, n);
  const hash::Xxh3 hasher(0);
  Outputs out(spec_, n, n);
  WindowValues v = make_values(spec_.layout.columns.size());
  const KeyState empty(spec_.layout);
  for (int64_t i = 0; i < n; ++i) {
    if (!row_keys.valid[static_cast<size_t>(i)]) continue;
    const std::string_view k = row_keys.at(i);
    const int64_t s = index_.find(hasher(k.data(), k.size()), k);
    const KeyState& state = s == idmap::kNoId ? empty : states_[static_cast<size_t>(s)];
    if (at >= state.latest()) {
      // Exactly what transform does for an event at `at` (the running aggregates advanced,
      // not recomputed), on a copy: bit for bit the backfill row of a probe event at `at`.
      KeyState probe = state;
      probe.advance(at, spec_.layout);
      for (size_t w = 0; w < spec_.layout.windows.size(); ++w) {
        probe.emit(w, spec_.layout, v);
        out.write(i, w, v);
      }
      continue;
    }
    for (size_t w = 0; w < spec_.layout.windows.size(); ++w) {
      state.scan(at, w, spec_.layout, v);  // in the past of the state: recomputed by a scan
      out.write(i, w, v);
    }
  }
  return out.finish(std::vector<int64_t>{});
}

StreamStats Aggregator::stats() const {
  StreamStats s = counters_;
  s.keys = index_.size();
  s.buffered = 0;
  s.bytes = index_.bytes();
  for (size_t k = 0; k < states_.size(); ++k) {
    if (!live_[k]) continue;
    s.buffered += static_cast<int64_t>(states_[k].buffered());
    s.bytes += static_cast<int64_t>(states_[k].bytes());
  }
  s.watermark = watermark_;
  return s;
}

namespace {
constexpr std::string_view kAggMagic = "FFWAGG01";
constexpr std::string_view kAggEnd = "FFWEND01";
constexpr uint32_t kAggVersion = 1;

std::string describe(const Spec& spec) {
  std::string d = "closed=" + std::to_string(static_cast<int>(spec.layout.closed)) + ";windows=";
  for (int64_t w : spec.layout.windows) d += std::to_string(w) + ",";
  d += ";aggs=";
  for (const auto& col : spec.aggs) {
    for (Agg a : col) d += std::to_string(static_cast<int>(a));
    d += "|";
  }
  return d;
}
}  // namespace

std::string Aggregator::serialize() const {
  io::Writer w;
  w.put_bytes(kAggMagic);
  w.put(kAggVersion);
  w.put_string(describe(spec_));
  w.put(lateness_);
  w.put(static_cast<uint8_t>(late_));
  w.put(ttl_);
  w.put(watermark_);
  for (int64_t c : {counters_.events, counters_.late_dropped, counters_.out_of_order,
                    counters_.expired_keys}) {
    w.put(c);
  }
  w.put(static_cast<int64_t>(states_.size()));
  for (size_t s = 0; s < states_.size(); ++s) {
    w.put(live_[s]);
    if (!live_[s]) continue;
    w.put_string(index_.str_key(static_cast<int64_t>(s)));
    states_[s].write(w);
  }
  io::seal(w, kAggEnd);
  return std::move(w.str());
}

Aggregator Aggregator::deserialize(std::string_view bytes, Spec spec) {
  const std::string_view body = io::unseal(bytes, kAggMagic, kAggEnd, "window state file");
  io::Reader r(body, "window state file");
  r.take(kAggMagic.size());
  const auto version = r.get<uint32_t>();
  if (version != kAggVersion) {
    r.fail("of format version " + std::to_string(version) + "; this featforge reads " +
           std::to_string(kAggVersion));
  }
  if (r.get_string() != describe(spec)) {
    throw std::invalid_argument("window state file was written for a different WindowSpec");
  }
  const auto lateness = r.get<int64_t>();
  const auto late = r.get<uint8_t>();
  const auto ttl = r.get<int64_t>();
  if (late > 1) r.fail("corrupt (late policy)");
  Aggregator agg(std::move(spec), lateness, static_cast<LatePolicy>(late), ttl);
  agg.watermark_ = r.get<int64_t>();
  agg.counters_.events = r.get<int64_t>();
  agg.counters_.late_dropped = r.get<int64_t>();
  agg.counters_.out_of_order = r.get<int64_t>();
  agg.counters_.expired_keys = r.get<int64_t>();
  const auto slots = r.get<int64_t>();
  if (slots < 0 || slots > static_cast<int64_t>(body.size())) r.fail("corrupt (key count)");
  agg.states_.resize(static_cast<size_t>(slots));
  agg.live_.assign(static_cast<size_t>(slots), 0);
  const hash::Xxh3 hasher(0);
  for (int64_t s = 0; s < slots; ++s) {
    const auto live = r.get<uint8_t>();
    if (live == 0) continue;
    const std::string key = r.get_string();
    const uint64_t h = hasher(key.data(), key.size());
    if (agg.index_.find(h, std::string_view(key)) != idmap::kNoId) r.fail("corrupt (duplicate key)");
    agg.index_.add_at(s, h, 0, key, 0, 0);
    agg.states_[static_cast<size_t>(s)].read(r, agg.spec_.layout);
    agg.live_[static_cast<size_t>(s)] = 1;
  }
  if (!r.done()) r.fail("corrupt (trailing bytes)");
  return agg;
}

}  // namespace featforge::window
