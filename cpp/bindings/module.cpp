// featforge._core: the private extension module. One register_* call per feature file.
#include <pybind11/pybind11.h>

#include <cerrno>
#include <system_error>

#include "featforge/arrow/view.h"

namespace py = pybind11;

namespace featforge::bindings {
void register_arrow(py::module_& m);
void register_hashing(py::module_& m);
void register_idmap(py::module_& m);
void register_window(py::module_& m);
}  // namespace featforge::bindings

PYBIND11_MODULE(_core, m) {
  m.doc() = "featforge's C++ core (private; use the featforge package)";
  // An Arrow type a kernel cannot handle is a TypeError in Python, like any other wrong type.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const featforge::unsupported_type& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const std::system_error& e) {
      // File errors: a missing file is FileNotFoundError, anything else OSError, as open() does.
      PyErr_SetString(e.code().value() == ENOENT ? PyExc_FileNotFoundError : PyExc_OSError,
                      e.what());
    }
  });
  featforge::bindings::register_arrow(m);
  featforge::bindings::register_hashing(m);
  featforge::bindings::register_idmap(m);
  featforge::bindings::register_window(m);
}
