// SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012), 64-bit output,
// keyed by two 64-bit words. TensorFlow's to_hash_bucket_strong (Keras Hashing with a salt) uses
// it with key = (salt[0], salt[1]). Golden-tested with the paper's test vectors.
#pragma once

#include "featforge/hash/common.h"

namespace featforge::hash {

[[nodiscard]] inline uint64_t siphash24(const void* input, size_t len, uint64_t k0,
                                        uint64_t k1) noexcept {
  using detail::read64;
  using detail::rotl64;
  const auto* in = static_cast<const uint8_t*>(input);
  uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
  uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
  uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
  uint64_t v3 = 0x7465646279746573ULL ^ k1;
  auto round = [&] {
    v0 += v1;
    v1 = rotl64(v1, 13);
    v1 ^= v0;
    v0 = rotl64(v0, 32);
    v2 += v3;
    v3 = rotl64(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl64(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl64(v1, 17);
    v1 ^= v2;
    v2 = rotl64(v2, 32);
  };
  const size_t full = len - len % 8;
  for (size_t i = 0; i < full; i += 8) {
    const uint64_t m = read64(in + i);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  uint64_t last = static_cast<uint64_t>(len & 0xff) << 56;
  for (size_t i = 0; i < len % 8; ++i) last |= static_cast<uint64_t>(in[full + i]) << (8 * i);
  v3 ^= last;
  round();
  round();
  v0 ^= last;
  v2 ^= 0xff;
  round();
  round();
  round();
  round();
  return v0 ^ v1 ^ v2 ^ v3;
}

}  // namespace featforge::hash
