// Golden vectors for every hash family. The expected values were produced by the reference
// implementations (Python packages xxhash 4.1.0 and mmh3 5.3.1), not by featforge: a failure here
// means a hash changed, which must be a deliberate, versioned decision.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "featforge/hash/murmur3.h"
#include "featforge/hash/xxh3.h"
#include "featforge/hash/xxh64.h"

namespace {

using featforge::hash::murmur3_32;
using featforge::hash::spark_murmur3_32;
using featforge::hash::xxh3_64;
using featforge::hash::xxh64;

// Bytes i % 251 for i in [0, n): covers every length class of XXH3 including multi-block inputs.
std::string iota(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % 251);
  return s;
}

struct Golden {
  std::string input;
  uint64_t seed;
  uint64_t xxh64;
  uint64_t xxh3;
  uint32_t murmur3;
};

const std::vector<Golden>& goldens() {
  static const std::vector<Golden> g = {
    {"", 0x0ULL, 0xef46db3751d8e999ULL, 0x2d06800538d394c2ULL, 0x00000000U},
    {"a", 0x0ULL, 0xd24ec4f1a98c6e5bULL, 0xe6c632b61e964e1fULL, 0x3c2569b2U},
    {"abc", 0x0ULL, 0x44bc2cf5ad770999ULL, 0x78af5f94892f3950ULL, 0xb3dd93faU},
    {"featforge", 0x0ULL, 0xae8ce3bfcc30e518ULL, 0x0fdde5523b48b738ULL, 0x4b2648a3U},
    {"0123456789abcdef", 0x0ULL, 0x5c5b90c34e376d0bULL, 0x64439946d8fa212dULL, 0x36c7e0dfU},
    {iota(40), 0x0ULL, 0xf5da40f1b11741e9ULL, 0xcdb099831361923cULL, 0xce736bd7U},
    {iota(100), 0x0ULL, 0x6ac1e58032166597ULL, 0x004e4f921a64bd1cULL, 0xfc653843U},
    {iota(200), 0x0ULL, 0x50dc1079b99e879cULL, 0xf42a8864feaf0703ULL, 0xa2a56e5fU},
    {iota(1000), 0x0ULL, 0xf306f04aa88b54d3ULL, 0x33ef703fb2b20ed1ULL, 0xd0015ae9U},
    {iota(2055), 0x0ULL, 0xa256bef492634b90ULL, 0xceef225a2f231458ULL, 0x044138b6U},
    {"", 0x2aULL, 0x98b1582b0977e704ULL, 0xb029411ff43d84d2ULL, 0x087fcd5cU},
    {"a", 0x2aULL, 0x88e4fe59adf7b0ccULL, 0x4c437dd47f0716f4ULL, 0xb2e5a263U},
    {"abc", 0x2aULL, 0x13c1d910702770e6ULL, 0xd8438def21bbdcc3ULL, 0x4e4f1e68U},
    {"featforge", 0x2aULL, 0xf19d257516cf6ef3ULL, 0x00a502e91cbacaa3ULL, 0x9cac7f2dU},
    {"0123456789abcdef", 0x2aULL, 0x021f8722d90141b7ULL, 0xef4ac86fbdf90a2dULL, 0x98e98b73U},
    {iota(40), 0x2aULL, 0x02a745038a573bfaULL, 0xb7b19d43c5e8ded7ULL, 0x72caf6a1U},
    {iota(100), 0x2aULL, 0x819d2b726001d507ULL, 0xa5cd98c344a5633aULL, 0x96cb7201U},
    {iota(200), 0x2aULL, 0xc22d00b9fd05a710ULL, 0xc335a2de8a09a90eULL, 0x89d1d05fU},
    {iota(1000), 0x2aULL, 0x7c09c65249ea7a94ULL, 0x0f580bfa20541114ULL, 0x878c7726U},
    {iota(2055), 0x2aULL, 0xe6e8c6c3dd913ecaULL, 0xb6a3c984f8b684d1ULL, 0x67c52798U},
    {"", 0x9e3779b97f4a7c15ULL, 0xc4349fc93c010000ULL, 0x602b0e2cd6662c8bULL, 0x4bc0fbebU},
    {"a", 0x9e3779b97f4a7c15ULL, 0x9a7c6d2ea45568c9ULL, 0x7b013ec73230c3a1ULL, 0xd9e0e4e2U},
    {"abc", 0x9e3779b97f4a7c15ULL, 0x2ed0f59d6b43ac8bULL, 0xfc1ae99bb3de2336ULL, 0xc0cccfa0U},
    {"featforge", 0x9e3779b97f4a7c15ULL, 0xb92f5441b0359427ULL, 0xd8ecd78ccf1db0aaULL, 0xeb7d1f26U},
    {"0123456789abcdef", 0x9e3779b97f4a7c15ULL, 0x59616d12da431321ULL, 0xfb66c5fdab4463afULL, 0x55343402U},
    {iota(40), 0x9e3779b97f4a7c15ULL, 0x263a0d3f4740996dULL, 0xdd3175fb6c1fc7b4ULL, 0xdac06092U},
    {iota(100), 0x9e3779b97f4a7c15ULL, 0x3b97d91eba03e785ULL, 0x19cf762902c5f037ULL, 0xa4cd7ce8U},
    {iota(200), 0x9e3779b97f4a7c15ULL, 0x0ff84ab19a535cbaULL, 0xb913db1647edd288ULL, 0xaac2d7dbU},
    {iota(1000), 0x9e3779b97f4a7c15ULL, 0xd9b7af87dd48f5b4ULL, 0x629f9f11706b5c21ULL, 0x82485768U},
    {iota(2055), 0x9e3779b97f4a7c15ULL, 0x24904fdf27c0ce3dULL, 0x0b7b8d023ef354f8ULL, 0x8f9e2188U},
  };
  return g;
}

