// An open-addressing hash table from keys to dense ids, with linear probing and backward-shift
// deletion (no tombstones). A slot holds the key's hash, its id and an optional payload that the
// owner updates in place: IdMap keeps a key's counters there, so counting a hit touches one cache
// line. The keys themselves live in the owner's arrays, reached through the `equals(id)`
// callback, so the slot has the same size for int64 and byte-string keys (16 bytes plus the
// payload) and the owner keeps string keys in one arena.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>
#include <vector>

#include "featforge/memory.h"

namespace featforge::idmap {


// The id meaning "no entry" (what find returns for an absent key).
inline constexpr int64_t kNoId = -1;

struct NoPayload {};

template <class Payload = NoPayload>
class FlatTable {
 public:
  static constexpr int64_t kEmpty = kNoId;

  struct Slot {
    uint64_t hash;
    int64_t id;
    [[no_unique_address]] Payload payload;
  };

  explicit FlatTable(size_t capacity = 16) { reset(capacity); }

  [[nodiscard]] size_t size() const noexcept { return size_; }
  [[nodiscard]] size_t capacity() const noexcept { return slots_.size(); }
  [[nodiscard]] size_t bytes() const noexcept { return slots_.size() * sizeof(Slot); }

  // Empties the table and sizes it for at least `capacity` slots (a power of two).
  void reset(size_t capacity) {
    slots_.assign(std::bit_ceil(std::max<size_t>(capacity, 16)), Slot{0, kEmpty, {}});
    mask_ = slots_.size() - 1;
    size_ = 0;
  }

  // Sizes an empty table for `n` entries at the target load factor (bulk restores).
  void reserve_for(size_t n) { reset(n * 10 / 7 + 1); }

  // Prefetches the home slot of a hash: batch lookups call this a few keys ahead (for_write:
  // the slot's payload is about to be updated).
  void prefetch(uint64_t hash) const noexcept { __builtin_prefetch(&slots_[hash & mask_]); }
  void prefetch_for_write(uint64_t hash) const noexcept {
    __builtin_prefetch(&slots_[hash & mask_], 1);
  }

  // The slot of a key with this hash, or nullptr. `equals(id)` compares the key. The pointer is
  // valid until the next insert or erase.
  template <class Equals>
  [[nodiscard]] Slot* find_slot(uint64_t hash, const Equals& equals) {
    for (size_t pos = hash & mask_;; pos = (pos + 1) & mask_) {
      Slot& s = slots_[pos];
      if (s.id == kEmpty) return nullptr;
      if (s.hash == hash && equals(s.id)) return &s;
    }
  }
  template <class Equals>
  [[nodiscard]] const Slot* find_slot(uint64_t hash, const Equals& equals) const {
    return const_cast<FlatTable*>(this)->find_slot(hash, equals);
  }
  // The slot of a key with this hash or else the free slot that ends its probe run, where the
  // key would be inserted (its id is kEmpty): an inserting lookup probes once, not twice.
  template <class Equals>
  [[nodiscard]] Slot& find_or_vacancy(uint64_t hash, const Equals& equals) {
    for (size_t pos = hash & mask_;; pos = (pos + 1) & mask_) {
      Slot& s = slots_[pos];
      if (s.id == kEmpty || (s.hash == hash && equals(s.id))) return s;
    }
  }
  // Fills a vacancy from find_or_vacancy (with no insert or erase since) with an absent key's
  // entry. Returns false, changing nothing, when the table has no room for one more entry
  // without growing; insert() then grows it.
  bool fill_vacancy(Slot& vacancy, uint64_t hash, int64_t id, const Payload& payload = {}) {
    if ((size_ + 1) * 10 > slots_.size() * 7) return false;
    vacancy = Slot{hash, id, payload};
    ++size_;
    return true;
  }
  // The id stored for a key with this hash, or kEmpty.
  template <class Equals>
  [[nodiscard]] int64_t find(uint64_t hash, const Equals& equals) const {
    const Slot* s = find_slot(hash, equals);
    return s == nullptr ? kEmpty : s->id;
  }
  // The slot holding `id`, whose key has this hash (it must be in the table).
  [[nodiscard]] Slot& slot_of(uint64_t hash, int64_t id) {
    size_t pos = hash & mask_;
    while (slots_[pos].id != id) pos = (pos + 1) & mask_;
    return slots_[pos];
  }
  [[nodiscard]] const Slot& slot_of(uint64_t hash, int64_t id) const {
    return const_cast<FlatTable*>(this)->slot_of(hash, id);
  }
  // Replaces this table with the (hash, id) entries of `other` (a FlatTable of any payload) in a
  // table of `capacity` slots (a power of two, above the maximum load factor); `payload_of(id)`
  // gives each entry's payload. At other's capacity each entry keeps its position, so the copy
  // is one sequential pass.
  template <class Other, class PayloadOf>
  void copy_entries(const Other& other, size_t capacity, const PayloadOf& payload_of) {
    reset(capacity);
    if (capacity == other.capacity()) {
      for (size_t pos = 0; pos < capacity; ++pos) {
        const auto& s = other.slot_at(pos);
        if (s.id != kEmpty) slots_[pos] = Slot{s.hash, s.id, payload_of(s.id)};
      }
    } else {
      other.for_each([&](const auto& s) { place(Slot{s.hash, s.id, payload_of(s.id)}); });
    }
    size_ = other.size();
  }
  [[nodiscard]] const Slot& slot_at(size_t pos) const noexcept { return slots_[pos]; }
  // The home slot of a hash (where its probe starts).
  [[nodiscard]] const Slot& home(uint64_t hash) const noexcept { return slots_[hash & mask_]; }

