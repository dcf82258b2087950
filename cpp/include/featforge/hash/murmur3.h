// MurmurHash3_x86_32 (Austin Appleby's published algorithm) and Spark's legacy variant of it.
#pragma once

#include "featforge/hash/common.h"

namespace featforge::hash {

namespace murmur3_detail {
using detail::read32;
using detail::rotl32;

inline constexpr uint32_t kC1 = 0xcc9e2d51U;
inline constexpr uint32_t kC2 = 0x1b873593U;

[[nodiscard]] inline uint32_t mix_k1(uint32_t k1) noexcept {
  k1 *= kC1;
  k1 = rotl32(k1, 15);
  return k1 * kC2;
}
[[nodiscard]] inline uint32_t mix_h1(uint32_t h1, uint32_t k1) noexcept {
  h1 ^= k1;
  h1 = rotl32(h1, 13);
  return h1 * 5 + 0xe6546b64U;
}
[[nodiscard]] inline uint32_t fmix(uint32_t h1, uint32_t len) noexcept {
  h1 ^= len;
  h1 ^= h1 >> 16;
  h1 *= 0x85ebca6bU;
  h1 ^= h1 >> 13;
  h1 *= 0xc2b2ae35U;
  h1 ^= h1 >> 16;
  return h1;
}
}  // namespace murmur3_detail

// Reference MurmurHash3_x86_32; equals Python's mmh3.hash(bytes, seed) read as unsigned.
[[nodiscard]] inline uint32_t murmur3_32(const void* input, size_t len, uint32_t seed) noexcept {
  using namespace murmur3_detail;
  const auto* p = static_cast<const uint8_t*>(input);
  const size_t blocks = len / 4;
  uint32_t h1 = seed;
  for (size_t i = 0; i < blocks; ++i) h1 = mix_h1(h1, mix_k1(read32(p + 4 * i)));
  const uint8_t* tail = p + blocks * 4;
  uint32_t k1 = 0;
  switch (len & 3) {
    case 3: k1 ^= static_cast<uint32_t>(tail[2]) << 16; [[fallthrough]];
    case 2: k1 ^= static_cast<uint32_t>(tail[1]) << 8; [[fallthrough]];
    case 1:
      k1 ^= tail[0];
      h1 ^= mix_k1(k1);
      break;
    default: break;
  }
  return fmix(h1, static_cast<uint32_t>(len));
}

// Spark's Murmur3_x86_32.hashUnsafeBytes (used by Spark SQL's hash() for strings and binary):
// full 4-byte blocks as in the reference, but each trailing byte is sign-extended and mixed as a
// whole block of its own (mix_k1 then mix_h1), rather than packed into one tail word.
[[nodiscard]] inline uint32_t spark_murmur3_32(const void* input, size_t len, uint32_t seed) noexcept {
  using namespace murmur3_detail;
  const auto* p = static_cast<const uint8_t*>(input);
  const size_t aligned = len - len % 4;
  uint32_t h1 = seed;
  for (size_t i = 0; i < aligned; i += 4) h1 = mix_h1(h1, mix_k1(read32(p + i)));
  for (size_t i = aligned; i < len; ++i) {
    const auto half_word = static_cast<uint32_t>(static_cast<int32_t>(static_cast<int8_t>(p[i])));
    h1 = mix_h1(h1, mix_k1(half_word));
  }
  return fmix(h1, static_cast<uint32_t>(len));
}

}  // namespace featforge::hash
