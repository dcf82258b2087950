// featforge's stable C++ API (docs/design.md §15): what a C++ ranking service needs to compute
// the features the Python package computes offline - hash values, look keys up in a saved
// IdMap, query a saved WindowAggregator checkpoint - running the same core code, so the results
// are equal bit for bit. Link featforge::core (find_package(featforge CONFIG REQUIRED)).
//
// This header uses only the standard library and keeps its shape within a minor version. The
// other headers under featforge/ are the core's internal API: installed, usable, but free to
// change between versions.
//
// Errors are exceptions: std::invalid_argument for a bad argument or a damaged or foreign file
// (the message says which), std::system_error for a file that cannot be opened or read.
// Thread safety: every const member function may be called from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace featforge::serving {

// The library's version, "major.minor.patch".
[[nodiscard]] const char* version() noexcept;

// ---- Hashing (docs/design.md §4, §5) ------------------------------------------------------------
// Each value is hashed over its canonical bytes, as featforge.hash hashes an Arrow column of the
// matching type: int64_t as 8 little-endian bytes (Arrow int64), int32_t as 4 (Arrow int32),
// double as the IEEE-754 bytes with -0.0 as 0.0 and every NaN as one quiet NaN (Arrow float64),
// a string_view as its bytes (Arrow string/binary).

enum class HashAlgo { xxh3, xxh64, murmur3 };

struct HashOptions {
  HashAlgo algo = HashAlgo::xxh3;
  uint64_t seed = 0;  // below 2^32 for murmur3
};

// featforge.hash: the 64-bit hash for xxh3/xxh64; for murmur3 the 32-bit hash zero-extended
// (Python returns it as int32: static_cast<int32_t> of the low 32 bits).
[[nodiscard]] std::vector<uint64_t> hash(std::span<const int64_t> values, HashOptions options = {});
[[nodiscard]] std::vector<uint64_t> hash(std::span<const int32_t> values, HashOptions options = {});
[[nodiscard]] std::vector<uint64_t> hash(std::span<const double> values, HashOptions options = {});
[[nodiscard]] std::vector<uint64_t> hash(std::span<const std::string_view> values,
                                         HashOptions options = {});

// featforge.hash_bucket: the hash read as unsigned at its width, modulo num_buckets (>= 1).
[[nodiscard]] std::vector<int64_t> hash_bucket(std::span<const int64_t> values, int64_t num_buckets,
                                               HashOptions options = {});
[[nodiscard]] std::vector<int64_t> hash_bucket(std::span<const int32_t> values, int64_t num_buckets,
                                               HashOptions options = {});
[[nodiscard]] std::vector<int64_t> hash_bucket(std::span<const double> values, int64_t num_buckets,
                                               HashOptions options = {});
[[nodiscard]] std::vector<int64_t> hash_bucket(std::span<const std::string_view> values,
                                               int64_t num_buckets, HashOptions options = {});

// featforge.fid: bit 63 = 0, slot (0 <= slot < 32768) in bits 48..62, the low 48 hash bits below.
[[nodiscard]] std::vector<int64_t> fid(std::span<const int64_t> values, int64_t slot,
                                       HashOptions options = {});
[[nodiscard]] std::vector<int64_t> fid(std::span<const int32_t> values, int64_t slot,
                                       HashOptions options = {});
[[nodiscard]] std::vector<int64_t> fid(std::span<const double> values, int64_t slot,
                                       HashOptions options = {});
[[nodiscard]] std::vector<int64_t> fid(std::span<const std::string_view> values, int64_t slot,
                                       HashOptions options = {});

// ---- IdMap lookups (docs/design.md §6, §7) ------------------------------------------------------

// An IdMap file written by featforge (IdMap.save, Pipeline.save: any format version the core
// reads), loaded for lookups only: nothing is ever inserted. Usually the map was frozen first.
class IdMapReader {
 public:
  // Loads and checks the file (magic, version, checksum, hash contract).
  [[nodiscard]] static IdMapReader load(const std::string& path);

  // Indices as IdMap.lookup(keys) (insert=False) gives them: a known key's index, an unknown
  // key's OOV bucket (xxh3(key, seed) % num_oov_buckets), and -1 where Python gives null (an
  // unknown key when num_oov_buckets == 0). Integer keys of any width are looked up as their
  // int64 value. Throws std::invalid_argument when the key kind does not match the map's.
  [[nodiscard]] std::vector<int64_t> lookup(std::span<const int64_t> keys) const;
  [[nodiscard]] std::vector<int64_t> lookup(std::span<const std::string_view> keys) const;

