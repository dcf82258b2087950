#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "arrow_interop.h"
#include "featforge/arrow/builder.h"
#include "featforge/arrow/view.h"

namespace featforge::bindings {

namespace {

constexpr const char* kSchemaCapsule = "arrow_schema";
constexpr const char* kArrayCapsule = "arrow_array";
constexpr const char* kStreamCapsule = "arrow_array_stream";

// Capsule destructors: release a struct nobody moved out, then free the allocation.
void delete_schema_capsule(PyObject* capsule) {
  auto* schema = static_cast<ArrowSchema*>(PyCapsule_GetPointer(capsule, kSchemaCapsule));
  if (schema == nullptr) return;
  if (schema->release != nullptr) schema->release(schema);
  delete schema;
}
void delete_array_capsule(PyObject* capsule) {
  auto* array = static_cast<ArrowArray*>(PyCapsule_GetPointer(capsule, kArrayCapsule));
  if (array == nullptr) return;
  if (array->release != nullptr) array->release(array);
  delete array;
}

template <class Struct>
Struct* capsule_struct(const py::handle& capsule, const char* name, const char* producer) {
  if (!PyCapsule_IsValid(capsule.ptr(), name)) {
    throw py::type_error(std::string(producer) + " did not return a PyCapsule named '" + name +
                         "'");
  }
  auto* raw = static_cast<Struct*>(PyCapsule_GetPointer(capsule.ptr(), name));
  if (raw->release == nullptr) {
    throw py::value_error(std::string("the '") + name + "' capsule was already consumed");
  }
  return raw;
}

// Exports an owned array into two fresh capsules. Both allocations are made before any data moves,
// so a failure in between cannot leak a live struct.
py::tuple to_capsules(arrow::OwnedArray& owned) {
  auto schema = std::make_unique<ArrowSchema>();
  auto array = std::make_unique<ArrowArray>();
  schema->release = nullptr;
  array->release = nullptr;
  ArrowSchema* schema_raw = schema.get();
  ArrowArray* array_raw = array.get();
  py::capsule schema_capsule(schema.release(), kSchemaCapsule, &delete_schema_capsule);
  py::capsule array_capsule(array.release(), kArrayCapsule, &delete_array_capsule);
  owned.schema.move_to(schema_raw);
  owned.array.move_to(array_raw);
  return py::make_tuple(schema_capsule, array_capsule);
}

// A Python-visible owner of a result array; __arrow_c_array__ hands it over exactly once.
class ArrowArrayHolder {
 public:
  explicit ArrowArrayHolder(arrow::OwnedArray array) : array_(std::move(array)) {}

  py::tuple arrow_c_array(const py::object& requested_schema) {
    if (!requested_schema.is_none()) {
      throw py::value_error("featforge results cannot be cast to a requested schema");
    }
    if (!array_.array.valid()) throw py::value_error("this Arrow result was already exported");
    return to_capsules(array_);
  }
  [[nodiscard]] std::string type() const {
    return array_.schema.valid() ? arrow::type_name(*array_.schema.get()) : "<exported>";
  }

 private:
  arrow::OwnedArray array_;
};

// The schema of a stream, so a chunked result with zero chunks still knows its type.
class ArrowSchemaHolder {
 public:
  explicit ArrowSchemaHolder(arrow::OwnedArray array) : array_(std::move(array)) {}
  py::capsule arrow_c_schema() {
    if (!array_.schema.valid()) throw py::value_error("this Arrow schema was already exported");
    auto schema = std::make_unique<ArrowSchema>();
    schema->release = nullptr;
    ArrowSchema* raw = schema.get();
    py::capsule capsule(schema.release(), kSchemaCapsule, &delete_schema_capsule);
    array_.schema.move_to(raw);
    return capsule;
  }

