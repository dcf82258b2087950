#include "featforge/io/binary.h"

#include "featforge/hash/xxh3.h"

namespace featforge::io {

void seal(Writer& w, std::string_view end_magic) {
  const uint64_t checksum = hash::xxh3_64(w.str().data(), w.str().size(), 0);
  w.put(checksum);
  w.put_bytes(end_magic);
}

std::string_view unseal(std::string_view bytes, std::string_view magic, std::string_view end_magic,
                        const char* what) {
  const size_t trailer = 8 + end_magic.size();
  if (bytes.size() < magic.size() + trailer || bytes.substr(0, magic.size()) != magic) {
    throw std::invalid_argument(std::string("not a featforge ") + what + " (bad magic)");
  }
  if (bytes.substr(bytes.size() - end_magic.size()) != end_magic) {
    throw std::invalid_argument(std::string(what) + " is truncated (no end marker)");
  }
  const std::string_view body = bytes.substr(0, bytes.size() - trailer);
  uint64_t stored;
  std::memcpy(&stored, bytes.data() + body.size(), 8);
  if (hash::xxh3_64(body.data(), body.size(), 0) != stored) {
    throw std::invalid_argument(std::string(what) + " is corrupt (checksum mismatch)");
  }
  return body;
}

}  // namespace featforge::io
