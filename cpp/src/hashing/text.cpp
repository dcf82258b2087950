#include "featforge/hashing/text.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

#include "featforge/hash/murmur3.h"
#include "featforge/hash/xxh3.h"
#include "featforge/hash/xxh64.h"

namespace featforge::hashing {

namespace {

struct CodePointRange {
  uint32_t lo, hi;
};
struct LowerSingle {
  uint32_t from, to;
};
struct LowerMulti {
  uint32_t from;
  uint32_t count;
  uint32_t to[3];
};

#include "unicode_tables.inc"

template <size_t N>
[[nodiscard]] bool in_ranges(const CodePointRange (&ranges)[N], uint32_t cp) noexcept {
  const auto* it = std::upper_bound(std::begin(ranges), std::end(ranges), cp,
                                    [](uint32_t c, const CodePointRange& r) { return c < r.lo; });
  return it != std::begin(ranges) && cp <= (it - 1)->hi;
}

[[nodiscard]] bool is_word(uint32_t cp) noexcept {
  if (cp < 0x80) {
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') ||
           cp == '_';
  }
  return in_ranges(kWordRanges, cp);
}

constexpr uint32_t kCapitalSigma = 0x3A3;
constexpr uint32_t kFinalSigma = 0x3C2;

// str.lower()'s Final_Sigma rule for the capital sigma at cps[i]: final when preceded by a cased
// character and not followed by one, skipping case-ignorable characters in both directions.
[[nodiscard]] bool is_final_sigma(const std::vector<uint32_t>& cps, size_t i) noexcept {
  size_t j = i;
  while (j > 0 && in_ranges(kCaseIgnorable, cps[j - 1])) --j;
  if (j == 0 || !in_ranges(kCasedNotIgnorable, cps[j - 1])) return false;
  size_t k = i + 1;
  while (k < cps.size() && in_ranges(kCaseIgnorable, cps[k])) ++k;
  return k == cps.size() || !in_ranges(kCasedNotIgnorable, cps[k]);
}

constexpr uint32_t kInvalid = 0xFFFFFFFFu;

// Decodes one UTF-8 code point at text[i], advancing i. Malformed bytes decode as kInvalid
// (one byte consumed), which is not a word character.
[[nodiscard]] uint32_t decode(std::string_view text, size_t& i) noexcept {
  const auto b0 = static_cast<uint8_t>(text[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  const int extra = b0 >= 0xF0 ? 3 : b0 >= 0xE0 ? 2 : b0 >= 0xC0 ? 1 : -1;
  if (extra < 0 || b0 > 0xF4 || i + static_cast<size_t>(extra) >= text.size()) {
    ++i;
    return kInvalid;
  }
  uint32_t cp = b0 & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    const auto b = static_cast<uint8_t>(text[i + static_cast<size_t>(k)]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return kInvalid;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  i += static_cast<size_t>(extra) + 1;
  return cp;
}

void encode(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Appends str.lower() of one code point.
void append_lower(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
    return;
  }
  for (const LowerMulti& m : kLowerMulti) {
    if (m.from == cp) {
      for (uint32_t k = 0; k < m.count; ++k) encode(m.to[k], out);
      return;
    }
  }
  const auto* end = std::end(kLowerSingle);
  const auto* it = std::lower_bound(std::begin(kLowerSingle), end, cp,
                                    [](const LowerSingle& m, uint32_t c) { return m.from < c; });
  encode(it != end && it->from == cp ? it->to : cp, out);
}

}  // namespace

const char* unicode_version() noexcept { return kUnicodeVersion; }

void Tokenizer::tokenize(std::string_view text, bool lowercase) {
  text_.clear();
  tokens_.clear();
  if (lowercase) {
    // Decode first: the final-sigma rule looks at neighbouring code points.
    code_points_.clear();
    bool has_sigma = false;
    for (size_t i = 0; i < text.size();) {
      const uint32_t cp = decode(text, i);
      code_points_.push_back(cp);
      has_sigma = has_sigma || cp == kCapitalSigma;
    }
    for (size_t i = 0; i < code_points_.size(); ++i) {
      const uint32_t cp = code_points_[i];
      if (cp == kInvalid) {
        text_.push_back('\x80');  // malformed input: a stray byte that is never a word character
      } else if (has_sigma && cp == kCapitalSigma && is_final_sigma(code_points_, i)) {
        encode(kFinalSigma, text_);
      } else {
        append_lower(cp, text_);
      }
    }
  } else {
    text_.assign(text.data(), text.size());
  }
  // Tokens are maximal runs of word characters at least two code points long: exactly what
  // \b\w\w+\b finds, since \w+ is greedy and \b needs a non-word (or the text's edge) around it.
  size_t run_start = 0;
  size_t run_chars = 0;
  const std::string_view t(text_);
  for (size_t i = 0; i < t.size();) {
    const size_t at = i;
    const uint32_t cp = decode(t, i);
    if (cp != kInvalid && is_word(cp)) {
      if (run_chars == 0) run_start = at;
      ++run_chars;
    } else {
      if (run_chars >= 2) tokens_.emplace_back(run_start, at - run_start);
      run_chars = 0;
    }
  }
  if (run_chars >= 2) tokens_.emplace_back(run_start, t.size() - run_start);
}

std::vector<std::string_view> Tokenizer::tokens(std::string_view text, bool lowercase) {
  tokenize(text, lowercase);
  std::vector<std::string_view> out;
  for (const auto& tok : tokens_) out.emplace_back(text_.data() + tok.first, tok.second);
  return out;
}

namespace {

void check_options(const TextOptions& o) {
  if (o.ngram_min < 1 || o.ngram_max < o.ngram_min) {
    throw std::invalid_argument("ngram_range must satisfy 1 <= min_n <= max_n, got (" +
                                std::to_string(o.ngram_min) + ", " + std::to_string(o.ngram_max) +
                                ")");
  }
}

// Runs the tokeniser over every row and emits list<Out>: per row, finish(ngram bytes).
template <class Out, class Finish>
arrow::OwnedArray map_ngrams(const arrow::ArrayView& texts, const TextOptions& options,
                             const char* out_format, const Finish& finish) {
  check_options(options);
  using arrow::TypeId;
  if (!arrow::is_binary_like(texts.id()) || texts.is_dictionary()) {
    throw unsupported_type("text must be a string or binary column, got " +
                           arrow::type_name(texts.schema()));
  }
  const int64_t n = texts.length();
  std::vector<Out> values;
  values.reserve(static_cast<size_t>(n) * 4);
  arrow::Buffer offsets(static_cast<size_t>(n + 1) * sizeof(int32_t));
  auto* off = offsets.as<int32_t>();
  Tokenizer tokenizer;
  off[0] = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (texts.is_valid(i)) {
      tokenizer.for_each_ngram(texts.bytes_at(i), options,
                               [&](std::string_view g) { values.push_back(finish(g)); });
      if (values.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
        throw std::length_error("text_hash output exceeds 2^31 n-grams in one batch; "
                                "pass smaller batches");
      }
    }
    off[i + 1] = static_cast<int32_t>(values.size());
  }
  auto child = std::make_unique<arrow::ArrayData>();
  child->format = std::string(out_format);  // move-assigned: see PrimitiveOutput
  child->name = "item";
  child->length = static_cast<int64_t>(values.size());
  child->buffers.emplace_back();
  child->buffers.emplace_back(values.size() * sizeof(Out));
  std::copy(values.begin(), values.end(), child->buffers[1].as<Out>());
  auto list = std::make_unique<arrow::ArrayData>();
  list->format = "+l";
  list->length = n;
  list->buffers.push_back(arrow::copy_validity(texts.validity(), texts.offset(), n));
  list->null_count = texts.null_count();
  list->buffers.push_back(std::move(offsets));
  list->children.push_back(std::move(child));
  return arrow::export_array(std::move(list));
}

}  // namespace

arrow::OwnedArray text_hash(const arrow::ArrayView& texts, int64_t num_buckets,
                            const TextOptions& text, const HashOptions& hash) {
  if (num_buckets <= 0) {
    throw std::invalid_argument("num_buckets must be > 0, got " + std::to_string(num_buckets));
  }
  const auto buckets = static_cast<uint64_t>(num_buckets);
  switch (hash.algo) {
    case Algo::xxh3: {
      const hash::Xxh3 h(hash.seed);
      return map_ngrams<int64_t>(texts, text, "l", [&](std::string_view g) {
        return static_cast<int64_t>(h(g.data(), g.size()) % buckets);
      });
    }
    case Algo::xxh64:
      return map_ngrams<int64_t>(texts, text, "l", [&](std::string_view g) {
        return static_cast<int64_t>(hash::xxh64(g.data(), g.size(), hash.seed) % buckets);
      });
    case Algo::murmur3:
      break;
  }
  const auto seed = static_cast<uint32_t>(hash.seed);
  return map_ngrams<int64_t>(texts, text, "l", [&](std::string_view g) {
    return static_cast<int64_t>(hash::murmur3_32(g.data(), g.size(), seed) % buckets);
  });
}

arrow::OwnedArray text_murmur3(const arrow::ArrayView& texts, const TextOptions& text,
                               uint32_t seed) {
  return map_ngrams<int32_t>(texts, text, "i", [&](std::string_view g) {
    return static_cast<int32_t>(hash::murmur3_32(g.data(), g.size(), seed));
  });
}

}  // namespace featforge::hashing
