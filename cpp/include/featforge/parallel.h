// A minimal fork-join loop. Kernels use every CPU the process may use by default (its affinity
// mask, capped by a cgroup CPU quota); the Spark and Ray integrations set 1 per task, as those
// engines already run one task per core.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <exception>
#include <thread>
#include <vector>

namespace featforge {

void set_num_threads(int n);
[[nodiscard]] int num_threads() noexcept;
// The CPUs this process may use: the default of num_threads().
[[nodiscard]] int default_num_threads() noexcept;

// Calls fn(begin, end) over disjoint ranges covering [0, n). Ranges are at least `grain` long, so
// small inputs never pay for a thread. Exceptions from workers are rethrown after all have joined.
template <class Fn>
void parallel_for(int64_t n, int64_t grain, Fn&& fn) {
  const int64_t max_parts = grain > 0 ? n / grain : n;
  const int64_t parts = std::min<int64_t>(num_threads(), std::max<int64_t>(max_parts, 1));
  if (parts <= 1) {
    fn(int64_t{0}, n);
    return;
  }
  std::vector<std::thread> workers;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(parts));
  const int64_t step = (n + parts - 1) / parts;
  for (int64_t p = 1; p < parts; ++p) {
    workers.emplace_back([&, p] {
      try {
        fn(p * step, std::min(n, (p + 1) * step));
      } catch (...) {
        errors[static_cast<size_t>(p)] = std::current_exception();
      }
    });
  }
  try {
    fn(int64_t{0}, std::min(n, step));
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& w : workers) w.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace featforge
