#include "featforge/parallel.h"

#include <atomic>
#include <stdexcept>

namespace featforge {

namespace {
std::atomic<int> g_num_threads{1};
}

void set_num_threads(int n) {
  if (n < 1) throw std::invalid_argument("num_threads must be >= 1, got " + std::to_string(n));
  g_num_threads.store(n, std::memory_order_relaxed);
}

int num_threads() noexcept { return g_num_threads.load(std::memory_order_relaxed); }

}  // namespace featforge
