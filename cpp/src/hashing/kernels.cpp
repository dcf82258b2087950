#include "featforge/hashing/kernels.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <type_traits>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "featforge/hash/murmur3.h"
#include "featforge/hash/xxh3.h"
#include "featforge/hash/xxh64.h"
#include "featforge/hashing/fixed_width.h"
#include "featforge/parallel.h"

namespace featforge::hashing {

using arrow::ArrayData;
using arrow::ArrayView;
using arrow::Buffer;
using arrow::TypeId;

namespace {

// Work below this many elements stays on the calling thread.
constexpr int64_t kParallelGrain = 1 << 16;

// The three families behind one call shape: hash(bytes, len) -> uint64 (murmur3 zero-extended).
struct Xxh3Hasher {
  hash::Xxh3 impl;
  explicit Xxh3Hasher(uint64_t seed) : impl(seed) {}
  [[nodiscard]] uint64_t operator()(const void* p, size_t n) const noexcept { return impl(p, n); }
};
struct Xxh64Hasher {
  uint64_t seed;
  [[nodiscard]] uint64_t operator()(const void* p, size_t n) const noexcept {
    return hash::xxh64(p, n, seed);
  }
};
struct Murmur3Hasher {
  uint32_t seed;
  [[nodiscard]] uint64_t operator()(const void* p, size_t n) const noexcept {
    return hash::murmur3_32(p, n, seed);
  }
};

template <class Fn>
void with_hasher(const HashOptions& options, Fn&& fn) {
  switch (options.algo) {
    case Algo::xxh3: fn(Xxh3Hasher(options.seed)); return;
    case Algo::xxh64: fn(Xxh64Hasher{options.seed}); return;
    case Algo::murmur3: fn(Murmur3Hasher{static_cast<uint32_t>(options.seed)}); return;
  }
}

// Canonical float bytes: -0.0 hashes as 0.0 and every NaN as the one quiet NaN, so equal feature
// values always hash equally whatever produced them.
[[nodiscard]] inline uint64_t canonical_bits(double v) noexcept {
  if (v == 0.0) return 0;
  if (std::isnan(v)) return 0x7FF8000000000000ULL;
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  return bits;
}
[[nodiscard]] inline uint32_t canonical_bits(float v) noexcept {
  if (v == 0.0f) return 0;
  if (std::isnan(v)) return 0x7FC00000U;
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  return bits;
}
[[nodiscard]] inline uint16_t canonical_half_bits(uint16_t bits) noexcept {
  if ((bits & 0x7FFF) == 0) return 0;                                 // +-0
  if ((bits & 0x7C00) == 0x7C00 && (bits & 0x03FF) != 0) return 0x7E00;  // NaN
  return bits;
}

// Hashes logical elements [begin, end) of a non-nested, non-dictionary array; sink(i, hash).
// The type switch happens once per range; each loop below is typed, with no per-element dispatch.
template <class Hasher, class Sink>
void hash_leaf_range(const ArrayView& v, const Hasher& h, int64_t begin, int64_t end, Sink& sink) {
  auto fixed = [&]<class T>(T*) {
    const T* values = v.values<T>();
    for (int64_t i = begin; i < end; ++i) {
      const T x = values[i];
      sink(i, h(&x, sizeof(T)));
    }
  };
  auto offsets = [&]<class Offset>(Offset*) {
    const Offset* off = v.offsets<Offset>();
    const char* data = v.data();
    for (int64_t i = begin; i < end; ++i) {
      sink(i, h(data + off[i], static_cast<size_t>(off[i + 1] - off[i])));
    }
  };
  switch (v.id()) {
    case TypeId::int8: fixed(static_cast<int8_t*>(nullptr)); break;
    case TypeId::uint8: fixed(static_cast<uint8_t*>(nullptr)); break;
    case TypeId::int16: fixed(static_cast<int16_t*>(nullptr)); break;
    case TypeId::uint16: fixed(static_cast<uint16_t*>(nullptr)); break;
    case TypeId::int32:
    case TypeId::uint32:
    case TypeId::date32: fixed(static_cast<uint32_t*>(nullptr)); break;
    case TypeId::int64:
    case TypeId::uint64:
    case TypeId::date64:
    case TypeId::timestamp:
    case TypeId::duration: fixed(static_cast<uint64_t*>(nullptr)); break;
    case TypeId::float16: {
      const uint16_t* values = v.values<uint16_t>();
      for (int64_t i = begin; i < end; ++i) {
        const uint16_t x = canonical_half_bits(values[i]);
        sink(i, h(&x, 2));
      }
      break;
    }
    case TypeId::float32: {
      const float* values = v.values<float>();
      for (int64_t i = begin; i < end; ++i) {
        const uint32_t x = canonical_bits(values[i]);
        sink(i, h(&x, 4));
      }
      break;
    }
    case TypeId::float64: {
      const double* values = v.values<double>();
      for (int64_t i = begin; i < end; ++i) {
        const uint64_t x = canonical_bits(values[i]);
        sink(i, h(&x, 8));
      }
      break;
    }
    case TypeId::boolean: {
      const uint8_t* bits = v.bool_bits();
      for (int64_t i = begin; i < end; ++i) {
        const uint8_t x = arrow::get_bit(bits, v.offset() + i);
        sink(i, h(&x, 1));
      }
      break;
    }
    case TypeId::string:
    case TypeId::binary: offsets(static_cast<int32_t*>(nullptr)); break;
    case TypeId::large_string:
    case TypeId::large_binary: offsets(static_cast<int64_t*>(nullptr)); break;
    case TypeId::string_view:
    case TypeId::binary_view: {
      const arrow::BinaryViewElement* views = v.views();
      for (int64_t i = begin; i < end; ++i) {
        const arrow::BinaryViewElement& e = views[i];
        const char* p = e.size <= 12 ? e.inlined : v.view_data(e.ref.buffer_index) + e.ref.offset;
        sink(i, h(p, static_cast<size_t>(e.size)));
      }
      break;
    }
    case TypeId::null:
      for (int64_t i = begin; i < end; ++i) sink(i, 0);
      break;
    default:
      throw unsupported_type("cannot hash Arrow type " + arrow::type_name(v.schema()));
  }
}

template <class Index>
void gather_dictionary(const ArrayView& v, const std::vector<uint64_t>& dict_hashes, int64_t begin,
                       int64_t end, auto& sink) {
  const Index* indices = v.values<Index>();
  const auto dict_size = static_cast<int64_t>(dict_hashes.size());
  for (int64_t i = begin; i < end; ++i) {
    const auto index = static_cast<int64_t>(indices[i]);
    // A null slot may hold any index; only valid slots must be in range.
    if (index >= 0 && index < dict_size) {
      sink(i, dict_hashes[static_cast<size_t>(index)]);
    } else if (v.is_valid(i)) {
      throw std::invalid_argument("dictionary index " + std::to_string(index) +
                                  " out of range for a dictionary of " + std::to_string(dict_size));
    } else {
      sink(i, 0);
    }
  }
}

// Hashes every element of a leaf or dictionary array (in parallel for large inputs).
template <class Sink>
void hash_elements(const ArrayView& v, const HashOptions& options, Sink& sink) {
  with_hasher(options, [&](const auto& hasher) {
    if (!v.is_dictionary()) {
      parallel_for(v.length(), kParallelGrain,
                   [&](int64_t b, int64_t e) { hash_leaf_range(v, hasher, b, e, sink); });
      return;
    }
    // Dictionary: hash each distinct value once, then gather by index.
    const ArrayView& dict = *v.dictionary();
    if (dict.is_dictionary() || dict.id() == TypeId::list || dict.id() == TypeId::large_list ||
        dict.id() == TypeId::struct_) {
      throw unsupported_type("cannot hash dictionary values of type " +
                             arrow::type_name(dict.schema()));
    }
    std::vector<uint64_t> dict_hashes(static_cast<size_t>(dict.length()));
    auto store = [&](int64_t i, uint64_t h) { dict_hashes[static_cast<size_t>(i)] = h; };
    hash_leaf_range(dict, hasher, 0, dict.length(), store);
    parallel_for(v.length(), kParallelGrain, [&](int64_t b, int64_t e) {
      switch (v.id()) {
        case TypeId::int8: gather_dictionary<int8_t>(v, dict_hashes, b, e, sink); break;
        case TypeId::uint8: gather_dictionary<uint8_t>(v, dict_hashes, b, e, sink); break;
        case TypeId::int16: gather_dictionary<int16_t>(v, dict_hashes, b, e, sink); break;
        case TypeId::uint16: gather_dictionary<uint16_t>(v, dict_hashes, b, e, sink); break;
        case TypeId::int32: gather_dictionary<int32_t>(v, dict_hashes, b, e, sink); break;
        case TypeId::uint32: gather_dictionary<uint32_t>(v, dict_hashes, b, e, sink); break;
        case TypeId::int64: gather_dictionary<int64_t>(v, dict_hashes, b, e, sink); break;
        default: gather_dictionary<uint64_t>(v, dict_hashes, b, e, sink); break;
      }
    });
  });
}

// Fast path for 4- and 8-byte values: hash blocks with the vectorised fixed-width kernels, then
// apply `finish` to each block while it is in cache. Returns false for other layouts.
template <class Out, class Finish>
bool hash_fixed_width(const ArrayView& v, const HashOptions& options, Out* out,
                      const Finish& finish) {
  if (v.is_dictionary()) return false;
  if constexpr (std::is_same_v<Out, uint64_t>) {
    // hash() of strings with xxh3: hash straight into the output, no per-element sink.
    if (options.algo == Algo::xxh3 && (v.id() == TypeId::string || v.id() == TypeId::binary)) {
      const int32_t* off = v.offsets<int32_t>();
      parallel_for(v.length(), kParallelGrain, [&](int64_t begin, int64_t end) {
        fixed_width::xxh3_strings(off + begin, v.data(), end - begin, out + begin, options.seed,
                                  /*stream=*/true);
      });
      return true;
    }
    if (options.algo == Algo::xxh3 &&
        (v.id() == TypeId::string_view || v.id() == TypeId::binary_view)) {
      const arrow::BinaryViewElement* views = v.views();
      parallel_for(v.length(), kParallelGrain, [&](int64_t begin, int64_t end) {
        fixed_width::xxh3_string_views(views + begin, v.view_buffers(), end - begin, out + begin,
                                       options.seed, /*stream=*/true);
      });
      return true;
    }
  }
  int width = 0;
  switch (v.id()) {
    case TypeId::int32: case TypeId::uint32: case TypeId::date32: width = 4; break;
    case TypeId::int64: case TypeId::uint64: case TypeId::date64: case TypeId::timestamp:
    case TypeId::duration:
      width = 8;
      break;
    default: return false;
  }
  constexpr int64_t kBlock = 2048;
  parallel_for(v.length(), kParallelGrain, [&](int64_t begin, int64_t end) {
    uint64_t block[kBlock];
    uint32_t block32[kBlock];
    for (int64_t b = begin; b < end; b += kBlock) {
      const int64_t m = std::min(kBlock, end - b);
      const auto seed32 = static_cast<uint32_t>(options.seed);
      // hash() keeps the 64-bit hash as is (Out = uint64): write it straight to the output.
      uint64_t* target = block;
      if constexpr (std::is_same_v<Out, uint64_t>) target = out + b;
      if (width == 8) {
        const uint64_t* in = v.values<uint64_t>() + b;
        switch (options.algo) {
          case Algo::xxh3: fixed_width::xxh3_8(in, m, target, options.seed); break;
          case Algo::xxh64: fixed_width::xxh64_8(in, m, target, options.seed); break;
          case Algo::murmur3: fixed_width::murmur3_8(in, m, block32, seed32); break;
        }
      } else {
        const uint32_t* in = v.values<uint32_t>() + b;
        switch (options.algo) {
          case Algo::xxh3: fixed_width::xxh3_4(in, m, target, options.seed); break;
          case Algo::xxh64: fixed_width::xxh64_4(in, m, target, options.seed); break;
          case Algo::murmur3: fixed_width::murmur3_4(in, m, block32, seed32); break;
        }
      }
      if (options.algo == Algo::murmur3) {
        for (int64_t i = 0; i < m; ++i) out[b + i] = finish(uint64_t{block32[i]});
      } else if (target == block) {
        for (int64_t i = 0; i < m; ++i) out[b + i] = finish(block[i]);
      }
    }
  });
  return true;
}

// Validity of the output of a leaf: the input's, and for dictionaries also the values'.
void set_leaf_validity(const ArrayView& v, ArrayData& out) {
  if (v.id() == TypeId::null) {
    out.buffers[0] = Buffer::zeroed(static_cast<size_t>((v.length() + 7) / 8));
    out.null_count = v.length();
    return;
  }
  const ArrayView* dict = v.dictionary();
  if (dict == nullptr || !dict->has_nulls()) {
    out.buffers[0] = arrow::copy_validity(v.validity(), v.offset(), v.length());
    out.null_count = v.null_count();
    return;
  }
  Buffer bits = Buffer::zeroed(static_cast<size_t>((v.length() + 7) / 8));
  int64_t nulls = 0;
  auto index_at = [&](int64_t i) -> int64_t {
    switch (v.id()) {
      case TypeId::int8: return v.values<int8_t>()[i];
      case TypeId::uint8: return v.values<uint8_t>()[i];
      case TypeId::int16: return v.values<int16_t>()[i];
      case TypeId::uint16: return v.values<uint16_t>()[i];
      case TypeId::int32: return v.values<int32_t>()[i];
      case TypeId::uint32: return v.values<uint32_t>()[i];
      default: return v.values<int64_t>()[i];
    }
  };
  for (int64_t i = 0; i < v.length(); ++i) {
    if (v.is_valid(i) && dict->is_valid(index_at(i))) {
      arrow::set_bit(bits.data(), i);
    } else {
      ++nulls;
    }
  }
  out.buffers[0] = std::move(bits);
  out.null_count = nulls;
}

// Applies `finish(hash) -> Out` to every element, keeping list/struct structure around the leaves.
template <class Out, class Finish>
std::unique_ptr<ArrayData> map_hashes(const ArrayView& v, const HashOptions& options,
                                      const char* out_format, const Finish& finish) {
  auto list_like = [&]<class Offset>(Offset*) {
    const Offset* off = v.offsets<Offset>();
    const int64_t n = v.length();
    const Offset first = n > 0 ? off[0] : 0;
    const Offset last = n > 0 ? off[n] : 0;
    ArrayView child = v.children()[0].slice(first, last - first);
    auto out = std::make_unique<ArrayData>();
    out->format = v.id() == TypeId::list ? "+l" : "+L";
    out->length = n;
    out->buffers.push_back(arrow::copy_validity(v.validity(), v.offset(), n));
    out->null_count = v.null_count();
    Buffer rebased(static_cast<size_t>(n + 1) * sizeof(Offset));
    auto* dst = rebased.as<Offset>();
    for (int64_t i = 0; i <= n; ++i) dst[i] = n > 0 ? off[i] - first : 0;
    out->buffers.push_back(std::move(rebased));
    auto child_out = map_hashes<Out>(child, options, out_format, finish);
    child_out->name = v.schema().children[0]->name ? v.schema().children[0]->name : "item";
    out->children.push_back(std::move(child_out));
    return out;
  };
  if (!v.is_dictionary()) {
    if (v.id() == TypeId::list) return list_like(static_cast<int32_t*>(nullptr));
    if (v.id() == TypeId::large_list) return list_like(static_cast<int64_t*>(nullptr));
    if (v.id() == TypeId::struct_) {
      auto out = std::make_unique<ArrayData>();
      out->format = "+s";
      out->length = v.length();
      out->buffers.push_back(arrow::copy_validity(v.validity(), v.offset(), v.length()));
      out->null_count = v.null_count();
      for (size_t c = 0; c < v.children().size(); ++c) {
        auto child_out = map_hashes<Out>(v.children()[c], options, out_format, finish);
        const char* name = v.schema().children[c]->name;
        child_out->name = name ? name : "";
        out->children.push_back(std::move(child_out));
      }
      return out;
    }
  }
  arrow::PrimitiveOutput<Out> out(out_format, v.length());
  Out* values = out.values;
  if (!hash_fixed_width(v, options, values, finish)) {
    auto sink = [values, &finish](int64_t i, uint64_t h) { values[i] = finish(h); };
    hash_elements(v, options, sink);
  }
  set_leaf_validity(v, *out.data);
  return std::move(out.data);
}

// Hashes of every element of a leaf (or dictionary) array, with per-element validity.
struct ElementHashes {
  std::vector<uint64_t> hashes;
  std::vector<uint8_t> valid;
};

ElementHashes element_hashes(const ArrayView& v, const HashOptions& options) {
  ElementHashes out;
  out.hashes.resize(static_cast<size_t>(v.length()));
  uint64_t* h = out.hashes.data();
  auto sink = [h](int64_t i, uint64_t x) { h[i] = x; };
  hash_elements(v, options, sink);
  ArrayData validity;
  validity.buffers.emplace_back();
  set_leaf_validity(v, validity);
  out.valid.assign(static_cast<size_t>(v.length()), 1);
  if (!validity.buffers[0].empty()) {
    for (int64_t i = 0; i < v.length(); ++i) {
      out.valid[static_cast<size_t>(i)] = arrow::get_bit(validity.buffers[0].data(), i);
    }
  }
  return out;
}

// One column of a cross: its element hashes and, for list columns, the row -> element ranges.
struct CrossColumn {
  bool is_list = false;
  ElementHashes elements;
  std::vector<int64_t> begin, end;  // list columns: element range of each row
  std::vector<uint8_t> row_valid;
};

CrossColumn prepare_cross_column(const ArrayView& v, const HashOptions& options, size_t index) {
  CrossColumn c;
  const int64_t n = v.length();
  auto list_like = [&]<class Offset>(Offset*) {
    const Offset* off = v.offsets<Offset>();
    const Offset first = n > 0 ? off[0] : 0;
    const Offset last = n > 0 ? off[n] : 0;
    const ArrayView& child = v.children()[0];
    if (child.id() == TypeId::list || child.id() == TypeId::large_list ||
        child.id() == TypeId::struct_) {
      throw unsupported_type("cross: column " + std::to_string(index) +
                             " is a list of nested values (" + arrow::type_name(v.schema()) +
                             "); only lists of scalars can be crossed");
    }
    c.is_list = true;
    c.elements = element_hashes(child.slice(first, last - first), options);
    c.begin.resize(static_cast<size_t>(n));
    c.end.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      c.begin[static_cast<size_t>(i)] = off[i] - first;
      c.end[static_cast<size_t>(i)] = off[i + 1] - first;
    }
  };
  if (!v.is_dictionary() && v.id() == TypeId::list) {
    list_like(static_cast<int32_t*>(nullptr));
  } else if (!v.is_dictionary() && v.id() == TypeId::large_list) {
    list_like(static_cast<int64_t*>(nullptr));
  } else if (!v.is_dictionary() && v.id() == TypeId::struct_) {
    throw unsupported_type("cross: column " + std::to_string(index) + " is a struct");
  } else {
    c.elements = element_hashes(v, options);
  }
  c.row_valid.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    c.row_valid[static_cast<size_t>(i)] =
        c.is_list ? v.is_valid(i) : c.elements.valid[static_cast<size_t>(i)];
  }
  return c;
}

