// Typed, read-only views over imported Arrow arrays. A view never copies data: it records where the
// buffers are and applies the array's offset, so kernels index logical elements 0..length-1.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "featforge/arrow/c_abi.h"

namespace featforge {

// Raised for an Arrow type a kernel does not support; the bindings map it to Python's TypeError.
class unsupported_type : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace featforge

namespace featforge::arrow {

enum class TypeId {
  null,
  boolean,
  int8,
  uint8,
  int16,
  uint16,
  int32,
  uint32,
  int64,
  uint64,
  float16,
  float32,
  float64,
  date32,
  date64,
  timestamp,
  duration,
  string,
  large_string,
  string_view,
  binary,
  large_binary,
  binary_view,
  list,
  large_list,
  struct_,
  other,
};

enum class TimeUnit { second, milli, micro, nano };

struct DataType {
  TypeId id = TypeId::other;
  TimeUnit unit = TimeUnit::second;  // timestamp / duration only
  std::string timezone;              // timestamp only, may be empty
};

// Parses an Arrow C format string ("l", "u", "tsm:UTC", "+l", ...).
[[nodiscard]] DataType parse_format(std::string_view format);
// A readable name for messages ("int64", "large_string", "timestamp[ms, tz=UTC]", ...).
[[nodiscard]] std::string type_name(const ArrowSchema& schema);

// Bit-packed validity helpers (LSB numbering, as Arrow lays bitmaps out).
[[nodiscard]] inline bool get_bit(const uint8_t* bits, int64_t i) noexcept {
  return (bits[i >> 3] >> (i & 7)) & 1;
}
inline void set_bit(uint8_t* bits, int64_t i) noexcept {
  bits[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
}

// Arrow's 16-byte string_view/binary_view element.
struct BinaryViewElement {
  int32_t size;
  union {
    char inlined[12];  // size <= 12
    struct {
      char prefix[4];
      int32_t buffer_index;
      int32_t offset;
    } ref;
  };
};
static_assert(sizeof(BinaryViewElement) == 16);

class ArrayView {
 public:
  // Builds a view (and views of all children/dictionary) after validating the buffer layout.
  // Throws unsupported_type for types outside what views understand, std::invalid_argument for a
  // malformed array.
  ArrayView(const ArrowSchema* schema, const ArrowArray* array);
  // A slice of another view (used for struct children and list child ranges).
  [[nodiscard]] ArrayView slice(int64_t offset, int64_t length) const;

  [[nodiscard]] const DataType& type() const noexcept { return type_; }
  [[nodiscard]] TypeId id() const noexcept { return type_.id; }
  [[nodiscard]] const ArrowSchema& schema() const noexcept { return *schema_; }
  [[nodiscard]] int64_t length() const noexcept { return length_; }
  // Absolute offset into the buffers (the array's own offset plus any parent slicing).
  [[nodiscard]] int64_t offset() const noexcept { return offset_; }
  [[nodiscard]] bool has_nulls() const noexcept { return validity_ != nullptr && null_count_ != 0; }
  [[nodiscard]] int64_t null_count() const;
  // Validity bitmap to be read at bit offset() + i; nullptr when all are valid.
  [[nodiscard]] const uint8_t* validity() const noexcept { return has_nulls() ? validity_ : nullptr; }
  [[nodiscard]] bool is_valid(int64_t i) const noexcept {
    return !has_nulls() || get_bit(validity_, offset_ + i);
  }

  // Fixed-width values, already offset: values<T>()[i] is logical element i.
  template <class T>
  [[nodiscard]] const T* values() const noexcept {
    return static_cast<const T*>(array_->buffers[1]) + offset_;
  }
  // Boolean values are bits: read at bit offset() + i.
  [[nodiscard]] const uint8_t* bool_bits() const noexcept {
    return static_cast<const uint8_t*>(array_->buffers[1]);
  }
  // string/binary (int32 offsets) and large variants (int64 offsets): offsets()[i], already offset.
  template <class Offset>
  [[nodiscard]] const Offset* offsets() const noexcept {
    return static_cast<const Offset*>(array_->buffers[1]) + offset_;
  }
  [[nodiscard]] const char* data() const noexcept {
    return static_cast<const char*>(array_->buffers[2]);
  }
  // string_view/binary_view: 16-byte views (already offset) and their variadic data buffers.
  [[nodiscard]] const BinaryViewElement* views() const noexcept {
    return static_cast<const BinaryViewElement*>(array_->buffers[1]) + offset_;
  }
  // The variadic data buffers of a string_view/binary_view array, indexed by buffer_index.
  [[nodiscard]] const char* const* view_buffers() const noexcept {
    return reinterpret_cast<const char* const*>(array_->buffers + 2);
  }
  [[nodiscard]] const char* view_data(int32_t buffer_index) const noexcept {
    return static_cast<const char*>(array_->buffers[2 + buffer_index]);
  }
  // Bytes of element i of a string/binary-like array (any of the six layouts).
  [[nodiscard]] std::string_view bytes_at(int64_t i) const noexcept;

  [[nodiscard]] const std::vector<ArrayView>& children() const noexcept { return children_; }
  [[nodiscard]] const ArrayView* dictionary() const noexcept { return dictionary_.get(); }
  [[nodiscard]] bool is_dictionary() const noexcept { return dictionary_ != nullptr; }

  ArrayView(const ArrayView& other);
  ArrayView& operator=(const ArrayView& other);
  ArrayView(ArrayView&&) noexcept = default;
  ArrayView& operator=(ArrayView&&) noexcept = default;
  ~ArrayView() = default;

 private:
  ArrayView() = default;
  void validate() const;

  const ArrowSchema* schema_ = nullptr;
  const ArrowArray* array_ = nullptr;
  DataType type_;
  int64_t length_ = 0;
  int64_t offset_ = 0;
  int64_t null_count_ = 0;  // -1 = unknown
  const uint8_t* validity_ = nullptr;
  std::vector<ArrayView> children_;
  std::unique_ptr<ArrayView> dictionary_;
};

[[nodiscard]] inline bool is_integer(TypeId id) noexcept {
  return id >= TypeId::int8 && id <= TypeId::uint64;
}

// The values of an integer column (any width) as int64; uint64 values above INT64_MAX in valid
// slots throw std::invalid_argument, other types unsupported_type. Null slots hold whatever the
// buffer holds.
[[nodiscard]] std::vector<int64_t> int64_values(const ArrayView& v, const char* what);

[[nodiscard]] inline bool is_binary_like(TypeId id) noexcept {
  return id == TypeId::string || id == TypeId::large_string || id == TypeId::string_view ||
         id == TypeId::binary || id == TypeId::large_binary || id == TypeId::binary_view;
}

// Calls fn(i, bytes) for elements [begin, end) of a string/binary-like array. The layout switch
// happens once per call, so the loop itself is typed.
template <class Fn>
void for_each_bytes(const ArrayView& v, int64_t begin, int64_t end, Fn&& fn) {
  auto offsets = [&]<class Offset>(Offset*) {
    const Offset* off = v.offsets<Offset>();
    const char* data = v.data();
    for (int64_t i = begin; i < end; ++i) {
      fn(i, std::string_view(data + off[i], static_cast<size_t>(off[i + 1] - off[i])));
    }
  };
  switch (v.id()) {
    case TypeId::string:
    case TypeId::binary: offsets(static_cast<int32_t*>(nullptr)); break;
    case TypeId::large_string:
    case TypeId::large_binary: offsets(static_cast<int64_t*>(nullptr)); break;
    default:
      for (int64_t i = begin; i < end; ++i) fn(i, v.bytes_at(i));
  }
}

inline std::string_view ArrayView::bytes_at(int64_t i) const noexcept {
  switch (type_.id) {
    case TypeId::string:
    case TypeId::binary: {
      const int32_t* off = offsets<int32_t>();
      return {data() + off[i], static_cast<size_t>(off[i + 1] - off[i])};
    }
    case TypeId::large_string:
    case TypeId::large_binary: {
      const int64_t* off = offsets<int64_t>();
      return {data() + off[i], static_cast<size_t>(off[i + 1] - off[i])};
    }
    case TypeId::string_view:
    case TypeId::binary_view: {
      const BinaryViewElement& v = views()[i];
      if (v.size <= 12) return {v.inlined, static_cast<size_t>(v.size)};
      return {view_data(v.ref.buffer_index) + v.ref.offset, static_cast<size_t>(v.size)};
    }
    default:
      return {};
  }
}

}  // namespace featforge::arrow
