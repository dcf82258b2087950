#include <cstdint>

#include "featforge/arrow/view.h"
#include "featforge/hash/xxh3.h"
#include "featforge/hashing/fixed_width.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define FEATFORGE_HAVE_AVX512_STRINGS 1
#define FEATFORGE_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
#else
#define FEATFORGE_HAVE_AVX512_STRINGS 0
#endif

namespace featforge::hashing::fixed_width {

namespace {
using hash::detail::read64;
using arrow::BinaryViewElement;

// The XXH3 path for 9..16 bytes with the seed-dependent constants hoisted: `lo` is the first and
// `hi` the last 8 bytes of the input (they overlap below 16 bytes).
struct Xxh3Mid {
  uint64_t bitflip1, bitflip2;
  explicit Xxh3Mid(uint64_t seed) noexcept {
    const uint8_t* secret = hash::xxh3_detail::kDefaultSecret.data();
    bitflip1 = (read64(secret + 24) ^ read64(secret + 32)) + seed;
    bitflip2 = (read64(secret + 40) ^ read64(secret + 48)) - seed;
  }
  [[nodiscard]] uint64_t operator()(uint64_t lo, uint64_t hi, uint64_t len) const noexcept {
    lo ^= bitflip1;
    hi ^= bitflip2;
    const uint64_t acc = len + __builtin_bswap64(lo) + hi + hash::detail::mul128_fold64(lo, hi);
    return hash::xxh3_detail::avalanche(acc);
  }
};

constexpr bool is_mid(uint64_t len) { return len - 9 <= 7; }  // 9 <= len <= 16

const char* view_bytes(const BinaryViewElement& v, const char* const* buffers) {
  return v.size <= 12 ? v.inlined : buffers[v.ref.buffer_index] + v.ref.offset;
}

// One string at a time; `begin` is carried so each offset is loaded once.
void strings_scalar(const int32_t* offsets, const uint8_t* data, int64_t n, uint64_t* out,
                    const hash::Xxh3& hasher, const Xxh3Mid& mid) {
  int64_t begin = offsets[0];
  for (int64_t i = 0; i < n; ++i) {
    const int64_t end = offsets[i + 1];
    const auto len = static_cast<uint64_t>(end - begin);
    out[i] = is_mid(len) ? mid(read64(data + begin), read64(data + end - 8), len)
                         : hasher(data + begin, len);
    begin = end;
  }
}

void views_scalar(const BinaryViewElement* views, const char* const* buffers, int64_t n,
                  uint64_t* out, const hash::Xxh3& hasher) {
  for (int64_t i = 0; i < n; ++i) {
    out[i] = hasher(view_bytes(views[i], buffers), static_cast<size_t>(views[i].size));
  }
}

#if FEATFORGE_HAVE_AVX512_STRINGS

// GCC 12's AVX-512 intrinsics start some results from a self-initialised "undefined" register,
// which -O3 reports as -Wmaybe-uninitialized inside the system header: not a defect here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

bool cpu_has_avx512() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  return ok;
}

// Eight 64x64 -> 128-bit products folded to 64 bits (low ^ high), from four 32x32 -> 64 ones.
FEATFORGE_AVX512 inline __m512i mul128_fold_x8(__m512i a, __m512i b) {
  const __m512i low32 = _mm512_set1_epi64(0xFFFFFFFF);
  const __m512i a_hi = _mm512_srli_epi64(a, 32);
  const __m512i b_hi = _mm512_srli_epi64(b, 32);
  const __m512i p00 = _mm512_mul_epu32(a, b);
  const __m512i p01 = _mm512_mul_epu32(a, b_hi);
  const __m512i p10 = _mm512_mul_epu32(a_hi, b);
  const __m512i p11 = _mm512_mul_epu32(a_hi, b_hi);
  // Middle column: the high half of p00 plus the low halves of the cross products (no overflow).
  const __m512i middle = _mm512_add_epi64(
      _mm512_srli_epi64(p00, 32),
      _mm512_add_epi64(_mm512_and_si512(p01, low32), _mm512_and_si512(p10, low32)));
  const __m512i low = _mm512_or_si512(_mm512_and_si512(p00, low32), _mm512_slli_epi64(middle, 32));
  const __m512i high = _mm512_add_epi64(
      _mm512_add_epi64(p11, _mm512_srli_epi64(middle, 32)),
      _mm512_add_epi64(_mm512_srli_epi64(p01, 32), _mm512_srli_epi64(p10, 32)));
  return _mm512_xor_si512(low, high);
}

// Xxh3Mid for eight strings at once.
struct Xxh3MidX8 {
  __m512i bitflip1, bitflip2, prime, bswap;
  FEATFORGE_AVX512 explicit Xxh3MidX8(const Xxh3Mid& mid)
      : bitflip1(_mm512_set1_epi64(static_cast<int64_t>(mid.bitflip1))),
        bitflip2(_mm512_set1_epi64(static_cast<int64_t>(mid.bitflip2))),
        prime(_mm512_set1_epi64(static_cast<int64_t>(hash::xxh3_detail::kPrimeMx1))),
        bswap(_mm512_broadcast_i32x4(_mm_set_epi8(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5,
                                                  6, 7))) {}

