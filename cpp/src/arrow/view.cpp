#include "featforge/arrow/view.h"

#include <bit>

namespace featforge::arrow {

namespace {

constexpr const char* kSupportedTypes =
    "int8..int64, uint8..uint64, float16/32/64, bool, date32/64, timestamp, duration, "
    "string, large_string, string_view, binary, large_binary, binary_view, list, large_list, "
    "struct (record batches) and dictionary-encoded arrays of these";

TimeUnit parse_unit(char c, std::string_view format) {
  switch (c) {
    case 's': return TimeUnit::second;
    case 'm': return TimeUnit::milli;
    case 'u': return TimeUnit::micro;
    case 'n': return TimeUnit::nano;
    default: throw unsupported_type("unsupported Arrow format '" + std::string(format) + "'");
  }
}

const char* unit_name(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::second: return "s";
    case TimeUnit::milli: return "ms";
    case TimeUnit::micro: return "us";
    case TimeUnit::nano: return "ns";
  }
  return "?";
}

int64_t count_nulls(const uint8_t* bits, int64_t offset, int64_t length) {
  int64_t valid = 0;
  int64_t i = 0;
  for (; i < length && ((offset + i) & 7) != 0; ++i) valid += get_bit(bits, offset + i);
  for (; i + 64 <= length; i += 64) {
    uint64_t word;
    std::memcpy(&word, bits + ((offset + i) >> 3), 8);
    valid += std::popcount(word);
  }
  for (; i < length; ++i) valid += get_bit(bits, offset + i);
  return length - valid;
}

}  // namespace

DataType parse_format(std::string_view f) {
  DataType t;
  if (f.size() == 1) {
    switch (f[0]) {
      case 'n': t.id = TypeId::null; return t;
      case 'b': t.id = TypeId::boolean; return t;
      case 'c': t.id = TypeId::int8; return t;
      case 'C': t.id = TypeId::uint8; return t;
      case 's': t.id = TypeId::int16; return t;
      case 'S': t.id = TypeId::uint16; return t;
      case 'i': t.id = TypeId::int32; return t;
      case 'I': t.id = TypeId::uint32; return t;
      case 'l': t.id = TypeId::int64; return t;
      case 'L': t.id = TypeId::uint64; return t;
      case 'e': t.id = TypeId::float16; return t;
      case 'f': t.id = TypeId::float32; return t;
      case 'g': t.id = TypeId::float64; return t;
      case 'u': t.id = TypeId::string; return t;
      case 'U': t.id = TypeId::large_string; return t;
      case 'z': t.id = TypeId::binary; return t;
      case 'Z': t.id = TypeId::large_binary; return t;
      default: break;
    }
  }
  if (f == "vu") t.id = TypeId::string_view;
  else if (f == "vz") t.id = TypeId::binary_view;
  else if (f == "+l") t.id = TypeId::list;
  else if (f == "+L") t.id = TypeId::large_list;
  else if (f == "+s") t.id = TypeId::struct_;
  else if (f == "tdD") t.id = TypeId::date32;
  else if (f == "tdm") t.id = TypeId::date64;
  else if (f.size() >= 4 && f.substr(0, 2) == "ts" && f[3] == ':') {
    t.id = TypeId::timestamp;
    t.unit = parse_unit(f[2], f);
    t.timezone = std::string(f.substr(4));
  } else if (f.size() == 3 && f.substr(0, 2) == "tD") {
    t.id = TypeId::duration;
    t.unit = parse_unit(f[2], f);
  } else {
    t.id = TypeId::other;
  }
  return t;
}

