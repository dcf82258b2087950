#include "featforge/hashing/spark.h"

#include <cstring>

#include "featforge/hash/murmur3.h"
#include "featforge/hash/xxh64.h"

namespace featforge::hashing {

namespace {

using arrow::ArrayView;
using arrow::TypeId;

struct SparkMurmur3 {
  using Out = int32_t;
  static constexpr const char* kFormat = "i";
  // Spark's hashInt/hashLong mix whole 4-byte words: the same as the reference on 4 or 8 bytes.
  static Out fixed(const void* p, size_t n) {
    return static_cast<Out>(hash::murmur3_32(p, n, kSparkSeed));
  }
  static Out bytes(const char* p, size_t n) {
    return static_cast<Out>(hash::spark_murmur3_32(p, n, kSparkSeed));
  }
};

struct SparkXxhash64 {
  using Out = int64_t;
  static constexpr const char* kFormat = "l";
  static Out fixed(const void* p, size_t n) { return static_cast<Out>(hash::xxh64(p, n, kSparkSeed)); }
  static Out bytes(const char* p, size_t n) { return static_cast<Out>(hash::xxh64(p, n, kSparkSeed)); }
};

template <class F>
arrow::OwnedArray run(const ArrayView& v) {
  using Out = typename F::Out;
  const int64_t n = v.length();
  arrow::PrimitiveOutput<Out> out(F::kFormat, n);
  Out* o = out.values;
  auto as_int = [&]<class T>(T*) {
    const T* values = v.values<T>();
    for (int64_t i = 0; i < n; ++i) {
      const auto x = static_cast<int32_t>(values[i]);  // Spark widens byte/short to int
      o[i] = F::fixed(&x, 4);
    }
  };
  switch (v.id()) {
    case TypeId::int8: as_int(static_cast<int8_t*>(nullptr)); break;
    case TypeId::int16: as_int(static_cast<int16_t*>(nullptr)); break;
    case TypeId::int32:
    case TypeId::date32: as_int(static_cast<int32_t*>(nullptr)); break;
    case TypeId::int64: {
      const int64_t* values = v.values<int64_t>();
      for (int64_t i = 0; i < n; ++i) o[i] = F::fixed(values + i, 8);
      break;
    }
    case TypeId::boolean: {
      for (int64_t i = 0; i < n; ++i) {
        const int32_t x = arrow::get_bit(v.bool_bits(), v.offset() + i);
        o[i] = F::fixed(&x, 4);
      }
      break;
    }
    default:
      if (!arrow::is_binary_like(v.id()) || v.is_dictionary()) {
        throw unsupported_type("Spark-compatible hashing supports int8/16/32/64, bool, date32, "
                               "string and binary columns, got " +
                               arrow::type_name(v.schema()));
      }
      for (int64_t i = 0; i < n; ++i) {
        const std::string_view b = v.bytes_at(i);
        o[i] = F::bytes(b.data(), b.size());
      }
  }
  if (v.has_nulls()) {
    for (int64_t i = 0; i < n; ++i) {
      if (!v.is_valid(i)) o[i] = static_cast<Out>(kSparkSeed);  // Spark: a null leaves the seed
    }
  }
  return arrow::export_array(std::move(out.data));
}

}  // namespace

arrow::OwnedArray spark_hash(const ArrayView& values, SparkHash function) {
  if (values.is_dictionary()) {
    throw unsupported_type("Spark-compatible hashing does not take dictionary arrays; decode first");
  }
  return function == SparkHash::murmur3 ? run<SparkMurmur3>(values) : run<SparkXxhash64>(values);
}

}  // namespace featforge::hashing
