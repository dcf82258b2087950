// Owned array data produced by kernels, and its export as C Data Interface structs. Buffers are
// 64-byte aligned heap blocks; export moves them into the ArrowArray's private data, so a consumer
// (pyarrow) uses them without a copy and frees them through the release callback.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "featforge/arrow/c_abi.h"
#include "featforge/arrow/owners.h"

namespace featforge::arrow {

namespace detail {
// Frees a Buffer's block (or hands it to the block cache).
struct BufferFree {
  size_t capacity = 0;  // the allocation's rounded size
  void operator()(uint8_t* p) const noexcept;
};
}  // namespace detail

class Buffer {
 public:
  Buffer() = default;
  // Uninitialised storage for `size` bytes (rounded up to a 64-byte multiple internally).
  explicit Buffer(size_t size);
  static Buffer zeroed(size_t size);

  [[nodiscard]] uint8_t* data() noexcept { return data_.get(); }
  [[nodiscard]] const uint8_t* data() const noexcept { return data_.get(); }
  template <class T>
  [[nodiscard]] T* as() noexcept {
    return reinterpret_cast<T*>(data_.get());
  }
  [[nodiscard]] size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return data_ == nullptr; }

 private:
  std::unique_ptr<uint8_t, detail::BufferFree> data_;
  size_t size_ = 0;
};

// Large blocks (>= 4 MiB: result buffers released by consumers, and the kernels' scratch arrays
// through HugePageAllocator) are kept for reuse, up to this many bytes in total (default 1 GiB or
// an eighth of physical memory, whichever is less; FEATFORGE_BUFFER_CACHE_MB overrides it), and
// for at most 30 s unused. Reusing a block that is already mapped avoids the kernel faulting in
// and zeroing fresh pages on every batch, which otherwise costs as much as hashing the batch.
// 0 disables the cache (every block is returned to the system).
void set_buffer_cache_limit(size_t bytes);
[[nodiscard]] size_t buffer_cache_limit() noexcept;
[[nodiscard]] size_t buffer_cache_bytes() noexcept;
// How long an unused block is kept (default 30 s); for tests.
void set_buffer_cache_idle(std::chrono::milliseconds idle);

// A node of an output array tree, before export.
struct ArrayData {
  std::string format;
  std::string name;
  int64_t length = 0;
  int64_t null_count = 0;
  std::vector<Buffer> buffers;  // an empty Buffer exports as a NULL pointer (e.g. no validity)
  std::vector<std::unique_ptr<ArrayData>> children;
  std::unique_ptr<ArrayData> dictionary;  // set for dictionary-encoded arrays (format = indices)
};

// Exports `data` as a schema + array pair whose release callbacks free everything exactly once.
[[nodiscard]] OwnedArray export_array(std::unique_ptr<ArrayData> data);

// A zero-length array of the type `schema` describes (nested types and dictionaries included).
[[nodiscard]] OwnedArray make_empty_array(const ArrowSchema& schema);

// Copies `length` validity bits starting at bit `offset` of `bits` into a fresh bitmap starting at
// bit 0. Returns an empty Buffer when bits is nullptr (all valid).
[[nodiscard]] Buffer copy_validity(const uint8_t* bits, int64_t offset, int64_t length);

// Convenience: a primitive array of `length` elements of type T with format `format`.
template <class T>
struct PrimitiveOutput {
  std::unique_ptr<ArrayData> data;
  T* values;
  PrimitiveOutput(const char* format, int64_t length) : data(std::make_unique<ArrayData>()) {
    // Move-assigned: GCC 12 at -O3 warns falsely (-Wrestrict) on assigning the literal.
    data->format = std::string(format);
    data->length = length;
    data->buffers.emplace_back();  // validity, filled by the caller if needed
    data->buffers.emplace_back(static_cast<size_t>(length) * sizeof(T));
    values = data->buffers[1].as<T>();
  }
};

}  // namespace featforge::arrow
