#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arrow_interop.h"
#include "featforge/hash/murmur3.h"
#include "featforge/hashing/compat.h"
#include "featforge/hashing/kernels.h"
#include "featforge/hashing/spark.h"
#include "featforge/hashing/text.h"
#include "featforge/parallel.h"

namespace featforge::bindings {

namespace {

// Signed MurmurHash3_x86_32 (seed 0) of every feature name of every sample, for
// compat.sklearn.FeatureHasher(input_type="string") on Python lists. Names are read in place
// (PyUnicode_AsUTF8AndSize caches the UTF-8 form inside the str object) while holding the GIL;
// hashing then runs without it. Returns (indptr int64[n+1], hashes int32[total]).
py::tuple murmur3_of_samples(const py::iterable& samples) {
  std::vector<std::string_view> names;
  std::vector<int64_t> indptr{0};
  std::vector<py::object> keep_alive;  // iterables that are not lists may create new objects
  for (py::handle sample : samples) {
    if (PyUnicode_Check(sample.ptr()) && indptr.size() == 1) {
      throw py::value_error(
          "Samples can not be a single string. The input must be an iterable over iterables of "
          "strings.");
    }
    py::object seq = py::reinterpret_steal<py::object>(
        PySequence_Fast(sample.ptr(), "each sample must be an iterable of feature names"));
    if (!seq) throw py::error_already_set();
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.ptr());
    PyObject** items = PySequence_Fast_ITEMS(seq.ptr());
    for (Py_ssize_t i = 0; i < n; ++i) {
      PyObject* item = items[i];
      Py_ssize_t size = 0;
      const char* data = nullptr;
      if (PyUnicode_Check(item)) {
        data = PyUnicode_AsUTF8AndSize(item, &size);
        if (data == nullptr) throw py::error_already_set();
      } else if (PyBytes_Check(item)) {
        data = PyBytes_AS_STRING(item);
        size = PyBytes_GET_SIZE(item);
      } else {
        throw py::type_error("feature names must be strings");
      }
      names.emplace_back(data, static_cast<size_t>(size));
    }
    keep_alive.push_back(std::move(seq));
    indptr.push_back(static_cast<int64_t>(names.size()));
  }
  py::array_t<int32_t> hashes(static_cast<py::ssize_t>(names.size()));
  int32_t* out = hashes.mutable_data();
  {
    // Safe without the GIL: `names` points into str/bytes objects kept alive by keep_alive.
    py::gil_scoped_release release;
    for (size_t i = 0; i < names.size(); ++i) {
      out[i] = static_cast<int32_t>(hash::murmur3_32(names[i].data(), names[i].size(), 0));
    }
  }
  py::array_t<int64_t> indptr_array(static_cast<py::ssize_t>(indptr.size()), indptr.data());
  return py::make_tuple(indptr_array, hashes);
}

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
  m.def(
      "spark_hash",
      [](const py::object& values, const std::string& function) {
        hashing::SparkHash f;
        if (function == "hash") {
          f = hashing::SparkHash::murmur3;
        } else if (function == "xxhash64") {
          f = hashing::SparkHash::xxhash64;
        } else {
          throw std::invalid_argument("unknown Spark hash function '" + function + "'");
        }
        return apply_kernel(values,
                            [&](const arrow::ArrayView& v) { return hashing::spark_hash(v, f); });
      },
      py::arg("values"), py::arg("function"));
  m.def(
      "keras_hashing",
      [](const py::object& values, int64_t num_bins, std::optional<std::string> mask_value,
         std::optional<std::pair<uint64_t, uint64_t>> salt) {
        const hashing::KerasHashingOptions opts{num_bins, std::move(mask_value), salt};
        return apply_kernel(
            values, [&](const arrow::ArrayView& v) { return hashing::keras_hashing(v, opts); });
      },
      py::arg("values"), py::arg("num_bins"), py::arg("mask_value"), py::arg("salt"));
  m.def(
      "keras_hashed_crossing",
      [](const py::object& table, int64_t num_bins) {
        return apply_kernel(table, [&](const arrow::ArrayView& v) {
          if (v.id() != arrow::TypeId::struct_) {
            throw std::invalid_argument("expects a record batch of the columns to cross");
          }
          return hashing::keras_hashed_crossing(v.children(), num_bins);
        });
      },
      py::arg("table"), py::arg("num_bins"));
  m.def(
      "sigrid_hash",
      [](const py::object& values, int64_t salt, int64_t max_value) {
        return apply_kernel(values, [&](const arrow::ArrayView& v) {
          return hashing::sigrid_hash(v, salt, max_value);
        });
      },
      py::arg("values"), py::arg("salt"), py::arg("max_value"));
  m.def("murmur3_of_samples", &murmur3_of_samples, py::arg("samples"));
  m.attr("unicode_version") = hashing::unicode_version();
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("get_num_threads", &num_threads);
}

}  // namespace featforge::bindings
