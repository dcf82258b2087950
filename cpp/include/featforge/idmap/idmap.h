// IdMap: raw ids (int64 or byte strings) -> dense embedding-row indices (docs/design.md §6).
//
// Index layout: [0, num_oov_buckets) are out-of-vocabulary buckets (an unknown key goes to
// hash(key) % num_oov_buckets); known keys get num_oov_buckets + slot, slots in first-seen order
// (an evicted key's slot is reused by the key admitted in its place). The hash is XXH3-64 with
// the map's seed over the key's canonical bytes (int64: 8 little-endian bytes of the value,
// whatever the input column's integer width; strings: their bytes).
#pragma once

#include <cstdint>
#include <bit>
#include <cstring>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "featforge/arrow/builder.h"
#include "featforge/arrow/view.h"
#include "featforge/idmap/flat_table.h"

namespace featforge::idmap {

enum class KeyType { int64, string };
enum class Eviction { none, lru, lfu };
enum class FreezeOrder { first_seen, frequency };

struct Options {
  KeyType key_type = KeyType::int64;
  int64_t num_oov_buckets = 1;
  int64_t min_count = 1;
  int64_t max_size = -1;  // -1: unbounded
  Eviction eviction = Eviction::none;
  uint64_t seed = 0;
  // Candidates (seen, not yet admitted) are counted in bounded memory: when this many are
  // tracked, the least-seen ones are forgotten (and counted in Stats::candidates_dropped).
  int64_t max_candidates = int64_t{1} << 22;
};

struct Stats {
  int64_t size = 0;
  int64_t capacity = 0;  // hash-table slots
  int64_t bytes = 0;     // memory held by keys, counters and tables
  int64_t lookups = 0;
  int64_t oov_hits = 0;
  int64_t admissions = 0;
  int64_t evictions = 0;
  int64_t rejected = 0;  // admissions refused because max_size was reached without eviction
  int64_t candidates = 0;
  int64_t candidates_dropped = 0;
  bool frozen = false;
};

// A key handed back by take_evicted() / export: exactly one of the two is meaningful.
struct Key {
  int64_t int_key = 0;
  std::string str_key;
};

struct Evicted {
  Key key;
  int64_t index;
};

// Byte-string equality, inlined for the short keys ids usually are (a library memcmp call costs
// more than the comparison itself).
[[nodiscard]] inline bool equal_bytes(std::string_view a, std::string_view b) noexcept {
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (n >= 8 && n <= 16) {
    uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a.data(), 8);
    std::memcpy(&b0, b.data(), 8);
    std::memcpy(&a1, a.data() + n - 8, 8);
    std::memcpy(&b1, b.data() + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }
  return n == 0 || std::memcmp(a.data(), b.data(), n) == 0;
}

// Keys with counters, addressed by dense slot. Used twice: admitted keys and candidates.
class KeyPool {
 public:
  struct Counters {
    int64_t count;
    int64_t last_seen;
  };
  // A key's counters live in its hash-table entry, beside its hash and slot: a hit finds and
  // updates them in one cache line (a separate per-slot array cost a second miss per row).
  using Table = FlatTable<Counters>;
  using Entry = Table::Slot;

  explicit KeyPool(KeyType type) : type_(type) {}

