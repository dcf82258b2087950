// The IdMap file format (version 3), little-endian:
//   "FFIDMAP1"  u32 version  u32 contract length  contract bytes
//   options: u8 key_type, u8 eviction, u8 frozen, i64 num_oov_buckets, i64 min_count,
//            i64 max_size, u64 seed, i64 max_candidates, i64 sequence
//   counters: 7 x i64 (lookups, oov_hits, admissions, evictions, rejected, candidates_dropped, 0)
//   two pools (admitted keys, then candidates), each:
//     i64 slots; u8 live[slots];
//     int64 keys: i64 key[slots] | string keys: u32 length[slots], u64 bytes, key bytes
//     i64 table capacity; (u64 hash, i64 slot, i64 count, i64 last_seen)[capacity]: the hash
//     table itself, keys' counters included, so loading copies it instead of rebuilding it
//   victim order: i64 n, i64 slot[n]
//   u64 XXH3-64 (seed 0) of everything above, then "FFIDEND1".
// Older versions are read too, and their tables rebuilt: version 2 has per-slot counters
// ((i64 count, i64 last_seen)[slots] after the live flags) and a (u64 hash, i64 slot) table;
// version 1 has i64 count[slots]; i64 last_seen[slots] there and no table.
// Loading reads the file in one go, checks magic, version, length and checksum before parsing,
// and bounds-checks every field, so a truncated or corrupted file is a ValueError, never a crash.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "featforge/hash/xxh3.h"
#include "featforge/idmap/idmap.h"
#include "featforge/hashing/fixed_width.h"
#include "featforge/io/binary.h"