 private:
  arrow::OwnedArray array_;  // the result of running the kernel on an empty slice
};

bool has_attr(const py::object& obj, const char* name) { return py::hasattr(obj, name); }

std::string describe(const py::handle& obj) {
  return py::str(py::type::handle_of(obj).attr("__name__")).cast<std::string>();
}

}  // namespace

arrow::OwnedArray import_array(const py::object& source) {
  py::object result = source.attr("__arrow_c_array__")();
  if (!py::isinstance<py::tuple>(result) || py::len(result) != 2) {
    throw py::type_error(describe(source) + ".__arrow_c_array__() did not return a 2-tuple");
  }
  auto tuple = result.cast<py::tuple>();
  const std::string producer = describe(source) + ".__arrow_c_array__()";
  auto* schema = capsule_struct<ArrowSchema>(tuple[0], kSchemaCapsule, producer.c_str());
  auto* array = capsule_struct<ArrowArray>(tuple[1], kArrayCapsule, producer.c_str());
  arrow::OwnedArray out;
  out.schema = arrow::SchemaOwner(schema);  // moved out: the capsule destructor sees release == NULL
  out.array = arrow::ArrayOwner(array);
  return out;
}

namespace {
arrow::StreamOwner import_stream_owner(const py::object& source) {
  py::object capsule = source.attr("__arrow_c_stream__")();
  const std::string producer = describe(source) + ".__arrow_c_stream__()";
  auto* stream = capsule_struct<ArrowArrayStream>(capsule, kStreamCapsule, producer.c_str());
  return arrow::StreamOwner(stream);
}

// Copies a schema tree by value so one stream schema can be paired with every chunk. Only what a
// view reads is kept (format, name, children, dictionary); the copy owns its storage.
struct SchemaCopyPrivate {
  std::string format, name;
  std::vector<ArrowSchema> children;
  std::vector<ArrowSchema*> child_ptrs;
  std::unique_ptr<ArrowSchema> dictionary;
};
void release_schema_copy(ArrowSchema* s) {
  auto* p = static_cast<SchemaCopyPrivate*>(s->private_data);
  for (auto& c : p->children) c.release(&c);
  if (p->dictionary) p->dictionary->release(p->dictionary.get());
  delete p;
  s->release = nullptr;
}
void copy_schema(const ArrowSchema& from, ArrowSchema* to) {
  auto p = std::make_unique<SchemaCopyPrivate>();
  p->format = from.format ? from.format : "";
  p->name = from.name ? from.name : "";
  p->children.resize(static_cast<size_t>(from.n_children));
  for (int64_t i = 0; i < from.n_children; ++i) {
    copy_schema(*from.children[i], &p->children[static_cast<size_t>(i)]);
    p->child_ptrs.push_back(&p->children[static_cast<size_t>(i)]);
  }
  if (from.dictionary) {
    p->dictionary = std::make_unique<ArrowSchema>();
    copy_schema(*from.dictionary, p->dictionary.get());
  }
  to->format = p->format.c_str();
  to->name = p->name.c_str();
  to->metadata = nullptr;
  to->flags = from.flags;
  to->n_children = from.n_children;
  to->children = p->child_ptrs.empty() ? nullptr : p->child_ptrs.data();
  to->dictionary = p->dictionary.get();
  to->release = &release_schema_copy;
  to->private_data = p.release();
}
}  // namespace

std::vector<arrow::OwnedArray> import_stream(const py::object& source) {
  arrow::StreamReader reader(import_stream_owner(source));
  std::vector<arrow::OwnedArray> chunks;
  arrow::ArrayOwner chunk;
  while (reader.next(chunk)) {
    arrow::OwnedArray owned;
    ArrowSchema copy{};
    copy_schema(*reader.schema(), &copy);
    owned.schema = arrow::SchemaOwner(&copy);
    owned.array = std::move(chunk);
    chunks.push_back(std::move(owned));
  }
  return chunks;
}

py::object to_python(arrow::OwnedArray array) {
  return py::cast(ArrowArrayHolder(std::move(array)));
}

py::object apply_kernel(const py::object& source, const ArrayKernel& kernel) {
  if (has_attr(source, "__arrow_c_array__")) {
    arrow::OwnedArray input = import_array(source);
    arrow::OwnedArray output;
    {
      // Safe without the GIL: the kernel touches only the imported structs, which we own now.
      py::gil_scoped_release release;
      arrow::ArrayView view(input.schema.get(), input.array.get());
      output = kernel(view);
    }
    return to_python(std::move(output));
  }
  if (has_attr(source, "__arrow_c_stream__")) {
    arrow::StreamOwner stream = import_stream_owner(source);
    std::vector<arrow::OwnedArray> outputs;
    arrow::OwnedArray type_probe;
    {
      // Safe without the GIL: Arrow stream producers (pyarrow, polars) take the GIL themselves
      // when they need it, and everything else here is owned by this call.
      py::gil_scoped_release release;
      arrow::StreamReader reader(std::move(stream));
      arrow::ArrayOwner chunk;
      while (reader.next(chunk)) {
        arrow::ArrayView view(reader.schema(), chunk.get());
        outputs.push_back(kernel(view));
        chunk.reset();  // free the input chunk before reading the next one
      }
      // The result type, known even for a stream of zero chunks: the kernel on an empty array.
      arrow::OwnedArray empty = arrow::make_empty_array(*reader.schema());
      type_probe = kernel(arrow::ArrayView(empty.schema.get(), empty.array.get()));
    }
    py::list results;
    for (auto& out : outputs) results.append(to_python(std::move(out)));
    return py::make_tuple(results, py::cast(ArrowSchemaHolder(std::move(type_probe))));
  }
  throw py::type_error("expected an Arrow array, got " + describe(source));
}

void register_arrow(py::module_& m) {
  py::class_<ArrowArrayHolder>(m, "ArrowArrayHolder",
                               "An Arrow array produced by featforge (PyCapsule protocol).")
      .def("__arrow_c_array__", &ArrowArrayHolder::arrow_c_array,
           py::arg("requested_schema") = py::none())
      .def_property_readonly("type", &ArrowArrayHolder::type);
  py::class_<ArrowSchemaHolder>(m, "ArrowSchemaHolder")
      .def("__arrow_c_schema__", &ArrowSchemaHolder::arrow_c_schema);

  m.def("set_buffer_cache_limit", &arrow::set_buffer_cache_limit, py::arg("bytes"));
  m.def("buffer_cache_limit", &arrow::buffer_cache_limit);
  m.def("buffer_cache_bytes", &arrow::buffer_cache_bytes);

  // Round-trips an Arrow input through the core unchanged in content: used by tests of the bridge
  // (offsets, validity, every layout) and to normalise streams. Returns a list for streams.
  m.def("echo_types", [](const py::object& source) {
    py::list names;
    if (has_attr(source, "__arrow_c_array__")) {
      arrow::OwnedArray a = import_array(source);
      names.append(arrow::type_name(*a.schema.get()));
    } else {
      for (auto& a : import_stream(source)) names.append(arrow::type_name(*a.schema.get()));
    }
    return names;
  });
}

}  // namespace featforge::bindings
