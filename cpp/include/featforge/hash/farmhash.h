// FarmHash Fingerprint64 (farmhashna::Hash64), implemented from Google's published FarmHash
// algorithm description. Keras' Hashing layer (tf.strings.to_hash_bucket_fast) uses it.
// Golden-tested against the pyfarmhash package.
#pragma once

#include <utility>

#include "featforge/hash/common.h"

namespace featforge::hash {

namespace farmhash_detail {
using detail::read32;
using detail::read64;

inline constexpr uint64_t k0 = 0xc3a5c85c97cb3127ULL;
inline constexpr uint64_t k1 = 0xb492b66fbe98f273ULL;
inline constexpr uint64_t k2 = 0x9ae16a3b2f90404fULL;

[[nodiscard]] constexpr uint64_t rotr(uint64_t v, int s) noexcept { return std::rotr(v, s); }
[[nodiscard]] constexpr uint64_t shift_mix(uint64_t v) noexcept { return v ^ (v >> 47); }

[[nodiscard]] inline uint64_t hash_len16(uint64_t u, uint64_t v, uint64_t mul) noexcept {
  uint64_t a = (u ^ v) * mul;
  a ^= a >> 47;
  uint64_t b = (v ^ a) * mul;
  b ^= b >> 47;
  return b * mul;
}
[[nodiscard]] inline uint64_t hash_len16(uint64_t u, uint64_t v) noexcept {
  return hash_len16(u, v, 0x9ddfea08eb382d69ULL);
}

[[nodiscard]] inline uint64_t len_0to16(const uint8_t* s, size_t len) noexcept {
  if (len >= 8) {
    const uint64_t mul = k2 + len * 2;
    const uint64_t a = read64(s) + k2;
    const uint64_t b = read64(s + len - 8);
    const uint64_t c = rotr(b, 37) * mul + a;
    const uint64_t d = (rotr(a, 25) + b) * mul;
    return hash_len16(c, d, mul);
  }
  if (len >= 4) {
    const uint64_t mul = k2 + len * 2;
    const uint64_t a = read32(s);
    return hash_len16(len + (a << 3), read32(s + len - 4), mul);
  }
  if (len > 0) {
    const uint8_t a = s[0];
    const uint8_t b = s[len >> 1];
    const uint8_t c = s[len - 1];
    const uint32_t y = static_cast<uint32_t>(a) + (static_cast<uint32_t>(b) << 8);
    const uint32_t z = static_cast<uint32_t>(len) + (static_cast<uint32_t>(c) << 2);
    return shift_mix(y * k2 ^ z * k0) * k2;
  }
  return k2;
}

[[nodiscard]] inline uint64_t len_17to32(const uint8_t* s, size_t len) noexcept {
  const uint64_t mul = k2 + len * 2;
  const uint64_t a = read64(s) * k1;
  const uint64_t b = read64(s + 8);
  const uint64_t c = read64(s + len - 8) * mul;
  const uint64_t d = read64(s + len - 16) * k2;
  return hash_len16(rotr(a + b, 43) + rotr(c, 30) + d, a + rotr(b + k2, 18) + c, mul);
}

[[nodiscard]] inline uint64_t len_33to64(const uint8_t* s, size_t len) noexcept {
  const uint64_t mul = k2 + len * 2;
  const uint64_t a = read64(s) * k2;
  const uint64_t b = read64(s + 8);
  const uint64_t c = read64(s + len - 8) * mul;
  const uint64_t d = read64(s + len - 16) * k2;
  const uint64_t y = rotr(a + b, 43) + rotr(c, 30) + d;
  const uint64_t z = hash_len16(y, a + rotr(b + k2, 18) + c, mul);
  const uint64_t e = read64(s + 16) * mul;
  const uint64_t f = read64(s + 24);
  const uint64_t g = (y + read64(s + len - 32)) * mul;
  const uint64_t h = (z + read64(s + len - 24)) * mul;
  return hash_len16(rotr(e + f, 43) + rotr(g, 30) + h, e + rotr(f + a, 18) + g, mul);
}

[[nodiscard]] inline std::pair<uint64_t, uint64_t> weak_len32_with_seeds(const uint8_t* s,
                                                                         uint64_t a,
                                                                         uint64_t b) noexcept {
  const uint64_t w = read64(s);
  const uint64_t x = read64(s + 8);
  const uint64_t y = read64(s + 16);
  const uint64_t z = read64(s + 24);
  a += w;
  b = rotr(b + a + z, 21);
  const uint64_t c = a;
  a += x;
  a += y;
  b += rotr(a, 44);
  return {a + z, b + c};
}
}  // namespace farmhash_detail

[[nodiscard]] inline uint64_t farmhash_fingerprint64(const void* input, size_t len) noexcept {
  using namespace farmhash_detail;
  const auto* s = static_cast<const uint8_t*>(input);
  if (len <= 16) return len_0to16(s, len);
  if (len <= 32) return len_17to32(s, len);
  if (len <= 64) return len_33to64(s, len);
  constexpr uint64_t seed = 81;
  uint64_t x = seed;
  uint64_t y = seed * k1 + 113;
  uint64_t z = shift_mix(y * k2 + 113) * k2;
  std::pair<uint64_t, uint64_t> v{0, 0};
  std::pair<uint64_t, uint64_t> w{0, 0};
  x = x * k2 + read64(s);
  const uint8_t* end = s + ((len - 1) / 64) * 64;
  const uint8_t* last64 = end + ((len - 1) & 63) - 63;
  do {
    x = rotr(x + y + v.first + read64(s + 8), 37) * k1;
    y = rotr(y + v.second + read64(s + 48), 42) * k1;
    x ^= w.second;
    y += v.first + read64(s + 40);
    z = rotr(z + w.first, 33) * k1;
    v = weak_len32_with_seeds(s, v.second * k1, x + w.first);
    w = weak_len32_with_seeds(s + 32, z + w.second, y + read64(s + 16));
    std::swap(z, x);
    s += 64;
  } while (s != end);
  const uint64_t mul = k1 + ((z & 0xff) << 1);
  s = last64;
  w.first += ((len - 1) & 63);
  v.first += w.first;
  w.first += v.first;
  x = rotr(x + y + v.first + read64(s + 8), 37) * mul;
  y = rotr(y + v.second + read64(s + 48), 42) * mul;
  x ^= w.second * 9;
  y += v.first * 9 + read64(s + 40);
  z = rotr(z + w.first, 33) * mul;
  v = weak_len32_with_seeds(s, v.second * mul, x + w.first);
  w = weak_len32_with_seeds(s + 32, z + w.second, y + read64(s + 16));
  std::swap(z, x);
  return hash_len16(hash_len16(v.first, w.first, mul) + shift_mix(y) * k0 + z,
                    hash_len16(v.second, w.second, mul) + x, mul);
}

}  // namespace featforge::hash