template <class Hasher>
std::unique_ptr<ArrayData> cross_with(const std::vector<CrossColumn>& cols, int64_t n,
                                      uint64_t buckets, const Hasher& hasher) {
  const size_t k = cols.size();
  const bool any_list = std::any_of(cols.begin(), cols.end(), [](auto& c) { return c.is_list; });
  std::vector<uint64_t> key(k);  // le64(h_1) .. le64(h_k), reused for every combination
  auto bucket_of = [&]() {
    return static_cast<int64_t>(hasher(key.data(), k * sizeof(uint64_t)) % buckets);
  };
  Buffer validity = Buffer::zeroed(static_cast<size_t>((n + 7) / 8));
  int64_t nulls = 0;
  auto row_valid = [&](int64_t i) {
    for (const auto& c : cols) {
      if (!c.row_valid[static_cast<size_t>(i)]) return false;
    }
    return true;
  };
  if (!any_list) {
    arrow::PrimitiveOutput<int64_t> out("l", n);
    for (int64_t i = 0; i < n; ++i) {
      const bool ok = row_valid(i);
      if (ok) {
        arrow::set_bit(validity.data(), i);
        for (size_t c = 0; c < k; ++c) key[c] = cols[c].elements.hashes[static_cast<size_t>(i)];
        out.values[i] = bucket_of();
      } else {
        out.values[i] = 0;
        ++nulls;
      }
    }
    out.data->buffers[0] = std::move(validity);
    out.data->null_count = nulls;
    return std::move(out.data);
  }
  // Cartesian product per row, odometer-style: the last column varies fastest.
  std::vector<int64_t> values;
  Buffer offsets(static_cast<size_t>(n + 1) * sizeof(int32_t));
  int32_t* off = offsets.as<int32_t>();
  off[0] = 0;
  std::vector<int64_t> lo(k), hi(k), pos(k);
  for (int64_t i = 0; i < n; ++i) {
    const bool ok = row_valid(i);
    if (ok) {
      arrow::set_bit(validity.data(), i);
      bool empty = false;
      for (size_t c = 0; c < k; ++c) {
        lo[c] = cols[c].is_list ? cols[c].begin[static_cast<size_t>(i)] : i;
        hi[c] = cols[c].is_list ? cols[c].end[static_cast<size_t>(i)] : i + 1;
        pos[c] = lo[c];
        empty = empty || lo[c] == hi[c];
      }
      while (!empty) {
        bool skip = false;
        for (size_t c = 0; c < k; ++c) {
          const auto e = static_cast<size_t>(pos[c]);
          skip = skip || !cols[c].elements.valid[e];
          key[c] = cols[c].elements.hashes[e];
        }
        if (!skip) values.push_back(bucket_of());
        size_t c = k;
        while (c > 0) {
          --c;
          if (++pos[c] < hi[c]) break;
          pos[c] = lo[c];
          if (c == 0) empty = true;  // odometer wrapped: every combination done
        }
      }
    } else {
      ++nulls;
    }
    if (values.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      throw std::length_error("cross output exceeds 2^31 values in one batch; pass smaller batches");
    }
    off[i + 1] = static_cast<int32_t>(values.size());
  }
  auto child = std::make_unique<ArrayData>();
  child->format = "l";
  child->name = "item";
  child->length = static_cast<int64_t>(values.size());
  child->buffers.emplace_back();
  child->buffers.emplace_back(values.size() * sizeof(int64_t));
  std::copy(values.begin(), values.end(), child->buffers[1].as<int64_t>());
  auto list = std::make_unique<ArrayData>();
  list->format = "+l";
  list->length = n;
  list->buffers.push_back(std::move(validity));
  list->buffers.push_back(std::move(offsets));
  list->null_count = nulls;
  list->children.push_back(std::move(child));
  return list;
}

}  // namespace

