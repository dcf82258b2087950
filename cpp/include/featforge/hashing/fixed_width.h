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

namespace featforge::arrow {
struct BinaryViewElement;
}

namespace featforge::hashing::fixed_width {

// XXH3-64 of every string of a string/binary array with int32 offsets (offsets[i]..[i+1] into
// data), into out[0..n): the loop hash() uses for strings. On CPUs with AVX-512 the common case,
// eight strings of 9 to 16 bytes in a row, is hashed eight at a time: scalar loads (gathers are
// slower on AMD) and vector arithmetic, with the 64x64->128-bit multiply built from four 32-bit
// ones. Any other block of eight takes the scalar path. Results equal the scalar XXH3 exactly.
// `stream`: the caller will not read `out` soon (a result column), so whole cache lines are
// written with non-temporal stores; leave it false when the hashes are used right away.
void xxh3_strings(const int32_t* offsets, const char* data, int64_t n, uint64_t* out,
                  uint64_t seed, bool stream = false);

// The same for string_view/binary_view arrays (views as in the Arrow spec; buffers are the
// variadic data buffers): the vector path takes blocks of eight inlined strings of 9 to 12 bytes.
void xxh3_string_views(const arrow::BinaryViewElement* views, const char* const* buffers,
                       int64_t n, uint64_t* out, uint64_t seed, bool stream = false);

}  // namespace featforge::hashing::fixed_width
