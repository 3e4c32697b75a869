//===- Tuner.h - Search schedule parameters on this machine -----*- C++ -*-===//
//
// For each kernel and shape class: measure the default parameters, then an
// evolutionary search over the family's knobs (schedules/lib/Params.cpp),
// seeded with the defaults (and, for the row-wise families, with Halide's
// Mullapudi2016 autoscheduler): every generation mutates one or two knobs
// of the fastest correct configurations so far. Every candidate is built,
// compiled and run in a child process, so one that crashes or hangs is
// recorded as failed and the search goes on; it is checked against the
// plain-loop reference on an odd-sized shape before its time counts.
// Compiles run --jobs at a time; timings run one at a time. Every result
// goes to the database at once, so a killed tuner resumes where it was.
//
// Families with length buckets (attention by q_len, the row-wise families
// by rows) search each length separately, then measure every length's
// winner at every other length; attnc compile picks one general schedule
// from that and adds a bucket wherever a length's winner beats it by 5%.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_SCHEDULES_TUNER_H
#define ATTNC_SCHEDULES_TUNER_H

#include "attnc/Lowering/KernelSpec.h"
#include "attnc/Schedules/TuningDB.h"

#include <functional>
#include <string>
#include <vector>

namespace attnc {
namespace schedules {

struct TuneOptions {
  std::string target = "host"; ///< Halide target string.
  std::string dbPath = "tuning.json";
  double budgetSeconds = 300; ///< For all kernels together.
  unsigned jobs = 1;          ///< Candidates compiled at once.
  int threads = 0;            ///< Kernel threads when timing; 0: all cores.
  std::vector<int64_t> lengths = {128, 512}; ///< Sequence lengths / rows.
  double timeoutSeconds = 120; ///< Per candidate (compile and run).
  uint64_t seed = 1;
  /// Progress and summary lines; may be null.
  std::function<void(const std::string &)> log;
  bool progressBar = true; ///< Redraw one status line on stderr.
};

/// One kernel's outcome.
struct TuneSummary {
  std::string kernel, shapeClass;
  std::string shape; ///< The one length searched ("q_len=512 ..."), if one.
  double defaultMs = 0, bestMs = 0; ///< Summed over the tuned shapes.
  int tried = 0, failed = 0;
};

/// Tunes every kernel. Returns one summary per kernel and shape class.
std::vector<TuneSummary> tune(const std::vector<kernels::KernelSpec> &kernels,
                              const TuneOptions &options);

} // namespace schedules
} // namespace attnc

#endif // ATTNC_SCHEDULES_TUNER_H
