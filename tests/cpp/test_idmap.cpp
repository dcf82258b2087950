// The IdMap's table and orders: growth, backward-shift deletion under forced collisions,
// eviction order, and persistence that rejects damaged images.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <unordered_map>

#include "featforge/arrow/builder.h"
#include "featforge/idmap/flat_table.h"
#include "featforge/idmap/idmap.h"

namespace {

using namespace featforge;
using FlatTable = idmap::FlatTable<>;

TEST(FlatTable, GrowsAndFindsEverything) {
  FlatTable t;
  std::vector<int64_t> keys(100000);
  for (size_t i = 0; i < keys.size(); ++i) keys[i] = static_cast<int64_t>(i * 2654435761u);
  auto h = [](int64_t k) { return static_cast<uint64_t>(k) * 0x9E3779B97F4A7C15ULL; };
  for (size_t i = 0; i < keys.size(); ++i) t.insert(h(keys[i]), static_cast<int64_t>(i));
  EXPECT_EQ(t.size(), keys.size());
  EXPECT_GE(t.capacity(), 2 * keys.size());
  for (size_t i = 0; i < keys.size(); i += 97) {
    EXPECT_EQ(t.find(h(keys[i]), [&](int64_t id) { return keys[static_cast<size_t>(id)] == keys[i]; }),
              static_cast<int64_t>(i));
  }
}

// Every key hashes to the same value: one long probe run, and deletions in its middle must
// shift the rest back so nothing becomes unreachable.
TEST(FlatTable, BackwardShiftDeletionWithDegenerateHash) {
  FlatTable t;
  const uint64_t same = 42;
  std::vector<bool> present(200, true);
  for (int64_t id = 0; id < 200; ++id) t.insert(same, id);
  std::mt19937 rng(1);
  for (int round = 0; round < 150; ++round) {
    const auto id = static_cast<int64_t>(rng() % 200);
    if (!present[static_cast<size_t>(id)]) continue;
    t.erase(same, id);
    present[static_cast<size_t>(id)] = false;
    for (int64_t other = 0; other < 200; ++other) {
      const int64_t found = t.find(same, [&](int64_t x) { return x == other; });
      EXPECT_EQ(found, present[static_cast<size_t>(other)] ? other : FlatTable::kEmpty);
    }
  }
}

// An inserting lookup probes once: find_or_vacancy returns the key's slot or the free slot that
// ends its run, and fill_vacancy puts the new entry there - until the table is full enough to
// grow, when it refuses and changes nothing.
TEST(FlatTable, VacanciesFromOneProbe) {
  idmap::FlatTable<int64_t> t(16);
  const uint64_t same = 3;  // one probe run
  for (int64_t id = 0; id < 11; ++id) {
    auto& v = t.find_or_vacancy(same, [&](int64_t x) { return x == id; });
    ASSERT_EQ(v.id, FlatTable::kEmpty);
    ASSERT_TRUE(t.fill_vacancy(v, same, id, id * 10));
  }
  EXPECT_EQ(t.size(), 11u);
  for (int64_t id = 0; id < 11; ++id) {
    auto& found = t.find_or_vacancy(same, [&](int64_t x) { return x == id; });
    EXPECT_EQ(found.id, id);
    EXPECT_EQ(found.payload, id * 10);
  }
  auto& v = t.find_or_vacancy(same, [](int64_t x) { return x == 11; });
  EXPECT_FALSE(t.fill_vacancy(v, same, 11, 0));  // 12 of 16 would pass the 0.7 load factor
  EXPECT_EQ(v.id, FlatTable::kEmpty);
  EXPECT_EQ(t.size(), 11u);
  t.insert(same, 11, 110);  // grows
  EXPECT_EQ(t.capacity(), 32u);
  EXPECT_EQ(t.find_slot(same, [](int64_t x) { return x == 11; })->payload, 110);
}

// Two hash values that share a home slot after wrap-around exercise the cyclic range check.
TEST(FlatTable, DeletionAcrossTheWrapAround) {
  FlatTable t(16);
  const uint64_t last = 15;  // home slot 15 in a 16-slot table: the run wraps to slot 0
  for (int64_t id = 0; id < 6; ++id) t.insert(id < 3 ? last : 0, id);
  t.erase(last, 0);
  for (int64_t id = 1; id < 6; ++id) {
    EXPECT_EQ(t.find(id < 3 ? last : 0, [&](int64_t x) { return x == id; }), id);
  }
}

// A table restored from its saved slots finds everything; slots that break the probing
// invariant, point past the ids, or leave no free slot are refused.
TEST(FlatTable, RestoredSlotsAreCheckedAndWork) {
  FlatTable t(16);
  const uint64_t last = 15;  // a probe run that wraps around the end
  for (int64_t id = 0; id < 6; ++id) t.insert(id < 3 ? last : 0, id);
  const std::string saved(t.raw_slots());
  FlatTable u;
  ASSERT_TRUE(u.restore_slots(saved, 6, 6));
  for (int64_t id = 0; id < 6; ++id) {
    EXPECT_EQ(u.find(id < 3 ? last : 0, [&](int64_t x) { return x == id; }), id);
  }
  struct Slot {
    uint64_t hash;
    int64_t id;
  };
  auto edited = [&](auto edit) {
    std::string bytes = saved;
    auto* slots = reinterpret_cast<Slot*>(bytes.data());
    edit(slots);
    return bytes;
  };
  EXPECT_FALSE(u.restore_slots(saved, 6, 5));   // an id past the keys
  EXPECT_FALSE(u.restore_slots(saved, 5, 6));   // wrong entry count
  EXPECT_FALSE(u.restore_slots(saved.substr(16), 6, 6));  // not a power of two
  // Slot 3 (home 0) moved to slot 8, behind a free slot: unreachable.
  EXPECT_FALSE(u.restore_slots(edited([](Slot* s) { std::swap(s[3], s[8]); }), 6, 6));
  EXPECT_FALSE(u.restore_slots(edited([](Slot* s) {  // no free slot: probes would never end
                                 for (int i = 0; i < 16; ++i) s[i] = Slot{static_cast<uint64_t>(i), i % 6};
                               }),
                               16, 6));
  EXPECT_EQ(u.size(), 0u);  // a refused restore leaves an empty table
}

// A frozen pool's lookup layout (an index without counters, counters per slot) answers the
// same as the table, exports the same counters, and a change brings the table back intact.
TEST(KeyPool, LookupLayoutAndThaw) {
  idmap::KeyPool pool(idmap::KeyType::string);
  const std::vector<std::string> keys = {"a", "bb", "ccc", "dddd", "a-much-longer-key-than-16"};
  auto h = [](const std::string& k) { return std::hash<std::string>{}(k) * 0x9E3779B97F4A7C15ULL; };
  for (size_t i = 0; i < keys.size(); ++i) {
    pool.add(h(keys[i]), 0, keys[i], static_cast<int64_t>(i) + 1, static_cast<int64_t>(i) * 10);
  }
  pool.remove(1);  // a free slot inside
  const auto before = pool.counters_by_slot();
  const int64_t size = pool.size();
  pool.index_for_lookups();
  EXPECT_EQ(pool.size(), size);
  EXPECT_GE(pool.capacity(), 3 * size);  // small: spread out
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(pool.find(h(keys[i]), keys[i]), i == 1 ? idmap::kNoId : static_cast<int64_t>(i));
  }
  const auto during = pool.counters_by_slot();
  ASSERT_EQ(during.size(), before.size());
  for (size_t s = 0; s < before.size(); ++s) {
    EXPECT_EQ(during[s].count, before[s].count);
    EXPECT_EQ(during[s].last_seen, before[s].last_seen);
  }
  std::string saved;
  pool.with_raw_table([&](std::string_view t) { saved = t; });
  EXPECT_EQ(saved.size(), static_cast<size_t>(pool.capacity()) * sizeof(idmap::KeyPool::Entry));
  // A change thaws: the entry is back in the table with its counters.
  const int64_t e = pool.add(h("eeeee"), 0, "eeeee", 7, 70);
  EXPECT_EQ(e, 1);  // the freed slot, reused
  EXPECT_EQ(pool.entry(3).payload.count, 4);
  EXPECT_EQ(pool.entry(3).payload.last_seen, 30);
  EXPECT_EQ(pool.find(h("eeeee"), "eeeee"), 1);
  EXPECT_EQ(pool.find(h("ccc"), "ccc"), 2);
  EXPECT_EQ(pool.size(), size + 1);
}

