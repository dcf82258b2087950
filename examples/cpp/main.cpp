// A small consumer of the installed featforge package: hashes values, looks item ids up in an
// IdMap file and queries users' window features in a WindowAggregator checkpoint, all as the
// Python package computes them. Usage: featforge_example ITEMS.ffidmap USERS.ffwindow
//
// Every output line states its inputs, so a test can recompute it in Python:
//   hash ALGO TYPE VALUE RESULT                  (murmur3: the signed 32-bit hash, as mmh3.hash)
//   hash_bucket ALGO TYPE VALUE NUM_BUCKETS RESULT
//   fid ALGO TYPE VALUE SLOT RESULT
//   lookup KEY INDEX
//   query USER AT NAME=VALUE ...                 (null where Python gives null)
#include <cinttypes>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "featforge/featforge.h"

namespace ff = featforge::serving;

namespace {

const char* algo_name(ff::HashAlgo algo) {
  switch (algo) {
    case ff::HashAlgo::xxh3:
      return "xxh3";
    case ff::HashAlgo::xxh64:
      return "xxh64";
    case ff::HashAlgo::murmur3:
      return "murmur3";
  }
  return "?";
}

// A hash as Python returns it: uint64 for xxh3/xxh64, int32 for murmur3.
std::string hash_text(uint64_t h, ff::HashAlgo algo) {
  char text[32];
  if (algo == ff::HashAlgo::murmur3) {
    std::snprintf(text, sizeof text, "%d", static_cast<int32_t>(static_cast<uint32_t>(h)));
  } else {
    std::snprintf(text, sizeof text, "%" PRIu64, h);
  }
  return text;
}

std::string text_of(int64_t v) { return std::to_string(v); }
std::string text_of(double v) {
  char text[40];
  std::snprintf(text, sizeof text, "%.17g", v);
  return text;
}
std::string text_of(std::string_view v) { return std::string(v); }

template <class T>
void print_hashes(const char* type, const std::vector<T>& values) {
  for (ff::HashAlgo algo : {ff::HashAlgo::xxh3, ff::HashAlgo::xxh64, ff::HashAlgo::murmur3}) {
    const ff::HashOptions options{algo, 7};
    const std::vector<uint64_t> h = ff::hash(std::span<const T>(values), options);
    const std::vector<int64_t> b = ff::hash_bucket(std::span<const T>(values), 1000, options);
    const std::vector<int64_t> f = ff::fid(std::span<const T>(values), 42, options);
    for (size_t i = 0; i < values.size(); ++i) {
      const std::string v = text_of(values[i]);
      std::printf("hash %s %s %s %s\n", algo_name(algo), type, v.c_str(),
                  hash_text(h[i], algo).c_str());
      std::printf("hash_bucket %s %s %s 1000 %" PRId64 "\n", algo_name(algo), type, v.c_str(),
                  b[i]);
      std::printf("fid %s %s %s 42 %" PRId64 "\n", algo_name(algo), type, v.c_str(), f[i]);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s ITEMS.ffidmap USERS.ffwindow\n", argv[0]);
    return 2;
  }
  try {
    std::fprintf(stderr, "featforge %s\n", ff::version());  // stderr: stdout is compared

    // Hashing, seed 7: the values' canonical bytes (int64: 8 bytes, double: IEEE-754 with -0.0
    // hashed as 0.0, strings: UTF-8).
    print_hashes("int64", std::vector<int64_t>{17, 42, -1});
    print_hashes("float64", std::vector<double>{0.5, -0.0, 1e300});
    print_hashes("string", std::vector<std::string_view>{"UK", "item_12345", "caf\xc3\xa9"});

    // A frozen IdMap of item ids: known items get their index, others an OOV bucket.
    const ff::IdMapReader items = ff::IdMapReader::load(argv[1]);
    const std::vector<std::string_view> keys = {"mug", "star", "lamp", "cup", "never-seen"};
    const std::vector<int64_t> indices = items.lookup(keys);
    for (size_t i = 0; i < keys.size(); ++i) {
      std::printf("lookup %s %" PRId64 "\n", std::string(keys[i]).c_str(), indices[i]);
    }

    // The users' window state: WindowSpec(key="user", time="ts" (timestamp[s]),
    // aggs={"price": ["count", "sum", "mean", "max", "std"]}, windows=["1h", "1d"]).
    const ff::WindowSpec spec{{3600, 86400}, "left", {{"count", "sum", "mean", "max", "std"}}};
    const std::vector<std::string> names = {"count_1h",      "price_count_1h", "price_sum_1h",
                                            "price_mean_1h", "price_max_1h",   "price_std_1h",
                                            "count_1d",      "price_count_1d", "price_sum_1d",
                                            "price_mean_1d", "price_max_1d",   "price_std_1d"};
    const ff::WindowReader users = ff::WindowReader::load(argv[2], spec);
    const std::vector<int64_t> user_ids = {1, 2, 3, 99};
    for (int64_t at : {users.watermark() + 1, users.watermark() + 3000}) {
      const std::vector<ff::FeatureColumn> features = users.query(user_ids, at);
      for (size_t row = 0; row < user_ids.size(); ++row) {
        std::printf("query %" PRId64 " %" PRId64, user_ids[row], at);
        for (size_t c = 0; c < features.size(); ++c) {
          const ff::FeatureColumn& col = features[c];
          const std::string value = !col.valid[row] ? "null"
                                    : col.is_count  ? text_of(col.counts[row])
                                                    : text_of(col.values[row]);
          std::printf(" %s=%s", names[c].c_str(), value.c_str());
        }
        std::printf("\n");
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
