#include "featforge/hashing/fixed_width.h"

#include <bit>

#include "featforge/hash/murmur3.h"
#include "featforge/hash/xxh3.h"
#include "featforge/hash/xxh64.h"

#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__)
#define FEATFORGE_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FEATFORGE_CLONES
#endif

namespace featforge::hashing::fixed_width {

namespace {
using hash::detail::read64;

// The XXH3 "4 to 8 bytes" path with everything that does not depend on the value hoisted out:
// for an 8-byte value x the input word is rotl(x, 32), for a 4-byte value x it is x | x << 32.
struct Xxh3Short {
  uint64_t bitflip;
  explicit Xxh3Short(uint64_t seed) {
    const uint64_t s = seed ^ (static_cast<uint64_t>(__builtin_bswap32(static_cast<uint32_t>(seed)))
                               << 32);
    const uint8_t* secret = hash::xxh3_detail::kDefaultSecret.data();
    bitflip = (read64(secret + 8) ^ read64(secret + 16)) - s;
  }
};

inline uint64_t rrmxmx(uint64_t h, uint64_t len) {
  constexpr uint64_t kMx2 = hash::xxh3_detail::kPrimeMx2;
  h ^= std::rotl(h, 49) ^ std::rotl(h, 24);
  h *= kMx2;
  h ^= (h >> 35) + len;
  h *= kMx2;
  return h ^ (h >> 28);
}

inline uint64_t xxh64_avalanche(uint64_t h) { return hash::xxh64_detail::avalanche(h); }
}  // namespace

FEATFORGE_CLONES void xxh3_8(const uint64_t* in, int64_t n, uint64_t* out, uint64_t seed) {
  const uint64_t bitflip = Xxh3Short(seed).bitflip;
  for (int64_t i = 0; i < n; ++i) out[i] = rrmxmx(std::rotl(in[i], 32) ^ bitflip, 8);
}

FEATFORGE_CLONES void xxh3_4(const uint32_t* in, int64_t n, uint64_t* out, uint64_t seed) {
  const uint64_t bitflip = Xxh3Short(seed).bitflip;
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t x = in[i];
    out[i] = rrmxmx((x | (x << 32)) ^ bitflip, 4);
  }
}

FEATFORGE_CLONES void xxh64_8(const uint64_t* in, int64_t n, uint64_t* out, uint64_t seed) {
  using namespace hash::xxh64_detail;
  const uint64_t start = seed + kPrime5 + 8;
  for (int64_t i = 0; i < n; ++i) {
    uint64_t h = start ^ (std::rotl(in[i] * kPrime2, 31) * kPrime1);
    h = std::rotl(h, 27) * kPrime1 + kPrime4;
    out[i] = xxh64_avalanche(h);
  }
}

FEATFORGE_CLONES void xxh64_4(const uint32_t* in, int64_t n, uint64_t* out, uint64_t seed) {
  using namespace hash::xxh64_detail;
  const uint64_t start = seed + kPrime5 + 4;
  for (int64_t i = 0; i < n; ++i) {
    uint64_t h = start ^ (static_cast<uint64_t>(in[i]) * kPrime1);
    h = std::rotl(h, 23) * kPrime2 + kPrime3;
    out[i] = xxh64_avalanche(h);
  }
}

FEATFORGE_CLONES void murmur3_8(const uint64_t* in, int64_t n, uint32_t* out, uint32_t seed) {
  using namespace hash::murmur3_detail;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t h = mix_h1(seed, mix_k1(static_cast<uint32_t>(in[i])));
    h = mix_h1(h, mix_k1(static_cast<uint32_t>(in[i] >> 32)));
    out[i] = fmix(h, 8);
  }
}

FEATFORGE_CLONES void murmur3_4(const uint32_t* in, int64_t n, uint32_t* out, uint32_t seed) {
  using namespace hash::murmur3_detail;
  for (int64_t i = 0; i < n; ++i) out[i] = fmix(mix_h1(seed, mix_k1(in[i])), 4);
}

}  // namespace featforge::hashing::fixed_width

