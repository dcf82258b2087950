// The Arrow bridge on hand-built arrays: import (ownership moves, release runs exactly once),
// typed views with offsets and validity, export of results, and the stream reader.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "featforge/arrow/builder.h"
#include "featforge/arrow/owners.h"
#include "featforge/arrow/view.h"
#include "featforge/hash/xxh64.h"
#include "featforge/hashing/kernels.h"

namespace {

using namespace featforge::arrow;

// A producer that builds arrays by hand and counts every release call.
struct Producer {
  int array_releases = 0;
  int schema_releases = 0;

  struct ArrayPrivate {
    Producer* producer;
    std::vector<std::vector<uint8_t>> buffers;
    std::vector<const void*> ptrs;
    std::vector<ArrowArray> children;
    std::vector<ArrowArray*> child_ptrs;
  };
  struct SchemaPrivate {
    Producer* producer;
    std::string format;
    std::vector<ArrowSchema> children;
    std::vector<ArrowSchema*> child_ptrs;
  };

  static void release_array(ArrowArray* a) {
    auto* p = static_cast<ArrayPrivate*>(a->private_data);
    for (auto& c : p->children) c.release(&c);
    ++p->producer->array_releases;
    delete p;
    a->release = nullptr;
  }
  static void release_schema(ArrowSchema* s) {
    auto* p = static_cast<SchemaPrivate*>(s->private_data);
    for (auto& c : p->children) c.release(&c);
    ++p->producer->schema_releases;
    delete p;
    s->release = nullptr;
  }

