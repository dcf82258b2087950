// XXH3 64-bit, implemented from the xxHash specification (doc/xxhash_spec.md, "XXH3 Algorithm
// Description"). Output equals the reference XXH3_64bits_withSeed(input, len, seed).
#pragma once

#include <array>

#include "featforge/hash/common.h"
#include "featforge/hash/xxh64.h"

namespace featforge::hash {

namespace xxh3_detail {
using detail::mul128_fold64;
using detail::read32;
using detail::read64;
using detail::rotl64;

inline constexpr size_t kSecretSize = 192;
// The specification's default secret.
inline constexpr std::array<uint8_t, kSecretSize> kDefaultSecret = {
    0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
    0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
    0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
    0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
    0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
    0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
    0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
    0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
    0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
    0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
    0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
    0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
};

inline constexpr uint64_t kPrime32_1 = 0x9E3779B1U;
inline constexpr uint64_t kPrime32_2 = 0x85EBCA77U;
inline constexpr uint64_t kPrime32_3 = 0xC2B2AE3DU;
inline constexpr uint64_t kPrime64_1 = xxh64_detail::kPrime1;
inline constexpr uint64_t kPrime64_2 = xxh64_detail::kPrime2;
inline constexpr uint64_t kPrime64_3 = xxh64_detail::kPrime3;
inline constexpr uint64_t kPrime64_4 = xxh64_detail::kPrime4;
inline constexpr uint64_t kPrime64_5 = xxh64_detail::kPrime5;
inline constexpr uint64_t kPrimeMx1 = 0x165667919E3779F9ULL;
inline constexpr uint64_t kPrimeMx2 = 0x9FB21C651E98DF25ULL;

inline constexpr size_t kStripeLen = 64;
inline constexpr size_t kSecretConsumeRate = 8;
inline constexpr size_t kMidSizeMax = 240;

[[nodiscard]] inline uint64_t avalanche(uint64_t h) noexcept {
  h ^= h >> 37;
  h *= kPrimeMx1;
  return h ^ (h >> 32);
}

[[nodiscard]] inline uint64_t rrmxmx(uint64_t h, uint64_t len) noexcept {
  h ^= rotl64(h, 49) ^ rotl64(h, 24);
  h *= kPrimeMx2;
  h ^= (h >> 35) + len;
  h *= kPrimeMx2;
  return h ^ (h >> 28);
}

[[nodiscard]] inline uint64_t mix16(const uint8_t* in, const uint8_t* secret, uint64_t seed) noexcept {
  return mul128_fold64(read64(in) ^ (read64(secret) + seed), read64(in + 8) ^ (read64(secret + 8) - seed));
}

[[nodiscard]] inline uint64_t len_1to3(const uint8_t* in, size_t len, const uint8_t* secret,
                                       uint64_t seed) noexcept {
  const uint32_t c1 = in[0];
  const uint32_t c2 = in[len >> 1];
  const uint32_t c3 = in[len - 1];
  const uint32_t combined =
      (c1 << 16) | (c2 << 24) | c3 | (static_cast<uint32_t>(len) << 8);
  const uint64_t bitflip = (read32(secret) ^ read32(secret + 4)) + seed;
  return xxh64_detail::avalanche(static_cast<uint64_t>(combined) ^ bitflip);
}

[[nodiscard]] inline uint64_t len_4to8(const uint8_t* in, size_t len, const uint8_t* secret,
                                       uint64_t seed) noexcept {
  seed ^= static_cast<uint64_t>(__builtin_bswap32(static_cast<uint32_t>(seed))) << 32;
  const uint64_t in1 = read32(in);
  const uint64_t in2 = read32(in + len - 4);
  const uint64_t bitflip = (read64(secret + 8) ^ read64(secret + 16)) - seed;
  const uint64_t keyed = (in2 + (in1 << 32)) ^ bitflip;
  return rrmxmx(keyed, len);
}

[[nodiscard]] inline uint64_t len_9to16(const uint8_t* in, size_t len, const uint8_t* secret,
                                        uint64_t seed) noexcept {
  const uint64_t bitflip1 = (read64(secret + 24) ^ read64(secret + 32)) + seed;
  const uint64_t bitflip2 = (read64(secret + 40) ^ read64(secret + 48)) - seed;
  const uint64_t lo = read64(in) ^ bitflip1;
  const uint64_t hi = read64(in + len - 8) ^ bitflip2;
  const uint64_t acc = len + __builtin_bswap64(lo) + hi + mul128_fold64(lo, hi);
  return avalanche(acc);
}

[[nodiscard]] inline uint64_t len_0to16(const uint8_t* in, size_t len, const uint8_t* secret,
                                        uint64_t seed) noexcept {
  if (len > 8) return len_9to16(in, len, secret, seed);
  if (len >= 4) return len_4to8(in, len, secret, seed);
  if (len > 0) return len_1to3(in, len, secret, seed);
  return xxh64_detail::avalanche(seed ^ read64(secret + 56) ^ read64(secret + 64));
}

[[nodiscard]] inline uint64_t len_17to128(const uint8_t* in, size_t len, const uint8_t* secret,
                                          uint64_t seed) noexcept {
  uint64_t acc = len * kPrime64_1;
  if (len > 32) {
    if (len > 64) {
      if (len > 96) {
        acc += mix16(in + 48, secret + 96, seed);
        acc += mix16(in + len - 64, secret + 112, seed);
      }
      acc += mix16(in + 32, secret + 64, seed);
      acc += mix16(in + len - 48, secret + 80, seed);
    }
    acc += mix16(in + 16, secret + 32, seed);
    acc += mix16(in + len - 32, secret + 48, seed);
  }
  acc += mix16(in, secret, seed);
  acc += mix16(in + len - 16, secret + 16, seed);
  return avalanche(acc);
}

[[nodiscard]] inline uint64_t len_129to240(const uint8_t* in, size_t len, const uint8_t* secret,
                                           uint64_t seed) noexcept {
  constexpr size_t kStartOffset = 3;
  constexpr size_t kLastOffset = 17;
  constexpr size_t kSecretSizeMin = 136;
  uint64_t acc = len * kPrime64_1;
  const size_t rounds = len / 16;
  for (size_t i = 0; i < 8; ++i) acc += mix16(in + 16 * i, secret + 16 * i, seed);
  acc = avalanche(acc);
  for (size_t i = 8; i < rounds; ++i) {
    acc += mix16(in + 16 * i, secret + 16 * (i - 8) + kStartOffset, seed);
  }
  acc += mix16(in + len - 16, secret + kSecretSizeMin - kLastOffset, seed);
  return avalanche(acc);
}

inline void accumulate_512(uint64_t* acc, const uint8_t* in, const uint8_t* secret) noexcept {
  for (size_t i = 0; i < 8; ++i) {
    const uint64_t value = read64(in + 8 * i);
    const uint64_t key = value ^ read64(secret + 8 * i);
    acc[i ^ 1] += value;
    acc[i] += (key & 0xFFFFFFFFULL) * (key >> 32);
  }
}

inline void scramble(uint64_t* acc, const uint8_t* secret) noexcept {
  for (size_t i = 0; i < 8; ++i) {
    uint64_t a = acc[i];
    a ^= a >> 47;
    a ^= read64(secret + 8 * i);
    acc[i] = a * kPrime32_1;
  }
}

[[nodiscard]] inline uint64_t hash_long(const uint8_t* in, size_t len, const uint8_t* secret) noexcept {
  uint64_t acc[8] = {kPrime32_3, kPrime64_1, kPrime64_2, kPrime64_3,
                     kPrime64_4, kPrime32_2, kPrime64_5, kPrime32_1};
  constexpr size_t stripes_per_block = (kSecretSize - kStripeLen) / kSecretConsumeRate;
  constexpr size_t block_len = kStripeLen * stripes_per_block;
  const size_t blocks = (len - 1) / block_len;
  for (size_t b = 0; b < blocks; ++b) {
    for (size_t s = 0; s < stripes_per_block; ++s) {
      accumulate_512(acc, in + b * block_len + s * kStripeLen, secret + s * kSecretConsumeRate);
    }
    scramble(acc, secret + kSecretSize - kStripeLen);
  }
  const size_t last_stripes = ((len - 1) - block_len * blocks) / kStripeLen;
  for (size_t s = 0; s < last_stripes; ++s) {
    accumulate_512(acc, in + blocks * block_len + s * kStripeLen, secret + s * kSecretConsumeRate);
  }
  // The last stripe always ends at the input's end, using the secret offset by 7 bytes.
  accumulate_512(acc, in + len - kStripeLen, secret + kSecretSize - kStripeLen - 7);
  uint64_t result = len * kPrime64_1;
  const uint8_t* merge_secret = secret + 11;
  for (size_t i = 0; i < 4; ++i) {
    result += mul128_fold64(acc[2 * i] ^ read64(merge_secret + 16 * i),
                            acc[2 * i + 1] ^ read64(merge_secret + 16 * i + 8));
  }
  return avalanche(result);
}
}  // namespace xxh3_detail

// XXH3-64 with a fixed seed. Construct once per batch: a non-zero seed derives a custom secret
// for inputs longer than 240 bytes, which should not be redone for every value.
class Xxh3 {
 public:
  explicit Xxh3(uint64_t seed = 0) noexcept : seed_(seed) {
    using namespace xxh3_detail;
    for (size_t i = 0; i < kSecretSize; i += 16) {
      const uint64_t lo = read64(kDefaultSecret.data() + i) + seed;
      const uint64_t hi = read64(kDefaultSecret.data() + i + 8) - seed;
      std::memcpy(long_secret_.data() + i, &lo, 8);
      std::memcpy(long_secret_.data() + i + 8, &hi, 8);
    }
  }

  [[nodiscard]] uint64_t operator()(const void* input, size_t len) const noexcept {
    using namespace xxh3_detail;
    const auto* in = static_cast<const uint8_t*>(input);
    const uint8_t* secret = kDefaultSecret.data();
    if (len <= 16) return len_0to16(in, len, secret, seed_);
    if (len <= 128) return len_17to128(in, len, secret, seed_);
    if (len <= kMidSizeMax) return len_129to240(in, len, secret, seed_);
    return hash_long(in, len, long_secret_.data());
  }

 private:
  uint64_t seed_;
  std::array<uint8_t, xxh3_detail::kSecretSize> long_secret_{};
};

[[nodiscard]] inline uint64_t xxh3_64(const void* input, size_t len, uint64_t seed) noexcept {
  return Xxh3(seed)(input, len);
}

}  // namespace featforge::hash
