// RAII owners for the C Data Interface structs. Each owner holds a struct by value and calls its
// release callback exactly once: on destruction, or never if the struct was moved on. Moving a
// struct means copying it and marking the source released (release = nullptr), as the spec says.
#pragma once

#include <string>
#include <utility>

#include "featforge/arrow/c_abi.h"

namespace featforge::arrow {

namespace detail {
template <class Struct>
void move_struct(Struct* from, Struct* to) noexcept {
  *to = *from;
  from->release = nullptr;
}
}  // namespace detail

template <class Struct>
class Owner {
 public:
  Owner() noexcept { raw_.release = nullptr; }
  // Takes ownership of *source, leaving it released.
  explicit Owner(Struct* source) noexcept { detail::move_struct(source, &raw_); }
  Owner(const Owner&) = delete;
  Owner& operator=(const Owner&) = delete;
  Owner(Owner&& other) noexcept { detail::move_struct(&other.raw_, &raw_); }
  Owner& operator=(Owner&& other) noexcept {
    if (this != &other) {
      reset();
      detail::move_struct(&other.raw_, &raw_);
    }
    return *this;
  }
  ~Owner() { reset(); }

  void reset() noexcept {
    if (raw_.release != nullptr) {
      raw_.release(&raw_);
      raw_.release = nullptr;  // a conforming release does this too; be safe against one that doesn't
    }
  }
  // Hands the struct to a consumer (which becomes responsible for releasing it).
  void move_to(Struct* out) noexcept { detail::move_struct(&raw_, out); }

  [[nodiscard]] bool valid() const noexcept { return raw_.release != nullptr; }
  [[nodiscard]] Struct* get() noexcept { return &raw_; }
  [[nodiscard]] const Struct* get() const noexcept { return &raw_; }
  Struct* operator->() noexcept { return &raw_; }
  const Struct* operator->() const noexcept { return &raw_; }

 private:
  Struct raw_;
};

using SchemaOwner = Owner<ArrowSchema>;
using ArrayOwner = Owner<ArrowArray>;
using StreamOwner = Owner<ArrowArrayStream>;

// A schema and an array that belong together (what __arrow_c_array__ hands over).
struct OwnedArray {
  SchemaOwner schema;
  ArrayOwner array;
};

// Pulls arrays out of an ArrowArrayStream; errors from the producer become std::runtime_error.
class StreamReader {
 public:
  explicit StreamReader(StreamOwner stream);
  [[nodiscard]] const ArrowSchema* schema() const noexcept { return schema_.get(); }
  // Returns false at end of stream.
  bool next(ArrayOwner& out);

 private:
  [[noreturn]] void fail(int code, const char* what);
  StreamOwner stream_;
  SchemaOwner schema_;
};

}  // namespace featforge::arrow
