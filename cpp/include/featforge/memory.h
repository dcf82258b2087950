// Memory helpers shared by the kernels.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <utility>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace featforge {

// Stores for output that is written once and not read again here: non-temporal on x86-64, so
// each destination line is not first read into the cache. They are weakly ordered: call
// stream_fence() once the output is complete, before it is handed over.
#if defined(__x86_64__)
inline void stream_store(uint64_t* dst, uint64_t x) noexcept {
  _mm_stream_si64(reinterpret_cast<long long*>(dst), static_cast<long long>(x));
}
inline void stream_store(int64_t* dst, int64_t x) noexcept {
  _mm_stream_si64(reinterpret_cast<long long*>(dst), x);
}
inline void stream_fence() noexcept { _mm_sfence(); }
#else
inline void stream_store(uint64_t* dst, uint64_t x) noexcept { *dst = x; }
inline void stream_store(int64_t* dst, int64_t x) noexcept { *dst = x; }
inline void stream_fence() noexcept {}
#endif

// 2 MiB-aligned blocks of at least 4 MiB on transparent huge pages, reused through the same
// bounded cache as Arrow result buffers (arrow/builder.cpp; FEATFORGE_BUFFER_CACHE_MB).
// `bytes` is rounded up to whole huge pages; pass the same size back.
[[nodiscard]] void* take_huge_block(size_t bytes);
void give_huge_block(void* p, size_t bytes) noexcept;

// An allocator for big arrays (hash tables, per-row scratch): allocations of 4 MiB or more are
// 2 MiB-aligned on transparent huge pages, so faulting them in goes 2 MiB at a time instead of
// 4 KiB - otherwise page faults cost as much as the work on a large batch. Small ones use the heap.
template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: allocator rebinding
  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < (size_t{4} << 20)) return static_cast<T*>(::operator new(bytes));
    return static_cast<T*>(take_huge_block(bytes));
  }
  void deallocate(T* p, size_t n) noexcept {
    if (n * sizeof(T) < (size_t{4} << 20)) {
      ::operator delete(p);
    } else {
      give_huge_block(p, n * sizeof(T));
    }
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
};

// A std::vector whose large buffers live on huge pages.
template <class T>
using big_vector = std::vector<T, HugePageAllocator<T>>;

// As HugePageAllocator, but a vector's resize() leaves new elements uninitialised: for scratch
// arrays whose every element is written before it is read, it saves a pass of zeroing.
template <class T>
struct UninitHugePageAllocator : HugePageAllocator<T> {
  template <class U>
  struct rebind {
    using other = UninitHugePageAllocator<U>;
  };
  UninitHugePageAllocator() = default;
  template <class U>
  UninitHugePageAllocator(const UninitHugePageAllocator<U>&) noexcept {}  // NOLINT: rebinding
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;  // default-initialisation: no zeroing for scalars
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// A big_vector for write-before-read scratch (see UninitHugePageAllocator).
template <class T>
using scratch_vector = std::vector<T, UninitHugePageAllocator<T>>;

}  // namespace featforge