Algo parse_algo(std::string_view name) {
  if (name == "xxh3") return Algo::xxh3;
  if (name == "xxh64") return Algo::xxh64;
  if (name == "murmur3") return Algo::murmur3;
  throw std::invalid_argument("algo must be one of 'xxh3', 'xxh64', 'murmur3', got '" +
                              std::string(name) + "'");
}

std::string_view algo_name(Algo algo) noexcept {
  switch (algo) {
    case Algo::xxh3: return "xxh3";
    case Algo::xxh64: return "xxh64";
    case Algo::murmur3: return "murmur3";
  }
  return "?";
}

arrow::OwnedArray hash(const ArrayView& values, const HashOptions& options) {
  if (options.algo == Algo::murmur3) {
    return arrow::export_array(map_hashes<int32_t>(
        values, options, "i", [](uint64_t h) { return static_cast<int32_t>(h); }));
  }
  return arrow::export_array(
      map_hashes<uint64_t>(values, options, "L", [](uint64_t h) { return h; }));
}

arrow::OwnedArray hash_bucket(const ArrayView& values, int64_t num_buckets,
                              const HashOptions& options) {
  if (num_buckets <= 0) {
    throw std::invalid_argument("num_buckets must be > 0, got " + std::to_string(num_buckets));
  }
  const auto buckets = static_cast<uint64_t>(num_buckets);
  if (std::has_single_bit(buckets)) {  // a power of two: the modulo is a mask
    const uint64_t mask = buckets - 1;
    return arrow::export_array(map_hashes<int64_t>(
        values, options, "l", [mask](uint64_t h) { return static_cast<int64_t>(h & mask); }));
  }
  const hash::detail::FastMod64 mod(buckets);
  return arrow::export_array(map_hashes<int64_t>(
      values, options, "l", [&mod](uint64_t h) { return static_cast<int64_t>(mod(h)); }));
}

