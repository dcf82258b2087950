// The stable C++ API (featforge/featforge.h): thin wrappers that hand the caller's values to the
// same core entry points the Python bindings call, as Arrow arrays borrowing the caller's memory.
#include "featforge/featforge.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <system_error>

#include "featforge/arrow/c_abi.h"
#include "featforge/arrow/owners.h"
#include "featforge/arrow/view.h"
#include "featforge/hashing/kernels.h"
#include "featforge/idmap/idmap.h"
#include "featforge/window/engine.h"

#ifndef FEATFORGE_VERSION
#define FEATFORGE_VERSION "unknown"
#endif

namespace featforge::serving {

namespace {

// The arrays below borrow memory: nothing to free, but the C Data Interface needs a release.
void release_schema(ArrowSchema* s) { s->release = nullptr; }
void release_array(ArrowArray* a) { a->release = nullptr; }

// A non-null Arrow array over the caller's values: fixed-width values are read in place,
// strings are laid out once as offsets + bytes.
class Borrowed {
 public:
  Borrowed(const char* format, int64_t length, const void* values) {
    static constexpr int64_t kNoValues = 0;  // an empty span may have no data pointer
    init(format, length);
    buffers_[1] = values != nullptr ? values : &kNoValues;
    array_.n_buffers = 2;
  }
  explicit Borrowed(std::span<const std::string_view> strings) {
    size_t total = 0;
    for (std::string_view s : strings) total += s.size();
    bytes_.reserve(total);
    const bool large = total > static_cast<size_t>(std::numeric_limits<int32_t>::max());
    if (large) {
      offsets64_.push_back(0);
    } else {
      offsets32_.push_back(0);
    }
    for (std::string_view s : strings) {
      bytes_.append(s);
      if (large) {
        offsets64_.push_back(static_cast<int64_t>(bytes_.size()));
      } else {
        offsets32_.push_back(static_cast<int32_t>(bytes_.size()));
      }
    }
    init(large ? "U" : "u", static_cast<int64_t>(strings.size()));
    buffers_[1] = large ? static_cast<const void*>(offsets64_.data())
                        : static_cast<const void*>(offsets32_.data());
    buffers_[2] = bytes_.data();
    array_.n_buffers = 3;
  }
  Borrowed(const Borrowed&) = delete;
  Borrowed& operator=(const Borrowed&) = delete;

  [[nodiscard]] arrow::ArrayView view() const { return {&schema_, &array_}; }

