// The engines' claims, tested without Python: streaming equals backfill bit for bit (every
// closed mode, any batch sizes, across a checkpoint), query equals a backfill probe row, and the
// IdMap's lookup / freeze / merge / evict / persistence rules.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "featforge/arrow/builder.h"
#include "featforge/idmap/idmap.h"
#include "featforge/window/engine.h"

namespace {

using namespace featforge;
using arrow::ArrayView;
using arrow::OwnedArray;

// A primitive array; `valid` (if given) marks nulls with 0.
template <class T>
OwnedArray make_array(const char* format, const std::vector<T>& values,
                      const std::vector<uint8_t>& valid = {}) {
  arrow::PrimitiveOutput<T> out(format, static_cast<int64_t>(values.size()));
  std::memcpy(out.values, values.data(), values.size() * sizeof(T));
  if (!valid.empty()) {
    arrow::Buffer bits = arrow::Buffer::zeroed((values.size() + 7) / 8);
    int64_t nulls = 0;
    for (size_t i = 0; i < valid.size(); ++i) {
      if (valid[i]) {
        bits.data()[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
      } else {
        ++nulls;
      }
    }
    out.data->buffers[0] = std::move(bits);
    out.data->null_count = nulls;
  }
  return arrow::export_array(std::move(out.data));
}

// Every child of a struct result, flattened to (value bits, valid) per row, for exact comparison.
std::vector<std::vector<std::pair<uint64_t, bool>>> columns_of(const OwnedArray& result) {
  const ArrayView v(result.schema.get(), result.array.get());
  std::vector<std::vector<std::pair<uint64_t, bool>>> out;
  for (const ArrayView& child : v.children()) {
    std::vector<std::pair<uint64_t, bool>> column;
    for (int64_t i = 0; i < child.length(); ++i) {
      uint64_t bits = 0;
      std::memcpy(&bits, child.values<uint64_t>() + i, sizeof(bits));  // int64 or float64
      const bool valid = v.is_valid(i) && child.is_valid(i);
      column.emplace_back(valid ? bits : 0, valid);
    }
    out.push_back(std::move(column));
  }
  return out;
}

std::vector<std::vector<std::pair<uint64_t, bool>>> concat(
    std::vector<std::vector<std::vector<std::pair<uint64_t, bool>>>> parts) {
  auto out = std::move(parts.front());
  for (size_t p = 1; p < parts.size(); ++p) {
    for (size_t c = 0; c < out.size(); ++c) {
      out[c].insert(out[c].end(), parts[p][c].begin(), parts[p][c].end());
    }
  }
  return out;
}

struct Events {
  std::vector<int64_t> keys, times;
  std::vector<double> values;
  std::vector<uint8_t> valid;
};

// Time-ordered events over a few keys; `ties` puts several rows of a key at one time.
Events make_events(size_t n, bool ties, uint32_t seed) {
  std::mt19937_64 rng(seed);
  Events e;
  int64_t t = 0;
  for (size_t i = 0; i < n; ++i) {
    t += ties ? static_cast<int64_t>(rng() % 3) : 1 + static_cast<int64_t>(rng() % 5);
    e.keys.push_back(static_cast<int64_t>(rng() % 7));
    e.times.push_back(t);
    e.values.push_back(static_cast<double>(static_cast<int64_t>(rng() % 2001) - 1000) / 8.0);
    e.valid.push_back(rng() % 10 != 0);
  }
  return e;
}

window::Spec make_spec(window::Closed closed) {
  window::Spec spec;
  spec.layout.windows = {5, 40};
  spec.layout.closed = closed;
  using window::Agg;
  spec.aggs = {{Agg::count, Agg::sum, Agg::mean, Agg::min, Agg::max, Agg::last, Agg::std}};
  window::finalize(spec);
  return spec;
}

struct Slice {
  OwnedArray keys, times, values;
};

Slice slice_of(const Events& e, size_t begin, size_t end) {
  auto sub = [&](const auto& v) {
    return std::vector<typename std::decay_t<decltype(v)>::value_type>(v.begin() + begin,
                                                                       v.begin() + end);
  };
  return {make_array<int64_t>("l", sub(e.keys)), make_array<int64_t>("l", sub(e.times)),
          make_array<double>("g", sub(e.values), sub(e.valid))};
}

auto backfill_of(const Events& e, const window::Spec& spec) {
  Slice s = slice_of(e, 0, e.keys.size());
  const ArrayView k(s.keys.schema.get(), s.keys.array.get());
  const ArrayView t(s.times.schema.get(), s.times.array.get());
  const ArrayView v(s.values.schema.get(), s.values.array.get());
  return columns_of(window::backfill({k}, t, {v}, spec));
}

auto stream_batch(window::Aggregator& agg, const Events& e, size_t begin, size_t end) {
  Slice s = slice_of(e, begin, end);
  const ArrayView k(s.keys.schema.get(), s.keys.array.get());
  const ArrayView t(s.times.schema.get(), s.times.array.get());
  const ArrayView v(s.values.schema.get(), s.values.array.get());
  return columns_of(agg.transform({k}, t, {v}));
}

class StreamingEqualsBackfill : public testing::TestWithParam<window::Closed> {};

TEST_P(StreamingEqualsBackfill, InAnyBatchSizesAndAcrossACheckpoint) {
  const window::Closed closed = GetParam();
  // right/both: a key's equal times must not straddle batches, so those get distinct times.
  const bool ties = closed == window::Closed::left || closed == window::Closed::none;
  const Events e = make_events(600, ties, 11);
  const auto spec = make_spec(closed);
  const auto expected = backfill_of(e, spec);
  for (size_t batch : {size_t{1}, size_t{7}, size_t{600}}) {
    window::Aggregator agg(spec, 0, window::LatePolicy::raise, -1);
    std::vector<std::vector<std::vector<std::pair<uint64_t, bool>>>> parts;
    for (size_t b = 0; b < e.keys.size(); b += batch) {
      parts.push_back(stream_batch(agg, e, b, std::min(b + batch, e.keys.size())));
    }
    EXPECT_EQ(concat(std::move(parts)), expected) << "batch " << batch;
  }
  // checkpoint half way, restore, continue: the same rows as an uninterrupted stream
  window::Aggregator first(spec, 0, window::LatePolicy::raise, -1);
  auto head = stream_batch(first, e, 0, 300);
  window::Aggregator restored = window::Aggregator::deserialize(first.serialize(), spec);
  auto tail = stream_batch(restored, e, 300, 600);
  EXPECT_EQ(concat({std::move(head), std::move(tail)}), expected);
  EXPECT_EQ(restored.stats().events, 600);
}

INSTANTIATE_TEST_SUITE_P(EveryClosed, StreamingEqualsBackfill,
                         testing::Values(window::Closed::left, window::Closed::right,
                                         window::Closed::both, window::Closed::none));

TEST(WindowEngines, QueryEqualsABackfillProbeRow) {
  const Events e = make_events(400, true, 5);
  const auto spec = make_spec(window::Closed::left);
  window::Aggregator agg(spec, 0, window::LatePolicy::raise, -1);
  (void)stream_batch(agg, e, 0, e.keys.size());
  const int64_t at = e.times.back() + 3;
  for (int64_t key : {0, 3, 6, 99}) {  // 99: never seen, empty windows
    Events probe = e;
    probe.keys.push_back(key);
    probe.times.push_back(at);
    probe.values.push_back(0);
    probe.valid.push_back(0);
    const auto expected = backfill_of(probe, spec);
    OwnedArray keys = make_array<int64_t>("l", {key});
    const ArrayView k(keys.schema.get(), keys.array.get());
    const auto got = columns_of(agg.query({k}, at));
    for (size_t c = 0; c < got.size(); ++c) {
      EXPECT_EQ(got[c][0], expected[c].back()) << "key " << key << " column " << c << " "
                                                << std::bit_cast<double>(got[c][0].first) << " "
                                                << std::bit_cast<double>(expected[c].back().first);
    }
  }
}

TEST(WindowEngines, LateEventsRaiseBeforeAnythingChangesOrAreDroppedAndCounted) {
  const auto spec = make_spec(window::Closed::left);
  Events e;
  e.keys = {1, 1, 1};
  e.times = {10, 20, 5};  // the third is late for key 1
  e.values = {1, 2, 3};
  e.valid = {1, 1, 1};
  window::Aggregator strict(spec, 0, window::LatePolicy::raise, -1);
  (void)stream_batch(strict, e, 0, 2);
  EXPECT_THROW((void)stream_batch(strict, e, 2, 3), std::invalid_argument);
  EXPECT_EQ(strict.stats().events, 2);
  window::Aggregator lenient(spec, 0, window::LatePolicy::drop, -1);
  const auto out = stream_batch(lenient, e, 0, 3);
  EXPECT_FALSE(out[0][2].second);  // the late row's count_5 is null
  EXPECT_EQ(lenient.stats().late_dropped, 1);
  window::Aggregator within(spec, 20, window::LatePolicy::raise, -1);  // 15 behind: allowed
  (void)stream_batch(within, e, 0, 3);
  EXPECT_EQ(within.stats().out_of_order, 1);
}

std::vector<int64_t> lookup(idmap::IdMap& m, const std::vector<int64_t>& keys, bool insert) {
  OwnedArray in = make_array<int64_t>("l", keys);
  const ArrayView v(in.schema.get(), in.array.get());
  OwnedArray out = m.lookup(v, insert, nullptr);
  const auto* values = static_cast<const int64_t*>(out.array->buffers[1]);
  return {values, values + keys.size()};
}

TEST(IdMapEngine, FirstSeenAdmissionOrderAndOov) {
  idmap::Options o;
  o.num_oov_buckets = 2;
  o.min_count = 2;
  idmap::IdMap m(o);
  // 7 reaches min_count first, then 5; 9 is seen once and stays in an OOV bucket
  const auto first = lookup(m, {5, 7, 7, 9, 5}, true);
  EXPECT_EQ(first[2], 2);
  EXPECT_EQ(first[4], 3);
  EXPECT_LT(first[3], 2);
  m.freeze(idmap::FreezeOrder::first_seen);
  EXPECT_EQ(lookup(m, {7, 5, 9}, false), (std::vector<int64_t>{2, 3, first[3]}));
  EXPECT_THROW((void)lookup(m, {1}, true), std::invalid_argument);
}

TEST(IdMapEngine, MergedShardsFreezeLikeOneMap) {
  idmap::Options o;
  std::vector<int64_t> all;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 5000; ++i) all.push_back(static_cast<int64_t>(rng() % 300));
  idmap::IdMap whole(o), a(o), b(o);
  (void)lookup(whole, all, true);
  (void)lookup(a, {all.begin(), all.begin() + 2000}, true);
  (void)lookup(b, {all.begin() + 2000, all.end()}, true);
  b.merge(a);
  whole.freeze(idmap::FreezeOrder::frequency);
  b.freeze(idmap::FreezeOrder::frequency);
  std::vector<int64_t> keys(300);
  for (int64_t k = 0; k < 300; ++k) keys[static_cast<size_t>(k)] = k;
  EXPECT_EQ(lookup(b, keys, false), lookup(whole, keys, false));
  // frequency order: count descending, ties by key ascending
  const auto idx = lookup(whole, keys, false);
  std::vector<int64_t> counts(300, 0);
  for (int64_t k : all) ++counts[static_cast<size_t>(k)];
  for (int64_t x = 0; x < 300; ++x) {
    for (int64_t y = 0; y < 300; ++y) {
      const auto cx = counts[static_cast<size_t>(x)], cy = counts[static_cast<size_t>(y)];
      if (cx > cy || (cx == cy && x < y)) {
        ASSERT_LT(idx[static_cast<size_t>(x)], idx[static_cast<size_t>(y)]);
      }
    }
  }
}

TEST(IdMapEngine, EvictOlderThanReusesNothingAndReportsEvictions) {
  idmap::Options o;
  idmap::IdMap m(o);
  OwnedArray keys = make_array<int64_t>("l", {1, 2, 3});
  OwnedArray times = make_array<int64_t>("l", {100, 200, 300});
  const ArrayView k(keys.schema.get(), keys.array.get());
  const ArrayView t(times.schema.get(), times.array.get());
  (void)m.lookup(k, true, &t);
  EXPECT_EQ(m.evict_older_than(250), 2);
  EXPECT_EQ(m.size(), 1);
  const auto evicted = m.take_evicted();
  ASSERT_EQ(evicted.size(), 2u);
  const auto after = lookup(m, {1, 2, 3}, false);
  EXPECT_LT(after[0], 1);  // back to the OOV bucket
  EXPECT_LT(after[1], 1);
  EXPECT_EQ(after[2], 3);
  const idmap::IdMap back = idmap::IdMap::deserialize(m.serialize());
  EXPECT_EQ(back.size(), 1);
}

}  // namespace