  // Calls f(slot) for every entry, in table order.
  template <class F>
  void for_each(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.id != kEmpty) f(s);
    }
  }

  // Bulk insert of absent keys into a table sized by reserve_for: entries are placed in order of
  // their home slot (a counting sort on its top bits), so the writes sweep the table once
  // instead of landing at random - loading a 10M-key map is then bound by memory bandwidth.
  // `payload_of(id)` gives each entry's payload.
  template <class Hashes, class PayloadOf>
  void insert_bulk(const Hashes& hashes, const std::vector<int64_t>& ids,
                   const PayloadOf& payload_of) {
    const int shift = std::max(0, static_cast<int>(std::bit_width(mask_)) - 16);  // <= 65536 buckets
    const size_t buckets = (mask_ >> shift) + 1;
    std::vector<uint32_t> start(buckets + 1, 0);
    for (int64_t id : ids) ++start[((hashes[static_cast<size_t>(id)] & mask_) >> shift) + 1];
    for (size_t b = 0; b < buckets; ++b) start[b + 1] += start[b];
    std::vector<int64_t> ordered(ids.size());
    for (int64_t id : ids) ordered[start[(hashes[static_cast<size_t>(id)] & mask_) >> shift]++] = id;
    if ((size_ + ids.size()) * 10 > slots_.size() * 7) reset((size_ + ids.size()) * 10 / 7 + 1);
    for (int64_t id : ordered) place(Slot{hashes[static_cast<size_t>(id)], id, payload_of(id)});
    size_ += ids.size();
  }

  // The slots as bytes, for persistence: loading them back skips rebuilding the table.
  [[nodiscard]] std::string_view raw_slots() const noexcept {
    return {reinterpret_cast<const char*>(slots_.data()), slots_.size() * sizeof(Slot)};
  }

  // Replaces the table with slots saved by raw_slots(). Returns false (leaving the table empty)
  // unless they form a valid table of `size` entries with ids in [0, ids): a power-of-two
  // capacity, a free slot, and every entry reachable by linear probing from its home slot. So
  // lookups in a restored table always terminate and never index out of range.
  [[nodiscard]] bool restore_slots(std::string_view bytes, size_t size, int64_t ids) {
    const size_t capacity = bytes.size() / sizeof(Slot);
    if (bytes.size() % sizeof(Slot) != 0 || capacity < 16 || !std::has_single_bit(capacity) ||
        size >= capacity) {
      return false;
    }
    slots_.resize(capacity);
    std::memcpy(slots_.data(), bytes.data(), bytes.size());
    mask_ = capacity - 1;
    size_ = size;
    if (!well_formed(ids)) {
      reset(16);
      return false;
    }
    return true;
  }

  // Re-places every entry in a table of `capacity` slots (rounded up to a power of two, and
  // kept above the maximum load factor).
  void rehash(size_t capacity) {
    capacity = std::bit_ceil(std::max({capacity, size_ * 10 / 7 + 1, size_t{16}}));
    if (capacity == slots_.size()) return;
    std::vector<Slot, featforge::HugePageAllocator<Slot>> old;
    old.swap(slots_);
    slots_.assign(capacity, Slot{0, kEmpty, {}});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.id != kEmpty) place(s);
    }
  }

  // Inserts an id for a key known to be absent; returns its slot.
  Slot& insert(uint64_t hash, int64_t id, const Payload& payload = {}) {
    // Keep the load factor at or below 0.7: a probe costs one cache miss for the home slot and
    // the rest of the (short) run is in the same or next line.
    if ((size_ + 1) * 10 > slots_.size() * 7) grow();
    ++size_;
    return place(Slot{hash, id, payload});
  }

  // Removes the entry holding `id` (found by its hash). Backward-shift deletion: later entries of
  // the probe run move up, so lookups never need tombstones.
  void erase(uint64_t hash, int64_t id) {
    size_t i = hash & mask_;
    while (slots_[i].id != id) {
      if (slots_[i].id == kEmpty) return;
      i = (i + 1) & mask_;
    }
    size_t j = i;
    for (;;) {
      j = (j + 1) & mask_;
      if (slots_[j].id == kEmpty) break;
      const size_t home = slots_[j].hash & mask_;
      // Move slots_[j] into the hole at i unless its home lies cyclically in (i, j].
      const bool home_in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!home_in_range) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{0, kEmpty, {}};
    --size_;
  }

 private:

  bool well_formed(int64_t ids) const {
    size_t empty = 0;
    while (empty < slots_.size() && slots_[empty].id != kEmpty) ++empty;
    if (empty == slots_.size()) return false;
    // Walk once around from a free slot, tracking where the current run of full slots began:
    // an entry is reachable iff its home slot lies within its run, at or before it. Written
    // without branches on the slot contents (a 70%-full table would mispredict them).
    size_t entries = 0, run_start = (empty + 1) & mask_;
    bool bad = false;
    for (size_t step = 1; step <= slots_.size(); ++step) {
      const size_t pos = (empty + step) & mask_;
      const Slot& s = slots_[pos];
      const bool free = s.id == kEmpty;
      const bool id_ok = static_cast<uint64_t>(s.id) < static_cast<uint64_t>(ids);
      const bool reachable = ((pos - (s.hash & mask_)) & mask_) <= ((pos - run_start) & mask_);
      bad |= free ? s.hash != 0 : !(id_ok && reachable);
      entries += !free;
      run_start = free ? (pos + 1) & mask_ : run_start;
    }
    return !bad && entries == size_;
  }

  Slot& place(const Slot& entry) {
    size_t pos = entry.hash & mask_;
    while (slots_[pos].id != kEmpty) pos = (pos + 1) & mask_;
    slots_[pos] = entry;
    return slots_[pos];
  }

  void grow() {
    std::vector<Slot, featforge::HugePageAllocator<Slot>> old;
    old.swap(slots_);
    slots_.assign(old.size() * 2, Slot{0, kEmpty, {}});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.id != kEmpty) place(s);  // the stored hash: no key is re-hashed
    }
  }

  static_assert(sizeof(Slot) == 16 + (std::is_empty_v<Payload> ? 0 : sizeof(Payload)));

  std::vector<Slot, featforge::HugePageAllocator<Slot>> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace featforge::idmap