  // For int64 keys the hash alone decides: XXH3-64 of an 8-byte input is a bijection of the
  // 64-bit value for a fixed seed (every step - the keyed rotate/xor, the xor of two rotations,
  // multiplications by odd constants, xor-shifts - is invertible), so equal hashes mean equal
  // keys and a lookup never touches the key array.
  // The entry of a key, or nullptr; valid until the pool next changes.
  [[nodiscard]] Entry* find_entry(uint64_t hash, int64_t /*key*/) {
    thaw();
    return table_.find_slot(hash, [](int64_t) { return true; });
  }
  [[nodiscard]] Entry* find_entry(uint64_t hash, std::string_view key) {
    thaw();
    return table_.find_slot(hash, [&](int64_t s) { return equal_bytes(str_key(s), key); });
  }
  // The key's entry, or else the vacancy where it would go (its id is kNoId): see append.
  [[nodiscard]] Entry& find_or_vacancy(uint64_t hash, int64_t /*key*/) {
    thaw();
    return table_.find_or_vacancy(hash, [](int64_t) { return true; });
  }
  [[nodiscard]] Entry& find_or_vacancy(uint64_t hash, std::string_view key) {
    thaw();
    return table_.find_or_vacancy(hash, [&](int64_t s) { return equal_bytes(str_key(s), key); });
  }
  // Adds an absent key as a new slot in the vacancy find_or_vacancy gave for it (the pool
  // unchanged since); the inserting lookup's fast path. Returns kNoId, changing nothing, when a
  // freed slot should be reused or the table must grow first: add() does those.
  int64_t append(Entry& vacancy, uint64_t hash, int64_t int_key, std::string_view str_key,
                 const Counters& counters) {
    if (!free_.empty() || indexed_ || str_key.size() > UINT32_MAX) return kNoId;
    const int64_t slot = slots();
    if (!table_.fill_vacancy(vacancy, hash, slot, counters)) return kNoId;
    live_.push_back(1);
    hashes_.push_back(hash);
    if (type_ == KeyType::int64) {
      int_keys_.push_back(int_key);
    } else {
      key_offsets_.push_back(arena_.size());
      key_lengths_.push_back(static_cast<uint32_t>(str_key.size()));
      arena_.append(str_key);
    }
    return slot;
  }
  [[nodiscard]] int64_t find(uint64_t hash, int64_t /*key*/) const {
    auto same = [](int64_t) { return true; };
    return indexed_ ? index_.find(hash, same) : table_.find(hash, same);
  }
  [[nodiscard]] int64_t find(uint64_t hash, std::string_view key) const {
    auto same = [&](int64_t s) { return equal_bytes(str_key(s), key); };
    return indexed_ ? index_.find(hash, same) : table_.find(hash, same);
  }
  [[gnu::always_inline]] void prefetch(uint64_t hash) const noexcept {
    if (indexed_) {
      index_.prefetch(hash);
    } else {
      table_.prefetch(hash);
    }
  }
  void prefetch_for_update(uint64_t hash) const noexcept { table_.prefetch_for_write(hash); }

  // String pools: finding a key compares its bytes, which for a cold key sit two dependent misses
  // beyond the table (slot -> offset and length -> arena). Batch lookups call these a few keys
  // ahead, after prefetch(hash) and in this order: each reads what the previous one fetched (the
  // home slot's id, then its key's offset) and prefetches the next step. Usually the key is in
  // its home slot; when it is not, or the slot is free, the prefetch is merely wasted. Forced
  // inline: GCC deems an out-of-line void function that only loads and prefetches pure, and
  // deletes the calls.
  [[gnu::always_inline]] void prefetch_key_location(uint64_t hash) const noexcept {
    const int64_t s = home_id(hash);
    if (s < 0) return;
    __builtin_prefetch(&key_offsets_[static_cast<size_t>(s)]);
    __builtin_prefetch(&key_lengths_[static_cast<size_t>(s)]);
  }
  [[gnu::always_inline]] void prefetch_key_bytes(uint64_t hash) const noexcept {
    const int64_t s = home_id(hash);
    if (s >= 0) __builtin_prefetch(arena_.data() + key_offsets_[static_cast<size_t>(s)]);
  }