  FEATFORGE_AVX512 __m512i operator()(__m512i lo, __m512i hi, __m256i len32) const {
    lo = _mm512_xor_si512(lo, bitflip1);
    hi = _mm512_xor_si512(hi, bitflip2);
    const __m512i len = _mm512_cvtepu32_epi64(len32);
    __m512i acc = _mm512_add_epi64(_mm512_add_epi64(len, _mm512_shuffle_epi8(lo, bswap)),
                                   _mm512_add_epi64(hi, mul128_fold_x8(lo, hi)));
    acc = _mm512_xor_si512(acc, _mm512_srli_epi64(acc, 37));
    acc = _mm512_mullo_epi64(acc, prime);
    return _mm512_xor_si512(acc, _mm512_srli_epi64(acc, 32));
  }
};

// True when every one of eight 32-bit lengths is in [lo, hi].
FEATFORGE_AVX512 inline bool all_in(__m256i len32, int32_t lo, int32_t hi) {
  const __m256i shifted = _mm256_sub_epi32(len32, _mm256_set1_epi32(lo));
  return _mm256_cmpgt_epu32_mask(shifted, _mm256_set1_epi32(hi - lo)) == 0;
}

// The hashes are written once and not read back here: when the destination is a whole aligned
// cache line, a non-temporal store skips reading that line into the cache first.
FEATFORGE_AVX512 inline void store8(uint64_t* out, __m512i v, bool stream) {
  if (stream && (reinterpret_cast<uintptr_t>(out) & 63) == 0) {
    _mm512_stream_si512(reinterpret_cast<__m512i*>(out), v);
  } else {
    _mm512_storeu_si512(out, v);
  }
}

FEATFORGE_AVX512 inline __m512i load8(const uint8_t* base, const int32_t* at, int32_t shift) {
  return _mm512_set_epi64(
      static_cast<int64_t>(read64(base + at[7] + shift)), static_cast<int64_t>(read64(base + at[6] + shift)),
      static_cast<int64_t>(read64(base + at[5] + shift)), static_cast<int64_t>(read64(base + at[4] + shift)),
      static_cast<int64_t>(read64(base + at[3] + shift)), static_cast<int64_t>(read64(base + at[2] + shift)),
      static_cast<int64_t>(read64(base + at[1] + shift)), static_cast<int64_t>(read64(base + at[0] + shift)));
}

FEATFORGE_AVX512 void strings_avx512(const int32_t* offsets, const uint8_t* data, int64_t n,
                                     uint64_t* out, const hash::Xxh3& hasher, const Xxh3Mid& mid,
                                     bool stream) {
  const Xxh3MidX8 mid8(mid);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const int32_t* at = offsets + i;
    const __m256i begin = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
    const __m256i end = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at + 1));
    const __m256i len32 = _mm256_sub_epi32(end, begin);
    if (!all_in(len32, 9, 16)) {
      strings_scalar(at, data, 8, out + i, hasher, mid);
      continue;
    }
    // Scalar loads beat vpgatherdq here; the first and the last 8 bytes of each string.
    const __m512i lo = load8(data, at, 0);
    const __m512i hi = load8(data, at + 1, -8);
    store8(out + i, mid8(lo, hi, len32), stream);
  }
  _mm_sfence();
  strings_scalar(offsets + i, data, n - i, out + i, hasher, mid);
}