TEST(HashGolden, Xxh64) {
  for (const auto& g : goldens()) {
    EXPECT_EQ(xxh64(g.input.data(), g.input.size(), g.seed), g.xxh64)
        << "len=" << g.input.size() << " seed=" << g.seed;
  }
}

TEST(HashGolden, Xxh3) {
  for (const auto& g : goldens()) {
    EXPECT_EQ(xxh3_64(g.input.data(), g.input.size(), g.seed), g.xxh3)
        << "len=" << g.input.size() << " seed=" << g.seed;
  }
}

TEST(HashGolden, Murmur3x86_32) {
  for (const auto& g : goldens()) {
    EXPECT_EQ(murmur3_32(g.input.data(), g.input.size(), static_cast<uint32_t>(g.seed)), g.murmur3)
        << "len=" << g.input.size() << " seed=" << g.seed;
  }
}

TEST(HashGolden, SparkMurmur3AgreesOnWholeBlocks) {
  // Spark's variant differs from the reference only in how trailing bytes are mixed.
  const std::string s = "0123456789abcdef";
  EXPECT_EQ(spark_murmur3_32(s.data(), s.size(), 42), murmur3_32(s.data(), s.size(), 42));
  const std::string t = "abc";
  EXPECT_NE(spark_murmur3_32(t.data(), t.size(), 42), murmur3_32(t.data(), t.size(), 42));
}

}  // namespace

namespace {

// Spark SQL hash()/xxhash64() values computed by Spark 4.3.0 itself (tools/gen_spark_golden.py).
TEST(HashGolden, SparkVectors) {
  struct Row {
    std::string input;
    int32_t spark_hash;
    int64_t spark_xxhash64;
  };
  const std::vector<Row> rows = {
      {"abc", 1322437556, 1423657621850124518LL},
      {"abcde", 814637928, -990457398947679591LL},
      {"United Kingdom", 1715033395, 1239466174966558619LL},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(static_cast<int32_t>(spark_murmur3_32(r.input.data(), r.input.size(), 42)),
              r.spark_hash)
        << r.input;
    EXPECT_EQ(static_cast<int64_t>(xxh64(r.input.data(), r.input.size(), 42)), r.spark_xxhash64)
        << r.input;
  }
  const int32_t i = 42;
  EXPECT_EQ(static_cast<int32_t>(murmur3_32(&i, 4, 42)), 29417773);
  EXPECT_EQ(static_cast<int64_t>(xxh64(&i, 4, 42)), -387659249110444264LL);
  const int64_t l = 1;
  EXPECT_EQ(static_cast<int32_t>(murmur3_32(&l, 8, 42)), -1712319331);
  EXPECT_EQ(static_cast<int64_t>(xxh64(&l, 8, 42)), -7001672635703045582LL);
}

}  // namespace

#include "featforge/hash/farmhash.h"
#include "featforge/hash/siphash.h"

namespace {

// FarmHash Fingerprint64: expected values from the pyfarmhash package (Google's FarmHash).
TEST(HashGolden, FarmhashFingerprint64) {
  struct Row {
    std::string input;
    uint64_t expected;
  };
  auto bytes = [](size_t n, size_t mod) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i % mod);
    return s;
  };
  const std::vector<Row> rows = {
      {"", 0x9ae16a3b2f90404fULL},
      {"a", 0xb3454265b6df75e3ULL},
      {"abc", 0x24a5b3a074e7f369ULL},
      {"United Kingdom", 0x42703076444fc3a3ULL},
      {"0123456789abcdefXYZ", 0xbc0429daa98222faULL},
      {bytes(40, 256), 0x8f45b937b49468cULL},
      {bytes(64, 256), 0xf58504bb53decc4bULL},
      {bytes(65, 256), 0xc6a3282c3e793dbeULL},
      {bytes(300, 251), 0x466e14ba9cece0f5ULL},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(featforge::hash::farmhash_fingerprint64(r.input.data(), r.input.size()), r.expected)
        << "len=" << r.input.size();
  }
}

// SipHash-2-4: the test vectors of the SipHash paper (key 00..0f, message 00..n-1).
TEST(HashGolden, Siphash24PaperVectors) {
  const uint64_t k0 = 0x0706050403020100ULL;
  const uint64_t k1 = 0x0f0e0d0c0b0a0908ULL;
  std::string message;
  for (int i = 0; i < 15; ++i) message.push_back(static_cast<char>(i));
  EXPECT_EQ(featforge::hash::siphash24(message.data(), 0, k0, k1), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(featforge::hash::siphash24(message.data(), 1, k0, k1), 0x74f839c593dc67fdULL);
  EXPECT_EQ(featforge::hash::siphash24(message.data(), 15, k0, k1), 0xa129ca6149be45e5ULL);
}

}  // namespace
