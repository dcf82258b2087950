#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "arrow_interop.h"
#include "featforge/window/engine.h"

namespace featforge::bindings {

namespace {

using window::Spec;

Spec make_spec(const std::vector<int64_t>& windows, const std::string& closed,
               const std::vector<std::vector<std::string>>& aggs) {
  Spec spec;
  spec.layout.windows = windows;
  spec.layout.closed = window::parse_closed(closed);
  for (const auto& column : aggs) {
    std::vector<window::Agg> parsed;
    for (const auto& a : column) parsed.push_back(window::parse_agg(a));
    spec.aggs.push_back(std::move(parsed));
  }
  window::finalize(spec);
  return spec;
}

// The batch holds the key columns, then the time column, then the value columns.
struct Columns {
  std::vector<arrow::ArrayView> keys;
  arrow::ArrayView time;
  std::vector<arrow::ArrayView> values;
};

Columns split(const arrow::ArrayView& batch, size_t n_keys) {
  if (batch.id() != arrow::TypeId::struct_ || batch.children().size() < n_keys + 1) {
    throw std::invalid_argument("expected a record batch of key, time and value columns");
  }
  const auto& c = batch.children();
  return Columns{{c.begin(), c.begin() + static_cast<std::ptrdiff_t>(n_keys)},
                 c[n_keys],
                 {c.begin() + static_cast<std::ptrdiff_t>(n_keys) + 1, c.end()}};
}

}  // namespace

void register_window(py::module_& m) {
  m.def(
      "window_backfill",
      [](const py::object& batch, size_t n_keys, const std::vector<int64_t>& windows,
         const std::string& closed, const std::vector<std::vector<std::string>>& aggs) {
        const Spec spec = make_spec(windows, closed, aggs);
        arrow::OwnedArray input = import_array(batch);
        arrow::OwnedArray out;
        {
          // Safe without the GIL: only the imported batch (owned here) is read.
          py::gil_scoped_release release;
          const arrow::ArrayView view(input.schema.get(), input.array.get());
          const Columns cols = split(view, n_keys);
          out = window::backfill(cols.keys, cols.time, cols.values, spec);
        }
        return to_python(std::move(out));
      },
      py::arg("batch"), py::arg("n_keys"), py::arg("windows"), py::arg("closed"),
      py::arg("aggs"));
}

}  // namespace featforge::bindings