arrow::OwnedArray ints(const std::vector<int64_t>& v) {
  arrow::PrimitiveOutput<int64_t> out("l", static_cast<int64_t>(v.size()));
  std::memcpy(out.values, v.data(), v.size() * 8);
  return arrow::export_array(std::move(out.data));
}

std::vector<int64_t> lookup(idmap::IdMap& m, const std::vector<int64_t>& keys, bool insert) {
  auto in = ints(keys);
  arrow::ArrayView v(in.schema.get(), in.array.get());
  auto out = m.lookup(v, insert, nullptr);
  const auto* values = static_cast<const int64_t*>(out.array->buffers[1]);
  return {values, values + keys.size()};
}

TEST(IdMapCore, LruAndLfuVictims) {
  idmap::Options lru;
  lru.max_size = 2;
  lru.eviction = idmap::Eviction::lru;
  idmap::IdMap a(lru);
  EXPECT_EQ(lookup(a, {1, 2, 1, 3}, true), (std::vector<int64_t>{1, 2, 1, 2}));
  auto ev = a.take_evicted();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].key.int_key, 2);

  idmap::Options lfu = lru;
  lfu.eviction = idmap::Eviction::lfu;
  idmap::IdMap b(lfu);
  EXPECT_EQ(lookup(b, {1, 1, 2, 3, 3, 4}, true), (std::vector<int64_t>{1, 1, 2, 2, 2, 1}));
  ev = b.take_evicted();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].key.int_key, 2);  // count 1
  EXPECT_EQ(ev[1].key.int_key, 1);  // count 2, promoted before 3 was
}

TEST(IdMapCore, SerializeRoundTripAndDamage) {
  idmap::Options o;
  o.num_oov_buckets = 3;
  idmap::IdMap m(o);
  (void)lookup(m, {10, 20, 30, 20}, true);
  const std::string image = m.serialize();
  idmap::IdMap back = idmap::IdMap::deserialize(image);
  EXPECT_EQ(lookup(back, {30, 20, 10}, false), (std::vector<int64_t>{5, 4, 3}));
  for (size_t cut : {size_t{0}, size_t{10}, image.size() / 2, image.size() - 1}) {
    EXPECT_THROW((void)idmap::IdMap::deserialize(std::string_view(image).substr(0, cut)),
                 std::invalid_argument);
  }
  for (size_t at = 0; at < image.size(); at += 7) {
    std::string bad = image;
    bad[at] = static_cast<char>(bad[at] ^ 0x5A);
    EXPECT_THROW((void)idmap::IdMap::deserialize(bad), std::invalid_argument) << "byte " << at;
  }
}

}  // namespace
