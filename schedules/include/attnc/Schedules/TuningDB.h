//===- TuningDB.h - Measured schedule parameters, kept as JSON --*- C++ -*-===//
//
// One JSON file holds every measurement `attnc tune` made: per kernel (its
// canonical spec), target, machine fingerprint and shape, the parameters
// tried and their median time, or why they failed. JSON because it stays
// readable and diffable in a repository, and merging two databases is a
// union of their entries; no query language is needed for a few thousand
// rows. The file is rewritten atomically after every batch of candidates, so an
// interrupted tuner loses nothing and resumes where it stopped.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNC_SCHEDULES_TUNINGDB_H
#define ATTNC_SCHEDULES_TUNINGDB_H

#include "attnc/Schedules/Params.h"

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace attnc {
namespace schedules {

/// One measured configuration.
struct Measurement {
  std::string kernel;  ///< KernelSpec::canonical()
  std::string name;    ///< KernelSpec::name(), for people
  std::string target;  ///< Halide target string
  std::string machine; ///< machineFingerprint()
  std::string shape;   ///< e.g. "q_len=512 kv_len=512 batch=1", or "rows=128"
  std::string shapeClass; ///< The variant measured ("" general, "gemv", ...)
  ScheduleParams params;
  std::string status; ///< "ok", "wrong" (failed the check), "failed", "timeout"
  double milliseconds = 0; ///< Median; only for "ok".
  std::string detail;      ///< Error text for failures.
  /// Timed a second time beside the defaults at the end of a search (its
  /// finalists and the defaults). Once a kernel has confirmed entries, only
  /// those can be chosen: a configuration timed once may be fast by chance.
  bool confirmed = false;
};

class TuningDB {
public:
  /// Reads `path`, or starts empty if it does not exist. Throws
  /// std::runtime_error for a file that exists but is not a database.
  static TuningDB load(const std::string &path);

  /// Writes to `path` atomically (temporary file, then rename).
  void save(const std::string &path) const;

  void add(const Measurement &measurement) { entries.push_back(measurement); }
  /// Adds every entry of `other` that this database lacks.
  void merge(const TuningDB &other);

  /// Whether these parameters were already measured for this key.
  const Measurement *find(const std::string &kernel, const std::string &target,
                          const std::string &machine, const std::string &shape,
                          const std::string &shapeClass,
                          const ScheduleParams &params) const;
  Measurement *find(const std::string &kernel, const std::string &target,
                    const std::string &machine, const std::string &shape,
                    const std::string &shapeClass,
                    const ScheduleParams &params) {
    return const_cast<Measurement *>(std::as_const(*this).find(
        kernel, target, machine, shape, shapeClass, params));
  }

  /// The fastest correct parameters for a kernel and target: measured on
  /// `machine` if any were, else on any machine; summed over the measured
  /// shapes of the shape class, so one choice serves every shape. Only
  /// parameter sets measured on every such shape qualify, and only
  /// confirmed ones where the kernel has any (Measurement::confirmed).
  std::optional<ScheduleParams> best(const std::string &kernel,
                                     const std::string &target,
                                     const std::string &machine,
                                     const std::string &shapeClass) const;

  const std::vector<Measurement> &all() const { return entries; }

  /// Whether `m` can be chosen: it is correct and, where its kernel, target
  /// and shape class have confirmed entries from `m`'s machine, confirmed.
  bool choosable(const Measurement &m) const;

private:
  std::vector<Measurement> entries;
};

/// The functions to compile for a kernel of `family` from what `db` measured
/// on `target` (preferring `machine`): the gemv/decode variants and the
/// general one take the best parameters of their algorithm (summed over the
/// measured lengths); then, for every measured length whose own winner runs
/// at least 5% faster there than what the plan without buckets runs (the
/// general choice, or where the default short class serves the length, its
/// tiles on `defaults`), a length bucket ("upto<N>", bounded halfway,
/// geometrically, to the next measured length) goes in front of the short
/// and general variants; a bucket reaching the short class's bound replaces
/// it. Knobs nobody measured keep `defaults`. The flag says whether
/// anything came from the database.
std::pair<KernelPlan, bool>
tunedPlan(const TuningDB &db, const std::string &kernel,
          const std::string &family, const std::string &target,
          const std::string &machine, const ScheduleParams &defaults);

/// The CPU model, its vector features and core count, e.g. "AMD EPYC |
/// avx2 avx512f fma | 2 cores"; tuned parameters are specific to it.
std::string machineFingerprint();

} // namespace schedules
} // namespace attnc

#endif // ATTNC_SCHEDULES_TUNINGDB_H
