#include "featforge/window/state.h"

#include <algorithm>

namespace featforge::window {

namespace {
constexpr double kNull = std::numeric_limits<double>::quiet_NaN();
}  // namespace

KeyState::KeyState(const Layout& layout)
    : columns_(layout.columns.size()),
      lo_(layout.windows.size(), 0),
      acc_(layout.windows.size() * layout.columns.size()),
      last_valid_(layout.columns.size(), -1) {}

void KeyState::reset() {
  base_ = 0;
  times_.clear();
  values_.clear();
  valid_.clear();
  hi_ = 0;
  std::fill(lo_.begin(), lo_.end(), 0);
  for (Accumulator& a : acc_) {
    a.n = 0;
    a.sum = a.comp = a.mean = a.m2 = a.m2_peak = 0;
    a.dirty = false;
    a.min_q.assign({});
    a.max_q.assign({});
  }
  std::fill(last_valid_.begin(), last_valid_.end(), -1);
  latest_ = std::numeric_limits<int64_t>::min();
}

void KeyState::append(int64_t time, const double* values, const uint8_t* valid) {
  times_.push_back(time);
  for (size_t c = 0; c < columns_; ++c) {
    values_.push_back(values[c]);
    valid_.push_back(valid[c]);
  }
  latest_ = std::max(latest_, time);
}

void KeyState::add(int64_t id, const Layout& layout) {
  for (size_t c = 0; c < columns_; ++c) {
    if (!valid(id, c)) continue;
    const double x = value(id, c);
    const AggFlags& f = layout.columns[c];
    last_valid_[c] = id;
    for (size_t w = 0; w < lo_.size(); ++w) {
      Accumulator& a = acc_[w * columns_ + c];
      ++a.n;
      if (f.sum) neumaier_add(a.sum, a.comp, x);
      if (f.std) {
        const double d = x - a.mean;
        a.mean += d / static_cast<double>(a.n);
        a.m2 += d * (x - a.mean);
        a.m2_peak = std::max(a.m2_peak, a.m2);
      }
      if (f.min) {
        while (!a.min_q.empty() && value(a.min_q.back(), c) >= x) a.min_q.pop_back();
        a.min_q.push_back(id);
      }
      if (f.max) {
        while (!a.max_q.empty() && value(a.max_q.back(), c) <= x) a.max_q.pop_back();
        a.max_q.push_back(id);
      }
    }
  }
}

void KeyState::remove(size_t w, int64_t id, const Layout& layout) {
  for (size_t c = 0; c < columns_; ++c) {
    if (!valid(id, c)) continue;
    const double x = value(id, c);
    const AggFlags& f = layout.columns[c];
    Accumulator& a = acc_[w * columns_ + c];
    --a.n;
    if (a.n <= 1) {
      // Reset from what is left so a window never drifts: empty is exactly 0, and a window
      // holding one value reports exactly that value. The survivor is the newest non-null
      // value added, since eviction goes oldest first.
      const double only = a.n == 1 ? value(last_valid_[c], c) : 0.0;
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
    if (f.min && !a.min_q.empty() && a.min_q.front() == id) a.min_q.pop_front();
    if (f.max && !a.max_q.empty() && a.max_q.front() == id) a.max_q.pop_front();
  }
}

void KeyState::advance(int64_t t, const Layout& layout) {
  const bool include_t = layout.closed == Closed::right || layout.closed == Closed::both;
  const int64_t end = base_ + static_cast<int64_t>(times_.size());
  while (hi_ < end && (times_[at(hi_)] < t || (include_t && times_[at(hi_)] == t))) {
    add(hi_, layout);
    ++hi_;
  }
  // The window starts at t - w: inclusive for left/both, exclusive for right/none.
  const bool include_start = layout.closed == Closed::left || layout.closed == Closed::both;
  for (size_t w = 0; w < lo_.size(); ++w) {
    const int64_t start = t - layout.windows[w];
    while (lo_[w] < hi_ &&
           (include_start ? times_[at(lo_[w])] < start : times_[at(lo_[w])] <= start)) {
      remove(w, lo_[w], layout);
      ++lo_[w];
    }
    for (size_t c = 0; c < columns_; ++c) {
      if (acc_[w * columns_ + c].dirty) recompute_moments(w, c);
    }
  }
}

void KeyState::recompute_moments(size_t w, size_t c) {
  Accumulator& a = acc_[w * columns_ + c];
  exact_moments(
      lo_[w], hi_, [&](int64_t id) { return value(id, c); },
      [&](int64_t id) { return valid(id, c); }, a.mean, a.m2);
  a.m2_peak = a.m2;
  a.dirty = false;
}

void KeyState::emit(size_t w, const Layout& layout, WindowValues& out) const {
  out.count = hi_ - lo_[w];
  for (size_t c = 0; c < columns_; ++c) {
    const Accumulator& a = acc_[w * columns_ + c];
    const AggFlags& f = layout.columns[c];
    out.n[c] = a.n;
    const bool any = a.n > 0;
    out.sum[c] = f.sum ? (any ? a.sum + a.comp : 0.0) : kNull;
    out.mean[c] = f.sum && any ? (a.sum + a.comp) / static_cast<double>(a.n) : kNull;
    out.std[c] = kNull;
    if (f.std && a.n >= 2) {
      const bool constant = value(a.min_q.front(), c) == value(a.max_q.front(), c);
      out.std[c] = constant ? 0.0 : std::sqrt(std::max(a.m2, 0.0) / static_cast<double>(a.n - 1));
    }
    out.min[c] = f.min && any ? value(a.min_q.front(), c) : kNull;
    out.max[c] = f.max && any ? value(a.max_q.front(), c) : kNull;
    out.last[c] = f.last && last_valid_[c] >= lo_[w] && last_valid_[c] >= 0
                      ? value(last_valid_[c], c)
                      : kNull;
  }
}

void KeyState::scan(int64_t t, size_t w, const Layout& layout, WindowValues& out) const {
  const bool include_t = layout.closed == Closed::right || layout.closed == Closed::both;
  const bool include_start = layout.closed == Closed::left || layout.closed == Closed::both;
  const int64_t start = t - layout.windows[w];
  out.count = 0;
  std::vector<double> sums(columns_, 0.0), comps(columns_, 0.0);
  std::vector<double> means(columns_, 0.0), m2s(columns_, 0.0);
  for (size_t c = 0; c < columns_; ++c) {
    out.n[c] = 0;
    out.min[c] = out.max[c] = out.last[c] = kNull;
  }
  for (size_t i = 0; i < times_.size(); ++i) {
    const int64_t ti = times_[i];
    const bool after_start = include_start ? ti >= start : ti > start;
    const bool before_end = include_t ? ti <= t : ti < t;
    if (!after_start || !before_end) continue;
    ++out.count;
    for (size_t c = 0; c < columns_; ++c) {
      if (!valid_[i * columns_ + c]) continue;
      const double x = values_[i * columns_ + c];
      const int64_t n = ++out.n[c];
      neumaier_add(sums[c], comps[c], x);
      const double d = x - means[c];
      means[c] += d / static_cast<double>(n);
      m2s[c] += d * (x - means[c]);
      if (std::isnan(out.min[c]) || x < out.min[c]) out.min[c] = x;
      if (std::isnan(out.max[c]) || x > out.max[c]) out.max[c] = x;
      out.last[c] = x;
    }
  }
  for (size_t c = 0; c < columns_; ++c) {
    const AggFlags& f = layout.columns[c];
    const int64_t n = out.n[c];
    out.sum[c] = f.sum ? (n > 0 ? (n == 1 ? means[c] : sums[c] + comps[c]) : 0.0) : kNull;
    out.mean[c] = f.sum && n > 0 ? (n == 1 ? means[c] : (sums[c] + comps[c]) / static_cast<double>(n))
                                 : kNull;
    out.std[c] = kNull;
    if (f.std && n >= 2) {
      out.std[c] = out.min[c] == out.max[c]
                       ? 0.0
                       : std::sqrt(std::max(m2s[c], 0.0) / static_cast<double>(n - 1));
    }
    if (!f.min) out.min[c] = kNull;
    if (!f.max) out.max[c] = kNull;
    if (!f.last) out.last[c] = kNull;
  }
}

void KeyState::insert_out_of_order(int64_t time, const double* values, const uint8_t* valid,
                                   int64_t current_t, const Layout& layout) {
  // Rare path: rebuild this key's state from its buffer with the event in time order.
  const auto pos = static_cast<size_t>(
      std::upper_bound(times_.begin(), times_.end(), time) - times_.begin());
  std::vector<int64_t> times = times_;
  std::vector<double> vals = values_;
  std::vector<uint8_t> valids = valid_;
  times.insert(times.begin() + static_cast<std::ptrdiff_t>(pos), time);
  vals.insert(vals.begin() + static_cast<std::ptrdiff_t>(pos * columns_), values, values + columns_);
  valids.insert(valids.begin() + static_cast<std::ptrdiff_t>(pos * columns_), valid, valid + columns_);
  const int64_t latest = std::max(latest_, time);
  *this = KeyState(layout);
  for (size_t i = 0; i < times.size(); ++i) {
    append(times[i], vals.data() + i * columns_, valids.data() + i * columns_);
  }
  advance(current_t, layout);
  latest_ = latest;
}

void KeyState::trim(const Layout& layout) {
  (void)layout;
  // Events before every window's start are never read again (a `last` older than all of them
  // is out of every window too).
  int64_t keep = hi_;
  for (int64_t lo : lo_) keep = std::min(keep, lo);
  const auto drop = static_cast<size_t>(keep - base_);
  if (drop < 64 || drop * 2 < times_.size()) return;  // amortise: trim in large steps
  times_.erase(times_.begin(), times_.begin() + static_cast<std::ptrdiff_t>(drop));
  values_.erase(values_.begin(), values_.begin() + static_cast<std::ptrdiff_t>(drop * columns_));
  valid_.erase(valid_.begin(), valid_.begin() + static_cast<std::ptrdiff_t>(drop * columns_));
  base_ += static_cast<int64_t>(drop);
}

size_t KeyState::bytes() const noexcept {
  size_t b = sizeof(KeyState) + times_.capacity() * 8 + values_.capacity() * 8 +
             valid_.capacity() + lo_.capacity() * 8 + last_valid_.capacity() * 8;
  for (const Accumulator& a : acc_) b += sizeof(Accumulator) + (a.min_q.size() + a.max_q.size()) * 8;
  return b;
}

}  // namespace featforge::window

namespace featforge::window {

template <class Writer>
void KeyState::write(Writer& w) const {
  w.put(static_cast<uint64_t>(columns_));
  w.put(base_);
  w.put(hi_);
  w.put(latest_);
  w.put_vector(times_);
  w.put_vector(values_);
  w.put_vector(valid_);
  w.put_vector(lo_);
  w.put_vector(last_valid_);
  for (const Accumulator& a : acc_) {
    w.put(a.n);
    w.put(a.sum);
    w.put(a.comp);
    w.put(a.mean);
    w.put(a.m2);
    w.put(a.m2_peak);
    w.put(static_cast<uint8_t>(a.dirty));
    w.put_vector(a.min_q.items());
    w.put_vector(a.max_q.items());
  }
}

template <class Reader>
void KeyState::read(Reader& r, const Layout& layout) {
  *this = KeyState(layout);
  if (r.template get<uint64_t>() != columns_) r.fail("corrupt (column count)");
  base_ = r.template get<int64_t>();
  hi_ = r.template get<int64_t>();
  latest_ = r.template get<int64_t>();
  times_ = r.template get_vector<int64_t>();
  values_ = r.template get_vector<double>();
  valid_ = r.template get_vector<uint8_t>();
  lo_ = r.template get_vector<int64_t>();
  last_valid_ = r.template get_vector<int64_t>();
  const auto events = static_cast<int64_t>(times_.size());
  if (values_.size() != times_.size() * columns_ || valid_.size() != values_.size() ||
      lo_.size() != layout.windows.size() || last_valid_.size() != columns_ || hi_ < base_ ||
      hi_ > base_ + events) {
    r.fail("corrupt (window state)");
  }
  auto check_id = [&](int64_t id) {
    if (id < base_ || id >= base_ + events) r.fail("corrupt (event id)");
  };
  for (int64_t lo : lo_) {
    if (lo < base_ || lo > hi_) r.fail("corrupt (window start)");
  }
  for (Accumulator& a : acc_) {
    a.n = r.template get<int64_t>();
    a.sum = r.template get<double>();
    a.comp = r.template get<double>();
    a.mean = r.template get<double>();
    a.m2 = r.template get<double>();
    a.m2_peak = r.template get<double>();
    a.dirty = r.template get<uint8_t>() != 0;
    auto min_q = r.template get_vector<int64_t>();
    auto max_q = r.template get_vector<int64_t>();
    for (int64_t id : min_q) check_id(id);
    for (int64_t id : max_q) check_id(id);
    if (a.n < 0 || a.n > events) r.fail("corrupt (window count)");
    a.min_q.assign(std::move(min_q));
    a.max_q.assign(std::move(max_q));
  }
  for (int64_t id : last_valid_) {
    if (id != -1 && (id < 0 || id >= base_ + events)) r.fail("corrupt (last value)");
  }
}

}  // namespace featforge::window

#include "featforge/io/binary.h"

namespace featforge::window {
template void KeyState::write<io::Writer>(io::Writer&) const;
template void KeyState::read<io::Reader>(io::Reader&, const Layout&);
}  // namespace featforge::window