  // Adds a key (known absent) with the given counters; reuses a free slot if there is one.
  int64_t add(uint64_t hash, int64_t int_key, std::string_view str_key, int64_t count,
              int64_t last_seen);
  // Adds at a specific slot (used when restoring exact indices); the slot must be free or new.
  void add_at(int64_t slot, uint64_t hash, int64_t int_key, std::string_view str_key,
              int64_t count, int64_t last_seen);
  void remove(int64_t slot);
  // Replaces the pool with `live.size()` restored slots in one go (loading a file): arrays are
  // taken over, and the hash table is copied from `table` (Table::raw_slots of the saved pool,
  // counters included) or, when that is empty, rebuilt once with the per-slot `counters`. For
  // string pools `int_keys` is unused and keys are `lengths` consecutive runs of `arena`. Throws
  // std::invalid_argument for a table that does not fit the keys.
  void restore(big_vector<uint8_t> live, big_vector<uint64_t> hashes,
               const big_vector<Counters>& counters, big_vector<int64_t> int_keys,
               std::vector<uint32_t> lengths, std::string arena, std::string_view table = {});
  // Calls f(bytes) with the hash table as saved (Table::raw_slots; a frozen pool's is rebuilt for
  // the call from its index and counters).
  template <class F>
  void with_raw_table(F&& f) const {
    if (!indexed_) return f(table_.raw_slots());
    Table image;
    image.copy_entries(index_, index_.capacity(),
                       [&](int64_t s) { return frozen_counters_[static_cast<size_t>(s)]; });
    f(image.raw_slots());
  }
  // The per-slot arrays as bytes, for persistence (a free slot's key is stale unless
  // `all_live`).
  [[nodiscard]] bool all_live() const noexcept { return free_.empty(); }
  [[nodiscard]] std::string_view raw_live() const noexcept {
    return {reinterpret_cast<const char*>(live_.data()), live_.size()};
  }
  [[nodiscard]] std::string_view raw_int_keys() const noexcept {
    return {reinterpret_cast<const char*>(int_keys_.data()), int_keys_.size() * sizeof(int64_t)};
  }
  // Room for `n` keys in all: the table is sized once and the per-slot arrays reserved, instead
  // of doubling (and re-placing every key) step by step while a large batch is inserted.
  void reserve(int64_t n) {
    if (n <= slots()) return;
    thaw();
    const auto count = static_cast<size_t>(n);
    live_.reserve(count);
    hashes_.reserve(count);
    if (type_ == KeyType::int64) {
      int_keys_.reserve(count);
    } else {
      key_offsets_.reserve(count);
      key_lengths_.reserve(count);
    }
    const size_t capacity = count * 10 / 7 + 1;
    if (capacity > table_.capacity()) table_.rehash(capacity);
  }

  // Lays out a pool that will no longer change (a frozen map) for lookups: the table becomes an
  // index of (hash, slot) entries, half the bytes per slot, so more of it stays in cache, and the
  // counters move to a per-slot array (read only by exports). A small index is also spread out:
  // at a load factor of a third or less almost every lookup finds its key in the home slot, so
  // probing rarely mispredicts. Any change to the pool first restores the table (thaw()).
  void index_for_lookups() {
    if (indexed_) return;
    constexpr size_t kMaxSpreadSlots = size_t{1} << 20;  // 16 MiB of index
    const size_t spread = std::bit_ceil(std::max<size_t>(table_.size() * 3, 16));
    frozen_counters_ = counters_by_slot();
    index_.copy_entries(table_,
                        spread <= kMaxSpreadSlots ? std::max(spread, table_.capacity())
                                                  : table_.capacity(),
                        [](int64_t) { return NoPayload{}; });
    table_.reset(16);
    indexed_ = true;
  }

  [[nodiscard]] int64_t size() const noexcept {
    return static_cast<int64_t>(indexed_ ? index_.size() : table_.size());
  }
  [[nodiscard]] int64_t slots() const noexcept { return static_cast<int64_t>(live_.size()); }
  [[nodiscard]] bool live(int64_t s) const { return live_[static_cast<size_t>(s)] != 0; }
  [[nodiscard]] int64_t int_key(int64_t s) const { return int_keys_[static_cast<size_t>(s)]; }
  [[nodiscard]] std::string_view str_key(int64_t s) const {
    return {arena_.data() + key_offsets_[static_cast<size_t>(s)],
            key_lengths_[static_cast<size_t>(s)]};
  }
  [[nodiscard]] Key key(int64_t s) const {
    return type_ == KeyType::int64 ? Key{int_key(s), {}} : Key{0, std::string(str_key(s))};
  }
  [[nodiscard]] uint64_t hash(int64_t s) const { return hashes_[static_cast<size_t>(s)]; }
  // The entry of a live slot (one probe of the table); bulk readers use counters_by_slot.
  Entry& entry(int64_t s) {
    thaw();
    return table_.slot_of(hash(s), s);
  }
  // Every slot's counters in one pass over the table (zero for a free slot).
  [[nodiscard]] big_vector<Counters> counters_by_slot() const;
  [[nodiscard]] int64_t bytes() const noexcept;
  [[nodiscard]] int64_t capacity() const noexcept {
    return static_cast<int64_t>(indexed_ ? index_.capacity() : table_.capacity());
  }
  // Drops freed key bytes from the string arena when they make up most of it.
  void compact_arena();
  [[nodiscard]] KeyType type() const noexcept { return type_; }

