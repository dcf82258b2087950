#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "arrow_interop.h"
#include "featforge/hashing/kernels.h"
#include "featforge/hashing/text.h"
#include "featforge/parallel.h"

namespace featforge::bindings {

namespace {
hashing::HashOptions options(const std::string& algo, uint64_t seed) {
  return {hashing::parse_algo(algo), seed};
}
}  // namespace

void register_hashing(py::module_& m) {
  m.def(
      "hash",
      [](const py::object& values, const std::string& algo, uint64_t seed) {
        const auto opts = options(algo, seed);
        return apply_kernel(values,
                            [&](const arrow::ArrayView& v) { return hashing::hash(v, opts); });
      },
      py::arg("values"), py::arg("algo"), py::arg("seed"));
  m.def(
      "hash_bucket",
      [](const py::object& values, int64_t num_buckets, const std::string& algo, uint64_t seed) {
        const auto opts = options(algo, seed);
        return apply_kernel(values, [&](const arrow::ArrayView& v) {
          return hashing::hash_bucket(v, num_buckets, opts);
        });
      },
      py::arg("values"), py::arg("num_buckets"), py::arg("algo"), py::arg("seed"));
  m.def(
      "fid",
      [](const py::object& values, int64_t slot, const std::string& algo, uint64_t seed) {
        const auto opts = options(algo, seed);
        return apply_kernel(values,
                            [&](const arrow::ArrayView& v) { return hashing::fid(v, slot, opts); });
      },
      py::arg("values"), py::arg("slot"), py::arg("algo"), py::arg("seed"));
  m.def(
      "cross",
      [](const py::object& table, int64_t num_buckets, const std::string& algo, uint64_t seed) {
        const auto opts = options(algo, seed);
        return apply_kernel(table, [&](const arrow::ArrayView& v) {
          if (v.id() != arrow::TypeId::struct_) {
            throw std::invalid_argument("cross expects a record batch of the columns to cross");
          }
          return hashing::cross(v.children(), num_buckets, opts);
        });
      },
      py::arg("table"), py::arg("num_buckets"), py::arg("algo"), py::arg("seed"));
  m.def(
      "text_hash",
      [](const py::object& texts, int64_t num_buckets, int64_t ngram_min, int64_t ngram_max,
         bool lowercase, const std::string& algo, uint64_t seed) {
        const auto opts = options(algo, seed);
        const hashing::TextOptions text{ngram_min, ngram_max, lowercase};
        return apply_kernel(texts, [&](const arrow::ArrayView& v) {
          return hashing::text_hash(v, num_buckets, text, opts);
        });
      },
      py::arg("texts"), py::arg("num_buckets"), py::arg("ngram_min"), py::arg("ngram_max"),
      py::arg("lowercase"), py::arg("algo"), py::arg("seed"));
  m.def(
      "text_murmur3",
      [](const py::object& texts, int64_t ngram_min, int64_t ngram_max, bool lowercase,
         uint32_t seed) {
        const hashing::TextOptions text{ngram_min, ngram_max, lowercase};
        return apply_kernel(texts, [&](const arrow::ArrayView& v) {
          return hashing::text_murmur3(v, text, seed);
        });
      },
      py::arg("texts"), py::arg("ngram_min"), py::arg("ngram_max"), py::arg("lowercase"),
      py::arg("seed"));
  m.def(
      "tokenize",
      [](const std::string& text, bool lowercase) {
        hashing::Tokenizer tokenizer;
        std::vector<std::string> out;
        for (auto t : tokenizer.tokens(text, lowercase)) out.emplace_back(t);
        return out;
      },
      py::arg("text"), py::arg("lowercase") = true);
  m.attr("unicode_version") = hashing::unicode_version();
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("get_num_threads", &num_threads);
}

}  // namespace featforge::bindings
