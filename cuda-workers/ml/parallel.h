// ParallelFor: splits [0, n) into `threads` contiguous parts and runs them at once, one on the
// calling thread and the rest on short-lived std::threads, returning when all are done.
//
// Used for the few coarse, equal-sized passes of train and predict (one per Newton iteration),
// where starting a thread costs microseconds against milliseconds of work, so no pool is kept.
// `fn` must be safe to call concurrently for different parts.
#pragma once

#include <algorithm>
#include <cstddef>
#include <functional>
#include <thread>
#include <vector>

namespace aidi::worker::ml {

// The number of parts [0, n) is split into for `threads` threads: at least 1, and few enough
// that each part has at least `grain` items (small inputs are not worth a thread).
inline int PartCount(size_t n, int threads, size_t grain = 1) {
  const size_t most = std::max<size_t>(1, n / std::max<size_t>(grain, 1));
  return static_cast<int>(std::min<size_t>(std::max(threads, 1), most));
}

// Calls fn(part, begin, end) for each of PartCount(n, threads, grain) parts.
inline void ParallelFor(size_t n, int threads,
                        const std::function<void(int part, size_t begin, size_t end)>& fn,
                        size_t grain = 1) {
  const int parts = PartCount(n, threads, grain);
  auto bounds = [&](int part) { return n * static_cast<size_t>(part) / parts; };
  std::vector<std::thread> workers;
  workers.reserve(parts - 1);
  for (int part = 1; part < parts; ++part) {
    workers.emplace_back(fn, part, bounds(part), bounds(part + 1));
  }
  fn(0, 0, bounds(1));
  for (std::thread& t : workers) t.join();
}

}  // namespace aidi::worker::ml