// For views holding 9..12 inlined bytes, both 8-byte words come from the view itself, so eight
// views (two registers) are hashed without touching any other memory.
struct InlineWordsX8 {
  __m512i low_qwords;       // permutex2var picks: the low qword of every 128-bit lane
  __m512i sizes;            // permutex2var picks: the size dword of every view
  __m512i byte0, tail_from;  // per-lane shuffle controls
  FEATFORGE_AVX512 InlineWordsX8()
      : low_qwords(_mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14)),
        sizes(_mm512_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28, 0, 0, 0, 0, 0, 0, 0, 0)),
        byte0(_mm512_setzero_si512()),
        tail_from(_mm512_broadcast_i32x4(
            _mm_setr_epi8(-4, -3, -2, -1, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0))) {}

  // Bytes size-4 .. size+3 of each view (the last 8 inlined bytes) moved to its low qword.
  FEATFORGE_AVX512 __m512i tail(__m512i four_views) const {
    const __m512i size_bytes = _mm512_shuffle_epi8(four_views, byte0);  // size < 256 here
    return _mm512_shuffle_epi8(four_views, _mm512_add_epi8(size_bytes, tail_from));
  }
};

FEATFORGE_AVX512 void views_avx512(const BinaryViewElement* views, const char* const* buffers,
                                   int64_t n, uint64_t* out, const hash::Xxh3& hasher,
                                   const Xxh3Mid& mid, bool stream) {
  const Xxh3MidX8 mid8(mid);
  const InlineWordsX8 k;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const auto* v = reinterpret_cast<const uint8_t*>(views + i);
    const __m512i first4 = _mm512_loadu_si512(v);
    const __m512i last4 = _mm512_loadu_si512(v + 64);
    const __m256i len32 =
        _mm512_castsi512_si256(_mm512_permutex2var_epi32(first4, k.sizes, last4));
    if (!all_in(len32, 9, 12)) {
      views_scalar(views + i, buffers, 8, out + i, hasher);
      continue;
    }
    // Bytes 4..11 of each view are the first 8 inlined bytes.
    const __m512i lo = _mm512_permutex2var_epi64(_mm512_bsrli_epi128(first4, 4), k.low_qwords,
                                                 _mm512_bsrli_epi128(last4, 4));
    const __m512i hi = _mm512_permutex2var_epi64(k.tail(first4), k.low_qwords, k.tail(last4));
    store8(out + i, mid8(lo, hi, len32), stream);
  }
  _mm_sfence();
  views_scalar(views + i, buffers, n - i, out + i, hasher);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif  // FEATFORGE_HAVE_AVX512_STRINGS

}  // namespace

void xxh3_strings(const int32_t* offsets, const char* data, int64_t n, uint64_t* out,
                  uint64_t seed, bool stream) {
  const hash::Xxh3 hasher(seed);
  const Xxh3Mid mid(seed);
  const auto* bytes = reinterpret_cast<const uint8_t*>(data);
#if FEATFORGE_HAVE_AVX512_STRINGS
  if (cpu_has_avx512()) return strings_avx512(offsets, bytes, n, out, hasher, mid, stream);
#endif
  strings_scalar(offsets, bytes, n, out, hasher, mid);
}

void xxh3_string_views(const BinaryViewElement* views, const char* const* buffers, int64_t n,
                       uint64_t* out, uint64_t seed, bool stream) {
  const hash::Xxh3 hasher(seed);
#if FEATFORGE_HAVE_AVX512_STRINGS
  if (cpu_has_avx512()) return views_avx512(views, buffers, n, out, hasher, Xxh3Mid(seed), stream);
#endif
  views_scalar(views, buffers, n, out, hasher);
}

}  // namespace featforge::hashing::fixed_width
