// Per-key window state: exact window edges for every `closed`, ties, compensated sums that do not
// drift, monotonic queues, and the exact recompute of the variance after cancellation.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "featforge/window/state.h"

namespace {

using namespace featforge::window;

Layout layout(Closed closed, int64_t window, AggFlags flags = {true, true, true, true, true}) {
  Layout l;
  l.windows = {window};
  l.closed = closed;
  l.columns = {flags};
  return l;
}

WindowValues values() {
  WindowValues v;
  v.n.assign(1, 0);
  v.sum.assign(1, 0);
  v.mean = v.std = v.min = v.max = v.last = v.sum;
  return v;
}

// Feeds (time, value) events one run at a time and returns count, sum for each event's row.
std::vector<std::pair<int64_t, double>> run(const Layout& l,
                                            const std::vector<std::pair<int64_t, double>>& events) {
  KeyState s(l);
  WindowValues v = values();
  std::vector<std::pair<int64_t, double>> out;
  for (size_t i = 0; i < events.size();) {
    size_t end = i;
    while (end < events.size() && events[end].first == events[i].first) {
      const uint8_t ok = 1;
      s.append(events[end].first, &events[end].second, &ok);
      ++end;
    }
    s.advance(events[i].first, l);
    s.emit(0, l, v);
    for (size_t k = i; k < end; ++k) out.emplace_back(v.count, v.sum[0]);
    i = end;
  }
  return out;
}

TEST(WindowState, ExactEdgesForEveryClosed) {
  // events at 0, 10, 20; window 10; the row at 20 sees 10 only on the start-inclusive sides.
  const std::vector<std::pair<int64_t, double>> ev = {{0, 1}, {10, 2}, {20, 4}};
  using R = std::vector<std::pair<int64_t, double>>;
  EXPECT_EQ(run(layout(Closed::left, 10), ev), (R{{0, 0}, {1, 1}, {1, 2}}));    // [t-10, t)
  EXPECT_EQ(run(layout(Closed::right, 10), ev), (R{{1, 1}, {1, 2}, {1, 4}}));   // (t-10, t]
  EXPECT_EQ(run(layout(Closed::both, 10), ev), (R{{1, 1}, {2, 3}, {2, 6}}));    // [t-10, t]
  EXPECT_EQ(run(layout(Closed::none, 10), ev), (R{{0, 0}, {0, 0}, {0, 0}}));    // (t-10, t)
}

TEST(WindowState, TiesSeeEachOtherAllOrNothing) {
  const std::vector<std::pair<int64_t, double>> ev = {{5, 1}, {5, 2}, {5, 4}, {6, 8}};
  using R = std::vector<std::pair<int64_t, double>>;
  EXPECT_EQ(run(layout(Closed::left, 100), ev), (R{{0, 0}, {0, 0}, {0, 0}, {3, 7}}));
  EXPECT_EQ(run(layout(Closed::right, 100), ev), (R{{3, 7}, {3, 7}, {3, 7}, {4, 15}}));
}

TEST(WindowState, CompensatedSumDoesNotDriftAndSingleValueIsExact) {
  // Large and small values entering and leaving: the plain running sum would keep rounding
  // residue; the compensated one returns exactly to the remaining values.
  std::vector<std::pair<int64_t, double>> ev;
  for (int i = 0; i < 1000; ++i) ev.emplace_back(i, i % 2 ? 1e16 : 0.1);
  ev.emplace_back(5000, 0.3);
  ev.emplace_back(5001, 0.7);
  const auto out = run(layout(Closed::right, 3), ev);
  EXPECT_EQ(out[1000].second, 0.3);        // alone in its window: exactly the value
  EXPECT_EQ(out[1001].second, 0.3 + 0.7);  // the two values, no residue of 1e16s
}

TEST(WindowState, MonotonicQueuesTrackMinAndMax) {
  const Layout l = layout(Closed::right, 3);
  KeyState s(l);
  WindowValues v = values();
  const std::vector<double> xs = {5, 1, 4, 2, 8, 3, 3, 9};
  std::vector<double> mins, maxs;
  for (size_t i = 0; i < xs.size(); ++i) {
    const uint8_t ok = 1;
    s.append(static_cast<int64_t>(i), &xs[i], &ok);
    s.advance(static_cast<int64_t>(i), l);
    s.emit(0, l, v);
    mins.push_back(v.min[0]);
    maxs.push_back(v.max[0]);
  }
  // window (i-3, i] holds the last three values
  EXPECT_EQ(mins, (std::vector<double>{5, 1, 1, 1, 2, 2, 3, 3}));
  EXPECT_EQ(maxs, (std::vector<double>{5, 5, 5, 4, 8, 8, 8, 9}));
}

TEST(WindowState, VarianceRecomputedAfterAnOutlierLeaves) {
  const Layout l = layout(Closed::right, 2);
  KeyState s(l);
  WindowValues v = values();
  const std::vector<double> xs = {1e9, 1.5, 1.75};
  for (size_t i = 0; i < xs.size(); ++i) {
    const uint8_t ok = 1;
    s.append(static_cast<int64_t>(i), &xs[i], &ok);
    s.advance(static_cast<int64_t>(i), l);
    s.emit(0, l, v);
  }
  // window (0, 2] = {1.5, 1.75}: sample std = 0.25 / sqrt(2), exactly as a fresh two-pass gives
  EXPECT_DOUBLE_EQ(v.std[0], 0.25 / std::sqrt(2.0));
  EXPECT_EQ(v.mean[0], 1.625);
}

TEST(WindowState, NullValuesCountAsEventsOnly) {
  const Layout l = layout(Closed::right, 10);
  KeyState s(l);
  WindowValues v = values();
  const double x = 2.5, unused = 0;
  const uint8_t yes = 1, no = 0;
  s.append(1, &x, &yes);
  s.append(2, &unused, &no);
  s.advance(2, l);
  s.emit(0, l, v);
  EXPECT_EQ(v.count, 2);
  EXPECT_EQ(v.n[0], 1);
  EXPECT_EQ(v.last[0], 2.5);  // the latest non-null value
  EXPECT_TRUE(std::isnan(v.std[0]));  // under two values
}

}  // namespace
