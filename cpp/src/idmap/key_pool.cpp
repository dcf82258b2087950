#include <algorithm>
#include <stdexcept>

#include "featforge/idmap/idmap.h"

namespace featforge::idmap {

int64_t KeyPool::add(uint64_t hash, int64_t int_key, std::string_view str_key, int64_t count,
                     int64_t last_seen) {
  int64_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = static_cast<int64_t>(live_.size());
  }
  add_at(slot, hash, int_key, str_key, count, last_seen);
  return slot;
}

void KeyPool::add_at(int64_t slot, uint64_t hash, int64_t int_key, std::string_view str_key,
                     int64_t count, int64_t last_seen) {
  thaw();
  const auto s = static_cast<size_t>(slot);
  if (s >= live_.size()) {
    // New slots up to `slot`; any skipped over (restoring exact indices) start free.
    for (size_t k = live_.size(); k < s; ++k) free_.push_back(static_cast<int64_t>(k));
    const size_t n = s + 1;
    live_.resize(n, 0);
    hashes_.resize(n, 0);
    if (type_ == KeyType::int64) {
      int_keys_.resize(n, 0);
    } else {
      key_offsets_.resize(n, 0);
      key_lengths_.resize(n, 0);
    }
  } else {
    if (live_[s]) throw std::logic_error("KeyPool slot already in use");
    auto it = std::find(free_.begin(), free_.end(), slot);
    if (it != free_.end()) free_.erase(it);
  }
  live_[s] = 1;
  hashes_[s] = hash;
  if (type_ == KeyType::int64) {
    int_keys_[s] = int_key;
  } else {
    if (str_key.size() > UINT32_MAX) throw std::length_error("key longer than 4 GiB");
    key_offsets_[s] = arena_.size();
    key_lengths_[s] = static_cast<uint32_t>(str_key.size());
    arena_.append(str_key);
  }
  table_.insert(hash, slot, Counters{count, last_seen});
}

void KeyPool::restore(big_vector<uint8_t> live, big_vector<uint64_t> hashes,
                      const big_vector<Counters>& counters, big_vector<int64_t> int_keys,
                      std::vector<uint32_t> lengths, std::string arena, std::string_view table) {
  discard_index();
  const size_t n = live.size();
  live_ = std::move(live);
  hashes_ = std::move(hashes);
  free_.clear();
  size_t live_count = 0;
  for (size_t s = 0; s < n; ++s) live_count += live_[s] != 0;
  if (type_ == KeyType::int64) {
    int_keys_ = std::move(int_keys);
  } else {
    key_lengths_ = std::move(lengths);
    key_offsets_.resize(n);
    uint64_t at = 0;
    for (size_t s = 0; s < n; ++s) {
      key_offsets_[s] = at;
      at += key_lengths_[s];
    }
    arena_ = std::move(arena);
    arena_garbage_ = 0;
  }
  for (size_t s = 0; s < n; ++s) {
    if (!live_[s]) free_.push_back(static_cast<int64_t>(s));
  }
  if (!table.empty()) {
    // The checksum already vouches for the bytes; this check keeps even a forged file from
    // making lookups loop or read out of range.
    if (!table_.restore_slots(table, live_count, static_cast<int64_t>(n))) {
      throw std::invalid_argument("IdMap file is corrupt (hash table)");
    }
    return;
  }
  std::vector<int64_t> ids;
  ids.reserve(live_count);
  for (size_t s = 0; s < n; ++s) {
    if (live_[s]) ids.push_back(static_cast<int64_t>(s));
  }
  if (counters.size() != n) throw std::invalid_argument("IdMap file is corrupt (counters)");
  table_.reserve_for(live_count);
  table_.insert_bulk(hashes_, ids, [&](int64_t id) { return counters[static_cast<size_t>(id)]; });
}

big_vector<KeyPool::Counters> KeyPool::counters_by_slot() const {
  if (indexed_) return frozen_counters_;
  big_vector<Counters> out(live_.size(), Counters{0, 0});
  table_.for_each([&](const Entry& e) { out[static_cast<size_t>(e.id)] = e.payload; });
  return out;
}

void KeyPool::remove(int64_t slot) {
  thaw();
  const auto s = static_cast<size_t>(slot);
  table_.erase(hashes_[s], slot);
  live_[s] = 0;
  if (type_ == KeyType::string) arena_garbage_ += key_lengths_[s];
  free_.push_back(slot);
  compact_arena();
}

void KeyPool::compact_arena() {
  if (type_ != KeyType::string || arena_garbage_ < (int64_t{1} << 20) ||
      arena_garbage_ * 2 < static_cast<int64_t>(arena_.size())) {
    return;
  }
  std::string fresh;
  fresh.reserve(arena_.size() - static_cast<size_t>(arena_garbage_));
  for (size_t s = 0; s < live_.size(); ++s) {
    if (!live_[s]) continue;
    const std::string_view k(arena_.data() + key_offsets_[s], key_lengths_[s]);
    key_offsets_[s] = fresh.size();
    fresh.append(k);
  }
  arena_.swap(fresh);
  arena_garbage_ = 0;
}