arrow::OwnedArray cross(const std::vector<ArrayView>& columns, int64_t num_buckets,
                        const HashOptions& options) {
  if (columns.size() < 2) {
    throw std::invalid_argument("cross needs at least two columns, got " +
                                std::to_string(columns.size()));
  }
  if (num_buckets <= 0) {
    throw std::invalid_argument("num_buckets must be > 0, got " + std::to_string(num_buckets));
  }
  const int64_t n = columns[0].length();
  for (size_t c = 1; c < columns.size(); ++c) {
    if (columns[c].length() != n) {
      throw std::invalid_argument("cross: columns must have equal lengths, column 0 has " +
                                  std::to_string(n) + " rows and column " + std::to_string(c) +
                                  " has " + std::to_string(columns[c].length()));
    }
  }
  std::vector<CrossColumn> prepared;
  for (size_t c = 0; c < columns.size(); ++c) {
    prepared.push_back(prepare_cross_column(columns[c], options, c));
  }
  std::unique_ptr<ArrayData> out;
  const auto buckets = static_cast<uint64_t>(num_buckets);
  with_hasher(options, [&](const auto& hasher) { out = cross_with(prepared, n, buckets, hasher); });
  return arrow::export_array(std::move(out));
}

arrow::OwnedArray fid(const ArrayView& values, int64_t slot, const HashOptions& options) {
  if (slot < 0 || slot > kMaxSlot) {
    throw std::invalid_argument("slot must be in [0, 32768), got " + std::to_string(slot));
  }
  constexpr uint64_t kLow48 = (uint64_t{1} << 48) - 1;
  const uint64_t high = static_cast<uint64_t>(slot) << 48;
  return arrow::export_array(map_hashes<int64_t>(values, options, "l", [high](uint64_t h) {
    return static_cast<int64_t>(high | (h & kLow48));
  }));
}

}  // namespace featforge::hashing
