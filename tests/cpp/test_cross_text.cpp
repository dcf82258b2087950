// Golden vectors for cross and text_hash, and the tokeniser's Unicode rules. Expected values come
// from the reference xxhash/mmh3 packages applied to the documented rules.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "featforge/arrow/builder.h"
#include "featforge/hashing/kernels.h"
#include "featforge/hashing/text.h"

namespace {

using namespace featforge;

arrow::OwnedArray strings(const std::vector<std::string>& values) {
  auto data = std::make_unique<arrow::ArrayData>();
  data->format = "u";
  data->length = static_cast<int64_t>(values.size());
  data->buffers.emplace_back();
  data->buffers.emplace_back((values.size() + 1) * sizeof(int32_t));
  size_t total = 0;
  for (const auto& v : values) total += v.size();
  data->buffers.emplace_back(total);
  auto* off = data->buffers[1].as<int32_t>();
  char* bytes = reinterpret_cast<char*>(data->buffers[2].data());
  off[0] = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    std::memcpy(bytes + off[i], values[i].data(), values[i].size());
    off[i + 1] = off[i] + static_cast<int32_t>(values[i].size());
  }
  return arrow::export_array(std::move(data));
}

int64_t first_value(const arrow::OwnedArray& a) {
  return static_cast<const int64_t*>(a.array->buffers[1])[0];
}

TEST(Cross, GoldenAndOrderAware) {
  auto country = strings({"United Kingdom"});
  auto item = strings({"85123A"});
  std::vector<arrow::ArrayView> ab{{country.schema.get(), country.array.get()},
                                   {item.schema.get(), item.array.get()}};
  std::vector<arrow::ArrayView> ba{ab[1], ab[0]};
  EXPECT_EQ(first_value(hashing::cross(ab, 1 << 20, {hashing::Algo::xxh3, 0})), 124509);
  EXPECT_EQ(first_value(hashing::cross(ba, 1 << 20, {hashing::Algo::xxh3, 0})), 858990);
  EXPECT_EQ(first_value(hashing::cross(ab, 1000, {hashing::Algo::murmur3, 0})), 587);
}

TEST(Cross, RejectsBadShapes) {
  auto a = strings({"x", "y"});
  auto b = strings({"x"});
  std::vector<arrow::ArrayView> cols{{a.schema.get(), a.array.get()}, {b.schema.get(), b.array.get()}};
  EXPECT_THROW((void)hashing::cross(cols, 10, {}), std::invalid_argument);
  std::vector<arrow::ArrayView> one{cols[0]};
  EXPECT_THROW((void)hashing::cross(one, 10, {}), std::invalid_argument);
}

TEST(TextHash, GoldenBigram) {
  auto texts = strings({"The CAT"});
  arrow::ArrayView v(texts.schema.get(), texts.array.get());
  auto out = hashing::text_hash(v, int64_t{1} << 32, {2, 2, true}, {hashing::Algo::murmur3, 0});
  const ArrowArray* child = out.array->children[0];
  ASSERT_EQ(child->length, 1);
  EXPECT_EQ(static_cast<const int64_t*>(child->buffers[1])[0], 1192667458);  // mmh3("the cat")
}

TEST(Tokenizer, PythonUnicodeRules) {
  hashing::Tokenizer t;
  using V = std::vector<std::string_view>;
  EXPECT_EQ(t.tokens("Hello, a b_c x1 ½½", true), (V{"hello", "b_c", "x1", "½½"}));
  // Final sigma: lowercase of a word-final capital sigma is ς, elsewhere σ.
  EXPECT_EQ(t.tokens("ΣΊΣΥΦΟΣ", true), (V{"σίσυφος"}));
  EXPECT_EQ(t.tokens("ΣΑ Σ", true), (V{"σα"}));
  // İ lowercases to i + U+0307 (a combining mark, not a word character), splitting the token.
  EXPECT_EQ(t.tokens("İstanbul", true), (V{"stanbul"}));
  EXPECT_EQ(t.tokens("İstanbul", false), (V{"İstanbul"}));
  // Malformed UTF-8 is a separator, never a crash.
  EXPECT_EQ(t.tokens(std::string("ab\xff" "cd\xe2\x82", 7), true), (V{"ab", "cd"}));
}

}  // namespace
