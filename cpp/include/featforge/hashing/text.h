// Word n-gram hashing of text, tokenised exactly like scikit-learn's default analyzer:
// optional str.lower(), tokens = (?u)\b\w\w+\b (Python's \w), n-grams joined by one space.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "featforge/arrow/builder.h"
#include "featforge/arrow/view.h"
#include "featforge/hashing/kernels.h"

namespace featforge::hashing {

struct TextOptions {
  int64_t ngram_min = 1;
  int64_t ngram_max = 1;
  bool lowercase = true;
};

// Reusable tokeniser: buffers grow to the longest text seen and are then reused, so tokenising
// a column allocates nothing per row.
class Tokenizer {
 public:
  // Tokenises `text` and calls fn(std::string_view ngram) for each n-gram, in scikit-learn's
  // order: all unigrams (when ngram_min <= 1), then bigrams, and so on.
  template <class Fn>
  void for_each_ngram(std::string_view text, const TextOptions& options, Fn&& fn) {
    tokenize(text, options.lowercase);
    const auto count = static_cast<int64_t>(tokens_.size());
    if (options.ngram_min <= 1) {
      for (const auto& t : tokens_) fn(std::string_view(text_.data() + t.first, t.second));
    }
    for (int64_t n = std::max<int64_t>(options.ngram_min, 2); n <= options.ngram_max; ++n) {
      for (int64_t i = 0; i + n <= count; ++i) {
        ngram_.clear();
        for (int64_t k = i; k < i + n; ++k) {
          if (k > i) ngram_.push_back(' ');
          const auto& t = tokens_[static_cast<size_t>(k)];
          ngram_.append(text_.data() + t.first, t.second);
        }
        fn(std::string_view(ngram_));
      }
    }
  }

  // Tokens of the last text, as views into an internal buffer (valid until the next call).
  [[nodiscard]] std::vector<std::string_view> tokens(std::string_view text, bool lowercase);

 private:
  void tokenize(std::string_view text, bool lowercase);
  std::string text_;                               // the (lowercased) text being tokenised
  std::vector<uint32_t> code_points_;              // decoded text, for context-dependent lowering
  std::vector<std::pair<size_t, size_t>> tokens_;  // byte offset and length in text_
  std::string ngram_;
};

// The Unicode version the tokeniser's tables were generated from.
[[nodiscard]] const char* unicode_version() noexcept;

// list<int64>: per row, hash(ngram) mod num_buckets for every n-gram (hash read as unsigned).
[[nodiscard]] arrow::OwnedArray text_hash(const arrow::ArrayView& texts, int64_t num_buckets,
                                          const TextOptions& text, const HashOptions& hash);

// list<int32>: per row, the signed MurmurHash3_x86_32 of every n-gram (for the sklearn compat).
[[nodiscard]] arrow::OwnedArray text_murmur3(const arrow::ArrayView& texts,
                                             const TextOptions& text, uint32_t seed);

}  // namespace featforge::hashing