std::string type_name(const ArrowSchema& schema) {
  std::string_view f = schema.format ? schema.format : "";
  DataType t = parse_format(f);
  std::string name;
  switch (t.id) {
    case TypeId::null: name = "null"; break;
    case TypeId::boolean: name = "bool"; break;
    case TypeId::int8: name = "int8"; break;
    case TypeId::uint8: name = "uint8"; break;
    case TypeId::int16: name = "int16"; break;
    case TypeId::uint16: name = "uint16"; break;
    case TypeId::int32: name = "int32"; break;
    case TypeId::uint32: name = "uint32"; break;
    case TypeId::int64: name = "int64"; break;
    case TypeId::uint64: name = "uint64"; break;
    case TypeId::float16: name = "float16"; break;
    case TypeId::float32: name = "float32"; break;
    case TypeId::float64: name = "float64"; break;
    case TypeId::date32: name = "date32"; break;
    case TypeId::date64: name = "date64"; break;
    case TypeId::timestamp:
      name = std::string("timestamp[") + unit_name(t.unit) +
             (t.timezone.empty() ? "" : ", tz=" + t.timezone) + "]";
      break;
    case TypeId::duration: name = std::string("duration[") + unit_name(t.unit) + "]"; break;
    case TypeId::string: name = "string"; break;
    case TypeId::large_string: name = "large_string"; break;
    case TypeId::string_view: name = "string_view"; break;
    case TypeId::binary: name = "binary"; break;
    case TypeId::large_binary: name = "large_binary"; break;
    case TypeId::binary_view: name = "binary_view"; break;
    case TypeId::list:
    case TypeId::large_list:
      name = t.id == TypeId::list ? "list<" : "large_list<";
      name += (schema.n_children == 1 && schema.children[0]) ? type_name(*schema.children[0]) : "?";
      name += ">";
      break;
    case TypeId::struct_: name = "struct"; break;
    case TypeId::other:
      if (f.substr(0, 2) == "d:") name = "decimal(" + std::string(f.substr(2)) + ")";
      else if (f == "+m") name = "map";
      else if (f.substr(0, 2) == "+w") name = "fixed_size_list";
      else if (f.substr(0, 2) == "+u") name = "union";
      else if (f.substr(0, 2) == "w:") name = "fixed_size_binary";
      else name = "arrow format '" + std::string(f) + "'";
      break;
  }
  if (schema.dictionary != nullptr) {
    return "dictionary<values=" + type_name(*schema.dictionary) + ", indices=" + name + ">";
  }
  return name;
}

ArrayView::ArrayView(const ArrowSchema* schema, const ArrowArray* array)
    : schema_(schema), array_(array) {
  if (schema == nullptr || array == nullptr || schema->release == nullptr ||
      array->release == nullptr) {
    throw std::invalid_argument("Arrow array or schema is null or already released");
  }
  type_ = parse_format(schema->format ? schema->format : "");
  if (type_.id == TypeId::other) {
    throw unsupported_type("unsupported Arrow type: " + type_name(*schema) + "; supported: " +
                           kSupportedTypes);
  }
  length_ = array->length;
  offset_ = array->offset;
  null_count_ = array->null_count;
  validity_ = array->n_buffers > 0 ? static_cast<const uint8_t*>(array->buffers[0]) : nullptr;
  if (type_.id == TypeId::null) null_count_ = length_;
  validate();
  if (array->n_children != schema->n_children) {
    throw std::invalid_argument("Arrow array and schema disagree on the number of children");
  }
  children_.reserve(static_cast<size_t>(array->n_children));
  for (int64_t c = 0; c < array->n_children; ++c) {
    ArrayView child(schema->children[c], array->children[c]);
    // A struct's offset applies to its children too; a list's children are addressed by offsets.
    if (type_.id == TypeId::struct_) child = child.slice(offset_, length_);
    children_.push_back(std::move(child));
  }
  if ((schema->dictionary == nullptr) != (array->dictionary == nullptr)) {
    throw std::invalid_argument("Arrow array and schema disagree on dictionary encoding");
  }
  if (schema->dictionary != nullptr) {
    switch (type_.id) {
      case TypeId::int8: case TypeId::uint8: case TypeId::int16: case TypeId::uint16:
      case TypeId::int32: case TypeId::uint32: case TypeId::int64: case TypeId::uint64:
        break;
      default:
        throw std::invalid_argument("dictionary indices must be integers, got " + type_name(*schema));
    }
    dictionary_ = std::make_unique<ArrayView>(schema->dictionary, array->dictionary);
  }
}

ArrayView::ArrayView(const ArrayView& other)
    : schema_(other.schema_),
      array_(other.array_),
      type_(other.type_),
      length_(other.length_),
      offset_(other.offset_),
      null_count_(other.null_count_),
      validity_(other.validity_),
      children_(other.children_),
      dictionary_(other.dictionary_ ? std::make_unique<ArrayView>(*other.dictionary_) : nullptr) {}

