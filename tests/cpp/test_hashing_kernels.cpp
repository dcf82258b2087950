// Column kernels on exported arrays: buckets, FIDs, floats' canonical bytes, dictionaries, nulls.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "featforge/arrow/builder.h"
#include "featforge/hash/murmur3.h"
#include "featforge/hash/xxh3.h"
#include "featforge/hashing/fixed_width.h"
#include "featforge/hashing/kernels.h"
#include "featforge/parallel.h"

namespace {

using namespace featforge;
using arrow::ArrayData;
using arrow::ArrayView;
using arrow::OwnedArray;

template <class T>
OwnedArray make_array(const char* format, const std::vector<T>& values) {
  arrow::PrimitiveOutput<T> out(format, static_cast<int64_t>(values.size()));
  std::memcpy(out.values, values.data(), values.size() * sizeof(T));
  return arrow::export_array(std::move(out.data));
}

template <class T>
const T* result_values(const OwnedArray& a) {
  return static_cast<const T*>(a.array->buffers[1]);
}

TEST(HashingKernels, FloatsHashCanonicalBytes) {
  const double nan1 = std::numeric_limits<double>::quiet_NaN();
  const double nan2 = -std::numeric_limits<double>::quiet_NaN();
  OwnedArray in = make_array<double>("g", {0.0, -0.0, nan1, nan2, 1.5});
  ArrayView v(in.schema.get(), in.array.get());
  OwnedArray out = hashing::hash(v, {hashing::Algo::xxh3, 0});
  const uint64_t* h = result_values<uint64_t>(out);
  EXPECT_EQ(h[0], h[1]);
  EXPECT_EQ(h[2], h[3]);
  const double x = 1.5;
  EXPECT_EQ(h[4], hash::xxh3_64(&x, 8, 0));
  const uint64_t canonical_nan = 0x7FF8000000000000ULL;
  EXPECT_EQ(h[2], hash::xxh3_64(&canonical_nan, 8, 0));
}

TEST(HashingKernels, BucketIsUnsignedModulo) {
  OwnedArray in = make_array<int32_t>("i", {-1, 0, 1, 123456});
  ArrayView v(in.schema.get(), in.array.get());
  OwnedArray out = hashing::hash_bucket(v, 1000, {hashing::Algo::murmur3, 0});
  ASSERT_STREQ(out.schema->format, "l");
  const int64_t* b = result_values<int64_t>(out);
  for (int i = 0; i < 4; ++i) {
    const int32_t x = std::vector<int32_t>{-1, 0, 1, 123456}[static_cast<size_t>(i)];
    EXPECT_EQ(b[i], static_cast<int64_t>(hash::murmur3_32(&x, 4, 0) % 1000u));
  }
  EXPECT_THROW((void)hashing::hash_bucket(v, 0, {}), std::invalid_argument);
}

TEST(HashingKernels, FidLayout) {
  OwnedArray in = make_array<int64_t>("l", {42});
  ArrayView v(in.schema.get(), in.array.get());
  OwnedArray out = hashing::fid(v, 32767, {hashing::Algo::xxh3, 0});
  const int64_t f = result_values<int64_t>(out)[0];
  const int64_t x = 42;
  EXPECT_GE(f, 0);  // bit 63 clear
  EXPECT_EQ(f >> 48, 32767);
  EXPECT_EQ(static_cast<uint64_t>(f) & ((1ULL << 48) - 1), hash::xxh3_64(&x, 8, 0) & ((1ULL << 48) - 1));
  EXPECT_THROW((void)hashing::fid(v, 32768, {}), std::invalid_argument);
  EXPECT_THROW((void)hashing::fid(v, -1, {}), std::invalid_argument);
}

TEST(HashingKernels, DictionaryHashesValues) {
  auto dict = std::make_unique<ArrayData>();
  dict->format = "u";
  dict->length = 2;
  dict->buffers.emplace_back();
  dict->buffers.emplace_back(3 * sizeof(int32_t));
  dict->buffers.emplace_back(8);
  int32_t* off = dict->buffers[1].as<int32_t>();
  off[0] = 0;
  off[1] = 2;
  off[2] = 5;
  std::memcpy(dict->buffers[2].data(), "uknlx", 5);
  arrow::PrimitiveOutput<int8_t> idx("c", 3);
  idx.values[0] = 1;
  idx.values[1] = 0;
  idx.values[2] = 1;
  idx.data->dictionary = std::move(dict);
  OwnedArray in = arrow::export_array(std::move(idx.data));
  ArrayView v(in.schema.get(), in.array.get());
  ASSERT_TRUE(v.is_dictionary());
  OwnedArray out = hashing::hash(v, {hashing::Algo::xxh64, 0});
  const uint64_t* h = result_values<uint64_t>(out);
  EXPECT_EQ(h[0], hash::xxh64("nlx", 3, 0));
  EXPECT_EQ(h[1], hash::xxh64("uk", 2, 0));
  EXPECT_EQ(h[2], h[0]);
}

TEST(HashingKernels, ParallelEqualsSerial) {
  std::vector<int64_t> values(300000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<int64_t>(i * 7919);
  OwnedArray in = make_array<int64_t>("l", values);
  ArrayView v(in.schema.get(), in.array.get());
  set_num_threads(1);
  OwnedArray serial = hashing::hash(v, {hashing::Algo::xxh3, 9});
  set_num_threads(4);
  OwnedArray parallel = hashing::hash(v, {hashing::Algo::xxh3, 9});
  set_num_threads(1);
  EXPECT_EQ(std::memcmp(result_values<uint64_t>(serial), result_values<uint64_t>(parallel),
                        values.size() * 8),
            0);
}

TEST(HashingKernels, UnknownAlgo) {
  EXPECT_THROW((void)hashing::parse_algo("md5"), std::invalid_argument);
  EXPECT_EQ(hashing::parse_algo("xxh3"), hashing::Algo::xxh3);
}

}  // namespace

#include "featforge/hashing/compat.h"

namespace {

// TorchArrow's published sigrid_hash test vectors (ids 1..16, salt 0, max_value 100).
TEST(HashingKernels, SigridHashPublishedVectors) {
  std::vector<int64_t> ids;
  for (int64_t i = 1; i <= 16; ++i) ids.push_back(i);
  OwnedArray in = make_array<int64_t>("l", ids);
  ArrayView v(in.schema.get(), in.array.get());
  OwnedArray out = hashing::sigrid_hash(v, 0, 100);
  const std::vector<int64_t> expected = {60, 54, 54, 9, 4, 91, 11, 67, 79, 2, 25, 92, 98, 83, 66, 2};
  const int64_t* got = result_values<int64_t>(out);
  EXPECT_EQ(std::vector<int64_t>(got, got + 16), expected);
  OwnedArray ones = hashing::sigrid_hash(v, 7, 1);
  EXPECT_EQ(result_values<int64_t>(ones)[3], 0);
  EXPECT_THROW((void)hashing::sigrid_hash(v, 0, 0), std::invalid_argument);
}

}  // namespace

#include <random>

#include "featforge/hash/common.h"

namespace {

TEST(HashingKernels, FastModEqualsModulo) {
  std::mt19937_64 rng(7);
  const std::vector<uint64_t> divisors = {1, 2, 3, 7, 1000, 1ULL << 20, (1ULL << 20) + 1,
                                          0xFFFFFFFFULL, (1ULL << 63) - 1, ~0ULL};
  for (uint64_t d : divisors) {
    const featforge::hash::detail::FastMod64 mod(d);
    for (int i = 0; i < 20000; ++i) {
      const uint64_t a = i < 4 ? std::vector<uint64_t>{0, 1, ~0ULL, d}[i] : rng();
      ASSERT_EQ(mod(a), a % d) << "a=" << a << " d=" << d;
    }
  }
}

// The string kernels' block paths (eight strings of 9..16 bytes, eight inlined views of 9..12)
// against one-at-a-time XXH3, with blocks that fall back, ragged tails and seeds.
std::vector<std::string> strings_for_blocks() {
  std::vector<std::string> s;
  uint64_t x = 7;
  auto next = [&] { return x = x * 6364136223846793005ULL + 1442695040888963407ULL; };
  auto word = [&](size_t len) {
    std::string w(len, '\0');
    for (auto& c : w) c = static_cast<char>(next() >> 56);
    return w;
  };
  for (int block = 0; block < 40; ++block) {
    // Even blocks stay inside the vector range; odd ones put one length just outside it.
    for (int k = 0; k < 8; ++k) {
      size_t len = 9 + (next() >> 61) % 8;  // 9..16
      if (block % 2 == 1 && k == block % 8) len = (block % 4 == 1) ? 8 : 17;
      if (block % 5 == 0) len = 9 + k % 4;  // 9..12: inlined views too
      s.push_back(word(len));
    }
  }
  for (size_t len : {0, 1, 3, 4, 8, 12, 13, 16, 17, 40}) s.push_back(word(len));  // ragged tail
  return s;
}

TEST(HashingKernels, StringBlocksEqualScalarXxh3) {
  const std::vector<std::string> strings = strings_for_blocks();
  const auto n = static_cast<int64_t>(strings.size());
  std::vector<int32_t> offsets{0};
  std::string data;
  std::vector<arrow::BinaryViewElement> views(strings.size());
  for (size_t i = 0; i < strings.size(); ++i) {
    data += strings[i];
    offsets.push_back(static_cast<int32_t>(data.size()));
  }
  // Views: inlined up to 12 bytes, otherwise pointing into `data` (buffer 0).
  for (size_t i = 0; i < strings.size(); ++i) {
    auto& v = views[i];
    std::memset(&v, 0, sizeof v);
    v.size = static_cast<int32_t>(strings[i].size());
    if (v.size <= 12) {
      std::memcpy(v.inlined, strings[i].data(), strings[i].size());
    } else {
      std::memcpy(v.ref.prefix, strings[i].data(), 4);
      v.ref.buffer_index = 0;
      v.ref.offset = offsets[i];
    }
  }
  const char* buffers[] = {data.data()};
  for (uint64_t seed : {0ULL, 42ULL, 0x9E3779B97F4A7C15ULL}) {
    const hash::Xxh3 reference(seed);
    for (int64_t start : {0, 3}) {  // unaligned starts shift every block boundary
      std::vector<uint64_t> from_offsets(static_cast<size_t>(n - start));
      std::vector<uint64_t> from_views(from_offsets.size());
      hashing::fixed_width::xxh3_strings(offsets.data() + start, data.data(), n - start,
                                         from_offsets.data(), seed);
      hashing::fixed_width::xxh3_string_views(views.data() + start, buffers, n - start,
                                              from_views.data(), seed);
      // Non-temporal stores (result columns) give the same hashes.
      std::vector<uint64_t> streamed(from_offsets.size()), streamed_views(from_offsets.size());
      hashing::fixed_width::xxh3_strings(offsets.data() + start, data.data(), n - start,
                                         streamed.data(), seed, /*stream=*/true);
      hashing::fixed_width::xxh3_string_views(views.data() + start, buffers, n - start,
                                              streamed_views.data(), seed, /*stream=*/true);
      EXPECT_EQ(streamed, from_offsets);
      EXPECT_EQ(streamed_views, from_views);
      for (int64_t i = start; i < n; ++i) {
        const std::string& str = strings[static_cast<size_t>(i)];
        const uint64_t expected = reference(str.data(), str.size());
        ASSERT_EQ(from_offsets[static_cast<size_t>(i - start)], expected) << "row " << i;
        ASSERT_EQ(from_views[static_cast<size_t>(i - start)], expected) << "row " << i;
      }
    }
  }
}

}  // namespace