 private:
  [[nodiscard, gnu::always_inline]] int64_t home_id(uint64_t hash) const noexcept {
    return indexed_ ? index_.home(hash).id : table_.home(hash).id;
  }
  // Back from the lookup layout to the table with counters (before any change).
  void thaw() {
    if (!indexed_) return;
    table_.copy_entries(index_, index_.capacity(),
                        [&](int64_t s) { return frozen_counters_[static_cast<size_t>(s)]; });
    discard_index();
  }
  void discard_index() {
    index_.reset(16);
    big_vector<Counters>().swap(frozen_counters_);
    indexed_ = false;
  }

  KeyType type_;
  Table table_;
  // The lookup layout (index_for_lookups): while indexed_, table_ is empty.
  FlatTable<> index_{16};
  big_vector<Counters> frozen_counters_;
  bool indexed_ = false;
  big_vector<int64_t> int_keys_;
  std::vector<uint64_t> key_offsets_;
  std::vector<uint32_t> key_lengths_;
  std::string arena_;
  int64_t arena_garbage_ = 0;
  big_vector<uint64_t> hashes_;
  big_vector<uint8_t> live_;
  std::vector<int64_t> free_;
};

// Recency (LRU) or frequency (LFU) order over admitted slots, O(1) per access: a doubly linked
// list whose head is the next victim. For LFU the list is sorted by count, least recently
// promoted first within a count, and group_tail_ finds the end of each count's run.
class VictimOrder {
 public:
  void resize(int64_t slots);
  void push_back(int64_t slot);  // a newly admitted key
  void remove(int64_t slot);
  void touch_lru(int64_t slot);                       // move to the most recent end
  void bump_lfu(int64_t slot, int64_t old_count);     // count went from old_count to old_count + 1
  void insert_lfu(int64_t slot, int64_t count);       // a newly admitted key with this count
  [[nodiscard]] int64_t victim() const noexcept { return head_; }
  [[nodiscard]] std::vector<int64_t> order() const;   // head to tail
  void clear();

 private:
  void link_after(int64_t slot, int64_t after);  // after == -1: at the head
  std::vector<int64_t> prev_, next_;
  int64_t head_ = -1, tail_ = -1;
  std::unordered_map<int64_t, int64_t> group_tail_;  // LFU: count -> last slot with that count
  std::vector<int64_t> slot_count_;                  // LFU: the count each slot is filed under
};

// A read-only index over a frozen string map's keys: open addressing where each slot holds the
// key's hash, index, length and (up to 16) bytes, so a lookup of a short key touches one cache
// line instead of following slot -> offset -> arena. Only built for small vocabularies, where
// the extra 32 bytes per slot at a load factor of a third or less stay cache-resident.
class InlineKeyIndex {
 public:
  // Indexes the live keys of a string pool; leaves the index empty when the pool is too large.
  void build(const KeyPool& keys);
  [[nodiscard]] bool empty() const noexcept { return slots_.empty(); }
  [[nodiscard]] size_t bytes() const noexcept { return slots_.size() * sizeof(Slot); }

 private:
  static constexpr uint32_t kInline = 16;
  struct Slot {
    uint64_t hash;
    int32_t id;  // -1: empty
    uint32_t length;
    char bytes[kInline];
  };
  static_assert(sizeof(Slot) == 32);

 public:
  // Lookups go through a probe: the index's address and mask copied out, so a batch loop keeps
  // them in registers instead of reloading them after every store it makes.
  struct Probe {
    const Slot* slots;
    size_t mask;
    // The key's slot in `keys`, or kNoId; keys longer than 16 bytes compare there.
    [[nodiscard]] int64_t find(uint64_t hash, std::string_view key, const KeyPool& keys) const {
      for (size_t pos = hash & mask;; pos = (pos + 1) & mask) {
        const Slot& s = slots[pos];
        if (s.id < 0) return kNoId;
        if (s.hash != hash || s.length != key.size()) continue;
        const std::string_view stored = s.length <= kInline ? std::string_view(s.bytes, s.length)
                                                            : keys.str_key(s.id);
        if (equal_bytes(stored, key)) return s.id;
      }
    }
    void prefetch(uint64_t hash) const noexcept { __builtin_prefetch(&slots[hash & mask]); }
  };
  [[nodiscard]] Probe probe() const noexcept { return {slots_.data(), mask_}; }

