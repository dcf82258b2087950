// Small helpers shared by the hash families: unaligned little-endian reads, rotations, 128-bit
// multiply. Everything is inline so the per-family functions fold for fixed-width keys.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace featforge::hash::detail {

static_assert(std::endian::native == std::endian::little,
              "featforge's canonical byte encoding assumes a little-endian host");

[[nodiscard]] inline uint64_t read64(const uint8_t* p) noexcept {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
[[nodiscard]] inline uint32_t read32(const uint8_t* p) noexcept {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
[[nodiscard]] constexpr uint64_t rotl64(uint64_t x, int r) noexcept { return std::rotl(x, r); }
[[nodiscard]] constexpr uint32_t rotl32(uint32_t x, int r) noexcept { return std::rotl(x, r); }

// Full 64x64 -> 128 multiply, folded to 64 bits by xoring the halves.
__extension__ using uint128 = unsigned __int128;  // GCC/Clang builtin; __extension__ for -Wpedantic

[[nodiscard]] inline uint64_t mul128_fold64(uint64_t a, uint64_t b) noexcept {
  const uint128 product = static_cast<uint128>(a) * b;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

// a % d for a fixed divisor d without a division instruction (Lemire, Kaser & Kurz, "Faster
// Remainder by Direct Computation", 2019): exact for every 64-bit a and d >= 1.
class FastMod64 {
 public:
  explicit FastMod64(uint64_t d) noexcept : m_(~uint128{0} / d + 1), d_(d) {}
  [[nodiscard]] uint64_t operator()(uint64_t a) const noexcept {
    const uint128 low = m_ * a;
    const uint128 bottom = (static_cast<uint128>(static_cast<uint64_t>(low)) * d_) >> 64;
    const uint128 top = (low >> 64) * d_;
    return static_cast<uint64_t>((bottom + top) >> 64);
  }

 private:
  uint128 m_;
  uint64_t d_;
};

}  // namespace featforge::hash::detail