  [[nodiscard]] bool string_keys() const noexcept;
  [[nodiscard]] bool frozen() const noexcept;
  [[nodiscard]] int64_t size() const;  // known keys
  [[nodiscard]] int64_t num_oov_buckets() const noexcept;
  // The hash contract recorded in the file (e.g. "featforge-idmap;hash=xxh3_64;seed=0;...").
  [[nodiscard]] std::string contract() const;

  IdMapReader(IdMapReader&&) noexcept;
  IdMapReader& operator=(IdMapReader&&) noexcept;
  ~IdMapReader();

 private:
  struct Impl;
  explicit IdMapReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---- Window state queries (docs/design.md §8, §9) -----------------------------------------------

// The window definition a checkpoint was written for, in the terms the core records: the C++
// side does not parse the Python WindowSpec (durations, column names), so give the windows in
// the time column's unit (timestamp[ms] and "1h": 3'600'000). Loading refuses a checkpoint
// written for any other definition.
struct WindowSpec {
  std::vector<int64_t> windows;  // in the WindowSpec's order
  std::string closed = "left";   // "left", "right", "both" or "none"
  // Per value column, in the WindowSpec's order: its aggregations in order ("count", "sum",
  // "mean", "min", "max", "last", "std").
  std::vector<std::vector<std::string>> aggs;
};

// One key column of a query (integer keys of any width are their int64 value). Borrows the
// caller's values: they must outlive the query call.
class KeyColumn {
 public:
  KeyColumn(std::span<const int64_t> values) noexcept : ints_(values) {}  // NOLINT: implicit
  KeyColumn(std::span<const std::string_view> values) noexcept            // NOLINT: implicit
      : strings_(values), is_string_(true) {}
  [[nodiscard]] bool is_string() const noexcept { return is_string_; }
  [[nodiscard]] std::span<const int64_t> ints() const noexcept { return ints_; }
  [[nodiscard]] std::span<const std::string_view> strings() const noexcept { return strings_; }
  [[nodiscard]] size_t size() const noexcept { return is_string_ ? strings_.size() : ints_.size(); }

 private:
  std::span<const int64_t> ints_;
  std::span<const std::string_view> strings_;
  bool is_string_ = false;
};

// One output column of a query. Columns come in the order of WindowSpec.output_names() in
// Python: per window, count_{w}, then per value column each requested aggregation.
struct FeatureColumn {
  bool is_count = false;        // count_{w} and {value}_count_{w}: int64; the rest float64
  std::vector<int64_t> counts;  // is_count: one per key
  std::vector<double> values;   // otherwise: one per key
  std::vector<uint8_t> valid;   // 0 where Python gives null (e.g. the mean of an empty window)
};

// A WindowAggregator checkpoint (WindowAggregator.save, or a pipeline's window state), loaded
// for queries: WindowAggregator.query(keys, at=...) in C++.
class WindowReader {
 public:
  // The file as Python writes it (a length-prefixed JSON header, skipped, then the core's
  // checksummed state) or the core's state alone.
  [[nodiscard]] static WindowReader load(const std::string& path, const WindowSpec& spec);
  [[nodiscard]] static WindowReader from_bytes(std::string_view bytes, const WindowSpec& spec);

  // The features at time `at` (the time column's integer storage) of each key: what backfill
  // gives a row of that key at that time (docs/design.md §8). Unknown keys get empty windows.
  // One column per key column of the spec (a composite key: several, equally long).
  [[nodiscard]] std::vector<FeatureColumn> query(std::span<const KeyColumn> keys, int64_t at) const;
  [[nodiscard]] std::vector<FeatureColumn> query(std::span<const int64_t> keys, int64_t at) const;
  [[nodiscard]] std::vector<FeatureColumn> query(std::span<const std::string_view> keys,
                                                 int64_t at) const;

  [[nodiscard]] int64_t keys() const;       // keys with state
  [[nodiscard]] int64_t watermark() const;  // the latest event time seen (INT64_MIN: none)

  WindowReader(WindowReader&&) noexcept;
  WindowReader& operator=(WindowReader&&) noexcept;
  ~WindowReader();

 private:
  struct Impl;
  explicit WindowReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace featforge::serving
