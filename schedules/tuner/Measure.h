//===- Measure.h - Time one candidate in a child process --------*- C++ -*-===//
//
// Private to the tuner. A candidate is (kernel, shape class, parameters).
// Its child process builds and JIT-compiles it, checks it against the
// plain-loop reference on a small odd-sized shape, reports that it is
// ready, waits for the parent's go, then times the representative shape
// and exits. The parent lets several children compile at once but times
// them one by one, and kills any that outlives the timeout.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_SCHEDULES_TUNER_MEASURE_H
#define ATTNC_SCHEDULES_TUNER_MEASURE_H

#include "attnc/Lowering/KernelSpec.h"
#include "attnc/Schedules/Params.h"

#include <map>
#include <string>
#include <vector>

namespace attnc::schedules {

/// Values of the dynamic dimensions ("rows", "batch", "q_len", ...).
using Shape = std::map<std::string, int64_t>;

/// "batch=1 kv_len=512 q_len=512".
std::string describeShape(const Shape &shape);

struct Candidate {
  kernels::KernelSpec spec;
  std::string shapeClass;
  ScheduleParams params;
  Shape timed;   ///< The shape whose time counts.
  Shape checked; ///< The small shape checked against the reference.
};

struct Outcome {
  std::string status = "failed"; ///< ok, wrong, failed, timeout
  double milliseconds = 0;
  std::string detail;
};

/// Measures `candidates`, compiling up to `jobs` at a time.
std::vector<Outcome> measure(const std::vector<Candidate> &candidates,
                             const std::string &target, unsigned jobs,
                             int threads, double timeoutSeconds);

} // namespace attnc::schedules

#endif // ATTNC_SCHEDULES_TUNER_MEASURE_H
