#include "featforge/arrow/owners.h"

#include <stdexcept>
#include <string>

namespace featforge::arrow {

StreamReader::StreamReader(StreamOwner stream) : stream_(std::move(stream)) {
  if (!stream_.valid()) throw std::invalid_argument("Arrow stream was already released");
  ArrowSchema raw{};
  int code = stream_->get_schema(stream_.get(), &raw);
  if (code != 0) fail(code, "get_schema");
  schema_ = SchemaOwner(&raw);
}

bool StreamReader::next(ArrayOwner& out) {
  ArrowArray raw{};
  raw.release = nullptr;
  int code = stream_->get_next(stream_.get(), &raw);
  if (code != 0) fail(code, "get_next");
  if (raw.release == nullptr) return false;  // end of stream
  out = ArrayOwner(&raw);
  return true;
}

void StreamReader::fail(int code, const char* what) {
  const char* message = stream_->get_last_error ? stream_->get_last_error(stream_.get()) : nullptr;
  throw std::runtime_error(std::string("Arrow stream ") + what + " failed (errno " +
                           std::to_string(code) + ")" + (message ? std::string(": ") + message : ""));
}

}  // namespace featforge::arrow