 private:
  void init(const char* format, int64_t length) {
    schema_.format = format;
    schema_.name = "";
    schema_.flags = 0;
    schema_.release = release_schema;
    array_.length = length;
    array_.buffers = buffers_;
    array_.release = release_array;
  }
  ArrowSchema schema_{};
  ArrowArray array_{};
  const void* buffers_[3] = {nullptr, nullptr, nullptr};
  std::vector<int32_t> offsets32_;
  std::vector<int64_t> offsets64_;
  std::string bytes_;
};

Borrowed borrow(std::span<const int64_t> v) {
  return {"l", static_cast<int64_t>(v.size()), v.data()};
}
Borrowed borrow(std::span<const int32_t> v) {
  return {"i", static_cast<int64_t>(v.size()), v.data()};
}
Borrowed borrow(std::span<const double> v) {
  return {"g", static_cast<int64_t>(v.size()), v.data()};
}
Borrowed borrow(std::span<const std::string_view> v) { return Borrowed(v); }

hashing::HashOptions core_options(HashOptions o) {
  hashing::HashOptions out;
  switch (o.algo) {
    case HashAlgo::xxh3:
      out.algo = hashing::Algo::xxh3;
      break;
    case HashAlgo::xxh64:
      out.algo = hashing::Algo::xxh64;
      break;
    case HashAlgo::murmur3:
      if (o.seed > std::numeric_limits<uint32_t>::max()) {
        throw std::invalid_argument("seed must be < 2^32 for murmur3, got " +
                                    std::to_string(o.seed));
      }
      out.algo = hashing::Algo::murmur3;
      break;
  }
  out.seed = o.seed;
  return out;
}

// Element i of a result column the core returned (no nulls: the inputs have none).
template <class T>
const T* result_values(const arrow::OwnedArray& a) {
  return static_cast<const T*>(a.array->buffers[1]) + a.array->offset;
}

template <class Values>
std::vector<uint64_t> hash_any(Values values, HashOptions options) {
  const Borrowed in = borrow(values);
  const arrow::OwnedArray out = hashing::hash(in.view(), core_options(options));
  const auto n = static_cast<size_t>(out.array->length);
  std::vector<uint64_t> hashes(n);
  if (options.algo == HashAlgo::murmur3) {
    const auto* h = result_values<int32_t>(out);
    for (size_t i = 0; i < n; ++i) hashes[i] = static_cast<uint32_t>(h[i]);
  } else {
    const auto* h = result_values<uint64_t>(out);
    hashes.assign(h, h + n);
  }
  return hashes;
}

std::vector<int64_t> int64_result(const arrow::OwnedArray& out) {
  const auto* v = result_values<int64_t>(out);
  return {v, v + out.array->length};
}

template <class Values>
std::vector<int64_t> bucket_any(Values values, int64_t num_buckets, HashOptions options) {
  const Borrowed in = borrow(values);
  return int64_result(hashing::hash_bucket(in.view(), num_buckets, core_options(options)));
}

template <class Values>
std::vector<int64_t> fid_any(Values values, int64_t slot, HashOptions options) {
  const Borrowed in = borrow(values);
  return int64_result(hashing::fid(in.view(), slot, core_options(options)));
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::system_error(errno, std::generic_category(), "cannot open " + path);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw std::system_error(errno, std::generic_category(), "cannot read " + path);
  return bytes;
}

}  // namespace

const char* version() noexcept { return FEATFORGE_VERSION; }

std::vector<uint64_t> hash(std::span<const int64_t> v, HashOptions o) { return hash_any(v, o); }
std::vector<uint64_t> hash(std::span<const int32_t> v, HashOptions o) { return hash_any(v, o); }
std::vector<uint64_t> hash(std::span<const double> v, HashOptions o) { return hash_any(v, o); }
std::vector<uint64_t> hash(std::span<const std::string_view> v, HashOptions o) {
  return hash_any(v, o);
}

std::vector<int64_t> hash_bucket(std::span<const int64_t> v, int64_t n, HashOptions o) {
  return bucket_any(v, n, o);
}
std::vector<int64_t> hash_bucket(std::span<const int32_t> v, int64_t n, HashOptions o) {
  return bucket_any(v, n, o);
}
std::vector<int64_t> hash_bucket(std::span<const double> v, int64_t n, HashOptions o) {
  return bucket_any(v, n, o);
}
std::vector<int64_t> hash_bucket(std::span<const std::string_view> v, int64_t n, HashOptions o) {
  return bucket_any(v, n, o);
}

std::vector<int64_t> fid(std::span<const int64_t> v, int64_t slot, HashOptions o) {
  return fid_any(v, slot, o);
}
std::vector<int64_t> fid(std::span<const int32_t> v, int64_t slot, HashOptions o) {
  return fid_any(v, slot, o);
}
std::vector<int64_t> fid(std::span<const double> v, int64_t slot, HashOptions o) {
  return fid_any(v, slot, o);
}
std::vector<int64_t> fid(std::span<const std::string_view> v, int64_t slot, HashOptions o) {
  return fid_any(v, slot, o);
}

// ---- IdMapReader --------------------------------------------------------------------------------

struct IdMapReader::Impl {
  // lookup() without insert only takes the map's shared lock: concurrent readers are safe.
  mutable idmap::IdMap map;
};

IdMapReader::IdMapReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IdMapReader::IdMapReader(IdMapReader&&) noexcept = default;
IdMapReader& IdMapReader::operator=(IdMapReader&&) noexcept = default;
IdMapReader::~IdMapReader() = default;

IdMapReader IdMapReader::load(const std::string& path) {
  return IdMapReader(std::make_unique<Impl>(Impl{idmap::IdMap::load(path)}));
}

namespace {
std::vector<int64_t> lookup_in(idmap::IdMap& map, const Borrowed& keys) {
  const arrow::OwnedArray out = map.lookup(keys.view(), /*insert=*/false, nullptr);
  std::vector<int64_t> indices = int64_result(out);
  const auto* validity = static_cast<const uint8_t*>(out.array->buffers[0]);
  if (validity != nullptr && out.array->null_count != 0) {
    for (size_t i = 0; i < indices.size(); ++i) {
      if (!arrow::get_bit(validity, out.array->offset + static_cast<int64_t>(i))) indices[i] = -1;
    }
  }
  return indices;
}
}  // namespace

std::vector<int64_t> IdMapReader::lookup(std::span<const int64_t> keys) const {
  return lookup_in(impl_->map, borrow(keys));
}
std::vector<int64_t> IdMapReader::lookup(std::span<const std::string_view> keys) const {
  return lookup_in(impl_->map, borrow(keys));
}
bool IdMapReader::string_keys() const noexcept {
  return impl_->map.options().key_type == idmap::KeyType::string;
}
bool IdMapReader::frozen() const noexcept { return impl_->map.frozen(); }
int64_t IdMapReader::size() const { return impl_->map.size(); }
int64_t IdMapReader::num_oov_buckets() const noexcept {
  return impl_->map.options().num_oov_buckets;
}
std::string IdMapReader::contract() const { return impl_->map.contract(); }

// ---- WindowReader -------------------------------------------------------------------------------

struct WindowReader::Impl {
  // query() only reads the aggregator's state (it is not const in the core's signature).
  mutable window::Aggregator aggregator;
};

WindowReader::WindowReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WindowReader::WindowReader(WindowReader&&) noexcept = default;
WindowReader& WindowReader::operator=(WindowReader&&) noexcept = default;
WindowReader::~WindowReader() = default;

namespace {

window::Spec core_spec(const WindowSpec& spec) {
  window::Spec out;
  out.layout.windows = spec.windows;
  out.layout.closed = window::parse_closed(spec.closed);
  for (const auto& column : spec.aggs) {
    std::vector<window::Agg> parsed;
    for (const auto& a : column) parsed.push_back(window::parse_agg(a));
    out.aggs.push_back(std::move(parsed));
  }
  window::finalize(out);
  return out;
}

// The core's state inside a checkpoint file as window.py writes it: u64 (little-endian) length
// of a JSON header, the header, then the core's bytes. The header names what the core bytes
// record too (checked against the caller's spec), so it is only recognised, not parsed.
std::string_view core_state(std::string_view file) {
  constexpr std::string_view kCoreMagic = "FFWAGG01";
  constexpr std::string_view kFormat = "\"featforge-window-aggregator\"";
  if (file.substr(0, kCoreMagic.size()) == kCoreMagic) return file;
  uint64_t header = 0;
  if (file.size() < 8) throw std::invalid_argument("window checkpoint is truncated");
  std::memcpy(&header, file.data(), 8);
  if (header > file.size() - 8 || file.substr(8, header).find(kFormat) == std::string_view::npos) {
    throw std::invalid_argument("not a featforge window checkpoint");
  }
  const std::string_view state = file.substr(8 + header);
  if (state.empty()) {
    throw std::invalid_argument(
        "window checkpoint holds no state (it was saved before any transform)");
  }
  return state;
}

}  // namespace

WindowReader WindowReader::from_bytes(std::string_view bytes, const WindowSpec& spec) {
  return WindowReader(std::make_unique<Impl>(
      Impl{window::Aggregator::deserialize(core_state(bytes), core_spec(spec))}));
}

WindowReader WindowReader::load(const std::string& path, const WindowSpec& spec) {
  return from_bytes(read_file(path), spec);
}

std::vector<FeatureColumn> WindowReader::query(std::span<const KeyColumn> keys, int64_t at) const {
  if (keys.empty()) throw std::invalid_argument("query needs at least one key column");
  std::vector<std::unique_ptr<Borrowed>> arrays;
  std::vector<arrow::ArrayView> views;
  for (const KeyColumn& k : keys) {
    if (k.size() != keys[0].size()) {
      throw std::invalid_argument("key columns must have equal lengths");
    }
    arrays.push_back(k.is_string() ? std::make_unique<Borrowed>(k.strings())
                                   : std::make_unique<Borrowed>("l", static_cast<int64_t>(k.size()),
                                                                k.ints().data()));
    views.push_back(arrays.back()->view());
  }
  const arrow::OwnedArray out = impl_->aggregator.query(views, at);
  std::vector<FeatureColumn> columns;
  for (int64_t c = 0; c < out.array->n_children; ++c) {
    const ArrowArray& child = *out.array->children[c];
    const auto n = static_cast<size_t>(child.length);
    FeatureColumn col;
    col.is_count = std::strcmp(out.schema->children[c]->format, "l") == 0;
    const auto* bits = static_cast<const uint8_t*>(child.buffers[0]);
    col.valid.resize(n);
    for (size_t i = 0; i < n; ++i) {
      col.valid[i] =
          bits == nullptr || arrow::get_bit(bits, child.offset + static_cast<int64_t>(i));
    }
    if (col.is_count) {
      const auto* v = static_cast<const int64_t*>(child.buffers[1]) + child.offset;
      col.counts.assign(v, v + n);
    } else {
      const auto* v = static_cast<const double*>(child.buffers[1]) + child.offset;
      col.values.assign(v, v + n);
    }
    columns.push_back(std::move(col));
  }
  return columns;
}

std::vector<FeatureColumn> WindowReader::query(std::span<const int64_t> keys, int64_t at) const {
  const KeyColumn column(keys);
  return query(std::span<const KeyColumn>(&column, 1), at);
}
std::vector<FeatureColumn> WindowReader::query(std::span<const std::string_view> keys,
                                               int64_t at) const {
  const KeyColumn column(keys);
  return query(std::span<const KeyColumn>(&column, 1), at);
}

int64_t WindowReader::keys() const { return impl_->aggregator.stats().keys; }
int64_t WindowReader::watermark() const { return impl_->aggregator.stats().watermark; }

}  // namespace featforge::serving
