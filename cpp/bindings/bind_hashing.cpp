#include <string>

#include "arrow_interop.h"
#include "featforge/hashing/kernels.h"
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
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("get_num_threads", &num_threads);
}

}  // namespace featforge::bindings
