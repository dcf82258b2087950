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

  py::class_<window::Aggregator>(m, "WindowAggregator")
      .def(py::init([](const std::vector<int64_t>& windows, const std::string& closed,
                       const std::vector<std::vector<std::string>>& aggs, int64_t lateness,
                       const std::string& late, int64_t ttl) {
             if (late != "drop" && late != "raise") {
               throw std::invalid_argument("late must be 'drop' or 'raise', got '" + late + "'");
             }
             return std::make_unique<window::Aggregator>(
                 make_spec(windows, closed, aggs), lateness,
                 late == "drop" ? window::LatePolicy::drop : window::LatePolicy::raise, ttl);
           }),
           py::arg("windows"), py::arg("closed"), py::arg("aggs"), py::arg("allowed_lateness"),
           py::arg("late"), py::arg("ttl"))
      .def(
          "transform",
          [](window::Aggregator& self, const py::object& batch, size_t n_keys) {
            arrow::OwnedArray input = import_array(batch);
            arrow::OwnedArray out;
            {
              // Safe without the GIL: the aggregator and the imported batch are only touched
              // here; Python-level callers serialise calls on one aggregator with a lock.
              py::gil_scoped_release release;
              const arrow::ArrayView view(input.schema.get(), input.array.get());
              const Columns cols = split(view, n_keys);
              out = self.transform(cols.keys, cols.time, cols.values);
            }
            return to_python(std::move(out));
          },
          py::arg("batch"), py::arg("n_keys"))
      .def(
          "query",
          [](window::Aggregator& self, const py::object& keys, int64_t at) {
            arrow::OwnedArray input = import_array(keys);
            arrow::OwnedArray out;
            {
              py::gil_scoped_release release;
              const arrow::ArrayView view(input.schema.get(), input.array.get());
              if (view.id() != arrow::TypeId::struct_) {
                throw std::invalid_argument("query expects a record batch of key columns");
              }
              out = self.query(view.children(), at);
            }
            return to_python(std::move(out));
          },
          py::arg("keys"), py::arg("at"))
      .def("stats",
           [](const window::Aggregator& self) {
             const window::StreamStats s = self.stats();
             py::dict d;
             d["keys"] = s.keys;
             d["events"] = s.events;
             d["buffered_events"] = s.buffered;
             d["late_dropped"] = s.late_dropped;
             d["out_of_order"] = s.out_of_order;
             d["expired_keys"] = s.expired_keys;
             d["bytes"] = s.bytes;
             d["watermark"] = s.watermark == INT64_MIN ? py::object(py::none()) : py::object(py::int_(s.watermark));
             return d;
           })
      .def("serialize",
           [](const window::Aggregator& self) {
             std::string bytes;
             {
               py::gil_scoped_release release;
               bytes = self.serialize();
             }
             return py::bytes(bytes);
           })
      .def_static(
          "deserialize",
          [](const py::bytes& data, const std::vector<int64_t>& windows, const std::string& closed,
             const std::vector<std::vector<std::string>>& aggs) {
            const std::string_view view = data;
            Spec spec = make_spec(windows, closed, aggs);
            py::gil_scoped_release release;
            return std::make_unique<window::Aggregator>(
                window::Aggregator::deserialize(view, std::move(spec)));
          },
          py::arg("data"), py::arg("windows"), py::arg("closed"), py::arg("aggs"));
}

}  // namespace featforge::bindings
