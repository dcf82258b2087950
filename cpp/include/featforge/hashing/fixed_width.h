// Hashes of fixed-width (4- or 8-byte) values, written as straight loops the compiler vectorises.
// On x86-64 Linux each is compiled for AVX-512, AVX2 and baseline and the best one is picked when
// the library loads (GCC target_clones), so a wheel built for baseline x86-64 still uses AVX-512.
// Every result equals the scalar hash of the value's 4 or 8 little-endian bytes.
#pragma once

#include <cstdint>

namespace featforge::hashing::fixed_width {

void xxh3_8(const uint64_t* in, int64_t n, uint64_t* out, uint64_t seed);
void xxh3_4(const uint32_t* in, int64_t n, uint64_t* out, uint64_t seed);
void xxh64_8(const uint64_t* in, int64_t n, uint64_t* out, uint64_t seed);
void xxh64_4(const uint32_t* in, int64_t n, uint64_t* out, uint64_t seed);
void murmur3_8(const uint64_t* in, int64_t n, uint32_t* out, uint32_t seed);
void murmur3_4(const uint32_t* in, int64_t n, uint32_t* out, uint32_t seed);

}  // namespace featforge::hashing::fixed_width

namespace featforge::hashing::fixed_width {

// XXH3-64 of every string of a string/binary array with int32 offsets (offsets[i]..[i+1] into
// data), into out[0..n): the tight loop hash() uses for strings. (An AVX-512 version with
// gathers was measured slower than this on AMD EPYC, so there is none.)
void xxh3_strings(const int32_t* offsets, const char* data, int64_t n, uint64_t* out,
                  uint64_t seed);

}  // namespace featforge::hashing::fixed_width
