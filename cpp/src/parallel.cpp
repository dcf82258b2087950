#include "featforge/parallel.h"

#include <sched.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <stdexcept>

namespace featforge {

namespace {

// The CPUs this process may run on: its affinity mask, capped by a cgroup CPU quota (containers
// set a quota without narrowing the mask; running more threads than the quota only waits).
int usable_cpus() noexcept {
  int cpus = 1;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cpus = std::max(CPU_COUNT(&set), 1);
  std::ifstream v2("/sys/fs/cgroup/cpu.max");  // cgroup v2: "<quota> <period>" or "max <period>"
  std::string quota;
  double period = 0;
  if (v2 >> quota >> period && quota != "max" && period > 0) {
    try {
      const double limit = std::ceil(std::stod(quota) / period);
      if (limit >= 1 && limit < cpus) cpus = static_cast<int>(limit);
    } catch (const std::exception&) {  // an unreadable quota: keep the affinity count
    }
  }
  return cpus;
}

std::atomic<int> g_num_threads{usable_cpus()};

}  // namespace

void set_num_threads(int n) {
  if (n < 1) throw std::invalid_argument("num_threads must be >= 1, got " + std::to_string(n));
  g_num_threads.store(n, std::memory_order_relaxed);
}

int num_threads() noexcept { return g_num_threads.load(std::memory_order_relaxed); }

int default_num_threads() noexcept { return usable_cpus(); }

}  // namespace featforge