ArrayView& ArrayView::operator=(const ArrayView& other) {
  if (this != &other) {
    ArrayView copy(other);
    *this = std::move(copy);
  }
  return *this;
}

ArrayView ArrayView::slice(int64_t offset, int64_t length) const {
  if (offset < 0 || length < 0 || offset + length > length_) {
    throw std::out_of_range("slice out of range of the array");
  }
  ArrayView out(*this);
  out.offset_ = offset_ + offset;
  out.length_ = length;
  if (null_count_ != 0 && type_.id != TypeId::null) out.null_count_ = -1;
  if (type_.id == TypeId::null) out.null_count_ = length;
  if (type_.id == TypeId::struct_) {
    for (auto& child : out.children_) child = child.slice(offset, length);
  }
  return out;
}

int64_t ArrayView::null_count() const {
  if (null_count_ >= 0) return null_count_;
  if (validity_ == nullptr) return 0;
  return count_nulls(validity_, offset_, length_);
}

void ArrayView::validate() const {
  auto fail = [&](const std::string& what) {
    throw std::invalid_argument("malformed Arrow array of type " + type_name(*schema_) + ": " +
                                what);
  };
  if (length_ < 0 || offset_ < 0) fail("negative length or offset");
  int64_t expected_buffers = 0;
  switch (type_.id) {
    case TypeId::null: expected_buffers = 0; break;
    case TypeId::struct_: expected_buffers = 1; break;
    case TypeId::string: case TypeId::large_string: case TypeId::binary:
    case TypeId::large_binary:
      expected_buffers = 3;
      break;
    case TypeId::string_view: case TypeId::binary_view:
      if (array_->n_buffers < 3) fail("expected at least 3 buffers");
      expected_buffers = array_->n_buffers;
      break;
    default: expected_buffers = 2; break;  // fixed width, bool, list, large_list
  }
  if (array_->n_buffers != expected_buffers) {
    fail("expected " + std::to_string(expected_buffers) + " buffers, got " +
         std::to_string(array_->n_buffers));
  }
  if (expected_buffers > 0 && array_->buffers == nullptr) fail("buffers pointer is null");
  if (type_.id != TypeId::null && validity_ == nullptr && null_count_ > 0) {
    fail("null_count > 0 but no validity bitmap");
  }
  if (expected_buffers >= 2 && length_ > 0 && array_->buffers[1] == nullptr) {
    fail("values/offsets buffer is null");
  }
  const bool is_list = type_.id == TypeId::list || type_.id == TypeId::large_list;
  if (is_list && array_->n_children != 1) fail("a list must have exactly one child");
}

std::vector<int64_t> int64_values(const ArrayView& v, const char* what) {
  std::vector<int64_t> out(static_cast<size_t>(v.length()));
  auto widen = [&]<class T>(T*) {
    const T* values = v.values<T>();
    for (int64_t i = 0; i < v.length(); ++i) out[static_cast<size_t>(i)] = static_cast<int64_t>(values[i]);
  };
  switch (v.is_dictionary() ? TypeId::other : v.id()) {
    case TypeId::int8: widen(static_cast<int8_t*>(nullptr)); break;
    case TypeId::int16: widen(static_cast<int16_t*>(nullptr)); break;
    case TypeId::int32: widen(static_cast<int32_t*>(nullptr)); break;
    case TypeId::int64: widen(static_cast<int64_t*>(nullptr)); break;
    case TypeId::uint8: widen(static_cast<uint8_t*>(nullptr)); break;
    case TypeId::uint16: widen(static_cast<uint16_t*>(nullptr)); break;
    case TypeId::uint32: widen(static_cast<uint32_t*>(nullptr)); break;
    case TypeId::uint64: {
      const uint64_t* values = v.values<uint64_t>();
      for (int64_t i = 0; i < v.length(); ++i) {
        if (values[i] > static_cast<uint64_t>(INT64_MAX) && v.is_valid(i)) {
          throw std::invalid_argument("uint64 key " + std::to_string(values[i]) +
                                      " does not fit an int64 " + what + " key");
        }
        out[static_cast<size_t>(i)] = static_cast<int64_t>(values[i]);
      }
      break;
    }
    default:
      throw unsupported_type(std::string("an int64 ") + what + " takes integer keys, got " +
                             type_name(v.schema()));
  }
  return out;
}

}  // namespace featforge::arrow