 private:
  std::vector<Slot, HugePageAllocator<Slot>> slots_;
  size_t mask_ = 0;
};

class IdMap {
 public:
  explicit IdMap(const Options& options);
  IdMap(IdMap&& other) noexcept;
  IdMap& operator=(IdMap&&) = delete;
  IdMap(const IdMap&) = delete;

  [[nodiscard]] const Options& options() const noexcept { return options_; }

  // int64 indices for `keys` (nulls stay null). With insert, unknown keys are counted and
  // admitted at min_count sightings; counts and last_seen (the timestamp, or else a running
  // sequence number) of known keys are updated. `timestamps` (int64/timestamp) may be null.
  [[nodiscard]] arrow::OwnedArray lookup(const arrow::ArrayView& keys, bool insert,
                                         const arrow::ArrayView* timestamps);
  void freeze(FreezeOrder order);
  [[nodiscard]] bool frozen() const noexcept { return frozen_; }
  // Evicts every admitted key whose last_seen < ts; returns how many. Recorded for take_evicted.
  int64_t evict_older_than(int64_t ts);
  [[nodiscard]] std::vector<Evicted> take_evicted();
  // Adds other's counts (keys new to this map are admitted in other's index order; candidates
  // are merged and admitted when their summed count reaches min_count).
  void merge(const IdMap& other);
  [[nodiscard]] int64_t size() const;
  [[nodiscard]] Stats stats() const;
  // struct<key, index, count, last_seen> in index order.
  [[nodiscard]] arrow::OwnedArray to_arrow() const;
  // Rebuilds a map from to_arrow()'s columns (key, index, count, last_seen).
  [[nodiscard]] static IdMap from_arrow(const arrow::ArrayView& table, const Options& options);

  // Versioned, checksummed binary image (the format of save/load and pickling).
  [[nodiscard]] std::string serialize() const;
  [[nodiscard]] static IdMap deserialize(std::string_view bytes);
  // Atomic: a temp file beside `path`, fsync, rename. Load verifies version and checksum.
  void save(const std::string& path) const;
  [[nodiscard]] static IdMap load(const std::string& path);
  // The hash contract recorded in saved files; a file with another contract is refused.
  [[nodiscard]] std::string contract() const;

 private:
  // Looks up keys [begin, begin + n) of `view` whose hashes are given.
  template <bool Insert, class K>
  void lookup_block(const K* keys, const uint64_t* hashes, const arrow::ArrayView& view,
                    int64_t begin, int64_t n, const int64_t* times, int64_t* out, uint8_t* valid,
                    int64_t& nulls);
  void insert_miss(uint64_t hash, int64_t int_key, std::string_view str_key, int64_t now,
                   int64_t& slot);
  int64_t admit(uint64_t hash, int64_t int_key, std::string_view str_key, int64_t count,
                int64_t last_seen);
  void drop_candidates();
  void reserve_for_batch(const int64_t* keys, int64_t n);
  void evict_slot(int64_t slot);
  void check_compatible(const IdMap& other) const;
  [[nodiscard]] int64_t oov(uint64_t hash) const;

  Options options_;
  KeyPool keys_;
  KeyPool candidates_;
  VictimOrder order_;
  InlineKeyIndex frozen_strings_;  // built when a string map is frozen (if small enough)
  std::vector<Evicted> evicted_;
  bool frozen_ = false;
  int64_t sequence_ = 0;
  Stats counters_;
  mutable std::shared_mutex mutex_;  // lookups without insert share it; everything else is unique
};

// Parses user-facing names; throw std::invalid_argument naming the accepted values.
[[nodiscard]] KeyType parse_key_type(std::string_view name);
[[nodiscard]] Eviction parse_eviction(std::string_view name);
[[nodiscard]] FreezeOrder parse_freeze_order(std::string_view name);

}  // namespace featforge::idmap