namespace featforge::idmap {

namespace {

constexpr std::string_view kMagic = "FFIDMAP1";
constexpr std::string_view kEndMagic = "FFIDEND1";
constexpr uint32_t kVersion = 3;
constexpr uint32_t kOldestVersion = 1;
using io::Reader;
using io::Writer;

void write_pool(Writer& w, const KeyPool& pool) {
  const int64_t slots = pool.slots();
  w.put(slots);
  w.put_bytes(pool.raw_live());
  if (pool.type() == KeyType::int64) {
    if (pool.all_live()) {
      w.put_bytes(pool.raw_int_keys());
    } else {  // free slots are written as key 0
      std::vector<int64_t> keys(static_cast<size_t>(slots));
      for (int64_t s = 0; s < slots; ++s) keys[static_cast<size_t>(s)] = pool.live(s) ? pool.int_key(s) : 0;
      w.put_array(keys);
    }
  } else {
    std::vector<uint32_t> lengths(static_cast<size_t>(slots));
    uint64_t total = 0;
    for (int64_t s = 0; s < slots; ++s) {
      lengths[static_cast<size_t>(s)] = pool.live(s) ? static_cast<uint32_t>(pool.str_key(s).size()) : 0;
      total += lengths[static_cast<size_t>(s)];
    }
    w.put_array(lengths);
    w.put(total);
    for (int64_t s = 0; s < slots; ++s) {
      if (pool.live(s)) w.put_bytes(pool.str_key(s));
    }
  }
  pool.with_raw_table([&](std::string_view table) {
    w.put(static_cast<int64_t>(table.size() / sizeof(KeyPool::Entry)));
    w.put_bytes(table);
  });
}

void read_pool(Reader& r, KeyPool& pool, uint64_t seed, uint32_t version) {
  const auto slots = r.get<int64_t>();
  auto live = r.get_array_as<big_vector<uint8_t>>(slots);
  big_vector<KeyPool::Counters> counters;  // older versions: per slot; now in the table
  if (version == 2) {
    counters = r.get_array_as<big_vector<KeyPool::Counters>>(slots);
  } else if (version == 1) {
    const auto counts = r.get_array<int64_t>(slots);
    const auto seen = r.get_array<int64_t>(slots);
    counters.resize(counts.size());
    for (size_t s = 0; s < counts.size(); ++s) counters[s] = {counts[s], seen[s]};
  }
  big_vector<uint64_t> hashes(static_cast<size_t>(slots));
  big_vector<int64_t> int_keys;
  std::vector<uint32_t> lengths;
  std::string arena;
  if (pool.type() == KeyType::int64) {
    int_keys = r.get_array_as<big_vector<int64_t>>(slots);
    // All hashes at once, vectorised: loading is bulk work, not per-key work.
    hashing::fixed_width::xxh3_8(reinterpret_cast<const uint64_t*>(int_keys.data()), slots,
                                 hashes.data(), seed);
  } else {
    lengths = r.get_array<uint32_t>(slots);
    const auto total = r.get<uint64_t>();
    uint64_t sum = 0;
    for (uint32_t l : lengths) sum += l;
    if (sum != total) r.fail("corrupt (key lengths)");
    arena.assign(r.take(static_cast<size_t>(total)));
    const hash::Xxh3 hasher(seed);
    size_t at = 0;
    for (int64_t s = 0; s < slots; ++s) {
      const auto i = static_cast<size_t>(s);
      hashes[i] = hasher(arena.data() + at, lengths[i]);
      at += lengths[i];
    }
  }
  for (uint8_t l : live) {
    if (l > 1) r.fail("corrupt (live flags)");
  }
  std::string_view table;
  if (version >= 2) {
    const size_t entry = version == 2 ? 16 : sizeof(KeyPool::Entry);
    const auto capacity = r.get<int64_t>();
    if (capacity < 0 || static_cast<uint64_t>(capacity) > (uint64_t{1} << 58)) r.fail("corrupt (table size)");
    table = r.take(static_cast<size_t>(capacity) * entry);
    if (version == 2) table = {};  // (hash, slot) only: rebuilt with the per-slot counters
  }
  // Keys of a checksummed file written by save() are unique; no per-key duplicate probing here.
  pool.restore(std::move(live), std::move(hashes), counters,
               std::move(int_keys), std::move(lengths), std::move(arena), table);
}

}  // namespace

std::string IdMap::serialize() const {
  std::shared_lock lock(mutex_);
  Writer w;
  // The image's size up to the string key bytes, reserved so it is not re-copied as it grows.
  auto pool_bytes = [](const KeyPool& pool) {
    return static_cast<size_t>(pool.slots()) * (1 + 8) +
           static_cast<size_t>(pool.capacity()) * sizeof(KeyPool::Entry) + 64;
  };
  w.str().reserve(pool_bytes(keys_) + pool_bytes(candidates_) + 8 * static_cast<size_t>(keys_.slots()) + 1024);
  w.put_bytes(kMagic);
  w.put(kVersion);
  const std::string c = contract();
  w.put(static_cast<uint32_t>(c.size()));
  w.put_bytes(c);
  w.put(static_cast<uint8_t>(options_.key_type));
  w.put(static_cast<uint8_t>(options_.eviction));
  w.put(static_cast<uint8_t>(frozen_));
  w.put(options_.num_oov_buckets);
  w.put(options_.min_count);
  w.put(options_.max_size);
  w.put(options_.seed);
  w.put(options_.max_candidates);
  w.put(sequence_);
  for (int64_t v : {counters_.lookups, counters_.oov_hits, counters_.admissions,
                    counters_.evictions, counters_.rejected, counters_.candidates_dropped,
                    int64_t{0}}) {
    w.put(v);
  }
  write_pool(w, keys_);
  write_pool(w, candidates_);
  const std::vector<int64_t> order = order_.order();
  w.put(static_cast<int64_t>(order.size()));
  w.put_array(order);
  io::seal(w, kEndMagic);
  return std::move(w.str());
}

IdMap IdMap::deserialize(std::string_view bytes) {
  const std::string_view body = io::unseal(bytes, kMagic, kEndMagic, "IdMap file");
  if (body.size() < kMagic.size() + 4) throw std::invalid_argument("IdMap file is truncated");
  uint32_t version;
  std::memcpy(&version, body.data() + kMagic.size(), 4);
  if (version < kOldestVersion || version > kVersion) {
    throw std::invalid_argument("IdMap file has format version " + std::to_string(version) +
                                "; this featforge reads versions " +
                                std::to_string(kOldestVersion) + " to " + std::to_string(kVersion));
  }
  Reader r(body, "IdMap file");
  r.take(kMagic.size() + 4);
  const auto contract_len = r.get<uint32_t>();
  const std::string contract(r.take(contract_len));
  Options o;
  const auto key_type = r.get<uint8_t>();
  const auto eviction = r.get<uint8_t>();
  const auto frozen = r.get<uint8_t>();
  if (key_type > 1 || eviction > 2 || frozen > 1) throw std::invalid_argument("IdMap file is corrupt (options)");
  o.key_type = static_cast<KeyType>(key_type);
  o.eviction = static_cast<Eviction>(eviction);
  o.num_oov_buckets = r.get<int64_t>();
  o.min_count = r.get<int64_t>();
  o.max_size = r.get<int64_t>();
  o.seed = r.get<uint64_t>();
  o.max_candidates = r.get<int64_t>();
  IdMap map(o);
  if (map.contract() != contract) {
    throw std::invalid_argument("IdMap file was written under hash contract '" + contract +
                                "', this featforge uses '" + map.contract() + "'");
  }
  map.frozen_ = frozen != 0;
  map.sequence_ = r.get<int64_t>();
  map.counters_.lookups = r.get<int64_t>();
  map.counters_.oov_hits = r.get<int64_t>();
  map.counters_.admissions = r.get<int64_t>();
  map.counters_.evictions = r.get<int64_t>();
  map.counters_.rejected = r.get<int64_t>();
  map.counters_.candidates_dropped = r.get<int64_t>();
  (void)r.get<int64_t>();
  read_pool(r, map.keys_, o.seed, version);
  read_pool(r, map.candidates_, o.seed, version);
  if (map.frozen_) {
    map.keys_.index_for_lookups();
    if (o.key_type == KeyType::string) map.frozen_strings_.build(map.keys_);
  }
  const auto n_order = r.get<int64_t>();
  const auto order = r.get_array<int64_t>(n_order);
  if (!r.done()) throw std::invalid_argument("IdMap file is corrupt (trailing bytes)");
  if (o.eviction != Eviction::none && !map.frozen_) {
    const auto counters = map.keys_.counters_by_slot();
    if (static_cast<int64_t>(order.size()) != map.keys_.size()) {
      throw std::invalid_argument("IdMap file is corrupt (victim order)");
    }
    for (int64_t s : order) {
      if (s < 0 || s >= map.keys_.slots() || !map.keys_.live(s)) {
        throw std::invalid_argument("IdMap file is corrupt (victim order)");
      }
      if (o.eviction == Eviction::lru) {
        map.order_.push_back(s);
      } else {
        map.order_.insert_lfu(s, counters[static_cast<size_t>(s)].count);
      }
    }
  }
  return map;
}

void IdMap::save(const std::string& path) const {
  const std::string bytes = serialize();
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot write " + tmp);
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw std::system_error(err, std::generic_category(), "cannot write " + tmp);
    }
    written += static_cast<size_t>(n);
  }
  // fsync before rename: after a crash the path holds either the old file or the whole new one.
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw std::system_error(err, std::generic_category(), "cannot sync " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw std::system_error(err, std::generic_category(), "cannot rename to " + path);
  }
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);  // persist the rename itself; best effort on filesystems without it
    ::close(dfd);
  }
}

IdMap IdMap::load(const std::string& path) {
  // Map the file rather than reading it: the image is parsed in place from the page cache.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::system_error(err, std::generic_category(), "cannot stat " + path);
  }
  const auto size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return deserialize({});
  }
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (data == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "cannot map " + path);
  (void)::madvise(data, size, MADV_SEQUENTIAL);
  struct Unmap {
    void* p;
    size_t n;
    ~Unmap() { ::munmap(p, n); }
  } unmap{data, size};
  return deserialize(std::string_view(static_cast<const char*>(data), size));
}

}  // namespace featforge::idmap
