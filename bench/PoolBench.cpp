//===- PoolBench.cpp - What a parallel loop costs to start ----------------===//
//
// The latency of one parallel loop of two tasks, 2 threads, through
// Halide's default thread pool (halide_default_do_par_for) and through the
// pool the attnc runtime installs (halide_do_par_for; runtime/src/
// ThreadPool.cpp), after a gap of single-threaded work, as between the
// kernel calls of a run. Ideal: the task's own time. Markdown table of
// medians; each pool runs every case after a 20 ms pause and 200 untimed
// loops.
//
//   attnc-pool-bench [loops per case, default 2000]
//
//===----------------------------------------------------------------------===//

#include "attnc/Runtime.h"

#include <HalideRuntime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

void busyFor(double micros) {
  Clock::time_point end =
      Clock::now() + std::chrono::nanoseconds(int64_t(micros * 1e3));
  while (Clock::now() < end) {
  }
}

int busyTask(void *, int, uint8_t *closure) {
  busyFor(*reinterpret_cast<double *>(closure));
  return 0;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  int loops = argc > 1 ? std::max(100, std::atoi(argv[1])) : 2000;
  attnc::Model::setThreads(2); // Both pools.
  using ParFor = int (*)(void *, halide_task_t, int, int, uint8_t *);
  const ParFor pools[2] = {halide_default_do_par_for, halide_do_par_for};
  std::printf("| gap before the loop | task | Halide's pool | attnc's pool "
              "|\n|---:|---:|---:|---:|\n");
  for (double gap : {0.0, 5.0, 50.0, 500.0, 5000.0})
    for (double task : {0.0, 10.0, 50.0}) {
      std::vector<double> times[2];
      for (int pool = 0; pool < 2; ++pool) {
        // Longer than either pool's workers spin: the other pool's are
        // asleep. The untimed loops let the scheduler place the threads.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        for (int i = 0; i < 200 + loops; ++i) {
          busyFor(gap);
          Clock::time_point start = Clock::now();
          pools[pool](nullptr, busyTask, 0, 2,
                      reinterpret_cast<uint8_t *>(&task));
          if (i >= 200)
            times[pool].push_back(
                std::chrono::duration<double, std::micro>(Clock::now() - start)
                    .count());
        }
      }
      std::printf("| %.0f us | 2 x %.0f us | %.1f us | %.1f us |\n", gap, task,
                  median(times[0]), median(times[1]));
    }
}