int64_t KeyPool::bytes() const noexcept {
  const auto slots = static_cast<int64_t>(live_.size());
  int64_t b = static_cast<int64_t>(table_.bytes()) + slots * (8 + 1);
  if (indexed_) {
    b += static_cast<int64_t>(index_.bytes() + frozen_counters_.size() * sizeof(Counters));
  }
  if (type_ == KeyType::int64) {
    b += slots * 8;
  } else {
    b += slots * (8 + 4) + static_cast<int64_t>(arena_.size());
  }
  return b;
}

void VictimOrder::resize(int64_t slots) {
  if (static_cast<int64_t>(prev_.size()) < slots) {
    prev_.resize(static_cast<size_t>(slots), -1);
    next_.resize(static_cast<size_t>(slots), -1);
    slot_count_.resize(static_cast<size_t>(slots), 0);
  }
}

void VictimOrder::clear() {
  prev_.clear();
  next_.clear();
  slot_count_.clear();
  group_tail_.clear();
  head_ = tail_ = -1;
}

void VictimOrder::link_after(int64_t slot, int64_t after) {
  const auto s = static_cast<size_t>(slot);
  if (after == -1) {
    prev_[s] = -1;
    next_[s] = head_;
    if (head_ != -1) prev_[static_cast<size_t>(head_)] = slot;
    head_ = slot;
    if (tail_ == -1) tail_ = slot;
    return;
  }
  const auto a = static_cast<size_t>(after);
  prev_[s] = after;
  next_[s] = next_[a];
  if (next_[a] != -1) prev_[static_cast<size_t>(next_[a])] = slot;
  next_[a] = slot;
  if (tail_ == after) tail_ = slot;
}

void VictimOrder::push_back(int64_t slot) {
  resize(slot + 1);
  link_after(slot, tail_);
}

void VictimOrder::remove(int64_t slot) {
  const auto s = static_cast<size_t>(slot);
  // LFU bookkeeping: if this slot ends its count's run, the run now ends at its predecessor.
  auto it = group_tail_.find(slot_count_[s]);
  if (it != group_tail_.end() && it->second == slot) {
    const int64_t p = prev_[s];
    if (p != -1 && slot_count_[static_cast<size_t>(p)] == slot_count_[s]) {
      it->second = p;
    } else {
      group_tail_.erase(it);
    }
  }
  if (prev_[s] != -1) {
    next_[static_cast<size_t>(prev_[s])] = next_[s];
  } else {
    head_ = next_[s];
  }
  if (next_[s] != -1) {
    prev_[static_cast<size_t>(next_[s])] = prev_[s];
  } else {
    tail_ = prev_[s];
  }
  prev_[s] = next_[s] = -1;
}

void VictimOrder::touch_lru(int64_t slot) {
  if (slot == tail_) return;
  remove(slot);
  link_after(slot, tail_);
}

void VictimOrder::insert_lfu(int64_t slot, int64_t count) {
  resize(slot + 1);
  const auto s = static_cast<size_t>(slot);
  slot_count_[s] = count;
  // Place after the run of the largest count <= `count` (runs are sorted ascending). Scanning
  // from the head is O(number of distinct counts below), bounded in practice by min_count.
  int64_t after = -1;
  auto it = group_tail_.find(count);
  if (it != group_tail_.end()) {
    after = it->second;
  } else {
    for (int64_t cur = head_; cur != -1 && slot_count_[static_cast<size_t>(cur)] <= count;
         cur = next_[static_cast<size_t>(cur)]) {
      after = cur;
    }
  }
  link_after(slot, after);
  group_tail_[count] = slot;
}

void VictimOrder::bump_lfu(int64_t slot, int64_t old_count) {
  const auto s = static_cast<size_t>(slot);
  const int64_t new_count = old_count + 1;
  // Where the slot goes: after the end of the new count's run if it exists, else right after the
  // end of its old run (which is where the new run starts, keeping the list sorted).
  int64_t after;
  auto next_run = group_tail_.find(new_count);
  if (next_run != group_tail_.end()) {
    after = next_run->second;
  } else {
    auto old_run = group_tail_.find(old_count);
    after = old_run != group_tail_.end() ? old_run->second : prev_[s];
  }
  if (after == slot) after = prev_[s];  // the slot was its own run's end
  remove(slot);
  slot_count_[s] = new_count;
  link_after(slot, after);
  group_tail_[new_count] = slot;
}

std::vector<int64_t> VictimOrder::order() const {
  std::vector<int64_t> out;
  for (int64_t cur = head_; cur != -1; cur = next_[static_cast<size_t>(cur)]) out.push_back(cur);
  return out;
}

}  // namespace featforge::idmap
