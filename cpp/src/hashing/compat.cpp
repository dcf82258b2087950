#include "featforge/hashing/compat.h"

#include <charconv>
#include <stdexcept>

#include "featforge/hash/farmhash.h"
#include "featforge/hash/siphash.h"

namespace featforge::hashing {

namespace {

using arrow::ArrayData;
using arrow::ArrayView;
using arrow::TypeId;

// Applies fn(i) -> int64 to every element; nulls stay null.
template <class Fn>
std::unique_ptr<ArrayData> map_int64(const ArrayView& v, Fn&& fn) {
  arrow::PrimitiveOutput<int64_t> out("l", v.length());
  for (int64_t i = 0; i < v.length(); ++i) out.values[i] = v.is_valid(i) ? fn(i) : 0;
  out.data->buffers[0] = arrow::copy_validity(v.validity(), v.offset(), v.length());
  out.data->null_count = v.null_count();
  return std::move(out.data);
}

template <class T>
std::string_view decimal(T value, char (&buffer)[24]) {
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  (void)ec;  // 24 bytes hold any 64-bit integer
  return {buffer, static_cast<size_t>(end - buffer)};
}

// Thomas Wang's 64-bit mix as folly publishes it (twang_mix64), used by TorchArrow's sigrid_hash.
[[nodiscard]] constexpr uint64_t twang_mix64(uint64_t key) noexcept {
  key = (~key) + (key << 21);
  key ^= key >> 24;
  key = key + (key << 3) + (key << 8);
  key ^= key >> 14;
  key = key + (key << 2) + (key << 4);
  key ^= key >> 28;
  key = key + (key << 31);
  return key;
}
// folly's hash_128_to_64(upper, lower) is CityHash's Hash128to64, which FarmHash calls
// HashLen16(lower, upper).
[[nodiscard]] inline uint64_t hash_128_to_64(uint64_t upper, uint64_t lower) noexcept {
  return hash::farmhash_detail::hash_len16(lower, upper);
}

// TensorFlow's FingerprintCat64: combines two fingerprints (published in TF's fingerprint.h).
[[nodiscard]] constexpr uint64_t fingerprint_cat64(uint64_t fp1, uint64_t fp2) noexcept {
  constexpr uint64_t kMul = 0xc6a4a7935bd1e995ULL;
  auto shift_mix = [](uint64_t v) { return v ^ (v >> 47); };
  uint64_t result = fp1 ^ kMul;
  result ^= shift_mix(fp2 * kMul) * kMul;
  result *= kMul;
  result = shift_mix(result) * kMul;
  return shift_mix(result);
}

// The per-element feature value tf.sparse.cross_hashed mixes in for one column.
std::vector<uint64_t> crossing_features(const ArrayView& v, size_t index) {
  std::vector<uint64_t> out(static_cast<size_t>(v.length()));
  auto ints = [&]<class T>(T*) {
    const T* values = v.values<T>();
    for (int64_t i = 0; i < v.length(); ++i) {
      out[static_cast<size_t>(i)] = static_cast<uint64_t>(static_cast<int64_t>(values[i]));
    }
  };
  switch (v.is_dictionary() ? TypeId::other : v.id()) {
    case TypeId::int8: ints(static_cast<int8_t*>(nullptr)); break;
    case TypeId::int16: ints(static_cast<int16_t*>(nullptr)); break;
    case TypeId::int32: ints(static_cast<int32_t*>(nullptr)); break;
    case TypeId::int64: ints(static_cast<int64_t*>(nullptr)); break;
    case TypeId::uint8: ints(static_cast<uint8_t*>(nullptr)); break;
    case TypeId::uint16: ints(static_cast<uint16_t*>(nullptr)); break;
    case TypeId::uint32: ints(static_cast<uint32_t*>(nullptr)); break;
    default:
      if (!arrow::is_binary_like(v.id()) || v.is_dictionary()) {
        throw unsupported_type("hashed_crossing: column " + std::to_string(index) +
                               " must be a string or integer column, got " +
                               arrow::type_name(v.schema()));
      }
      for (int64_t i = 0; i < v.length(); ++i) {
        const std::string_view b = v.bytes_at(i);
        out[static_cast<size_t>(i)] = hash::farmhash_fingerprint64(b.data(), b.size());
      }
  }
  return out;
}

}  // namespace

arrow::OwnedArray keras_hashed_crossing(const std::vector<ArrayView>& columns, int64_t num_bins) {
  if (columns.size() < 2) {
    throw std::invalid_argument("hashed_crossing needs at least two columns, got " +
                                std::to_string(columns.size()));
  }
  if (num_bins < 1) {
    throw std::invalid_argument("num_bins must be >= 1, got " + std::to_string(num_bins));
  }
  const int64_t n = columns[0].length();
  std::vector<std::vector<uint64_t>> features;
  for (size_t c = 0; c < columns.size(); ++c) {
    if (columns[c].length() != n) {
      throw std::invalid_argument("hashed_crossing: columns must have equal lengths");
    }
    features.push_back(crossing_features(columns[c], c));
  }
  constexpr uint64_t kDefaultKey = 0xDECAFCAFFEULL;  // tf.sparse.cross_hashed's default hash_key
  arrow::PrimitiveOutput<int64_t> out("l", n);
  arrow::Buffer validity = arrow::Buffer::zeroed(static_cast<size_t>((n + 7) / 8));
  int64_t nulls = 0;
  for (int64_t i = 0; i < n; ++i) {
    bool valid = true;
    uint64_t h = kDefaultKey;
    for (size_t c = 0; c < columns.size(); ++c) {
      valid = valid && columns[c].is_valid(i);
      h = fingerprint_cat64(h, features[c][static_cast<size_t>(i)]);
    }
    out.values[i] = static_cast<int64_t>(h % static_cast<uint64_t>(num_bins));
    if (valid) {
      arrow::set_bit(validity.data(), i);
    } else {
      ++nulls;
    }
  }
  out.data->buffers[0] = std::move(validity);
  out.data->null_count = nulls;
  return arrow::export_array(std::move(out.data));
}

arrow::OwnedArray keras_hashing(const ArrayView& v, const KerasHashingOptions& options) {
  if (options.num_bins < 1) {
    throw std::invalid_argument("num_bins must be >= 1, got " + std::to_string(options.num_bins));
  }
  const bool masked = options.mask_value.has_value() && options.num_bins > 1;
  const auto bins = static_cast<uint64_t>(masked ? options.num_bins - 1 : options.num_bins);
  auto bin_of = [&](std::string_view s) -> int64_t {
    const uint64_t h = options.salt ? hash::siphash24(s.data(), s.size(), options.salt->first,
                                                      options.salt->second)
                                    : hash::farmhash_fingerprint64(s.data(), s.size());
    if (!masked) return static_cast<int64_t>(h % bins);
    if (s == *options.mask_value) return 0;
    return static_cast<int64_t>(h % bins) + 1;
  };
  char buffer[24];
  auto as_decimal = [&]<class T>(T*) {
    const T* values = v.values<T>();
    return map_int64(v, [&](int64_t i) { return bin_of(decimal(values[i], buffer)); });
  };
  std::unique_ptr<ArrayData> out;
  switch (v.is_dictionary() ? TypeId::other : v.id()) {
    case TypeId::int8: out = as_decimal(static_cast<int8_t*>(nullptr)); break;
    case TypeId::int16: out = as_decimal(static_cast<int16_t*>(nullptr)); break;
    case TypeId::int32: out = as_decimal(static_cast<int32_t*>(nullptr)); break;
    case TypeId::int64: out = as_decimal(static_cast<int64_t*>(nullptr)); break;
    case TypeId::uint8: out = as_decimal(static_cast<uint8_t*>(nullptr)); break;
    case TypeId::uint16: out = as_decimal(static_cast<uint16_t*>(nullptr)); break;
    case TypeId::uint32: out = as_decimal(static_cast<uint32_t*>(nullptr)); break;
    case TypeId::uint64: out = as_decimal(static_cast<uint64_t*>(nullptr)); break;
    default:
      if (!arrow::is_binary_like(v.id()) || v.is_dictionary()) {
        throw unsupported_type("Keras hashing takes string, binary or integer columns, got " +
                               arrow::type_name(v.schema()));
      }
      out = map_int64(v, [&](int64_t i) { return bin_of(v.bytes_at(i)); });
  }
  return arrow::export_array(std::move(out));
}

arrow::OwnedArray sigrid_hash(const ArrayView& v, int64_t salt, int64_t max_value) {
  if (max_value <= 0) {
    throw std::invalid_argument("max_value must be > 0, got " + std::to_string(max_value));
  }
  auto one = [&](int64_t x) -> int64_t {
    if (max_value == 1) return 0;
    const auto h = static_cast<int64_t>(
        hash_128_to_64(static_cast<uint64_t>(salt), twang_mix64(static_cast<uint64_t>(x))));
    const int64_t r = h % max_value;  // floor modulo: TorchArrow rounds the quotient down
    return r < 0 ? r + max_value : r;
  };
  auto leaf = [&](const ArrayView& ints) {
    if (ints.id() != TypeId::int64 || ints.is_dictionary()) {
      throw unsupported_type("sigrid_hash takes int64 or list<int64> columns, got " +
                             arrow::type_name(ints.schema()));
    }
    const int64_t* values = ints.values<int64_t>();
    return map_int64(ints, [&](int64_t i) { return one(values[i]); });
  };
  if (v.is_dictionary() || (v.id() != TypeId::list && v.id() != TypeId::large_list)) {
    return arrow::export_array(leaf(v));
  }
  // list<int64>: hash the referenced child range, keep offsets (rebased) and validity.
  auto list_like = [&]<class Offset>(Offset*) {
    const Offset* off = v.offsets<Offset>();
    const int64_t n = v.length();
    const Offset first = n > 0 ? off[0] : 0;
    const Offset last = n > 0 ? off[n] : 0;
    auto out = std::make_unique<ArrayData>();
    out->format = v.id() == TypeId::list ? "+l" : "+L";
    out->length = n;
    out->buffers.push_back(arrow::copy_validity(v.validity(), v.offset(), n));
    out->null_count = v.null_count();
    arrow::Buffer rebased(static_cast<size_t>(n + 1) * sizeof(Offset));
    for (int64_t i = 0; i <= n; ++i) rebased.as<Offset>()[i] = n > 0 ? off[i] - first : 0;
    out->buffers.push_back(std::move(rebased));
    auto child = leaf(v.children()[0].slice(first, last - first));
    child->name = "item";
    out->children.push_back(std::move(child));
    return out;
  };
  if (v.id() == TypeId::list) return arrow::export_array(list_like(static_cast<int32_t*>(nullptr)));
  return arrow::export_array(list_like(static_cast<int64_t*>(nullptr)));
}

}  // namespace featforge::hashing
