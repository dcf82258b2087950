// XXH64, implemented from the xxHash specification (doc/xxhash_spec.md, "XXH64 Algorithm
// Description"). Output equals the reference XXH64(input, len, seed).
#pragma once

#include "featforge/hash/common.h"

namespace featforge::hash {

namespace xxh64_detail {
using detail::read32;
using detail::read64;
using detail::rotl64;

inline constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
inline constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;
inline constexpr uint64_t kPrime3 = 0x165667B19E3779F9ULL;
inline constexpr uint64_t kPrime4 = 0x85EBCA77C2B2AE63ULL;
inline constexpr uint64_t kPrime5 = 0x27D4EB2F165667C5ULL;

[[nodiscard]] inline uint64_t round(uint64_t acc, uint64_t lane) noexcept {
  acc += lane * kPrime2;
  return rotl64(acc, 31) * kPrime1;
}
[[nodiscard]] inline uint64_t merge_round(uint64_t acc, uint64_t val) noexcept {
  acc ^= round(0, val);
  return acc * kPrime1 + kPrime4;
}
[[nodiscard]] inline uint64_t avalanche(uint64_t h) noexcept {
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  h *= kPrime3;
  h ^= h >> 32;
  return h;
}
}  // namespace xxh64_detail

[[nodiscard]] inline uint64_t xxh64(const void* input, size_t len, uint64_t seed) noexcept {
  using namespace xxh64_detail;
  const auto* p = static_cast<const uint8_t*>(input);
  const uint8_t* const end = p + len;
  uint64_t h;
  if (len >= 32) {
    uint64_t v1 = seed + kPrime1 + kPrime2;
    uint64_t v2 = seed + kPrime2;
    uint64_t v3 = seed;
    uint64_t v4 = seed - kPrime1;
    const uint8_t* const limit = end - 32;
    do {
      v1 = round(v1, read64(p));
      v2 = round(v2, read64(p + 8));
      v3 = round(v3, read64(p + 16));
      v4 = round(v4, read64(p + 24));
      p += 32;
    } while (p <= limit);
    h = rotl64(v1, 1) + rotl64(v2, 7) + rotl64(v3, 12) + rotl64(v4, 18);
    h = merge_round(h, v1);
    h = merge_round(h, v2);
    h = merge_round(h, v3);
    h = merge_round(h, v4);
  } else {
    h = seed + kPrime5;
  }
  h += static_cast<uint64_t>(len);
  while (p + 8 <= end) {
    h ^= round(0, read64(p));
    h = rotl64(h, 27) * kPrime1 + kPrime4;
    p += 8;
  }
  if (p + 4 <= end) {
    h ^= static_cast<uint64_t>(read32(p)) * kPrime1;
    h = rotl64(h, 23) * kPrime2 + kPrime3;
    p += 4;
  }
  while (p < end) {
    h ^= static_cast<uint64_t>(*p) * kPrime5;
    h = rotl64(h, 11) * kPrime1;
    ++p;
  }
  return avalanche(h);
}

}  // namespace featforge::hash
