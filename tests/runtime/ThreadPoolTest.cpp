//===- ThreadPoolTest.cpp - The pool behind the kernels' parallel loops ---===//
//
// The runtime runs Halide's parallel loops (halide_do_par_for) on its own
// pool (runtime/src/ThreadPool.cpp). Every index runs exactly once, the
// loop's threads really run at once, the first failing task's code comes
// back, loops nested in a task and loops from several application threads
// complete, Model::setThreads changes the thread count, and with two
// threads each runs one contiguous run of indices (the caller the front,
// the worker the back).
//
//===----------------------------------------------------------------------===//

#include "attnc/Runtime.h"

#include <HalideRuntime.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace {

struct Counts {
  std::vector<std::atomic<int>> runs;
  explicit Counts(int n) : runs(n) {}
};

int countRun(void *, int index, uint8_t *closure) {
  reinterpret_cast<Counts *>(closure)->runs.at(size_t(index - 100))++;
  return 0;
}

void expectEachOnce(int extent) {
  Counts counts(extent);
  ASSERT_EQ(halide_do_par_for(nullptr, countRun, 100, extent,
                              reinterpret_cast<uint8_t *>(&counts)),
            0);
  for (int i = 0; i < extent; ++i)
    ASSERT_EQ(counts.runs[size_t(i)].load(), 1) << "index " << 100 + i;
}

class ThreadPoolTest : public ::testing::Test {
protected:
  void TearDown() override { attnc::Model::setThreads(2); }
};

TEST_F(ThreadPoolTest, RunsEveryIndexOnce) {
  attnc::Model::setThreads(2);
  for (int extent : {0, 1, 2, 3, 17, 1000})
    expectEachOnce(extent);
  attnc::Model::setThreads(3);
  expectEachOnce(1000);
  attnc::Model::setThreads(1);
  expectEachOnce(1000);
}

/// Two tasks that each wait until both have started: only a loop that runs
/// them on two threads at once finishes before the deadline.
struct Rendezvous {
  std::atomic<int> arrived{0};
  std::mutex mutex;
  std::set<std::thread::id> threads;
};

int meet(void *, int, uint8_t *closure) {
  auto *r = reinterpret_cast<Rendezvous *>(closure);
  {
    std::lock_guard<std::mutex> lock(r->mutex);
    r->threads.insert(std::this_thread::get_id());
  }
  r->arrived++;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (r->arrived.load() < 2)
    if (std::chrono::steady_clock::now() > deadline)
      return -7;
  return 0;
}

TEST_F(ThreadPoolTest, TwoThreadsRunAtOnce) {
  attnc::Model::setThreads(2);
  for (int round = 0; round < 50; ++round) {
    Rendezvous r;
    ASSERT_EQ(
        halide_do_par_for(nullptr, meet, 0, 2, reinterpret_cast<uint8_t *>(&r)),
        0)
        << "round " << round;
    EXPECT_EQ(r.threads.size(), 2u);
    // Let the worker fall asleep now and then: waking it must work too.
    if (round % 10 == 9)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

int failAtFive(void *, int index, uint8_t *) { return index == 5 ? 42 : 0; }

TEST_F(ThreadPoolTest, ReturnsTheFailingTasksCode) {
  attnc::Model::setThreads(2);
  EXPECT_EQ(halide_do_par_for(nullptr, failAtFive, 0, 64, nullptr), 42);
  expectEachOnce(64); // The pool still works afterwards.
}

int nested(void *, int index, uint8_t *closure) {
  auto *totals = reinterpret_cast<std::vector<std::atomic<int>> *>(closure);
  Counts inner(10);
  int result = halide_do_par_for(nullptr, countRun, 100, 10,
                                 reinterpret_cast<uint8_t *>(&inner));
  for (auto &run : inner.runs)
    (*totals)[size_t(index)] += run.load();
  return result;
}

TEST_F(ThreadPoolTest, NestedLoopsComplete) {
  attnc::Model::setThreads(2);
  std::vector<std::atomic<int>> totals(8);
  ASSERT_EQ(halide_do_par_for(nullptr, nested, 0, 8,
                              reinterpret_cast<uint8_t *>(&totals)),
            0);
  for (auto &total : totals)
    EXPECT_EQ(total.load(), 10);
}

/// Which thread ran each index.
struct Owners {
  std::vector<std::thread::id> byIndex;
  explicit Owners(int n) : byIndex(size_t(n)) {}
};

/// Records its thread, then pauses so that the worker joins the loop.
int recordOwner(void *, int index, uint8_t *closure) {
  reinterpret_cast<Owners *>(closure)->byIndex.at(size_t(index)) =
      std::this_thread::get_id();
  std::this_thread::sleep_for(std::chrono::microseconds(200));
  return 0;
}

TEST_F(ThreadPoolTest, CallerRunsAPrefixAndTheWorkerASuffix) {
  attnc::Model::setThreads(2);
  const std::thread::id caller = std::this_thread::get_id();
  int bothRan = 0;
  for (int round = 0; round < 20; ++round) {
    Owners owners(40);
    ASSERT_EQ(halide_do_par_for(nullptr, recordOwner, 0, 40,
                                reinterpret_cast<uint8_t *>(&owners)),
              0);
    // The caller's indices are 0 .. split - 1, the worker's the rest.
    size_t split = 0;
    while (split < owners.byIndex.size() && owners.byIndex[split] == caller)
      ++split;
    for (size_t i = split; i < owners.byIndex.size(); ++i)
      ASSERT_NE(owners.byIndex[i], caller)
          << "round " << round << ": index " << i << " ran on the caller "
          << "after index " << split << " ran on the worker";
    EXPECT_GT(split, 0u) << "round " << round;
    if (split < owners.byIndex.size())
      ++bothRan;
  }
  EXPECT_GT(bothRan, 0) << "the worker never joined";
}

TEST_F(ThreadPoolTest, LoopsFromSeveralThreadsComplete) {
  attnc::Model::setThreads(2);
  std::atomic<int> failures{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        Counts counts(37);
        if (halide_do_par_for(nullptr, countRun, 100, 37,
                              reinterpret_cast<uint8_t *>(&counts)) != 0)
          failures++;
        for (auto &run : counts.runs)
          if (run.load() != 1)
            failures++;
      }
    });
  for (std::thread &caller : callers)
    caller.join();
  EXPECT_EQ(failures.load(), 0);
}

} // namespace