  // buffers: one byte vector per buffer; an empty vector stands for a NULL buffer.
  ArrowArray array(int64_t length, int64_t offset, int64_t null_count,
                   std::vector<std::vector<uint8_t>> buffers, std::vector<ArrowArray> children = {}) {
    auto* p = new ArrayPrivate{this, std::move(buffers), {}, std::move(children), {}};
    for (auto& b : p->buffers) p->ptrs.push_back(b.empty() ? nullptr : b.data());
    for (auto& c : p->children) p->child_ptrs.push_back(&c);
    ArrowArray a{};
    a.length = length;
    a.offset = offset;
    a.null_count = null_count;
    a.n_buffers = static_cast<int64_t>(p->ptrs.size());
    a.n_children = static_cast<int64_t>(p->child_ptrs.size());
    a.buffers = p->ptrs.data();
    a.children = p->child_ptrs.empty() ? nullptr : p->child_ptrs.data();
    a.dictionary = nullptr;
    a.release = &release_array;
    a.private_data = p;
    return a;
  }
  ArrowSchema schema(const std::string& format, std::vector<ArrowSchema> children = {}) {
    auto* p = new SchemaPrivate{this, format, std::move(children), {}};
    for (auto& c : p->children) p->child_ptrs.push_back(&c);
    ArrowSchema s{};
    s.format = p->format.c_str();
    s.name = "";
    s.flags = ARROW_FLAG_NULLABLE;
    s.n_children = static_cast<int64_t>(p->child_ptrs.size());
    s.children = p->child_ptrs.empty() ? nullptr : p->child_ptrs.data();
    s.release = &release_schema;
    s.private_data = p;
    return s;
  }
};

template <class T>
std::vector<uint8_t> bytes_of(const std::vector<T>& values) {
  std::vector<uint8_t> out(values.size() * sizeof(T));
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

std::vector<uint8_t> bitmap(const std::vector<bool>& bits) {
  std::vector<uint8_t> out((bits.size() + 7) / 8, 0);
  for (size_t i = 0; i < bits.size(); ++i) {
    if (bits[i]) out[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  }
  return out;
}

uint64_t xxh64_of(const void* p, size_t n) { return featforge::hash::xxh64(p, n, 0); }

TEST(ArrowBridge, OwnerReleasesExactlyOnceAndMoveMarksSourceReleased) {
  Producer producer;
  {
    ArrowArray raw = producer.array(3, 0, 0, {{}, bytes_of<int64_t>({1, 2, 3})});
    ArrayOwner owner(&raw);
    EXPECT_EQ(raw.release, nullptr);  // moved: the source no longer owns anything
    ArrayOwner moved = std::move(owner);
    EXPECT_FALSE(owner.valid());
    EXPECT_TRUE(moved.valid());
    EXPECT_EQ(producer.array_releases, 0);
  }
  EXPECT_EQ(producer.array_releases, 1);
}

TEST(ArrowBridge, HashInt64WithOffsetAndNulls) {
  Producer producer;
  // Ten values, the array starts at offset 3 and has 5 elements: logical [3, 4, null, 6, 7].
  std::vector<int64_t> values = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<bool> valid = {true, true, true, true, true, false, true, true, true, true};
  {
    ArrowSchema s = producer.schema("l");
    ArrowArray a = producer.array(5, 3, 1, {bitmap(valid), bytes_of(values)});
    OwnedArray input{SchemaOwner(&s), ArrayOwner(&a)};
    ArrayView view(input.schema.get(), input.array.get());
    ASSERT_EQ(view.length(), 5);
    EXPECT_EQ(view.null_count(), 1);
    EXPECT_FALSE(view.is_valid(2));
    EXPECT_EQ(view.values<int64_t>()[0], 3);

    OwnedArray out = featforge::hashing::hash(view, {featforge::hashing::Algo::xxh64, 0});
    ASSERT_STREQ(out.schema->format, "L");
    ASSERT_EQ(out.array->length, 5);
    ASSERT_EQ(out.array->offset, 0);
    EXPECT_EQ(out.array->null_count, 1);
    const auto* bits = static_cast<const uint8_t*>(out.array->buffers[0]);
    const auto* hashes = static_cast<const uint64_t*>(out.array->buffers[1]);
    for (int64_t i = 0; i < 5; ++i) {
      const int64_t v = values[static_cast<size_t>(3 + i)];
      EXPECT_EQ(get_bit(bits, i), i != 2);
      if (i != 2) {
        EXPECT_EQ(hashes[i], xxh64_of(&v, 8));
      }
    }
    // Hand the result to a "consumer" that releases it once; the release must clear the struct.
    ArrowArray exported{};
    out.array.move_to(&exported);
    exported.release(&exported);
    EXPECT_EQ(exported.release, nullptr);
  }
  EXPECT_EQ(producer.array_releases, 1);
  EXPECT_EQ(producer.schema_releases, 1);
}

TEST(ArrowBridge, StringsWithOffsetsAndNulls) {
  Producer producer;
  // "ab", "", "cde", null, "f", sliced at offset 1 -> "", "cde", null, "f"
  std::vector<int32_t> offsets = {0, 2, 2, 5, 5, 6};
  std::string data = "abcdef";
  std::vector<uint8_t> data_bytes(data.begin(), data.end());
  {
    ArrowSchema s = producer.schema("u");
    ArrowArray a = producer.array(4, 1, 1, {bitmap({true, true, true, false, true}),
                                            bytes_of(offsets), data_bytes});
    OwnedArray input{SchemaOwner(&s), ArrayOwner(&a)};
    ArrayView view(input.schema.get(), input.array.get());
    EXPECT_EQ(view.bytes_at(1), "cde");
    EXPECT_EQ(view.bytes_at(3), "f");
    OwnedArray out = featforge::hashing::hash(view, {featforge::hashing::Algo::xxh64, 0});
    const auto* hashes = static_cast<const uint64_t*>(out.array->buffers[1]);
    EXPECT_EQ(hashes[0], xxh64_of("", 0));
    EXPECT_EQ(hashes[1], xxh64_of("cde", 3));
    EXPECT_EQ(hashes[3], xxh64_of("f", 1));
    EXPECT_EQ(out.array->null_count, 1);
  }
  EXPECT_EQ(producer.array_releases, 1);
  EXPECT_EQ(producer.schema_releases, 1);
}

TEST(ArrowBridge, StringViewInlineAndOutOfLine) {
  Producer producer;
  const std::string long_value = "a string longer than twelve bytes";
  std::vector<BinaryViewElement> views(2);
  std::memset(views.data(), 0, sizeof(BinaryViewElement) * 2);
  views[0].size = 5;
  std::memcpy(views[0].inlined, "short", 5);
  views[1].size = static_cast<int32_t>(long_value.size());
  std::memcpy(views[1].ref.prefix, long_value.data(), 4);
  views[1].ref.buffer_index = 0;
  views[1].ref.offset = 0;
  std::vector<uint8_t> view_bytes(sizeof(BinaryViewElement) * 2);
  std::memcpy(view_bytes.data(), views.data(), view_bytes.size());
  {
    ArrowSchema s = producer.schema("vu");
    ArrowArray a = producer.array(
        2, 0, 0,
        {{}, view_bytes, std::vector<uint8_t>(long_value.begin(), long_value.end()),
         bytes_of<int64_t>({static_cast<int64_t>(long_value.size())})});
    OwnedArray input{SchemaOwner(&s), ArrayOwner(&a)};
    ArrayView view(input.schema.get(), input.array.get());
    EXPECT_EQ(view.bytes_at(0), "short");
    EXPECT_EQ(view.bytes_at(1), long_value);
    OwnedArray out = featforge::hashing::hash(view, {featforge::hashing::Algo::xxh64, 7});
    const auto* hashes = static_cast<const uint64_t*>(out.array->buffers[1]);
    EXPECT_EQ(hashes[0], featforge::hash::xxh64("short", 5, 7));
    EXPECT_EQ(hashes[1], featforge::hash::xxh64(long_value.data(), long_value.size(), 7));
  }
  EXPECT_EQ(producer.array_releases, 1);
}

TEST(ArrowBridge, ListWithOffsetKeepsStructureAndReleasesChildren) {
  Producer producer;
  // child int32 [10, 11, 12, 13, 14]; lists [[10, 11], [12], null, [13, 14]] sliced from 1.
  std::vector<int32_t> child_values = {10, 11, 12, 13, 14};
  std::vector<int32_t> offsets = {0, 2, 3, 3, 5};
  {
    std::vector<ArrowSchema> child_schemas;
    child_schemas.push_back(producer.schema("i"));
    ArrowSchema s = producer.schema("+l", std::move(child_schemas));
    std::vector<ArrowArray> children;
    children.push_back(producer.array(5, 0, 0, {{}, bytes_of(child_values)}));
    ArrowArray a = producer.array(3, 1, 1, {bitmap({true, true, false, true}), bytes_of(offsets)},
                                  std::move(children));
    OwnedArray input{SchemaOwner(&s), ArrayOwner(&a)};
    ArrayView view(input.schema.get(), input.array.get());
    OwnedArray out = featforge::hashing::hash(view, {featforge::hashing::Algo::xxh64, 0});
    ASSERT_STREQ(out.schema->format, "+l");
    ASSERT_EQ(out.array->length, 3);
    const auto* out_offsets = static_cast<const int32_t*>(out.array->buffers[1]);
    EXPECT_EQ(out_offsets[0], 0);  // rebased: the output list starts at 0
    EXPECT_EQ(out_offsets[1], 1);
    EXPECT_EQ(out_offsets[2], 1);
    EXPECT_EQ(out_offsets[3], 3);
    const ArrowArray* child = out.array->children[0];
    ASSERT_EQ(child->length, 3);  // only the referenced range [12, 13, 14]
    const auto* hashes = static_cast<const uint64_t*>(child->buffers[1]);
    for (int i = 0; i < 3; ++i) {
      const int32_t v = child_values[static_cast<size_t>(2 + i)];
      EXPECT_EQ(hashes[i], xxh64_of(&v, 4));
    }
  }
  EXPECT_EQ(producer.array_releases, 2);  // parent and child, once each
  EXPECT_EQ(producer.schema_releases, 2);
}

TEST(ArrowBridge, UnsupportedTypeAndMalformedArrays) {
  Producer producer;
  ArrowSchema s = producer.schema("d:10,2");  // decimal128
  ArrowArray a = producer.array(0, 0, 0, {{}, {}});
  OwnedArray input{SchemaOwner(&s), ArrayOwner(&a)};
  EXPECT_THROW(ArrayView(input.schema.get(), input.array.get()), featforge::unsupported_type);

  ArrowSchema s2 = producer.schema("l");
  ArrowArray a2 = producer.array(3, 0, 0, {{}});  // one buffer where two are required
  OwnedArray bad{SchemaOwner(&s2), ArrayOwner(&a2)};
  EXPECT_THROW(ArrayView(bad.schema.get(), bad.array.get()), std::invalid_argument);
}

TEST(ArrowBridge, ExportedArraysImportBackAsViews) {
  auto data = std::make_unique<ArrayData>();
  data->format = "l";
  data->length = 3;
  data->buffers.emplace_back();
  data->buffers.emplace_back(3 * sizeof(int64_t));
  for (int i = 0; i < 3; ++i) data->buffers[1].as<int64_t>()[i] = 100 + i;
  OwnedArray exported = export_array(std::move(data));
  ArrayView view(exported.schema.get(), exported.array.get());
  EXPECT_EQ(view.values<int64_t>()[2], 102);
  EXPECT_EQ(type_name(*exported.schema.get()), "int64");
}

TEST(ArrowBridge, EmptyArrayOfNestedType) {
  Producer producer;
  std::vector<ArrowSchema> children;
  children.push_back(producer.schema("vu"));
  ArrowSchema s = producer.schema("+L", std::move(children));
  OwnedArray empty = make_empty_array(*&s);
  ArrayView view(empty.schema.get(), empty.array.get());
  EXPECT_EQ(view.length(), 0);
  EXPECT_EQ(view.id(), TypeId::large_list);
  EXPECT_EQ(view.children()[0].id(), TypeId::string_view);
  s.release(&s);
}

// A stream over pre-built chunks, counting releases of the stream itself.
struct ChunkStream {
  Producer* producer;
  std::vector<int64_t> lengths;
  size_t next = 0;
  int* stream_releases;
};

TEST(ArrowBridge, StreamReaderYieldsChunksAndReleasesOnce) {
  Producer producer;
  int stream_releases = 0;
  ArrowArrayStream stream{};
  stream.private_data = new ChunkStream{&producer, {3, 2}, 0, &stream_releases};
  stream.get_schema = [](ArrowArrayStream* self, ArrowSchema* out) {
    auto* p = static_cast<ChunkStream*>(self->private_data);
    *out = p->producer->schema("l");
    return 0;
  };
  stream.get_next = [](ArrowArrayStream* self, ArrowArray* out) {
    auto* p = static_cast<ChunkStream*>(self->private_data);
    if (p->next == p->lengths.size()) {
      out->release = nullptr;
      return 0;
    }
    const int64_t n = p->lengths[p->next++];
    *out = p->producer->array(n, 0, 0, {{}, bytes_of(std::vector<int64_t>(static_cast<size_t>(n), 5))});
    return 0;
  };
  stream.get_last_error = [](ArrowArrayStream*) -> const char* { return nullptr; };
  stream.release = [](ArrowArrayStream* self) {
    auto* p = static_cast<ChunkStream*>(self->private_data);
    ++*p->stream_releases;
    delete p;
    self->release = nullptr;
  };
  {
    StreamReader reader{StreamOwner(&stream)};
    ArrayOwner chunk;
    std::vector<int64_t> seen;
    while (reader.next(chunk)) seen.push_back(chunk->length);
    EXPECT_EQ(seen, (std::vector<int64_t>{3, 2}));
  }
  EXPECT_EQ(stream_releases, 1);
  EXPECT_EQ(producer.array_releases, 2);
  EXPECT_EQ(producer.schema_releases, 1);
}

}  // namespace

TEST(ArrowBridge, BufferCacheKeepsLargeBlocksBoundedAndReleasesIdleOnes) {
  const size_t limit = featforge::arrow::buffer_cache_limit();
  EXPECT_LE(limit, size_t{1} << 30);
  featforge::arrow::set_buffer_cache_limit(64 << 20);
  { featforge::arrow::Buffer big(8 << 20); }
  EXPECT_GE(featforge::arrow::buffer_cache_bytes(), size_t{8} << 20);  // released, kept for reuse
  { featforge::arrow::Buffer too_big(80 << 20); }
  EXPECT_LE(featforge::arrow::buffer_cache_bytes(), size_t{64} << 20);  // beyond the limit: not kept
  featforge::arrow::set_buffer_cache_idle(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  { featforge::arrow::Buffer small(64); }  // any allocation releases blocks idle for too long
  EXPECT_EQ(featforge::arrow::buffer_cache_bytes(), 0U);
  featforge::arrow::set_buffer_cache_idle(std::chrono::seconds(30));
  featforge::arrow::set_buffer_cache_limit(limit);
}
