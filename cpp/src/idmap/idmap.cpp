#include "featforge/idmap/idmap.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "featforge/hash/xxh3.h"
#include "featforge/hashing/fixed_width.h"

namespace featforge::idmap {

using arrow::ArrayView;
using arrow::TypeId;

KeyType parse_key_type(std::string_view name) {
  if (name == "int64") return KeyType::int64;
  if (name == "string") return KeyType::string;
  throw std::invalid_argument("key_type must be 'int64' or 'string', got '" + std::string(name) +
                              "'");
}

Eviction parse_eviction(std::string_view name) {
  if (name == "none") return Eviction::none;
  if (name == "lru") return Eviction::lru;
  if (name == "lfu") return Eviction::lfu;
  throw std::invalid_argument("eviction must be None, 'lru' or 'lfu', got '" + std::string(name) +
                              "'");
}

FreezeOrder parse_freeze_order(std::string_view name) {
  if (name == "first_seen") return FreezeOrder::first_seen;
  if (name == "frequency") return FreezeOrder::frequency;
  throw std::invalid_argument("order must be 'first_seen' or 'frequency', got '" +
                              std::string(name) + "'");
}

namespace {

void validate(const Options& o) {
  if (o.num_oov_buckets < 0) {
    throw std::invalid_argument("num_oov_buckets must be >= 0, got " +
                                std::to_string(o.num_oov_buckets));
  }
  if (o.min_count < 1) {
    throw std::invalid_argument("min_count must be >= 1, got " + std::to_string(o.min_count));
  }
  if (o.max_size != -1 && o.max_size < 1) {
    throw std::invalid_argument("max_size must be None or >= 1, got " +
                                std::to_string(o.max_size));
  }
  if (o.eviction != Eviction::none && o.max_size == -1) {
    throw std::invalid_argument("eviction needs a max_size");
  }
  if (o.max_candidates < 1) {
    throw std::invalid_argument("max_candidates must be >= 1");
  }
}

std::vector<int64_t> int_keys(const ArrayView& v) { return arrow::int64_values(v, "IdMap"); }

// Timestamps as int64 (int64 or timestamp/date/duration storage), or throws.
const int64_t* timestamp_values(const ArrayView* ts, int64_t n) {
  if (ts == nullptr) return nullptr;
  if (ts->length() != n) {
    throw std::invalid_argument("timestamps must have the same length as the keys (" +
                                std::to_string(ts->length()) + " vs " + std::to_string(n) + ")");
  }
  if (ts->is_dictionary() || (ts->id() != TypeId::int64 && ts->id() != TypeId::timestamp &&
                              ts->id() != TypeId::date64 && ts->id() != TypeId::duration)) {
    throw unsupported_type("timestamps must be int64 or timestamp, got " +
                           arrow::type_name(ts->schema()));
  }
  if (ts->null_count() != 0) throw std::invalid_argument("timestamps must not contain nulls");
  return ts->values<int64_t>();
}

}  // namespace

IdMap::IdMap(const Options& options)
    : options_(options), keys_(options.key_type), candidates_(options.key_type) {
  validate(options_);
}

IdMap::IdMap(IdMap&& other) noexcept
    : options_(other.options_),
      keys_(std::move(other.keys_)),
      candidates_(std::move(other.candidates_)),
      order_(std::move(other.order_)),
      frozen_strings_(std::move(other.frozen_strings_)),
      evicted_(std::move(other.evicted_)),
      frozen_(other.frozen_),
      sequence_(other.sequence_),
      counters_(other.counters_) {}

std::string IdMap::contract() const {
  return "featforge-idmap;hash=xxh3_64;seed=" + std::to_string(options_.seed) +
         (options_.key_type == KeyType::int64 ? ";key=int64-le8" : ";key=bytes") +
         ";oov=hash%num_oov_buckets";
}

int64_t IdMap::oov(uint64_t hash) const {
  if (options_.num_oov_buckets == 0) return -1;
  return static_cast<int64_t>(hash % static_cast<uint64_t>(options_.num_oov_buckets));
}

int64_t IdMap::size() const {
  std::shared_lock lock(mutex_);
  return keys_.size();
}

void IdMap::evict_slot(int64_t slot) {
  evicted_.push_back({keys_.key(slot), options_.num_oov_buckets + slot});
  if (options_.eviction != Eviction::none) order_.remove(slot);
  keys_.remove(slot);
  ++counters_.evictions;
}

int64_t IdMap::admit(uint64_t hash, int64_t int_key, std::string_view str_key, int64_t count,
                     int64_t last_seen) {
  if (options_.max_size != -1 && keys_.size() >= options_.max_size) {
    if (options_.eviction == Eviction::none) {
      ++counters_.rejected;
      return -1;
    }
    evict_slot(order_.victim());  // its slot is free now and reused just below
  }
  const int64_t slot = keys_.add(hash, int_key, str_key, count, last_seen);
  if (options_.eviction == Eviction::lru) {
    order_.push_back(slot);
  } else if (options_.eviction == Eviction::lfu) {
    order_.insert_lfu(slot, count);
  }
  ++counters_.admissions;
  return slot;
}

void IdMap::drop_candidates() {
  // Forget the least-seen candidates until a quarter of the budget is free again.
  const int64_t target = options_.max_candidates - options_.max_candidates / 4;
  std::vector<int64_t> slots;
  for (int64_t s = 0; s < candidates_.slots(); ++s) {
    if (candidates_.live(s)) slots.push_back(s);
  }
  const auto counters = candidates_.counters_by_slot();
  std::sort(slots.begin(), slots.end(), [&](int64_t a, int64_t b) {
    const KeyPool::Counters& x = counters[static_cast<size_t>(a)];
    const KeyPool::Counters& y = counters[static_cast<size_t>(b)];
    return x.count != y.count ? x.count < y.count : x.last_seen < y.last_seen;
  });
  for (int64_t s : slots) {
    if (candidates_.size() <= target) break;
    candidates_.remove(s);
    ++counters_.candidates_dropped;
  }
}

// Before a large inserting batch: estimate how many keys it holds that the map does not, and
// size the table for them once. The estimate takes the keys in a 1/256 slice of a cheap
// multiplicative hash's range (a sample of the distinct keys: equal keys hash alike), counts
// the distinct ones not in the map yet, and scales up by 256. Only when the batch would at least
// double the map: a map that mostly knows its keys already keeps its size.
void IdMap::reserve_for_batch(const int64_t* keys, int64_t n) {
  constexpr int64_t kMinBatch = int64_t{1} << 16;
  constexpr int kSampleBits = 8;
  if (n < kMinBatch || options_.min_count > 1) return;
  std::vector<int64_t> sample;
  sample.reserve(static_cast<size_t>(n >> (kSampleBits - 1)));
  for (int64_t i = 0; i < n; ++i) {
    // Fibonacci hashing: the top bits of key * 2^64/phi spread out even regular key patterns.
    const uint64_t mixed = static_cast<uint64_t>(keys[i]) * 0x9E3779B97F4A7C15ULL;
    if ((mixed >> (64 - kSampleBits)) == 0) sample.push_back(keys[i]);
  }
  std::sort(sample.begin(), sample.end());
  sample.erase(std::unique(sample.begin(), sample.end()), sample.end());
  const hash::Xxh3 hasher(options_.seed);
  int64_t fresh = 0;
  for (int64_t key : sample) fresh += keys_.find(hasher(&key, 8), key) == kNoId;
  const int64_t estimate = fresh << kSampleBits;
  if (estimate <= keys_.size()) return;
  int64_t target = keys_.size() + estimate + estimate / 8;
  if (options_.max_size != -1) target = std::min(target, options_.max_size);
  keys_.reserve(target);
}

void IdMap::insert_miss(uint64_t h, int64_t int_key, std::string_view str_key, int64_t now,
                        int64_t& slot) {
  if (options_.min_count <= 1) {
    slot = admit(h, int_key, str_key, 1, now);
    return;
  }
  KeyPool::Entry* c = options_.key_type == KeyType::int64 ? candidates_.find_entry(h, int_key)
                                                          : candidates_.find_entry(h, str_key);
  if (c == nullptr) {
    if (candidates_.size() >= options_.max_candidates) drop_candidates();
    const int64_t added = candidates_.add(h, int_key, str_key, 0, now);
    c = &candidates_.entry(added);
  }
  const int64_t count = ++c->payload.count;
  const int64_t last_seen = c->payload.last_seen = std::max(c->payload.last_seen, now);
  if (count >= options_.min_count) {
    const int64_t candidate = c->id;
    slot = admit(h, int_key, str_key, count, last_seen);
    if (slot != kNoId) candidates_.remove(candidate);
  }
}

template <bool Insert, class K>
void IdMap::lookup_block(const K* keys, const uint64_t* hashes, const ArrayView& view,
                         int64_t begin, int64_t n, const int64_t* times, int64_t* out,
                         uint8_t* valid, int64_t& nulls) {
  // Table entries are prefetched this far ahead. An inserting lookup updates the counters in the
  // entry it finds, so one prefetched line serves both the probe and the update.
  constexpr int64_t kPrefetch = 40;
  const int64_t oov_base = options_.num_oov_buckets;
  const bool has_nulls = view.has_nulls();
  const Eviction eviction = options_.eviction;
  // Kept in locals (stores through `out` could alias the members) and written back at the end.
  int64_t sequence = sequence_, lookups = 0, oov_hits = 0, admissions = 0;
  // A new key is admitted on first sight, with no size limit: appended where the probe ended.
  const bool plain = options_.min_count <= 1 && options_.max_size == -1;
  // Validity bits are collected a word at a time (a per-row read-modify-write of the same byte
  // would chain every row to the previous one). `begin` is a multiple of 64.
  uint64_t valid_word = 0;
  int64_t word_start = begin;
  auto flush = [&] {
    const int64_t end = begin + n;
    if (word_start >= end) return;
    const int64_t bits = std::min<int64_t>(64, end - word_start);
    std::memcpy(valid + word_start / 8, &valid_word, static_cast<size_t>((bits + 7) / 8));
    valid_word = 0;
    word_start += 64;
  };
  const bool inline_index = !Insert && !frozen_strings_.empty();
  const InlineKeyIndex::Probe strings = frozen_strings_.probe();
  // String keys are compared, so their bytes are fetched ahead too, in two further steps.
  constexpr bool kStrings = std::is_same_v<K, std::string_view>;
  constexpr int64_t kLocate = kPrefetch / 2, kBytes = kPrefetch / 4;
  const bool fetch_keys = kStrings && !inline_index;
  for (int64_t j = 0; j < n; ++j) {
    if (j + kPrefetch < n) {
      if constexpr (Insert) {
        keys_.prefetch_for_update(hashes[j + kPrefetch]);
      } else if (inline_index) {
        strings.prefetch(hashes[j + kPrefetch]);
      } else {
        keys_.prefetch(hashes[j + kPrefetch]);
      }
    }
    if (fetch_keys) {
      if (j + kLocate < n) keys_.prefetch_key_location(hashes[j + kLocate]);
      if (j + kBytes < n) keys_.prefetch_key_bytes(hashes[j + kBytes]);
    }
    const int64_t i = begin + j;
    if (has_nulls && !view.is_valid(i)) {
      stream_store(out + i, int64_t{0});
      ++nulls;
      if ((i & 63) == 63) flush();
      continue;
    }
    const uint64_t h = hashes[j];
    int64_t slot;
    if constexpr (Insert) {
      ++lookups;
      const int64_t now = times ? times[i] : sequence;
      ++sequence;
      KeyPool::Entry& e = keys_.find_or_vacancy(h, keys[j]);
      if (e.id != kNoId) {
        slot = e.id;
        const int64_t old = e.payload.count++;
        e.payload.last_seen = std::max(e.payload.last_seen, now);
        if (eviction == Eviction::lru) order_.touch_lru(slot);
        if (eviction == Eviction::lfu) order_.bump_lfu(slot, old);
      } else {
        int64_t int_key = 0;
        std::string_view str_key;
        if constexpr (kStrings) {
          str_key = keys[j];
        } else {
          int_key = keys[j];
        }
        slot = plain ? keys_.append(e, h, int_key, str_key, {1, now}) : kNoId;
        if (slot != kNoId) {
          ++admissions;
        } else {
          insert_miss(h, int_key, str_key, now, slot);
          oov_hits += slot == kNoId;
        }
      }
    } else if constexpr (kStrings) {
      slot = inline_index ? strings.find(h, keys[j], keys_) : keys_.find(h, keys[j]);
    } else {
      slot = keys_.find(h, keys[j]);
    }
    bool ok = true;
    int64_t index;
    if (slot != kNoId) {
      index = oov_base + slot;
    } else if (oov_base == 1) {
      index = 0;
    } else if (oov_base == 0) {
      index = 0;
      ok = false;
      ++nulls;
    } else {
      index = oov(h);
    }
    stream_store(out + i, index);  // the result column: written once, not read here
    valid_word |= static_cast<uint64_t>(ok) << (i & 63);
    if ((i & 63) == 63) flush();
  }
  flush();
  if constexpr (Insert) {
    sequence_ = sequence;
    counters_.lookups += lookups;
    counters_.oov_hits += oov_hits;
    counters_.admissions += admissions;
  }
}

arrow::OwnedArray IdMap::lookup(const ArrayView& view, bool insert, const ArrayView* ts) {
  const int64_t n = view.length();
  arrow::PrimitiveOutput<int64_t> result("l", n);
  arrow::Buffer validity = arrow::Buffer::zeroed(static_cast<size_t>((n + 7) / 8));
  int64_t nulls = 0;
  const int64_t* times = timestamp_values(ts, n);
  // Blocks: hash a block (vectorised for int64 keys), then probe it with prefetching. Blocks keep
  // the hashes in cache and bound the scratch memory.
  constexpr int64_t kBlock = 4096;
  std::vector<uint64_t> hashes(static_cast<size_t>(std::min(n, kBlock)));
  const int64_t* int_batch = nullptr;  // int64 keys of the whole batch, for reserve_for_batch
  auto probe = [&](auto&& fill_block) {
    auto run = [&]<bool Insert>() {
      for (int64_t b = 0; b < n; b += kBlock) {
        const int64_t m = std::min(kBlock, n - b);
        const auto* keys = fill_block(b, m);
        lookup_block<Insert>(keys, hashes.data(), view, b, m, times, result.values,
                             validity.data(), nulls);
      }
    };
    if (insert) {
      std::unique_lock lock(mutex_);
      if (frozen_) {
        throw std::invalid_argument("this IdMap is frozen: lookup(insert=True) is not allowed");
      }
      if (int_batch != nullptr) reserve_for_batch(int_batch, n);
      run.template operator()<true>();
    } else {
      // Read-only: shared with other readers; nothing in the map changes.
      std::shared_lock lock(mutex_);
      run.template operator()<false>();
    }
  };
  if (options_.key_type == KeyType::int64) {
    std::vector<int64_t> widened;
    const int64_t* all = nullptr;
    if (!view.is_dictionary() && view.id() == TypeId::int64) {
      all = view.values<int64_t>();  // read in place
    } else {
      widened = int_keys(view);
      all = widened.data();
    }
    int_batch = all;
    probe([&](int64_t b, int64_t m) {
      hashing::fixed_width::xxh3_8(reinterpret_cast<const uint64_t*>(all + b), m, hashes.data(),
                                   options_.seed);
      return all + b;
    });
  } else {
    if (!arrow::is_binary_like(view.id()) || view.is_dictionary()) {
      throw unsupported_type("a string IdMap takes string or binary keys, got " +
                             arrow::type_name(view.schema()));
    }
    std::vector<std::string_view> block(static_cast<size_t>(std::min(n, kBlock)));
    const hash::Xxh3 hasher(options_.seed);
    // string/binary and the view types hash a block at a time (vectorised for short keys).
    const bool batch = view.id() == TypeId::string || view.id() == TypeId::binary ||
                       view.id() == TypeId::string_view || view.id() == TypeId::binary_view;
    probe([&](int64_t b, int64_t m) {
      if (!batch) {
        arrow::for_each_bytes(view, b, b + m, [&](int64_t i, std::string_view key) {
          const auto j = static_cast<size_t>(i - b);
          block[j] = key;
          hashes[j] = hasher(key.data(), key.size());
        });
      } else {
        arrow::for_each_bytes(view, b, b + m, [&](int64_t i, std::string_view key) {
          block[static_cast<size_t>(i - b)] = key;
        });
        if (view.id() == TypeId::string || view.id() == TypeId::binary) {
          hashing::fixed_width::xxh3_strings(view.offsets<int32_t>() + b, view.data(), m,
                                             hashes.data(), options_.seed);
        } else {
          hashing::fixed_width::xxh3_string_views(view.views() + b, view.view_buffers(), m,
                                                  hashes.data(), options_.seed);
        }
      }
      return static_cast<const std::string_view*>(block.data());
    });
  }
  stream_fence();
  result.data->buffers[0] = std::move(validity);
  result.data->null_count = nulls;
  return arrow::export_array(std::move(result.data));
}

void IdMap::freeze(FreezeOrder order) {
  std::unique_lock lock(mutex_);
  if (order == FreezeOrder::frequency) {
    std::vector<int64_t> slots;
    for (int64_t s = 0; s < keys_.slots(); ++s) {
      if (keys_.live(s)) slots.push_back(s);
    }
    auto key_less = [&](int64_t a, int64_t b) {
      return options_.key_type == KeyType::int64 ? keys_.int_key(a) < keys_.int_key(b)
                                                 : keys_.str_key(a) < keys_.str_key(b);
    };
    const auto counters = keys_.counters_by_slot();
    auto count = [&](int64_t s) { return counters[static_cast<size_t>(s)].count; };
    std::sort(slots.begin(), slots.end(), [&](int64_t a, int64_t b) {
      if (count(a) != count(b)) return count(a) > count(b);
      return key_less(a, b);
    });
    KeyPool fresh(options_.key_type);
    fresh.reserve(static_cast<int64_t>(slots.size()));
    for (int64_t s : slots) {
      const Key k = keys_.key(s);
      fresh.add(keys_.hash(s), k.int_key, k.str_key, count(s),
                counters[static_cast<size_t>(s)].last_seen);
    }
    keys_ = std::move(fresh);
  }
  keys_.index_for_lookups();
  if (options_.key_type == KeyType::string) frozen_strings_.build(keys_);
  order_.clear();
  frozen_ = true;
}

void InlineKeyIndex::build(const KeyPool& keys) {
  slots_.clear();
  constexpr size_t kMaxSlots = size_t{1} << 20;  // 32 MiB
  const size_t capacity = std::bit_ceil(std::max<size_t>(static_cast<size_t>(keys.size()) * 3, 16));
  if (capacity > kMaxSlots || keys.slots() > INT32_MAX) return;
  Slot empty{};
  empty.id = -1;
  slots_.assign(capacity, empty);
  mask_ = capacity - 1;
  for (int64_t id = 0; id < keys.slots(); ++id) {
    if (!keys.live(id)) continue;
    const std::string_view key = keys.str_key(id);
    size_t pos = keys.hash(id) & mask_;
    while (slots_[pos].id >= 0) pos = (pos + 1) & mask_;
    Slot& s = slots_[pos];
    s.hash = keys.hash(id);
    s.id = static_cast<int32_t>(id);
    s.length = static_cast<uint32_t>(std::min<size_t>(key.size(), UINT32_MAX));
    std::memcpy(s.bytes, key.data(), std::min<size_t>(key.size(), kInline));
  }
}

int64_t IdMap::evict_older_than(int64_t ts) {
  std::unique_lock lock(mutex_);
  if (frozen_) throw std::invalid_argument("this IdMap is frozen: evict() is not allowed");
  int64_t removed = 0;
  // Counters are read once up front: evicting one key leaves the others' counters unchanged.
  const auto admitted = keys_.counters_by_slot();
  for (int64_t s = 0; s < keys_.slots(); ++s) {
    if (keys_.live(s) && admitted[static_cast<size_t>(s)].last_seen < ts) {
      evict_slot(s);
      ++removed;
    }
  }
  const auto candidates = candidates_.counters_by_slot();
  for (int64_t s = 0; s < candidates_.slots(); ++s) {
    if (candidates_.live(s) && candidates[static_cast<size_t>(s)].last_seen < ts) {
      candidates_.remove(s);
    }
  }
  return removed;
}

std::vector<Evicted> IdMap::take_evicted() {
  std::unique_lock lock(mutex_);
  std::vector<Evicted> out;
  out.swap(evicted_);
  return out;
}

void IdMap::check_compatible(const IdMap& other) const {
  if (options_.key_type != other.options_.key_type || options_.seed != other.options_.seed ||
      options_.num_oov_buckets != other.options_.num_oov_buckets) {
    throw std::invalid_argument(
        "cannot merge IdMaps with different key_type, seed or num_oov_buckets (" + contract() +
        " vs " + other.contract() + ")");
  }
}

void IdMap::merge(const IdMap& other) {
  if (&other == this) throw std::invalid_argument("cannot merge an IdMap into itself");
  std::unique_lock lock(mutex_);
  std::shared_lock other_lock(other.mutex_);
  check_compatible(other);
  if (frozen_) throw std::invalid_argument("this IdMap is frozen: merge() is not allowed");
  auto absorb = [&](const KeyPool& pool, bool admitted) {
    const auto theirs = pool.counters_by_slot();
    auto find = [&](KeyPool& in, uint64_t h, const Key& k) {
      return options_.key_type == KeyType::int64 ? in.find_entry(h, k.int_key)
                                                 : in.find_entry(h, std::string_view(k.str_key));
    };
    for (int64_t s = 0; s < pool.slots(); ++s) {
      if (!pool.live(s)) continue;
      const Key k = pool.key(s);
      const uint64_t h = pool.hash(s);
      const int64_t count = theirs[static_cast<size_t>(s)].count;
      const int64_t seen = theirs[static_cast<size_t>(s)].last_seen;
      if (KeyPool::Entry* mine = find(keys_, h, k)) {
        const int64_t old = mine->payload.count;
        mine->payload.count += count;
        mine->payload.last_seen = std::max(mine->payload.last_seen, seen);
        if (options_.eviction == Eviction::lfu) {
          order_.remove(mine->id);
          order_.insert_lfu(mine->id, old + count);
        }
        continue;
      }
      KeyPool::Entry* cand = find(candidates_, h, k);
      int64_t total = count;
      int64_t last = seen;
      if (cand != nullptr) {
        total += cand->payload.count;
        last = std::max(last, cand->payload.last_seen);
      }
      if (admitted || total >= options_.min_count) {
        const int64_t candidate = cand != nullptr ? cand->id : kNoId;
        if (admit(h, k.int_key, k.str_key, total, last) != kNoId && candidate != kNoId) {
          candidates_.remove(candidate);
        }
      } else if (cand != nullptr) {
        cand->payload = KeyPool::Counters{total, last};
      } else {
        if (candidates_.size() >= options_.max_candidates) drop_candidates();
        candidates_.add(h, k.int_key, k.str_key, total, last);
      }
    }
  };
  // Admitted keys in the other map's index order, then its candidates.
  absorb(other.keys_, true);
  absorb(other.candidates_, false);
  sequence_ = std::max(sequence_, other.sequence_);
}

Stats IdMap::stats() const {
  std::shared_lock lock(mutex_);
  Stats s = counters_;
  s.size = keys_.size();
  s.capacity = keys_.capacity();
  s.bytes = keys_.bytes() + candidates_.bytes() + static_cast<int64_t>(frozen_strings_.bytes());
  s.candidates = candidates_.size();
  s.frozen = frozen_;
  return s;
}

arrow::OwnedArray IdMap::to_arrow() const {
  std::shared_lock lock(mutex_);
  std::vector<int64_t> slots;
  for (int64_t s = 0; s < keys_.slots(); ++s) {
    if (keys_.live(s)) slots.push_back(s);
  }
  const auto n = static_cast<int64_t>(slots.size());
  auto column = [&](const char* name, auto value_of) {
    arrow::PrimitiveOutput<int64_t> col("l", n);
    for (int64_t i = 0; i < n; ++i) col.values[i] = value_of(slots[static_cast<size_t>(i)]);
    col.data->name = name;
    return std::move(col.data);
  };
  auto table = std::make_unique<arrow::ArrayData>();
  table->format = "+s";
  table->length = n;
  table->buffers.emplace_back();
  if (options_.key_type == KeyType::int64) {
    table->children.push_back(column("key", [&](int64_t s) { return keys_.int_key(s); }));
  } else {
    size_t total = 0;
    for (int64_t s : slots) total += keys_.str_key(s).size();
    auto keys = std::make_unique<arrow::ArrayData>();
    keys->format = "U";  // large_string: a vocabulary may hold more than 2 GiB of key bytes
    keys->name = "key";
    keys->length = n;
    keys->buffers.emplace_back();
    keys->buffers.emplace_back(static_cast<size_t>(n + 1) * sizeof(int64_t));
    keys->buffers.emplace_back(total);
    auto* off = keys->buffers[1].as<int64_t>();
    char* data = reinterpret_cast<char*>(keys->buffers[2].data());
    off[0] = 0;
    for (int64_t i = 0; i < n; ++i) {
      const std::string_view k = keys_.str_key(slots[static_cast<size_t>(i)]);
      std::copy(k.begin(), k.end(), data + off[i]);
      off[i + 1] = off[i] + static_cast<int64_t>(k.size());
    }
    table->children.push_back(std::move(keys));
  }
  table->children.push_back(
      column("index", [&](int64_t s) { return options_.num_oov_buckets + s; }));
  const auto counters = keys_.counters_by_slot();
  table->children.push_back(
      column("count", [&](int64_t s) { return counters[static_cast<size_t>(s)].count; }));
  table->children.push_back(
      column("last_seen", [&](int64_t s) { return counters[static_cast<size_t>(s)].last_seen; }));
  return arrow::export_array(std::move(table));
}

IdMap IdMap::from_arrow(const ArrayView& table, const Options& options) {
  if (table.id() != TypeId::struct_) {
    throw std::invalid_argument("from_arrow expects a table with key, index, count, last_seen");
  }
  const ArrowSchema& schema = table.schema();
  auto column = [&](const char* name) -> const ArrayView& {
    for (int64_t c = 0; c < schema.n_children; ++c) {
      if (schema.children[c]->name && std::string_view(schema.children[c]->name) == name) {
        return table.children()[static_cast<size_t>(c)];
      }
    }
    throw std::invalid_argument(std::string("from_arrow: missing column '") + name + "'");
  };
  IdMap map(options);
  const ArrayView& keys = column("key");
  const ArrayView& index = column("index");
  const ArrayView& count = column("count");
  const ArrayView& last_seen = column("last_seen");
  for (const ArrayView* c : {&index, &count, &last_seen}) {
    if (c->id() != TypeId::int64 || c->is_dictionary() || c->null_count() != 0) {
      throw std::invalid_argument("from_arrow: index, count and last_seen must be non-null int64");
    }
  }
  if (keys.null_count() != 0) throw std::invalid_argument("from_arrow: keys must not be null");
  const int64_t n = table.length();
  std::vector<int64_t> ints;
  if (options.key_type == KeyType::int64) ints = int_keys(keys);
  if (options.key_type == KeyType::string && !arrow::is_binary_like(keys.id())) {
    throw unsupported_type("from_arrow: a string IdMap needs string keys, got " +
                           arrow::type_name(keys.schema()));
  }
  const hash::Xxh3 hasher(options.seed);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t slot = index.values<int64_t>()[i] - options.num_oov_buckets;
    if (slot < 0) {
      throw std::invalid_argument("from_arrow: index " + std::to_string(slot + options.num_oov_buckets) +
                                  " falls in the OOV range [0, num_oov_buckets)");
    }
    if (slot < map.keys_.slots() && map.keys_.live(slot)) {
      throw std::invalid_argument("from_arrow: duplicate index " +
                                  std::to_string(slot + options.num_oov_buckets));
    }
    int64_t ik = 0;
    std::string_view sk;
    uint64_t h;
    int64_t existing;
    if (options.key_type == KeyType::int64) {
      ik = ints[static_cast<size_t>(i)];
      h = hasher(&ik, 8);
      existing = map.keys_.find(h, ik);
    } else {
      sk = keys.bytes_at(i);
      h = hasher(sk.data(), sk.size());
      existing = map.keys_.find(h, sk);
    }
    if (existing != kNoId) throw std::invalid_argument("from_arrow: duplicate key");
    map.keys_.add_at(slot, h, ik, sk, count.values<int64_t>()[i], last_seen.values<int64_t>()[i]);
  }
  if (options.eviction != Eviction::none) {
    // Rebuild the victim order from the restored counters: least recently seen first (LRU), or
    // by count then last_seen (LFU).
    std::vector<int64_t> slots;
    for (int64_t s = 0; s < map.keys_.slots(); ++s) {
      if (map.keys_.live(s)) slots.push_back(s);
    }
    const auto counters = map.keys_.counters_by_slot();
    auto count_of = [&](int64_t s) { return counters[static_cast<size_t>(s)].count; };
    auto seen_of = [&](int64_t s) { return counters[static_cast<size_t>(s)].last_seen; };
    std::sort(slots.begin(), slots.end(), [&](int64_t a, int64_t b) {
      if (options.eviction == Eviction::lfu && count_of(a) != count_of(b)) {
        return count_of(a) < count_of(b);
      }
      return seen_of(a) < seen_of(b);
    });
    for (int64_t s : slots) {
      if (options.eviction == Eviction::lru) map.order_.push_back(s);
      else map.order_.insert_lfu(s, count_of(s));
    }
  }
  return map;
}

}  // namespace featforge::idmap
