//===- ThreadPool.cpp - Workers that stay awake between kernel calls ------===//
//
// One parallel loop runs at a time. Its caller publishes it (`current`),
// bumps `generation` to tell spinning workers, wakes sleeping ones, and
// claims indices itself; it returns once every index has finished and no
// worker still holds the loop, which lives on its stack. The caller claims
// indices from the front and the workers from the back, so with two threads
// each runs a contiguous run of tasks: a decoding step's GEMVs, whose tasks
// stream neighbouring weight panels, then read two sequential regions
// instead of interleaving every other task (see Loop::claim).
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"

#include <HalideRuntime.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace {

void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

/// Set while this thread runs a task: a loop it starts runs inline.
thread_local bool runningTask = false;

/// One call of halide_do_par_for: tasks min .. min + extent - 1.
struct Loop {
  halide_task_t task;
  void *userContext;
  uint8_t *closure;
  int min, extent;
  /// The unclaimed indices [front, back): front in the low 32 bits, back in
  /// the high ones, so that one compare-and-swap claims from either end.
  std::atomic<uint64_t> unclaimed;
  std::atomic<int> finished{0}; ///< Indices done.
  std::atomic<int> error{0};    ///< The first nonzero task result.

  Loop(halide_task_t task, void *userContext, uint8_t *closure, int min,
       int extent)
      : task(task), userContext(userContext), closure(closure), min(min),
        extent(extent),
        unclaimed(uint64_t(uint32_t(std::max(extent, 0))) << 32) {}

  /// The next index from the front (or the back); -1 when none is left.
  /// Two threads that take from opposite ends each walk one contiguous run
  /// of indices, in opposite directions, until they meet (docs/
  /// performance.md, "Tasks claimed from both ends").
  int claim(bool fromBack) {
    uint64_t range = unclaimed.load(std::memory_order_relaxed);
    for (;;) {
      uint32_t front = uint32_t(range), back = uint32_t(range >> 32);
      if (front >= back)
        return -1;
      uint64_t next = fromBack ? range - (uint64_t(1) << 32) : range + 1;
      if (unclaimed.compare_exchange_weak(range, next,
                                          std::memory_order_relaxed))
        return int(fromBack ? back - 1 : front);
    }
  }

  /// Claims and runs indices until none is left.
  void work(bool fromBack) {
    runningTask = true;
    for (int i = claim(fromBack); i >= 0; i = claim(fromBack)) {
      if (int result = task(userContext, min + i, closure)) {
        int none = 0;
        error.compare_exchange_strong(none, result);
      }
      finished.fetch_add(1, std::memory_order_release);
    }
    runningTask = false;
  }
};

int defaultThreads() {
  if (const char *text = std::getenv("HL_NUM_THREADS"))
    return std::max(1, std::atoi(text));
  return std::max(1u, std::thread::hardware_concurrency());
}

std::chrono::microseconds spinTime() {
  const char *text = std::getenv("ATTNC_SPIN_US");
  return std::chrono::microseconds(text ? std::max(0, std::atoi(text)) : 1000);
}

class Pool {
public:
  ~Pool() { stopWorkers(); }

  int parallelFor(void *userContext, halide_task_t task, int min, int extent,
                  uint8_t *closure) {
    Loop loop{task, userContext, closure, min, extent};
    std::unique_lock<std::mutex> owner(loopMutex, std::try_to_lock);
    if (runningTask || !owner.owns_lock() || extent <= 1) {
      runInline(loop);
      return loop.error.load();
    }
    if (!started)
      startWorkers(defaultThreads());
    if (workers.empty()) {
      runInline(loop);
      return loop.error.load();
    }
    current.store(&loop);
    generation.fetch_add(1);
    if (sleepers.load() > 0) {
      { std::lock_guard<std::mutex> lock(sleepMutex); }
      wake.notify_all();
    }
    loop.work(/*fromBack=*/false);
    while (loop.finished.load(std::memory_order_acquire) < extent)
      cpuRelax();
    current.store(nullptr);
    while (busy.load() != 0)
      cpuRelax();
    return loop.error.load();
  }

  void setThreads(int threads) {
    std::lock_guard<std::mutex> owner(loopMutex);
    if (started && int(workers.size()) + 1 == threads)
      return;
    stopWorkers();
    startWorkers(threads);
  }

private:
  static void runInline(Loop &loop) {
    bool outer = runningTask;
    loop.work(/*fromBack=*/false);
    runningTask = outer;
  }

  /// Called with loopMutex held.
  void startWorkers(int threads) {
    stopping = false;
    // A worker waits for loops after the one published last when it was
    // started, even if it runs only once a later one is published.
    uint64_t seen = generation.load();
    for (int i = 1; i < threads; ++i)
      workers.emplace_back([this, seen] { workerLoop(seen); });
    started = true;
  }

  /// Called with loopMutex held (or at exit).
  void stopWorkers() {
    {
      std::lock_guard<std::mutex> lock(sleepMutex);
      stopping = true;
    }
    wake.notify_all();
    for (std::thread &worker : workers)
      worker.join();
    workers.clear();
  }

  void workerLoop(uint64_t seen) {
    for (;;) {
      if (!awaitLoop(seen))
        return;
      busy.fetch_add(1);
      if (Loop *loop = current.load())
        loop->work(/*fromBack=*/true);
      busy.fetch_sub(1);
    }
  }

  /// Spins until a loop after `seen` is published, for spinTime at most,
  /// then sleeps. False when the pool stops.
  bool awaitLoop(uint64_t &seen) {
    using Clock = std::chrono::steady_clock;
    Clock::time_point deadline = Clock::now() + spin;
    for (unsigned round = 1;; ++round) {
      uint64_t now = generation.load();
      if (now != seen) {
        seen = now;
        return true;
      }
      if (stopping.load())
        return false;
      cpuRelax();
      if (round % 64 == 0 && Clock::now() > deadline)
        break;
    }
    std::unique_lock<std::mutex> lock(sleepMutex);
    sleepers.fetch_add(1);
    wake.wait(lock, [&] { return generation.load() != seen || stopping; });
    sleepers.fetch_sub(1);
    seen = generation.load();
    return !stopping;
  }

  std::mutex loopMutex; ///< Held by the one loop that uses the workers.
  std::vector<std::thread> workers;
  bool started = false;
  std::chrono::microseconds spin = spinTime();

  std::atomic<Loop *> current{nullptr};
  std::atomic<uint64_t> generation{0};
  std::atomic<int> busy{0}; ///< Workers that may be reading `current`.

  std::mutex sleepMutex;
  std::condition_variable wake;
  std::atomic<int> sleepers{0};
  std::atomic<bool> stopping{false};
};

/// Never destroyed: kernels may run while static objects are torn down.
Pool &pool() {
  static Pool *instance = new Pool;
  return *instance;
}

int doParFor(void *userContext, halide_task_t task, int min, int extent,
             uint8_t *closure) {
  return pool().parallelFor(userContext, task, min, extent, closure);
}

const bool installed = [] {
  halide_set_custom_do_par_for(doParFor);
  return true;
}();

} // namespace

void attnc::runtime::setPoolThreads(int threads) {
  (void)installed;
  pool().setThreads(threads);
  halide_set_num_threads(threads); // Halide's pool, for parallel tasks.
}
