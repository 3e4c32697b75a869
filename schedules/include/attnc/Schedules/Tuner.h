//===- Tuner.h - Search schedule parameters on this machine -----*- C++ -*-===//
//
// For each kernel and shape class: measure the default parameters, then
// each value of the structural knobs alone (Knob::sweptFirst), then an
// evolutionary search over the family's knobs (schedules/lib/Params.cpp),
// seeded with the defaults (and, for the row-wise families, with Halide's
// Mullapudi2016 autoscheduler): every generation mutates one or two knobs
// of the best correct configurations so far, ranked by the geometric mean
// over the lengths of their time against the default's. Every candidate is
// built, compiled once and run in a child process, so one that crashes or
// hangs is recorded as failed and the search goes on; it is checked against
// the plain-loop reference on an odd-sized shape before it is timed at
// every length. Compiles run --jobs at a time (the defaults with the first
// sweep values); timings run one at a time.
// Every result goes to the database at once, so a killed tuner resumes
// where it was.
//
// Every candidate has a time at every length, so attnc compile can pick one
// general schedule and add a bucket wherever a length's fastest
// configuration beats it by 5% (families with length buckets: attention by
// q_len, the row-wise families by rows).
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_SCHEDULES_TUNER_H
#define ATTNC_SCHEDULES_TUNER_H

#include "attnc/Lowering/KernelSpec.h"
#include "attnc/Schedules/TuningDB.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace attnc {
namespace schedules {

/// A length to tune for: query rows (the rows of a row-wise kernel) and,
/// for attention, the key length; 0 keys: as many as rows (self-attention).
struct TuneLength {
  int64_t rows = 0;
  int64_t keys = 0;
};

/// Parses "128" or "50:700" (rows:keys); nullopt if it is neither.
std::optional<TuneLength> parseTuneLength(const std::string &text);

struct TuneOptions {
  std::string target = "host"; ///< Halide target string.
  std::string dbPath = "tuning.json";
  double budgetSeconds = 300; ///< For all kernels together.
  unsigned jobs = 1;          ///< Candidates compiled at once.
  int threads = 0;            ///< Kernel threads when timing; 0: all cores.
  std::vector<TuneLength> lengths = {{128}, {512}};
  /// Shape classes to search ("general", "decode", "gemv"); empty: all.
  std::vector<std::string> variants;
  double timeoutSeconds = 120; ///< Per candidate (compile and run).
  uint64_t seed = 1;
  /// Progress and summary lines; may be null.
  std::function<void(const std::string &)> log;
  bool progressBar = true; ///< Redraw one status line on stderr.
};

/// One kernel, shape class and length after its search.
struct TuneSummary {
  std::string kernel, shapeClass;
  std::string shape;                ///< "batch=1 kv_len=512 q_len=512"
  double defaultMs = 0, bestMs = 0; ///< At this shape.
  int tried = 0, failed = 0;        ///< Candidates of the search.
};

/// Tunes every kernel: one search per kernel and shape class, each
/// candidate compiled once and timed at every length, ranked by the
/// geometric mean of its times over the default's. Returns one summary per
/// kernel, shape class and length.
std::vector<TuneSummary> tune(const std::vector<kernels::KernelSpec> &kernels,
                              const TuneOptions &options);

/// One kernel at one length, after tuning: its defaults against the
/// parameters attnc compile builds for that length from the database.
struct RecheckRow {
  std::string kernel, shape;
  std::string
      variant; ///< The function the runtime calls: "general", "upto256".
  double defaultMs = 0, tunedMs = 0; ///< Medians over the rounds.
  int failed = 0;                    ///< Measurements that did not succeed.
};

/// Measures, for every kernel and length of `options` (the general
/// algorithm's lengths, not decode or GEMV), the defaults and the database's
/// choice alternately, `rounds` times each, in fresh processes: a check of
/// the search's gain that is free of its selection bias (the fastest of many
/// noisy timings is low by chance). Writes nothing to the database.
std::vector<RecheckRow> recheck(const std::vector<kernels::KernelSpec> &kernels,
                                const TuneOptions &options, int rounds);

} // namespace schedules
} // namespace attnc

#endif // ATTNC_SCHEDULES_TUNER_H
