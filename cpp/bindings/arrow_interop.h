// Moving Arrow data between Python objects and the core through the PyCapsule protocol
// (__arrow_c_array__ / __arrow_c_stream__), without linking libarrow.
#pragma once

#include <pybind11/pybind11.h>

#include <functional>

#include "featforge/arrow/owners.h"
#include "featforge/arrow/view.h"

namespace featforge::bindings {

namespace py = pybind11;

// A kernel over one imported array. It runs with the GIL released.
using ArrayKernel = std::function<arrow::OwnedArray(const arrow::ArrayView&)>;

// Applies `kernel` to an object exporting __arrow_c_array__ (returns one ArrowArrayHolder) or
// __arrow_c_stream__ (returns a tuple (list of ArrowArrayHolder, ArrowSchemaHolder or None)).
py::object apply_kernel(const py::object& source, const ArrayKernel& kernel);

// Imports an object exporting __arrow_c_array__, moving the structs out of its capsules.
arrow::OwnedArray import_array(const py::object& source);
// Imports every chunk of an object exporting __arrow_c_stream__.
std::vector<arrow::OwnedArray> import_stream(const py::object& source);

// Wraps an owned array as a Python object implementing __arrow_c_array__.
py::object to_python(arrow::OwnedArray array);

void register_arrow(py::module_& m);

}  // namespace featforge::bindings
