//===- ThreadPool.h - Workers that stay awake between kernel calls -*- C++ -*-//
//
// Private to the runtime: the thread pool behind every parallel loop of the
// generated CPU kernels. Halide's default pool puts a worker to sleep on a
// condition variable as soon as a loop runs out of tasks, so each kernel call
// pays a wake-up (tens of microseconds on a virtual machine) before the
// second thread joins, and a decoding step makes about 250 short calls. This
// pool, installed through halide_set_custom_do_par_for, lets its workers spin
// for a while after each loop (ATTNC_SPIN_US, default 1000 microseconds)
// before they sleep, so the kernels of one run find them awake. A loop
// started while another runs (a second application thread, or a loop nested
// in a task) runs on its caller's thread alone.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_RUNTIME_THREADPOOL_H
#define ATTNC_RUNTIME_THREADPOOL_H

namespace attnc::runtime {

/// Makes the pool run Halide's parallel loops with `threads` threads, the
/// caller included (the count is process-wide, as Halide's is).
void setPoolThreads(int threads);

} // namespace attnc::runtime

#endif // ATTNC_RUNTIME_THREADPOOL_H
