// featforge._core: the private extension module. One register_* call per feature file.
#include <pybind11/pybind11.h>

#include "featforge/arrow/view.h"

namespace py = pybind11;

namespace featforge::bindings {
void register_arrow(py::module_& m);
void register_hashing(py::module_& m);
}  // namespace featforge::bindings

PYBIND11_MODULE(_core, m) {
  m.doc() = "featforge's C++ core (private; use the featforge package)";
  // An Arrow type a kernel cannot handle is a TypeError in Python, like any other wrong type.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const featforge::unsupported_type& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    }
  });
  featforge::bindings::register_arrow(m);
  featforge::bindings::register_hashing(m);
}
