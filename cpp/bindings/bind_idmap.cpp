#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "arrow_interop.h"
#include "featforge/idmap/idmap.h"

namespace featforge::bindings {

namespace {

using idmap::IdMap;

idmap::Options make_options(const std::string& key_type, int64_t num_oov_buckets,
                            int64_t min_count, std::optional<int64_t> max_size,
                            std::optional<std::string> eviction, uint64_t seed,
                            int64_t max_candidates) {
  idmap::Options o;
  o.key_type = idmap::parse_key_type(key_type);
  o.num_oov_buckets = num_oov_buckets;
  o.min_count = min_count;
  o.max_size = max_size.value_or(-1);
  o.eviction = eviction ? idmap::parse_eviction(*eviction) : idmap::Eviction::none;
  o.seed = seed;
  o.max_candidates = max_candidates;
  return o;
}

py::object key_to_python(const IdMap& map, const idmap::Key& key) {
  if (map.options().key_type == idmap::KeyType::int64) return py::int_(key.int_key);
  return py::bytes(key.str_key);
}

}  // namespace

void register_idmap(py::module_& m) {
  py::class_<IdMap>(m, "IdMap")
      .def(py::init([](const std::string& key_type, int64_t num_oov_buckets, int64_t min_count,
                       std::optional<int64_t> max_size, std::optional<std::string> eviction,
                       uint64_t seed, int64_t max_candidates) {
             return std::make_unique<IdMap>(make_options(key_type, num_oov_buckets, min_count,
                                                         max_size, eviction, seed,
                                                         max_candidates));
           }),
           py::arg("key_type"), py::arg("num_oov_buckets"), py::arg("min_count"),
           py::arg("max_size"), py::arg("eviction"), py::arg("seed"), py::arg("max_candidates"))
      .def(
          "lookup",
          [](IdMap& self, const py::object& keys, bool insert, const py::object& timestamps) {
            arrow::OwnedArray key_array = import_array(keys);
            std::optional<arrow::OwnedArray> ts_array;
            if (!timestamps.is_none()) ts_array = import_array(timestamps);
            arrow::OwnedArray out;
            {
              // Safe without the GIL: the map guards itself with a reader/writer lock, and the
              // imported arrays are owned by this call.
              py::gil_scoped_release release;
              arrow::ArrayView kv(key_array.schema.get(), key_array.array.get());
              if (ts_array) {
                arrow::ArrayView tv(ts_array->schema.get(), ts_array->array.get());
                out = self.lookup(kv, insert, &tv);
              } else {
                out = self.lookup(kv, insert, nullptr);
              }
            }
            return to_python(std::move(out));
          },
          py::arg("keys"), py::arg("insert"), py::arg("timestamps"))
      .def(
          "freeze",
          [](IdMap& self, const std::string& order) {
            const auto o = idmap::parse_freeze_order(order);
            py::gil_scoped_release release;
            self.freeze(o);
          },
          py::arg("order"))
      .def_property_readonly("frozen", &IdMap::frozen)
      .def("evict_older_than", &IdMap::evict_older_than, py::arg("ts"),
           py::call_guard<py::gil_scoped_release>())
      .def("take_evicted",
           [](IdMap& self) {
             py::list out;
             for (const auto& e : self.take_evicted()) {
               out.append(py::make_tuple(key_to_python(self, e.key), e.index));
             }
             return out;
           })
      .def("merge", &IdMap::merge, py::arg("other"), py::call_guard<py::gil_scoped_release>())
      .def("size", &IdMap::size)
      .def("stats",
           [](const IdMap& self) {
             const idmap::Stats s = self.stats();
             py::dict d;
             d["size"] = s.size;
             d["capacity"] = s.capacity;
             d["bytes"] = s.bytes;
             d["lookups"] = s.lookups;
             d["oov_hits"] = s.oov_hits;
             d["admissions"] = s.admissions;
             d["evictions"] = s.evictions;
             d["rejected"] = s.rejected;
             d["candidates"] = s.candidates;
             d["candidates_dropped"] = s.candidates_dropped;
             d["frozen"] = s.frozen;
             return d;
           })
      .def("to_arrow", [](const IdMap& self) { return to_python(self.to_arrow()); })
      .def_static(
          "from_arrow",
          [](const py::object& table, const std::string& key_type, int64_t num_oov_buckets,
             int64_t min_count, std::optional<int64_t> max_size,
             std::optional<std::string> eviction, uint64_t seed, int64_t max_candidates) {
            arrow::OwnedArray t = import_array(table);
            const auto o = make_options(key_type, num_oov_buckets, min_count, max_size, eviction,
                                        seed, max_candidates);
            py::gil_scoped_release release;
            arrow::ArrayView v(t.schema.get(), t.array.get());
            return std::make_unique<IdMap>(IdMap::from_arrow(v, o));
          },
          py::arg("table"), py::arg("key_type"), py::arg("num_oov_buckets"), py::arg("min_count"),
          py::arg("max_size"), py::arg("eviction"), py::arg("seed"), py::arg("max_candidates"))
      .def("serialize",
           [](const IdMap& self) {
             std::string bytes;
             {
               py::gil_scoped_release release;
               bytes = self.serialize();
             }
             return py::bytes(bytes);
           })
      .def_static("deserialize",
                  [](const py::bytes& data) {
                    const std::string_view view = data;
                    py::gil_scoped_release release;  // `data` stays referenced by the caller
                    return std::make_unique<IdMap>(IdMap::deserialize(view));
                  })
      .def("save", &IdMap::save, py::arg("path"), py::call_guard<py::gil_scoped_release>())
      .def_static(
          "load",
          [](const std::string& path) {
            py::gil_scoped_release release;
            return std::make_unique<IdMap>(IdMap::load(path));
          },
          py::arg("path"))
      .def_property_readonly("contract", &IdMap::contract)
      .def_property_readonly("options", [](const IdMap& self) {
        const idmap::Options& o = self.options();
        py::dict d;
        d["key_type"] = o.key_type == idmap::KeyType::int64 ? "int64" : "string";
        d["num_oov_buckets"] = o.num_oov_buckets;
        d["min_count"] = o.min_count;
        d["max_size"] = o.max_size == -1 ? py::object(py::none()) : py::object(py::int_(o.max_size));
        d["eviction"] = o.eviction == idmap::Eviction::none
                            ? py::object(py::none())
                            : py::object(py::str(o.eviction == idmap::Eviction::lru ? "lru" : "lfu"));
        d["seed"] = o.seed;
        d["max_candidates"] = o.max_candidates;
        return d;
      });
}

}  // namespace featforge::bindings
