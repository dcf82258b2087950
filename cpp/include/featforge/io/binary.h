// Little-endian binary images with a checksum trailer, for the versioned state files (IdMap,
// WindowAggregator). A reader bounds-checks every field, so a damaged image is an
// std::invalid_argument (ValueError in Python), never an out-of-bounds read.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace featforge::io {

class Writer {
 public:
  template <class T>
  void put(const T& v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  void put_bytes(std::string_view b) { out_.append(b); }
  void put_string(std::string_view s) {
    put(static_cast<uint64_t>(s.size()));
    out_.append(s);
  }
  template <class T>
  void put_array(const std::vector<T>& v) {
    out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  template <class T>
  void put_vector(const std::vector<T>& v) {
    put(static_cast<int64_t>(v.size()));
    put_array(v);
  }
  std::string& str() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  Reader(std::string_view in, const char* what) : in_(in), what_(what) {}
  template <class T>
  T get() {
    T v;
    std::memcpy(&v, take(sizeof(T)).data(), sizeof(T));
    return v;
  }
  std::string_view take(size_t n) {
    if (n > in_.size() - pos_) fail("truncated or corrupt");
    std::string_view out = in_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  std::string get_string() { return std::string(take(static_cast<size_t>(get<uint64_t>()))); }
  template <class T>
  std::vector<T> get_array(int64_t n) {
    return get_array_as<std::vector<T>>(n);
  }
  // As get_array, into another vector type (e.g. one on huge pages).
  template <class Vector>
  Vector get_array_as(int64_t n) {
    using T = typename Vector::value_type;
    if (n < 0 || static_cast<uint64_t>(n) > (in_.size() - pos_) / sizeof(T)) {
      fail("truncated or corrupt");
    }
    Vector v(static_cast<size_t>(n));
    if (n > 0) std::memcpy(v.data(), take(static_cast<size_t>(n) * sizeof(T)).data(), v.size() * sizeof(T));
    return v;
  }
  template <class T>
  std::vector<T> get_vector() {
    return get_array<T>(get<int64_t>());
  }
  [[nodiscard]] bool done() const { return pos_ == in_.size(); }
  [[noreturn]] void fail(const std::string& why) const {
    throw std::invalid_argument(std::string(what_) + " is " + why);
  }

 private:
  std::string_view in_;
  const char* what_;
  size_t pos_ = 0;
};

// Appends the XXH3-64 checksum of everything written so far and an end marker.
void seal(Writer& w, std::string_view end_magic);
// Checks magic, end marker and checksum; returns the body (without the trailer) to parse.
std::string_view unseal(std::string_view bytes, std::string_view magic, std::string_view end_magic,
                        const char* what);

}  // namespace featforge::io
